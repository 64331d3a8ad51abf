/* tests/integration/it_cards.c - IC access cards and parking cards
 * (DOMAIN.md R-CARD-01..05) against a real deskd with a manual clock that
 * starts on 2026-03-02. Each test uses its own estate; the tests run in
 * clock order because the clock only moves forward. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "desk.h"
#include "harness.h"

static struct h_server srv;
static struct h_client cli;
static void link_to(const char *unit, const char *p, const char *role,
                    const char *from, const char *to)
{
    struct h_reply r;
    if (to)
        OK(&r, "clerk1", "unit.link",
           "{\"unit\":\"%s\",\"person\":\"%s\",\"role\":\"%s\",\"from\":"
           "\"%s\",\"to\":\"%s\"}",
           unit, p, role, from, to);
    else
        OK(&r, "clerk1", "unit.link",
           "{\"unit\":\"%s\",\"person\":\"%s\",\"role\":\"%s\",\"from\":"
           "\"%s\"}",
           unit, p, role, from);
    done(&r);
}

/* The card.issued event of a reply (the last event). */
static const char *issued(struct h_reply *r, const char *field)
{
    char path[64];
    snprintf(path, sizeof(path), "events.%zu.data.%s", r->nevents - 1, field);
    return h_reply_str(r, path);
}

/* The seq of the card.issued (or card.renewed) event, the reply's last. */
static int64_t issued_seq(struct h_reply *r)
{
    char path[64];
    snprintf(path, sizeof(path), "events.%zu.seq", r->nevents - 1);
    return h_reply_int(r, path, 0);
}

static int64_t issued_int(struct h_reply *r, const char *field)
{
    char path[64];
    snprintf(path, sizeof(path), "events.%zu.data.%s", r->nevents - 1, field);
    return h_reply_int(r, path, -1);
}

static char ca_tenant[24];

/* R-CARD-01 validity by holder type; R-CARD-02 three free cards at
 * move-in, the fourth paid with a receipt naming the card. */
