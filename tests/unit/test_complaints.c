/* tests/unit/test_complaints.c - the complaint fold and the timers it
 * implies (projections/complaints.c), without LMDB: each rule's timer
 * appears, moves and disappears with the events (R-CMP-06..09). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "../../projections/complaints.h"

#define H (3600 * 1000LL)

/* Folds one event whose data is built by the caller in w. */
static void fold(struct complaint *c, enum ev_type t, struct cw *w, int64_t at)
{
    struct codec_doc d;
    assert_int_equal(codec_doc_parse_trusted(&d, cw_data(w), cw_len(w), NULL),
                     0);
    cmp_fold(c, t, d.obj, at);
    codec_doc_release(&d);
    cw_reset(w);
}

static void received(struct complaint *c, struct cw *w)
{
    cw_map(w, 5);
    cw_kstr(w, "complaint", "C1");
    cw_kint(w, "people", 1);
    cw_kint(w, "received_at", 1000);
    cw_kstr(w, "what",
            "电梯停运电梯停运电梯停运电梯停运电梯停运电梯停运电梯"
            "停运电梯停运电梯停运");
    cw_str(w, "deadlines");
    cw_map(w, 4);
    cw_kint(w, "reply", 8 * H);
    cw_kint(w, "open_10d", 240 * H);
    cw_kint(w, "open_15d", 360 * H);
    cw_kint(w, "update_due", 72 * H);
    fold(c, EV_COMPLAINT_RECEIVED, w, 1000);
}

static void escalated(struct complaint *c, struct cw *w, const char *rule,
                      int64_t next)
{
    cw_map(w, next ? 3 : 2);
    cw_kstr(w, "complaint", "C1");
    cw_kstr(w, "rule", rule);
    if (next)
        cw_kint(w, "next_due", next);
    fold(c, EV_COMPLAINT_ESCALATED, w, 100 * H);
}

static void test_cmp07_timers_follow_the_fold(void **state)
{
    struct complaint c;
    struct cw w;
    int rule;
    (void)state;
    memset(&c, 0, sizeof(c));
    cw_init(&w);
    received(&c, &w);
    /* the issue is cut at a character boundary, never inside one */
    assert_true(strlen(c.issue) < CMP_ISSUE_MAX);
    assert_int_equal(strlen(c.issue) % 3, 0);
    assert_int_equal(cmp_timer_due(&c, RULE_MISSED_REPLY), 8 * H);
    assert_int_equal(cmp_timer_due(&c, RULE_OPEN_10D), 240 * H);
    assert_int_equal(cmp_timer_due(&c, RULE_UPDATE_DUE), 72 * H);
    assert_int_equal(cmp_timer_due(&c, RULE_VISIT_DUE), 0);
    assert_int_equal(cmp_next_deadline(&c, &rule), 8 * H);
    assert_int_equal(rule, RULE_MISSED_REPLY);
    /* one-shot: fired once, gone */
    escalated(&c, &w, "missed_reply", 0);
    assert_int_equal(cmp_timer_due(&c, RULE_MISSED_REPLY), 0);
    assert_int_equal(c.level, 1);
    /* recurring: the window moves */
    escalated(&c, &w, "update_due", 144 * H);
    assert_int_equal(cmp_timer_due(&c, RULE_UPDATE_DUE), 144 * H);
    assert_int_equal(c.missed_updates, 1);
    escalated(&c, &w, "open_10d", 0);
    assert_int_equal(c.level, 2);
    escalated(&c, &w, "major", 0);
    assert_int_equal(c.level, 2); /* quality is told, the tier stays */
    assert_true(c.major);
    cw_release(&w);
}

/* R-CMP-08/09: handling stops the handling clocks and starts the visit
 * (or the auto-close); a reopen re-arms the visit only. */
static void test_cmp08_09_handle_and_reopen(void **state)
{
    struct complaint c;
    struct cw w;
    (void)state;
    memset(&c, 0, sizeof(c));
    cw_init(&w);
    received(&c, &w);
    cw_map(&w, 3), cw_kstr(&w, "complaint", "C1");
    cw_kbool(&w, "no_visit", false), cw_kint(&w, "visit_due", 30 * H);
    fold(&c, EV_COMPLAINT_HANDLED, &w, 6 * H);
    assert_int_equal(c.state, CS_HANDLED);
    assert_int_equal(cmp_timer_due(&c, RULE_MISSED_REPLY), 0);
    assert_int_equal(cmp_timer_due(&c, RULE_OPEN_10D), 0);
    assert_int_equal(cmp_timer_due(&c, RULE_UPDATE_DUE), 0);
    assert_int_equal(cmp_timer_due(&c, RULE_VISIT_DUE), 30 * H);
    escalated(&c, &w, "visit_due", 0);
    assert_int_equal(cmp_timer_due(&c, RULE_VISIT_DUE), 0);
    cw_map(&w, 3), cw_kstr(&w, "complaint", "C1");
    cw_kint(&w, "count", 1), cw_kint(&w, "next_update_due", 200 * H);
    fold(&c, EV_COMPLAINT_REOPENED, &w, 120 * H);
    assert_int_equal(cmp_timer_due(&c, RULE_MISSED_REPLY), 0);
    assert_int_equal(cmp_timer_due(&c, RULE_OPEN_10D), 240 * H);
    assert_int_equal(cmp_timer_due(&c, RULE_UPDATE_DUE), 200 * H);
    cw_map(&w, 3), cw_kstr(&w, "complaint", "C1");
    cw_kbool(&w, "no_visit", false), cw_kint(&w, "visit_due", 230 * H);
    fold(&c, EV_COMPLAINT_HANDLED, &w, 206 * H);
    assert_int_equal(cmp_timer_due(&c, RULE_VISIT_DUE), 230 * H);
    cw_map(&w, 1), cw_kstr(&w, "complaint", "C1");
    fold(&c, EV_COMPLAINT_CLOSED, &w, 210 * H);
    for (int r = 0; r < RULE_COUNT; r++)
        assert_int_equal(cmp_timer_due(&c, (enum cmp_rule)r), 0);
    assert_int_equal(c.updated, 210 * H);
    cw_release(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmp07_timers_follow_the_fold),
        cmocka_unit_test(test_cmp08_09_handle_and_reopen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
