/* tests/integration/it_calendar.c - the working calendar's coverage
 * (DOMAIN.md R-GEN-05, docs/CALENDAR.md) against a real deskd with a manual
 * clock: query.calendar, the coverage warning (once per coverage end, by
 * deskd itself), provisional deadlines past the coverage, and a new year's
 * schedule loaded with SIGHUP. No 2027 schedule is invented: the test
 * writes its own file, with a single made-up day marked as such. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "desk.h"
#include "harness.h"

#define RELOAD_WAIT_MS 10000 /* SIGHUP to its events in the log */

static struct h_server srv;
static struct h_client cli;
static char cal_path[H_PATH_MAX]; /* the test's own calendar file */

static void start(const char *at, const char *extra)
{
    struct h_opts o = {.manual_start = at, .extra_ini = extra};
    assert_int_equal(desk_start(&srv, &cli, &o), 0);
}

static int teardown(void **state)
{
    (void)state;
    desk_stop(&srv, &cli);
    if (cal_path[0])
        unlink(cal_path);
    cal_path[0] = '\0';
    return 0;
}

/* Writes text to a new temporary calendar file (cal_path). */
static void cal_write(const char *text, const char *mode)
{
    FILE *f;

    if (!cal_path[0]) {
        int fd;
        snprintf(cal_path, sizeof(cal_path), "/tmp/deskd-cal-XXXXXX");
        fd = mkstemp(cal_path);
        assert_true(fd >= 0);
        close(fd);
    }
    f = fopen(cal_path, mode);
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* Events of one type: how many, and a copy of the last (or NULL). */
struct find {
    const char *type;
    int n;
    json_t *last;
};

static int find_type(json_t *ev, void *arg)
{
    struct find *f = arg;
    const char *t = json_string_value(json_object_get(ev, "type"));

    if (t && !strcmp(t, f->type)) {
        f->n++;
        json_decref(f->last);
        f->last = json_deep_copy(ev);
    }
    return 0;
}

static struct find events_of(const char *type)
{
    struct find f = {type, 0, NULL};

    assert_true(h_log_all(&cli, find_type, &f) >= 0);
    return f;
}

/* SIGHUP, then waits until deskd recorded the key reload it does after
 * the calendar (so the calendar part is done, changed or not). */
static void hup(void)
{
    struct find f = events_of("security.keys_reloaded");
    int before = f.n;
    struct timespec t = {0, 20 * 1000000L};

    json_decref(f.last);
    assert_int_equal(kill(srv.pid, SIGHUP), 0);
    for (int waited = 0; waited < RELOAD_WAIT_MS; waited += 20) {
        f = events_of("security.keys_reloaded");
        json_decref(f.last);
        if (f.n > before)
            return;
        nanosleep(&t, NULL);
    }
    fail_msg("SIGHUP not recorded");
}

static void query(struct h_reply *r, const char *name, const char *body)
{
    OK(r, "clerk1", name, "%s", body);
}

/* R-GEN-05: the coverage as query.calendar answers it. */
static void expect_coverage(const char *from, const char *until, int left,
                            bool warning)
{
    struct h_reply r;

    query(&r, "query.calendar", "{}");
    assert_string_equal(h_reply_str(&r, "result.covered_from"), from);
    assert_string_equal(h_reply_str(&r, "result.covered_until"), until);
    assert_int_equal(h_reply_int(&r, "result.days_left", -999), left);
    if (json_is_true(h_reply_get(&r, "result.warning")) != warning)
        fail_msg("warning should be %d: %s", warning, h_reply_text(&r));
    done(&r);
}

/* R-GEN-05: the warning comes when the days left reach calendar_warn_days
 * (61 left: none; 60 left: one), as an event by deskd (actor system)
 * through the pipeline, once per coverage end: a restart and later days
 * do not repeat it. */
static void test_coverage_warning_once(void **state)
{
    struct find f;
    (void)state;

    start("2026-10-31T09:00:00+08:00", "[time]\ncalendar_warn_days = 60");
    expect_coverage("2024-01-01", "2026-12-31", 61, false);
    f = events_of("calendar.coverage_ending");
    assert_int_equal(f.n, 0);

    clock_to("2026-10-31T23:59:59+08:00"); /* still 61 days */
    f = events_of("calendar.coverage_ending");
    assert_int_equal(f.n, 0);

    clock_to("2026-11-01T00:00:00+08:00"); /* 60 days left */
    f = events_of("calendar.coverage_ending");
    assert_int_equal(f.n, 1);
    assert_string_equal(json_string_value(json_object_get(f.last, "actor")),
                        "system");
    assert_string_equal(json_string_value(json_object_get(f.last, "cmd_id")),
                        "deskd:t:calendar:2026-12-31");
    assert_string_equal(
        json_string_value(h_json_path(f.last, "data.covered_until")),
        "2026-12-31");
    assert_int_equal(json_integer_value(h_json_path(f.last, "data.days_left")),
                     60);
    json_decref(f.last);
    expect_coverage("2024-01-01", "2026-12-31", 60, true);

    h_client_close(&cli);
    assert_int_equal(h_server_restart(&srv), 0);
    assert_int_equal(h_client_open(&cli, srv.cmd_ep), 0);
    clock_to("2026-12-03T09:00:00+08:00");
    f = events_of("calendar.coverage_ending");
    json_decref(f.last);
    assert_int_equal(f.n, 1);
    expect_coverage("2024-01-01", "2026-12-31", 28, true);
}

/* A letter complaint (reply within 2 working days, R-CMP-04) received at
 * `at`; prov: the one deadline its event must mark provisional (NULL:
 * none). */
static void letter(const char *at, char id[24], const char *prov)
{
    struct h_reply r;
    json_t *p;

    clock_to(at);
    OK(&r, "clerk1", "complaint.receive",
       "{\"channel\":\"letter\",\"name\":\"王\",\"what\":\"外墙渗水\"}");
    snprintf(id, 24, "%s", h_reply_str(&r, "events.0.data.complaint"));
    p = h_reply_get(&r, "events.0.data.provisional");
    if (prov) {
        assert_non_null(p);
        assert_string_equal(json_string_value(json_array_get(p, 0)), prov);
    } else if (p) {
        fail_msg("no deadline should be provisional: %s", h_reply_text(&r));
    }
    done(&r);
}

/* The open complaint id as query.complaints_open lists it: its reply
 * deadline and its provisional rules (joined by ','). */
static void expect_open(const char *id, const char *due, const char *prov)
{
    struct h_reply r;
    json_t *list;
    size_t i;

    query(&r, "query.complaints_open", "{}");
    list = h_reply_get(&r, "result.items");
    assert_non_null(list);
    for (i = 0; i < json_array_size(list); i++) {
        json_t *c = json_array_get(list, i), *p;
        char got[128] = "";
        if (strcmp(json_string_value(json_object_get(c, "complaint")), id))
            continue;
        assert_string_equal(json_string_value(json_object_get(c, "reply_due")),
                            due);
        p = json_object_get(c, "provisional");
        for (size_t k = 0; k < json_array_size(p); k++)
            snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
                     k ? "," : "", json_string_value(json_array_get(p, k)));
        assert_string_equal(got, prov);
        done(&r);
        return;
    }
    fail_msg("%s not listed: %s", id, h_reply_text(&r));
}