static void test_card_01_02_issue_by_holder_type(void **state)
{
    char owner[24], family[24], stranger[24], staff[24];
    struct h_reply r;
    (void)state;

    desk_estate("CA", "residence", DESK_ID_NO, owner);
    desk_person("Family", "family", DESK_ID_NO, family);
    desk_person("Tenant", "tenant", DESK_ID_NO, ca_tenant);
    desk_person("Stranger", "owner", DESK_ID_NO, stranger);
    desk_person("Guard", "staff", DESK_ID_NO, staff);
    link_to("CA/1-101", family, "family", "2026-01-01", NULL);
    link_to("CA/1-101", ca_tenant, "tenant", "2026-03-01", "2026-08-31");

    /* R-CARD-01: owner and family 2 years (day before the same date) */
    OK(&r, "clerk1", "card.issue",
       "{\"card\":\"CA-1\",\"kind\":\"access\",\"unit\":\"CA/1-101\","
       "\"holder\":\"%s\",\"move_in\":true}",
       owner);
    assert_int_equal(r.nevents, 1);
    assert_string_equal(issued(&r, "holder_type"), "owner");
    assert_string_equal(issued(&r, "from"), "2026-03-02");
    assert_string_equal(issued(&r, "until"), "2028-03-01");
    assert_int_equal(issued_int(&r, "fee"), 0);
    assert_string_equal(issued(&r, "free"), "move_in");
    done(&r);
    OK(&r, "clerk1", "card.issue",
       "{\"card\":\"CA-2\",\"kind\":\"access\",\"unit\":\"CA/1-101\","
       "\"holder\":\"%s\",\"move_in\":true}",
       family);
    assert_string_equal(issued(&r, "holder_type"), "family");
    assert_string_equal(issued(&r, "until"), "2028-03-01");
    done(&r);

    /* R-CARD-01: a tenant shows lease and ID; capped at the lease end */
    refused("rule", "R-CARD-01", "clerk1", "card.issue",
            "{\"card\":\"CA-3\",\"kind\":\"access\",\"unit\":\"CA/1-101\","
            "\"holder\":\"%s\",\"move_in\":true,\"docs\":[\"id\"]}",
            ca_tenant);
    OK(&r, "clerk1", "card.issue",
       "{\"card\":\"CA-3\",\"kind\":\"access\",\"unit\":\"CA/1-101\","
       "\"holder\":\"%s\",\"move_in\":true,\"docs\":[\"id\",\"lease\"]}",
       ca_tenant);
    assert_string_equal(issued(&r, "holder_type"), "tenant");
    assert_string_equal(issued(&r, "until"), "2026-08-31"); /* not 2027-03 */
    done(&r);

    /* R-CARD-02: the fourth move-in card is paid; the receipt names it */
    refused("invalid", "R-CARD-02", "clerk1", "card.issue",
            "{\"card\":\"CA-4\",\"kind\":\"access\",\"unit\":\"CA/1-101\","
            "\"holder\":\"%s\",\"move_in\":true}",
            owner);
    OK(&r, "clerk1", "card.issue",
       "{\"card\":\"CA-4\",\"kind\":\"access\",\"unit\":\"CA/1-101\","
       "\"holder\":\"%s\",\"move_in\":true,\"book\":\"CA\","
       "\"method\":\"cash\"}",
       owner);
    assert_int_equal(r.nevents, 4);
    assert_string_equal(h_reply_str(&r, "events.0.type"), "fee.billed");
    assert_string_equal(h_reply_str(&r, "events.0.data.item"), "ic_card");
    assert_int_equal(h_reply_int(&r, "events.0.data.amount", 0), 2000);
    assert_string_equal(h_reply_str(&r, "events.2.type"), "receipt.issued");
    assert_string_equal(h_reply_str(&r, "events.2.data.card"), "CA-4");
    assert_int_equal(issued_int(&r, "fee"), 2000);
    assert_string_equal(issued(&r, "free"), "");
    done(&r);
    OK(&r, "clerk1", "query.receipts", "{\"book\":\"CA\"}");
    assert_int_equal(h_reply_int(&r, "result.receipts.0.amount", 0), 2000);
    assert_string_equal(h_reply_str(&r, "result.receipts.0.card"), "CA-4");
    done(&r);
    OK(&r, "clerk1", "query.statement", "{\"unit\":\"CA/1-101\"}");
    assert_int_equal(h_reply_int(&r, "result.balance", -1), 0); /* paid */
    done(&r);

    /* refusals: a number used twice, a stranger, an agent-free merchant
     * rule, a staff card by a clerk (forbidden) */
    refused("conflict", NULL, "clerk1", "card.issue",
            "{\"card\":\"CA-1\",\"kind\":\"access\",\"unit\":\"CA/1-101\","
            "\"holder\":\"%s\"}",
            owner);
    refused("rule", "R-CARD-01", "clerk1", "card.issue",
            "{\"card\":\"CA-9\",\"kind\":\"access\",\"unit\":\"CA/1-101\","
            "\"holder\":\"%s\",\"book\":\"CA\",\"method\":\"cash\"}",
            stranger);
    refused("forbidden", "R-CARD-01", "clerk1", "card.issue",
            "{\"card\":\"CA-S1\",\"kind\":\"access\",\"unit\":\"CA/1-101\","
            "\"holder\":\"%s\",\"approval\":\"HR-17\"}",
            staff);
    refused("rule", "R-CARD-01", "lead1", "card.issue",
            "{\"card\":\"CA-S1\",\"kind\":\"access\",\"unit\":\"CA/1-101\","
            "\"holder\":\"%s\"}",
            staff);
    OK(&r, "lead1", "card.issue",
       "{\"card\":\"CA-S1\",\"kind\":\"access\",\"unit\":\"CA/1-101\","
       "\"holder\":\"%s\",\"approval\":\"HR-17\"}",
       staff);
    assert_string_equal(issued(&r, "holder_type"), "staff");
    assert_string_equal(issued(&r, "free"), "staff");
    assert_string_equal(issued(&r, "until"), "2027-03-01");
    done(&r);
}

