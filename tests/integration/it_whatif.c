/* tests/integration/it_whatif.c - deskaudit whatif against the log of a
 * real deskd (manual clock): a policy change replayed in a scratch
 * directory gives the hand-computed difference, every figure the change
 * does not touch equals what really happened, bad settings are refused
 * with a clear message, and the live data is never written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "desk.h"

static struct h_server srv;
static struct h_client cli;

static const char *tools(void)
{
    return getenv("DESKD_TOOLS") ? getenv("DESKD_TOOLS") : "build";
}

/* Runs deskaudit with args (stderr into out too); its exit status. */
__attribute__((format(printf, 3, 4))) static int audit(char *out, size_t cap,
                                                       const char *fmt, ...)
{
    char args[4 * H_PATH_MAX], line[8 * H_PATH_MAX];
    va_list ap;
    FILE *p;
    size_t n = 0;
    int st;

    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    snprintf(line, sizeof(line), "%s/deskaudit --quiet %s 2>&1", tools(), args);
    p = popen(line, "r");
    assert_non_null(p);
    out[0] = '\0';
    while (fgets(line, sizeof(line), p))
        if (n + strlen(line) < cap)
            n += (size_t)snprintf(out + n, cap - n, "%s", line);
    st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void receive(const char *what)
{
    struct h_reply r;
    OK(&r, "clerk1", "complaint.receive",
       "{\"channel\":\"letter\",\"what\":\"%s\"}", what);
    done(&r);
}

/* The history every test reads: an estate with one 90 m² residence billed
 * for January (22,500 fen, due 01-15), two complaints by letter (C1 on
 * 01-05, C2 on 01-09, both left open), a late-fee run on 02-10 that
 * charges nothing (26 days past due, 30 of grace) but is recorded, and one
 * on 02-24; the clock then runs to the end of March, firing every
 * escalation. */
static void history(void)
{
    struct h_reply r;
    char owner[24];

    desk_estate("FF", "residence", "", owner);
    OK(&r, "lead1", "fee.bill_run",
       "{\"estate\":\"FF\",\"period\":\"2026-01\"}");
    assert_int_equal(h_reply_int(&r, "events.0.data.amount", 0), 22500);
    done(&r);
    receive("楼道灯坏了");
    clock_to("2026-01-09T10:00:00+08:00");
    receive("电梯异响");
    clock_to("2026-01-13T23:59:59+08:00");
    clock_to("2026-02-10T09:00:00+08:00");
    OK(&r, "lead1", "fee.assess_late", "{\"estate\":\"FF\"}");
    assert_int_equal(r.nevents, 1);
    assert_string_equal(h_reply_str(&r, "events.0.type"), "fee.late_fee_run");
    assert_int_equal(h_reply_int(&r, "events.0.data.bills", -1), 0);
    done(&r);
    clock_to("2026-02-24T09:00:00+08:00");
    OK(&r, "lead1", "fee.assess_late", "{\"estate\":\"FF\"}");
    /* 40 days past due, 30 of grace: 22500 x 5 bp x 10 days = 112.5 */
    assert_int_equal(h_reply_int(&r, "events.0.data.amount", 0), 112);
    done(&r);
    clock_to("2026-03-31T23:59:59+08:00");
}

static json_t *whatif(const char *from, const char *to, const char *sets)
{
    static char out[1 << 16];
    json_error_t je;
    json_t *j;
    int rc = audit(out, sizeof(out),
                   "whatif %s --config %s --from %s --to %s %s --json",
                   srv.data_dir, srv.config, from, to, sets);
    if (rc)
        fail_msg("deskaudit whatif exited %d: %s", rc, out);
    j = json_loads(out, 0, &je);
    if (!j)
        fail_msg("not JSON (%s): %s", je.text, out);
    return j;
}

static json_int_t num(json_t *j, const char *side, const char *key,
                      const char *sub)
{
    json_t *v = json_object_get(json_object_get(j, side), key);
    if (sub)
        v = json_object_get(v, sub);
    if (!json_is_integer(v))
        fail_msg("no %s.%s%s%s", side, key, sub ? "." : "", sub ? sub : "");
    return json_integer_value(v);
}

/* Every escalation count of the two sides, but rule `except`, equal. */
static void same_escalations(json_t *j, const char *except)
{
    json_t *real =
        json_object_get(json_object_get(j, "actual"), "complaint_escalations");
    const char *k;
    json_t *v;
    json_object_foreach(real, k, v)
    {
        if (except && !strcmp(k, except))
            continue;
        if (json_integer_value(v) !=
            num(j, "whatif", "complaint_escalations", k))
            fail_msg("escalations %s: actual %lld, what-if %lld", k,
                     (long long)json_integer_value(v),
                     (long long)num(j, "whatif", "complaint_escalations", k));
    }
}

/* Escalating to the manager after 7 days instead of 10: C1 (received
 * 01-05 10:00) is escalated on 01-12 10:00, inside the window; C2's
 * 7 days end on 01-16, after it. Really neither was (10 days: 01-15).
 * Every other escalation (update_due, missed_reply), fired again by the
 * replay's timers, equals what the live server fired. */
static void test_whatif_manager_after_7_days(void **state)
{
    char fp1[256], fp2[256];
    json_t *j;
    (void)state;

    assert_int_equal(h_derived_settled(&srv), 0); /* committed lazily */
    assert_int_equal(audit(fp1, sizeof(fp1), "fingerprint %s", srv.data_dir),
                     0);
    j = whatif("2026-01-01", "2026-01-13",
               "--set 'complaints.escalate.open_10d=days:7, manager'");
    assert_int_equal(num(j, "actual", "complaint_escalations", "open_10d"), 0);
    assert_int_equal(num(j, "whatif", "complaint_escalations", "open_10d"), 1);
    same_escalations(j, "open_10d");
    /* C1 and C2 each missed a deadline either way */
    assert_int_equal(num(j, "actual", "complaints_escalated", NULL), 2);
    assert_int_equal(num(j, "whatif", "complaints_escalated", NULL), 2);
    assert_true(num(j, "actual", "complaint_escalations", "update_due") > 0);
    assert_int_equal(num(j, "actual", "late_fee_fen", NULL), 0);
    /* January's bill falls due on 01-15: nothing overdue on 01-13 */
    assert_int_equal(num(j, "actual", "overdue_fen", NULL), 0);
    assert_int_equal(num(j, "whatif", "overdue_fen", NULL), 0);
    json_decref(j);
    /* from 01-13 on only: both complaints were received before, under
     * the rules of their time, so the change decides nothing in the
     * window and both sides are the same */
    j = whatif("2026-01-13", "2026-01-13",
               "--set 'complaints.escalate.open_10d=days:7, manager'");
    assert_int_equal(num(j, "whatif", "complaint_escalations", "open_10d"), 0);
    same_escalations(j, NULL);
    assert_int_equal(num(j, "actual", "complaint_escalations", "missed_reply"),
                     1); /* C2's, at 18:00 */
    json_decref(j);
    /* the live data is untouched */
    assert_int_equal(audit(fp2, sizeof(fp2), "fingerprint %s", srv.data_dir),
                     0);
    assert_string_equal(fp1, fp2);
}

/* A late fee after 15 days of grace instead of 30: the 02-10 run, which
 * really charged nothing, charges 22500 x 5 bp x 11 days = 123.75 -> 123
 * fen; the 02-24 run brings it up to 22500 x 5 bp x 25 days = 281.25 ->
 * 281 fen (158 more) instead of 112: 169 more in all, in two bills; the
 * escalations of the quarter are the same as really fired. */
static void test_whatif_late_fee_after_15_days(void **state)
{
    char out[8192];
    json_t *j;
    (void)state;

    j = whatif(
        "2026-01-01", "2026-03-31",
        "--set 'fees.late_fee.property_fee=grace=15 daily_bp=5 cap_bp=1000'");
    assert_int_equal(num(j, "actual", "late_fee_fen", NULL), 112);
    assert_int_equal(num(j, "whatif", "late_fee_fen", NULL), 281);
    assert_int_equal(num(j, "actual", "late_fee_bills", NULL), 1);
    assert_int_equal(num(j, "whatif", "late_fee_bills", NULL), 2);
    assert_int_equal(num(j, "replay", "late_fee_runs", NULL), 2);
    assert_int_equal(num(j, "replay", "late_fee_runs_empty", NULL), 0);
    same_escalations(j, NULL);
    assert_int_equal(num(j, "actual", "complaint_escalations", "open_10d"), 2);
    assert_int_equal(num(j, "actual", "complaint_escalations", "open_15d"), 2);
    /* overdue on 03-31 (R-FEE-06 buckets): January's 22,500 fen, 75 days
     * (due 01-15); the late fee, due the day it was charged (02-24), 35
     * days: 112 really, 281 under the change */
    assert_int_equal(num(j, "actual", "overdue_fen_by_age", "61-90"), 22500);
    assert_int_equal(num(j, "whatif", "overdue_fen_by_age", "61-90"), 22500);
    assert_int_equal(num(j, "actual", "overdue_fen_by_age", "31-60"), 112);
    assert_int_equal(num(j, "whatif", "overdue_fen_by_age", "31-60"), 281);
    assert_int_equal(num(j, "actual", "overdue_fen_by_age", "1-30"), 0);
    assert_int_equal(num(j, "whatif", "overdue_fen_by_age", ">90"), 0);
    assert_int_equal(num(j, "actual", "overdue_fen", NULL), 22612);
    assert_int_equal(num(j, "whatif", "overdue_fen", NULL), 22781);
    json_decref(j);
    /* the readable table says the same */
    assert_int_equal(
        audit(out, sizeof(out),
              "whatif %s --config %s --from 2026-01-01 --to 2026-03-31 "
              "--set 'fees.late_fee.property_fee=grace=15 daily_bp=5 "
              "cap_bp=1000'",
              srv.data_dir, srv.config),
        0);
    assert_non_null(strstr(out, "late fees charged (fen)"));
    assert_non_null(strstr(out, "112"));
    assert_non_null(strstr(out, "281"));
    assert_non_null(strstr(out, "+169"));
    assert_non_null(strstr(out, "overdue on 2026-03-31, total (fen)"));
}

/* R-FEE-08: the run of 02-10 that charged nothing is in the log
 * (fee.late_fee_run), so what-if runs it again: with 15 days of grace it
 * charges 22500 x 5 bp x 11 days = 123.75 -> 123 fen by 02-20, where
 * really nothing was charged; under the real policy it stays empty. */
static void test_whatif_reruns_an_empty_late_fee_run(void **state)
{
    json_t *j;
    (void)state;

    j = whatif(
        "2026-02-01", "2026-02-20",
        "--set 'fees.late_fee.property_fee=grace=15 daily_bp=5 cap_bp=1000'");
    assert_int_equal(num(j, "actual", "late_fee_fen", NULL), 0);
    assert_int_equal(num(j, "whatif", "late_fee_fen", NULL), 123);
    assert_int_equal(num(j, "whatif", "late_fee_bills", NULL), 1);
    assert_int_equal(num(j, "replay", "late_fee_runs", NULL), 1);
    assert_int_equal(num(j, "replay", "late_fee_runs_empty", NULL), 0);
    json_decref(j);
    j = whatif(
        "2026-02-01", "2026-02-20",
        "--set 'fees.late_fee.property_fee=grace=30 daily_bp=5 cap_bp=1000'");
    assert_int_equal(num(j, "whatif", "late_fee_fen", NULL), 0);
    assert_int_equal(num(j, "replay", "late_fee_runs", NULL), 1);
    assert_int_equal(num(j, "replay", "late_fee_runs_empty", NULL), 1);
    json_decref(j);
}

/* An unknown key, a bad value, a setting whatif does not decide again and
 * a missing --set: each a clear error, exit 2 (a bad setting is 1). */
static void test_whatif_refuses_bad_settings(void **state)
{
    char out[8192];
    (void)state;

    assert_int_not_equal(audit(out, sizeof(out),
                               "whatif %s --config %s --from 2026-01-01 "
                               "--to 2026-03-31 --set "
                               "complaints.escalate_manager_days=7",
                               srv.data_dir, srv.config),
                         0);
    assert_non_null(strstr(out, "complaints.escalate_manager_days=7"));
    assert_non_null(strstr(out, "unknown key"));
    assert_int_not_equal(audit(out, sizeof(out),
                               "whatif %s --config %s --from 2026-01-01 "
                               "--to 2026-03-31 --set "
                               "'complaints.escalate.open_10d=days:x, manager'",
                               srv.data_dir, srv.config),
                         0);
    assert_non_null(strstr(out, "open_10d"));
    assert_int_not_equal(audit(out, sizeof(out),
                               "whatif %s --config %s --from 2026-01-01 "
                               "--to 2026-03-31 --set "
                               "complaints.auto_close_days=3",
                               srv.data_dir, srv.config),
                         0);
    assert_non_null(strstr(out, "does not make its decisions again"));
    assert_int_not_equal(audit(out, sizeof(out),
                               "whatif %s --config %s --from 2026-01-01 "
                               "--to 2026-03-31 --set nodot",
                               srv.data_dir, srv.config),
                         0);
    assert_non_null(strstr(out, "section.key=value"));
    assert_int_not_equal(audit(out, sizeof(out),
                               "whatif %s --config %s --from 2026-01-01 "
                               "--to 2026-03-31",
                               srv.data_dir, srv.config),
                         0);
    assert_non_null(strstr(out, "at least one --set"));
}

static int setup(void **state)
{
    struct h_opts o = {0};
    (void)state;
    o.manual_start = "2026-01-05T10:00:00+08:00";
    o.extra_ini = "[fees]\nlate_fee.property_fee = grace=30 daily_bp=5 "
                  "cap_bp=1000\n";
    if (desk_start(&srv, &cli, &o))
        return -1;
    history();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return desk_stop(&srv, &cli);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whatif_manager_after_7_days),
        cmocka_unit_test(test_whatif_late_fee_after_15_days),
        cmocka_unit_test(test_whatif_reruns_an_empty_late_fee_run),
        cmocka_unit_test(test_whatif_refuses_bad_settings),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