/* The test's 2026: two National Day days, enough to set the coverage. */
static const char cal_2026[] =
    "# test calendar: 2026 from the official schedule (excerpt)\n"
    "2026-10-01\tholiday\tNational Day\n"
    "2026-10-10\tworkday\tNational Day\n";

/* R-GEN-05: a deadline computed past the coverage is provisional in the
 * event and in the read model; SIGHUP loads a new year without a restart,
 * recorded with the new range and the file's hash; deadlines already
 * recorded stay as they are, provisional mark included (events are
 * history), and new ones use the new schedule. */
static void test_provisional_and_reload(void **state)
{
    char c1[24], c2[24], c3[24], extra[H_PATH_MAX + 64];
    unsigned char bin[32];
    char hex[65], *buf;
    struct find f;
    FILE *fp;
    long n;
    (void)state;

    cal_write(cal_2026, "w");
    snprintf(extra, sizeof(extra), "[time]\ncalendar = %s", cal_path);
    start("2026-12-29T10:00:00+08:00", extra);
    expect_coverage("2026-01-01", "2026-12-31", 2, false);

    /* Tue 12-29 + 2 working days: Thu 12-31, inside the coverage */
    letter("2026-12-29T10:00:00+08:00", c1, NULL);
    expect_open(c1, "2026-12-31T18:00:00+08:00", "");
    /* Wed 12-30 + 2: Fri 2027-01-01, counted as a working day: a guess */
    letter("2026-12-30T10:00:00+08:00", c2, "reply");
    expect_open(c2, "2027-01-01T18:00:00+08:00", "missed_reply");

    /* the next year's schedule arrives; this one day is made up for the
     * test and is no official date */
    cal_write("2027-01-01\tholiday\tTEST ONLY, not an official date\n", "a");
    hup();
    f = events_of("calendar.reloaded");
    assert_int_equal(f.n, 1);
    assert_string_equal(json_string_value(json_object_get(f.last, "actor")),
                        "system");
    assert_string_equal(
        json_string_value(h_json_path(f.last, "data.covered_from")),
        "2026-01-01");
    assert_string_equal(
        json_string_value(h_json_path(f.last, "data.covered_until")),
        "2027-12-31");
    assert_string_equal(
        json_string_value(h_json_path(f.last, "data.previous_until")),
        "2026-12-31");
    assert_int_equal(
        json_integer_value(h_json_path(f.last, "data.special_days")), 3);
    /* the hash is BLAKE2b-256 of the file's bytes */
    fp = fopen(cal_path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    rewind(fp);
    buf = malloc((size_t)n);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    assert_true(sodium_init() >= 0);
    crypto_generichash(bin, sizeof(bin), (unsigned char *)buf, (size_t)n, NULL,
                       0);
    free(buf);
    sodium_bin2hex(hex, sizeof(hex), bin, sizeof(bin));
    assert_string_equal(json_string_value(h_json_path(f.last, "data.hash")),
                        hex);
    json_decref(f.last);
    expect_coverage("2026-01-01", "2027-12-31", 366, false);

    /* recorded deadlines stay as recorded, still marked */
    expect_open(c1, "2026-12-31T18:00:00+08:00", "");
    expect_open(c2, "2027-01-01T18:00:00+08:00", "missed_reply");
    /* a new one counts with the new year: Thu 12-31, (Fri holiday), Mon */
    letter("2026-12-30T11:00:00+08:00", c3, NULL);
    expect_open(c3, "2027-01-04T18:00:00+08:00", "");

    /* an unchanged file and a broken one record nothing more, and a
     * broken one leaves the running calendar as it was */
    hup();
    cal_write("2028-13-01\tholiday\tbroken\n", "a");
    hup();
    f = events_of("calendar.reloaded");
    json_decref(f.last);
    assert_int_equal(f.n, 1);
    expect_coverage("2026-01-01", "2027-12-31", 366, false);
    /* the timer's command id, as docs/COMPLAINTS.md gives it:
     * deskd:t:<case>:<rule>:<due ms> (2026-12-31T18:00:00+08:00) */
    clock_to("2026-12-31T18:00:00+08:00");
    f = events_of("complaint.escalated");
    assert_int_equal(f.n, 1);
    snprintf(extra, sizeof(extra), "deskd:t:%s:missed_reply:1798711200000", c1);
    assert_string_equal(json_string_value(json_object_get(f.last, "cmd_id")),
                        extra);
    json_decref(f.last);

    /* --rebuild reads the config too: the file as it was loaded */
    cal_write(cal_2026, "w");
    cal_write("2027-01-01\tholiday\tTEST ONLY, not an official date\n", "a");
    rebuild_equals_live(&srv);
}

/* R-GEN-05 for work orders (R-WO-01): with a stale rule counted in
 * working days, an order logged on the calendar's last day gets a
 * provisional deadline, in the event and in query.work_orders. */
static void test_work_order_provisional(void **state)
{
    struct h_reply r;
    json_t *p;
    (void)state;

    start("2026-12-31T10:00:00+08:00",
          "[workorders]\nescalate.stale = workdays:1, cs_lead");
    OK(&r, "clerk1", "workorder.log",
       "{\"kind\":\"repair\",\"name\":\"王\",\"text\":\"水龙头漏水\"}");
    p = h_reply_get(&r, "events.0.data.provisional");
    assert_non_null(p);
    assert_string_equal(json_string_value(json_array_get(p, 0)), "stale_due");
    done(&r);
    query(&r, "query.work_orders", "{}");
    p = h_reply_get(&r, "result.items.0.provisional");
    assert_int_equal(json_array_size(p), 1);
    assert_string_equal(json_string_value(json_array_get(p, 0)), "stale");
    done(&r);
    rebuild_equals_live(&srv);
}

/* R-GEN-05 for the renovation deposit (R-REN-05: back 7 working days
 * after the completion inspection): passed on the calendar's last days,
 * its refund day is provisional in the event and in query.renovations. */
static void test_renovation_refund_provisional(void **state)
{
    char owner[24], ren[24];
    struct h_reply r;
    (void)state;

    start("2026-12-28T10:00:00+08:00", NULL);
    desk_estate("RV", "residence", DESK_ID_NO, owner);
    OK(&r, "clerk1", "renovation.file",
       "{\"unit\":\"RV/1-101\",\"applicant\":\"%s\",\"self\":true,"
       "\"items\":[\"floor\"],\"documents\":[\"drawings\",\"worker_list\"],\"start\":"
       "\"2026-12-28\",\"end\":\"2026-12-29\"}",
       owner);
    snprintf(ren, sizeof(ren), "%s",
             h_reply_str(&r, "events.0.data.renovation"));
    done(&r);
    OK(&r, "clerk1", "renovation.pay_deposit",
       "{\"renovation\":\"%s\",\"party\":\"owner\",\"book\":\"RV1\","
       "\"method\":\"cash\"}",
       ren);
    done(&r);
    OK(&r, "clerk1", "renovation.complete",
       "{\"renovation\":\"%s\",\"result\":\"passed\"}", ren);
    assert_string_equal(json_string_value(json_array_get(
                            h_reply_get(&r, "events.0.data.provisional"), 0)),
                        "refund_from");
    done(&r);
    query(&r, "query.renovations", "{\"unit\":\"RV/\"}");
    assert_true(json_is_true(h_reply_get(&r, "result.refunds.0.provisional")));
    done(&r);
    rebuild_equals_live(&srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_coverage_warning_once, teardown),
        cmocka_unit_test_teardown(test_provisional_and_reload, teardown),
        cmocka_unit_test_teardown(test_work_order_provisional, teardown),
        cmocka_unit_test_teardown(test_renovation_refund_provisional, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