/* R-CARD-01: merchants need the department head's approval; 1 year. */
static void test_card_01_merchant_needs_approval(void **state)
{
    char owner[24], shop[24];
    struct h_reply r;
    (void)state;

    desk_estate("CM", "shop", DESK_ID_NO, owner);
    OK(&r, "clerk1", "person.register",
       "{\"name\":\"Shop\",\"kind\":\"merchant\",\"licence_verified\":true}");
    snprintf(shop, sizeof(shop), "%s", h_reply_str(&r, "events.0.data.person"));
    done(&r);
    link_to("CM/1-101", shop, "merchant", "2026-02-01", NULL);
    refused("rule", "R-CARD-01", "clerk1", "card.issue",
            "{\"card\":\"CM-1\",\"kind\":\"access\",\"unit\":\"CM/1-101\","
            "\"holder\":\"%s\",\"book\":\"CM\",\"method\":\"pos\"}",
            shop);
    OK(&r, "clerk1", "card.issue",
       "{\"card\":\"CM-1\",\"kind\":\"access\",\"unit\":\"CM/1-101\","
       "\"holder\":\"%s\",\"approval\":\"OPS-2026-3\",\"book\":\"CM\","
       "\"method\":\"pos\"}",
       shop);
    assert_string_equal(issued(&r, "holder_type"), "merchant");
    assert_string_equal(issued(&r, "until"), "2027-03-01");
    assert_int_equal(issued_int(&r, "fee"), 2000);
    done(&r);
}

/* R-CARD-02: damaged not by the holder within a month of issue: free;
 * by the holder, or after a month: 20 yuan. */
static void test_card_02_damaged_free_within_a_month(void **state)
{
    char owner[24];
    struct h_reply r;
    (void)state;

    desk_estate("CB", "residence", DESK_ID_NO, owner);
    for (int i = 1; i <= 3; i++) {
        OK(&r, "clerk1", "card.issue",
           "{\"card\":\"CB-%d\",\"kind\":\"access\",\"unit\":\"CB/1-101\","
           "\"holder\":\"%s\",\"move_in\":true}",
           i, owner);
        done(&r);
    }
    OK(&r, "clerk1", "card.report_damaged",
       "{\"card\":\"CB-1\",\"new_card\":\"CB-11\"}");
    assert_string_equal(h_reply_str(&r, "events.0.type"),
                        "card.reported_damaged");
    assert_int_equal(r.nevents, 2);
    assert_int_equal(issued_int(&r, "fee"), 0);
    assert_string_equal(issued(&r, "free"), "replacement");
    assert_string_equal(issued(&r, "replaces"), "CB-1");
    assert_string_equal(issued(&r, "until"), "2028-03-01"); /* keeps it */
    done(&r);
    /* the holder's fault: paid, even within the month */
    refused("invalid", "R-CARD-02", "clerk1", "card.report_damaged",
            "{\"card\":\"CB-2\",\"new_card\":\"CB-12\","
            "\"holder_fault\":true}");
    OK(&r, "clerk1", "card.report_damaged",
       "{\"card\":\"CB-2\",\"new_card\":\"CB-12\",\"holder_fault\":true,"
       "\"book\":\"CB\",\"method\":\"cash\"}");
    assert_int_equal(issued_int(&r, "fee"), 2000);
    done(&r);
    /* issued 03-02: free through 04-01, paid from 04-02 */
    clock_to("2026-04-01T17:00:00+08:00");
    OK(&r, "clerk1", "card.report_damaged",
       "{\"card\":\"CB-11\",\"new_card\":\"CB-21\"}");
    assert_int_equal(issued_int(&r, "fee"), 0); /* CB-11 issued 03-02 */
    done(&r);
    clock_to("2026-04-02T09:00:00+08:00");
    refused("invalid", "R-CARD-02", "clerk1", "card.report_damaged",
            "{\"card\":\"CB-3\",\"new_card\":\"CB-13\"}");
    OK(&r, "clerk1", "card.report_damaged",
       "{\"card\":\"CB-3\",\"new_card\":\"CB-13\",\"book\":\"CB\","
       "\"method\":\"cash\"}");
    assert_int_equal(issued_int(&r, "fee"), 2000);
    assert_string_equal(h_reply_str(&r, "events.3.data.card"), "CB-13");
    done(&r);
    /* a damaged card is out of use */
    refused("conflict", NULL, "clerk1", "card.renew", "{\"card\":\"CB-3\"}");
}

/* R-CARD-04: a lost card is revoked at once and for good: refused at the
 * reader (query and logged swipe), never renewed, returned or reissued. */
static void test_card_04_lost_card_refused_at_reader(void **state)
{
    char owner[24], guard[24], guard2[24];
    struct h_reply r;
    int64_t before;
    (void)state;

    desk_estate("CC", "residence", DESK_ID_NO, owner);
    OK(&r, "clerk1", "card.issue",
       "{\"card\":\"CC-1\",\"kind\":\"access\",\"unit\":\"CC/1-101\","
       "\"holder\":\"%s\",\"move_in\":true}",
       owner);
    done(&r);
    /* a check is a query: it records nothing */
    before = h_log_count(&cli);
    OK(&r, "clerk1", "query.card_check",
       "{\"card\":\"CC-1\",\"unit\":\"CC/1-\"}");
    assert_true(json_is_true(h_reply_get(&r, "result.valid")));
    done(&r);
    assert_int_equal(h_log_count(&cli), before);

    OK(&r, "clerk1", "card.report_lost", "{\"card\":\"CC-1\"}");
    done(&r);
    OK(&r, "clerk1", "query.card_check",
       "{\"card\":\"CC-1\",\"unit\":\"CC/1-101\"}");
    assert_true(json_is_false(h_reply_get(&r, "result.valid")));
    assert_non_null(strstr(h_reply_str(&r, "result.reason"), "R-CARD-04"));
    done(&r);
    OK(&r, "clerk1", "card.swipe", "{\"card\":\"CC-1\",\"unit\":\"CC/1-\"}");
    assert_string_equal(h_reply_str(&r, "events.0.type"), "card.swiped");
    assert_true(json_is_false(h_reply_get(&r, "events.0.data.granted")));
    assert_non_null(
        strstr(h_reply_str(&r, "events.0.data.reason"), "R-CARD-04"));
    done(&r);
    /* found again: still revoked */
    refused("rule", "R-CARD-04", "clerk1", "card.renew", "{\"card\":\"CC-1\"}");
    refused("rule", "R-CARD-04", "clerk1", "card.return",
            "{\"card\":\"CC-1\"}");
    refused("rule", "R-CARD-04", "clerk1", "card.report_lost",
            "{\"card\":\"CC-1\"}");
    refused("rule", "R-CARD-04", "clerk1", "card.issue",
            "{\"card\":\"CC-1\",\"kind\":\"access\",\"unit\":\"CC/1-101\","
            "\"holder\":\"%s\",\"book\":\"CC\",\"method\":\"cash\"}",
            owner);
    /* a replacement for a lost card is paid (R-CARD-02) */
    OK(&r, "clerk1", "card.issue",
       "{\"card\":\"CC-2\",\"kind\":\"access\",\"unit\":\"CC/1-101\","
       "\"holder\":\"%s\",\"move_in\":true}",
       owner);
    done(&r);
    OK(&r, "clerk1", "card.report_lost",
       "{\"card\":\"CC-2\",\"new_card\":\"CC-3\",\"book\":\"CC\","
       "\"method\":\"cash\"}");
    assert_string_equal(h_reply_str(&r, "events.0.type"), "card.reported_lost");
    assert_int_equal(issued_int(&r, "fee"), 2000);
    assert_string_equal(issued(&r, "replaces"), "CC-2");
    done(&r);
    OK(&r, "clerk1", "card.swipe", "{\"card\":\"CC-3\",\"unit\":\"CC/1-101\"}");
    assert_true(json_is_true(h_reply_get(&r, "events.0.data.granted")));
    done(&r);
    OK(&r, "clerk1", "query.card_check",
       "{\"card\":\"CC-3\",\"unit\":\"ZZ/1-101\"}");
    assert_true(json_is_false(h_reply_get(&r, "result.valid")));
    done(&r);

    /* staff cards: formatted and reissued by a lead, never a lost one */
    desk_person("Guard", "staff", DESK_ID_NO, guard);
    desk_person("Guard2", "staff", DESK_ID_NO, guard2);
    OK(&r, "lead1", "card.issue",
       "{\"card\":\"CC-S\",\"kind\":\"access\",\"unit\":\"CC/1-101\","
       "\"holder\":\"%s\",\"approval\":\"HR-1\"}",
       guard);
    done(&r);
    refused("forbidden", NULL, "clerk1", "card.format_reissue",
            "{\"card\":\"CC-S\",\"holder\":\"%s\",\"approval\":\"HR-2\"}",
            guard2);
    refused("conflict", NULL, "lead1", "card.format_reissue",
            "{\"card\":\"CC-3\",\"holder\":\"%s\",\"approval\":\"HR-2\"}",
            guard2);
    OK(&r, "lead1", "card.format_reissue",
       "{\"card\":\"CC-S\",\"holder\":\"%s\",\"approval\":\"HR-2\"}", guard2);
    assert_string_equal(h_reply_str(&r, "events.0.type"), "card.formatted");
    assert_string_equal(issued(&r, "holder"), guard2);
    assert_int_equal(issued_int(&r, "fee"), 0);
    done(&r);
    OK(&r, "clerk1", "card.report_lost", "{\"card\":\"CC-S\"}");
    done(&r);
    refused("rule", "R-CARD-04", "lead1", "card.format_reissue",
            "{\"card\":\"CC-S\",\"holder\":\"%s\",\"approval\":\"HR-3\"}",
            guard);
    /* every card of the unit, with its history */
    OK(&r, "clerk1", "query.cards", "{\"unit\":\"CC/1-101\"}");
    assert_string_equal(h_reply_str(&r, "result.cards.0.card"), "CC-1");
    assert_string_equal(h_reply_str(&r, "result.cards.0.status"), "lost");
    assert_string_equal(h_reply_str(&r, "result.cards.0.history.0.type"),
                        "card.issued");
    assert_string_equal(h_reply_str(&r, "result.cards.0.history.1.type"),
                        "card.reported_lost");
    assert_string_equal(h_reply_str(&r, "result.cards.0.history.2.type"),
                        "card.swiped");
    assert_string_equal(h_reply_str(&r, "result.cards.3.card"), "CC-S");
    assert_string_equal(h_reply_str(&r, "result.cards.3.history.1.type"),
                        "card.formatted");
    done(&r);
    OK(&r, "clerk1", "query.cards", "{\"holder\":\"%s\"}", guard);
    assert_string_equal(h_reply_str(&r, "result.cards.0.card"), "CC-S");
    done(&r);
}

static char *json_of(struct h_reply *r, const char *path)
{
    return json_dumps(h_reply_get(r, path), JSON_COMPACT | JSON_SORT_KEYS);
}

/* R-CARD-05: the expiry schedule with masked contacts, filters, and as of
 * a past day equal to what was live that day; R-CARD-01: a tenant card is
 * renewed only up to the lease end. */
static void test_card_05_expiry_schedule_as_of(void **state)
{
    char owner[24], tenant[24], *live, *later;
    struct h_reply r;
    int64_t t_issued, o_issued, t_renewed;
    json_t *l;
    (void)state;

    desk_estate("CD", "residence", DESK_ID_NO, owner);
    desk_person("Tenant", "tenant", DESK_ID_NO, tenant);
    link_to("CD/1-101", tenant, "tenant", "2026-04-01", "2026-04-30");
    OK(&r, "clerk1", "card.issue",
       "{\"card\":\"CD-T\",\"kind\":\"access\",\"unit\":\"CD/1-101\","
       "\"holder\":\"%s\",\"move_in\":true,\"docs\":[\"id\",\"lease\"]}",
       tenant);
    assert_string_equal(issued(&r, "until"), "2026-04-30");
    t_issued = issued_seq(&r);
    done(&r);
    OK(&r, "clerk1", "card.issue",
       "{\"card\":\"CD-O\",\"kind\":\"access\",\"unit\":\"CD/1-101\","
       "\"holder\":\"%s\",\"move_in\":true}",
       owner);
    o_issued = issued_seq(&r);
    done(&r);
    OK(&r, "clerk1", "query.card_expiry", "{\"estate\":\"CD\"}");
    assert_int_equal(h_reply_int(&r, "result.count", -1), 1);
    assert_string_equal(h_reply_str(&r, "result.cards.0.card"), "CD-T");
    assert_int_equal(h_reply_int(&r, "result.cards.0.days_left", -1), 28);
    assert_string_equal(h_reply_str(&r, "result.cards.0.phone"),
                        "138****5678"); /* R-GEN-02 */
    assert_string_equal(h_reply_str(&r, "result.cards.0.id_no"),
                        "4403**********1234");
    live = json_of(&r, "result.cards");
    done(&r);
    OK(&r, "clerk1", "query.card_expiry",
       "{\"estate\":\"CD\",\"building\":\"1\",\"holder\":\"%s\"}", owner);
    assert_int_equal(h_reply_int(&r, "result.count", -1), 0);
    done(&r);
    OK(&r, "clerk1", "query.card_expiry",
       "{\"unit\":\"CD/1-101\",\"days\":800}");
    assert_int_equal(h_reply_int(&r, "result.count", -1), 2);
    assert_null(h_reply_get(&r, "result.cards.0.why"));
    done(&r);
    /* explain=true (issue 16): the tenant's 12 months from 04-02 would end
     * 2027-04-01 (R-CARD-03) but the lease ends 04-30 (R-CARD-01); the
     * owner's 24 months end 2028-04-01 */
    OK(&r, "clerk1", "query.card_expiry",
       "{\"unit\":\"CD/1-101\",\"days\":800,\"explain\":true}");
    assert_string_equal(h_reply_str(&r, "result.cards.0.card"), "CD-T");
    l = h_reply_get(&r, "result.cards.0.why.until");
    assert_int_equal(json_array_size(l), 3);
    expect_entry(l, 0, t_issued, "card.issued", "R-CARD-01", WHY_NONE);
    expect_entry(l, 1, 0, "rule", "R-CARD-03", WHY_NONE);
    assert_non_null(strstr(what_of(l, 1), "12 months from 2026-04-02"));
    assert_non_null(strstr(what_of(l, 1), "2027-04-01"));
    expect_entry(l, 2, 0, "rule", "R-CARD-01", WHY_NONE);
    assert_non_null(strstr(what_of(l, 2), "2026-04-30, not 2027-04-01"));
    assert_string_equal(h_reply_str(&r, "result.cards.1.card"), "CD-O");
    l = h_reply_get(&r, "result.cards.1.why.until");
    assert_int_equal(json_array_size(l), 2);
    expect_entry(l, 0, o_issued, "card.issued", "R-CARD-01", WHY_NONE);
    assert_non_null(strstr(what_of(l, 1), "2028-04-01"));
    done(&r);

    /* renewing needs a longer lease first; then up to its end */
    clock_to("2026-04-10T09:00:00+08:00");
    refused("rule", "R-CARD-01", "clerk1", "card.renew", "{\"card\":\"CD-T\"}");
    link_to("CD/1-101", tenant, "tenant", "2026-04-01", "2026-10-31");
    OK(&r, "clerk1", "card.renew", "{\"card\":\"CD-T\"}");
    assert_string_equal(h_reply_str(&r, "events.0.data.from"), "2026-05-01");
    assert_string_equal(h_reply_str(&r, "events.0.data.until"), "2026-10-31");
    assert_int_equal(h_reply_int(&r, "events.0.data.fee", -1), 0);
    t_renewed = issued_seq(&r);
    done(&r);
    /* the renewed end is the renewal's; as of 04-02 the old end is still
     * the issue's */
    OK(&r, "clerk1", "query.card_expiry",
       "{\"unit\":\"CD/1-101\",\"days\":800,\"explain\":true}");
    assert_string_equal(h_reply_str(&r, "result.cards.0.until"), "2026-10-31");
    l = h_reply_get(&r, "result.cards.0.why.until");
    expect_entry(l, 0, t_renewed, "card.renewed", "R-CARD-01", WHY_NONE);
    done(&r);
    OK(&r, "clerk1", "query.card_expiry",
       "{\"unit\":\"CD/1-101\",\"days\":800,\"as_of\":\"2026-04-02\","
       "\"explain\":true}");
    assert_string_equal(h_reply_str(&r, "result.cards.0.until"), "2026-04-30");
    l = h_reply_get(&r, "result.cards.0.why.until");
    expect_entry(l, 0, t_issued, "card.issued", "R-CARD-01", WHY_NONE);
    done(&r);
    OK(&r, "clerk1", "query.card_expiry", "{\"estate\":\"CD\"}");
    assert_int_equal(h_reply_int(&r, "result.count", -1), 0);
    done(&r);
    OK(&r, "clerk1", "query.card_expiry",
       "{\"estate\":\"CD\",\"as_of\":\"2026-04-02\"}");
    later = json_of(&r, "result.cards");
    done(&r);
    assert_string_equal(later, live);
    free(live);
    free(later);
    /* as of before the card existed: nothing */
    OK(&r, "clerk1", "query.card_expiry",
       "{\"estate\":\"CD\",\"as_of\":\"2026-03-20\",\"days\":60}");
    assert_int_equal(h_reply_int(&r, "result.count", -1), 0);
    done(&r);
}

/* R-CARD-01: a tenant card outliving a lease shortened after issue shows
 * on the past-lease list. */
static void test_card_01_lease_shortened_after_issue(void **state)
{
    struct h_reply r;
    (void)state;

    OK(&r, "clerk1", "query.cards_past_lease", "{\"estate\":\"CA\"}");
    assert_int_equal(json_array_size(h_reply_get(&r, "result.cards")), 0);
    done(&r);
    link_to("CA/1-101", ca_tenant, "tenant", "2026-03-01", "2026-06-30");
    OK(&r, "clerk1", "query.cards_past_lease", "{\"estate\":\"CA\"}");
    assert_string_equal(h_reply_str(&r, "result.cards.0.card"), "CA-3");
    assert_string_equal(h_reply_str(&r, "result.cards.0.until"), "2026-08-31");
    assert_string_equal(h_reply_str(&r, "result.cards.0.lease_end"),
                        "2026-06-30");
    assert_int_equal(h_reply_int(&r, "result.cards.0.days_over", 0), 62);
    done(&r);
}

/* R-CARD-05: the quarterly reconciliation (IC卡季度整理表). */
static void test_card_05_quarterly_reconciliation(void **state)
{
    struct h_reply r;
    (void)state;

    OK(&r, "clerk1", "query.card_quarters",
       "{\"estate\":\"CB\",\"year\":2026}");
    /* Q1: 3 free move-in cards, 2 damaged with 1 free + 1 paid
     * replacement; Q2: 1 damaged with a free and 1 with a paid one */
    assert_string_equal(h_reply_str(&r, "result.quarters.0.quarter"), "2026Q1");
    assert_int_equal(h_reply_int(&r, "result.quarters.0.issued", 0), 5);
    assert_int_equal(h_reply_int(&r, "result.quarters.0.damaged", 0), 2);
    assert_int_equal(h_reply_int(&r, "result.quarters.0.free", 0), 4);
    assert_int_equal(h_reply_int(&r, "result.quarters.0.paid", 0), 1);
    assert_int_equal(h_reply_int(&r, "result.quarters.0.fees", 0), 2000);
    assert_string_equal(h_reply_str(&r, "result.quarters.1.quarter"), "2026Q2");
    assert_int_equal(h_reply_int(&r, "result.quarters.1.issued", 0), 2);
    assert_int_equal(h_reply_int(&r, "result.quarters.1.paid", 0), 1);
    assert_int_equal(h_reply_int(&r, "result.quarters.1.fees", 0), 2000);
    done(&r);
    OK(&r, "clerk1", "query.card_quarters", "{\"estate\":\"CC\"}");
    assert_int_equal(h_reply_int(&r, "result.quarters.0.lost", 0), 3);
    assert_int_equal(h_reply_int(&r, "result.quarters.0.formatted", 0), 1);
    done(&r);
}

/* R-CARD-03: parking months run to the day before the same date; a month
 * with no such date ends on its last day (leap year: 2028-02-29); top-ups
 * count from the anchor; documents are checked. */
static void test_card_03_parking_months_leap_year(void **state)
{
    char owner[24], tenant[24];
    struct h_reply r;
    (void)state;

    desk_estate("CP", "parking", DESK_ID_NO, owner);
    desk_person("Renter", "tenant", DESK_ID_NO, tenant);
    link_to("CP/1-101", tenant, "tenant", "2027-01-01", "2028-12-31");
    clock_to("2028-01-31T10:00:00+08:00");
    refused("rule", "R-CARD-03", "clerk1", "card.issue",
            "{\"card\":\"CP-1\",\"kind\":\"parking\",\"unit\":\"CP/1-101\","
            "\"holder\":\"%s\",\"docs\":[\"id\",\"driving_licence\"],"
            "\"book\":\"CP\",\"method\":\"cash\"}",
            owner);
    refused("rule", "R-CARD-03", "clerk1", "card.issue",
            "{\"card\":\"CP-2\",\"kind\":\"parking\",\"unit\":\"CP/1-101\","
            "\"holder\":\"%s\",\"docs\":[\"id\",\"driving_licence\","
            "\"vehicle_licence\"],\"book\":\"CP\",\"method\":\"cash\"}",
            tenant);
    OK(&r, "clerk1", "card.issue",
       "{\"card\":\"CP-1\",\"kind\":\"parking\",\"unit\":\"CP/1-101\","
       "\"holder\":\"%s\",\"docs\":[\"id\",\"driving_licence\","
       "\"vehicle_licence\"],\"book\":\"CP\",\"method\":\"cash\"}",
       owner);
    assert_string_equal(issued(&r, "from"), "2028-01-31");
    assert_string_equal(issued(&r, "until"), "2028-02-29");
    assert_string_equal(h_reply_str(&r, "events.0.data.item"), "parking_rent");
    assert_int_equal(issued_int(&r, "fee"), 30000);
    done(&r);
    /* two more months while valid: from the anchor, 01-31 + 3 = 04-30 */
    OK(&r, "clerk1", "card.renew",
       "{\"card\":\"CP-1\",\"months\":2,\"book\":\"CP\",\"method\":\"cash\"}");
    assert_string_equal(h_reply_str(&r, "events.3.data.from"), "2028-03-01");
    assert_string_equal(h_reply_str(&r, "events.3.data.until"), "2028-04-30");
    assert_int_equal(h_reply_int(&r, "events.0.data.amount", 0), 60000);
    done(&r);
    OK(&r, "clerk1", "query.card_check",
       "{\"card\":\"CP-1\",\"unit\":\"CP/1-101\",\"date\":\"2028-04-30\"}");
    assert_true(json_is_true(h_reply_get(&r, "result.valid")));
    done(&r);
    OK(&r, "clerk1", "query.card_check",
       "{\"card\":\"CP-1\",\"unit\":\"CP/1-101\",\"date\":\"2028-05-01\"}");
    assert_true(json_is_false(h_reply_get(&r, "result.valid")));
    assert_non_null(strstr(h_reply_str(&r, "result.reason"), "expired"));
    done(&r);
    /* a tenant with the lease; lapsed cards restart from the top-up day */
    OK(&r, "clerk1", "card.issue",
       "{\"card\":\"CP-2\",\"kind\":\"parking\",\"unit\":\"CP/1-101\","
       "\"holder\":\"%s\",\"docs\":[\"id\",\"driving_licence\","
       "\"vehicle_licence\",\"lease\"],\"book\":\"CP\",\"method\":\"pos\"}",
       tenant);
    assert_string_equal(issued(&r, "until"), "2028-02-29");
    done(&r);
    clock_to("2028-06-09T10:00:00+08:00");
    OK(&r, "clerk1", "card.renew",
       "{\"card\":\"CP-2\",\"book\":\"CP\",\"method\":\"cash\"}");
    assert_string_equal(h_reply_str(&r, "events.3.data.from"), "2028-06-09");
    assert_string_equal(h_reply_str(&r, "events.3.data.until"), "2028-07-08");
    done(&r);
}

/* Replaying the log gives card tables identical to the live ones. */
static void test_card_rebuild_equals_live(void **state)
{
    (void)state;
    rebuild_equals_live(&srv);
}

static int setup(void **state)
{
    (void)state;
    return desk_start(&srv, &cli, NULL);
}

static int teardown(void **state)
{
    (void)state;
    return desk_stop(&srv, &cli);
}

int main(void)
{
    /* in clock order: the manual clock only moves forward */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_card_01_02_issue_by_holder_type),
        cmocka_unit_test(test_card_01_merchant_needs_approval),
        cmocka_unit_test(test_card_02_damaged_free_within_a_month),
        cmocka_unit_test(test_card_04_lost_card_refused_at_reader),
        cmocka_unit_test(test_card_05_expiry_schedule_as_of),
        cmocka_unit_test(test_card_01_lease_shortened_after_issue),
        cmocka_unit_test(test_card_05_quarterly_reconciliation),
        cmocka_unit_test(test_card_03_parking_months_leap_year),
        cmocka_unit_test(test_card_rebuild_equals_live),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
