/* tests/unit/test_config.c - the config parser (core/config.c), one
 * section at a time: the documents' numbers as defaults (R-CARD-01/02/05,
 * R-REN-02/03/05, R-VIS-01/02), overrides, and refusals of unknown keys
 * and out-of-range values; [security], [keys] and [http_tokens]: what
 * parses, what is refused (a malformed key, a key or token for an unknown
 * operator, CURVE without a secret key, plain on a reachable endpoint not
 * chosen explicitly) and the lookups the bus and the HTTP thread use.
 * Errors name the line (the first error when there are several); relative
 * paths start at the config file's directory, never the working one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../core/config.h"

/* Z85 keys from zmq_curve_keypair; '=' and ':' included on purpose */
#define KEY_A "Bs$IjRv7M8rNOx#Y}J+Wi52DEQ*?zkT$T}#f{KB*"
#define KEY_B "zCI!+b/Smam)+0MHd+xiLAin^{0]52K1YI*1ECJ["
#define KEY_C "RDbw&q$G)xQq?Rxket%z41O)j7?cB{XwNt=-Pr:?"
#define OPS "[operators]\nwangf = clerk, W\nlina = cs_lead, L\n"

static struct config *cfg;

/* Each text must be refused as invalid, naming the key at fault. */
static void refused_all(const char *const *bad, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct err e = {0};
        cfg_init(cfg);
        if (cfg_parse(cfg, bad[i], "", &e) != ERR_INVALID || !e.field[0])
            fail_msg("accepted, or no field named: %s", bad[i]);
    }
}

/* deskaudit whatif --set: one "section.key=value" through the file's own
 * entry handler; a late-fee policy set again replaces the file's one; an
 * unknown key, a bad value or a malformed setting is refused naming the
 * setting, and leaves the value as it was. */
static void test_override(void **state)
{
    static const char *const bad[] = {
        "complaints.escalate_manager_days=7",
        "complaints.escalate.open_10d=days:x, manager",
        "fees.late_fee.property_fee=grace=-1 daily_bp=5 cap_bp=1000",
        "nosection=1",
        "fees.=1",
        "fees.due_day",
        "nosuch.key=1"};
    struct err e = {0};
    (void)state;

    cfg_init(cfg);
    assert_int_equal(cfg_parse(cfg,
                               "[fees]\nlate_fee.property_fee = grace=30 "
                               "daily_bp=5 cap_bp=1000\n",
                               "", &e),
                     0);
    assert_int_equal(cfg->cmp.rule[RULE_OPEN_10D].after.n, 10);
    assert_int_equal(
        cfg_override(cfg, "complaints.escalate.open_10d=days:7, manager", &e),
        0);
    assert_int_equal(cfg->cmp.rule[RULE_OPEN_10D].after.n, 7);
    assert_string_equal(cfg->cmp.rule[RULE_OPEN_10D].notify, "manager");
    assert_int_equal(
        cfg_override(
            cfg, "fees.late_fee.property_fee=grace=15 daily_bp=5 cap_bp=1000",
            &e),
        0);
    assert_int_equal(cfg->fees.nlate, 1);
    assert_int_equal(cfg->fees.late[0].grace_days, 15);
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        err_clear(&e);
        if (cfg_override(cfg, bad[i], &e) != ERR_INVALID ||
            !strstr(e.msg, "--set '"))
            fail_msg("accepted, or not named: %s (%s)", bad[i], e.msg);
    }
    assert_int_equal(cfg->cmp.rule[RULE_OPEN_10D].after.n, 7);
    assert_int_equal(cfg->fees.nlate, 1);
    assert_int_equal(cfg->fees.late[0].grace_days, 15);
}

/* R-FEE-02: bills fall due on a day 1..28 of each month, or on its last
 * day ("last"); 29..31 would not exist in every month and are refused. */
static void test_fee_due_day(void **state)
{
    static const char *const bad[] = {"[fees]\ndue_day = 29\n",
                                      "[fees]\ndue_day = 0\n",
                                      "[fees]\ndue_day = end\n"};
    struct err e = {0};
    (void)state;

    cfg_init(cfg);
    assert_int_equal(cfg->fees.due_day, 15);
    assert_int_equal(cfg_parse(cfg, "[fees]\ndue_day = last\n", "", &e), 0);
    assert_int_equal(cfg->fees.due_day, FEES_DUE_LAST);
    assert_int_equal(fees_due_in(cfg->fees.due_day, 2026, 2), 28);
    assert_int_equal(fees_due_in(cfg->fees.due_day, 2028, 2), 29);
    assert_int_equal(fees_due_in(cfg->fees.due_day, 2026, 4), 30);
    assert_int_equal(fees_due_in(cfg->fees.due_day, 2026, 12), 31);
    assert_int_equal(fees_due_in(28, 2026, 12), 28);
    refused_all(bad, sizeof(bad) / sizeof(*bad));
}

/* R-CARD-01/02/05: the documents' numbers are the defaults. */
static void test_card_settings_defaults(void **state)
{
    (void)state;
    cfg_init(cfg);
    assert_int_equal(cfg->cards.owner_months, 24);
    assert_int_equal(cfg->cards.tenant_months, 12);
    assert_int_equal(cfg->cards.merchant_months, 12);
    assert_int_equal(cfg->cards.move_in_free, 3);
    assert_int_equal(cfg->cards.damage_free_months, 1);
    assert_int_equal(cfg->cards.expiry_days, 30);
}

static void test_card_settings_override(void **state)
{
    struct err e = {0};
    (void)state;
    cfg_init(cfg);
    assert_int_equal(cfg_parse(cfg,
                               "[cards]\nowner_months = 36\n"
                               "move_in_free = 0\nexpiry_days = 45\n",
                               "", &e),
                     0);
    assert_int_equal(cfg->cards.owner_months, 36);
    assert_int_equal(cfg->cards.move_in_free, 0);
    assert_int_equal(cfg->cards.expiry_days, 45);
    assert_int_equal(cfg->cards.tenant_months, 12);
}

static void test_card_settings_refused(void **state)
{
    static const char *const bad[] = {
        "[cards]\nowner_months = 0\n", "[cards]\ntenant_months = x\n",
        "[cards]\nmove_in_free = -1\n", "[cards]\nfree_cards = 3\n"};
    (void)state;
    refused_all(bad, sizeof(bad) / sizeof(*bad));
}

/* R-REN-02: 3 months, extensions 3 at a time; R-REN-03: 1,000 + 1,000
 * yuan, 2,000 for the owner himself; R-REN-05: 7 working days. */
static void test_ren_settings_defaults(void **state)
{
    (void)state;
    cfg_init(cfg);
    assert_int_equal(cfg->ren.term_months, 3);
    assert_int_equal(cfg->ren.extension_months, 3);
    assert_int_equal(cfg->ren.owner_deposit, 100000);
    assert_int_equal(cfg->ren.contractor_deposit, 100000);
    assert_int_equal(cfg->ren.self_deposit, 200000);
    assert_int_equal(cfg->ren.refund_workdays, 7);
}

static void test_ren_settings_override(void **state)
{
    struct err e = {0};
    (void)state;
    cfg_init(cfg);
    assert_int_equal(cfg_parse(cfg,
                               "[renovation]\nterm_months = 6\n"
                               "self_deposit_fen = 300000\n"
                               "refund_workdays = 10\n",
                               "", &e),
                     0);
    assert_int_equal(cfg->ren.term_months, 6);
    assert_int_equal(cfg->ren.self_deposit, 300000);
    assert_int_equal(cfg->ren.refund_workdays, 10);
    assert_int_equal(cfg->ren.owner_deposit, 100000);
}

static void test_ren_settings_refused(void **state)
{
    static const char *const bad[] = {"[renovation]\nterm_months = 0\n",
                                      "[renovation]\nowner_deposit_fen = -1\n",
                                      "[renovation]\nrefund_workdays = x\n",
                                      "[renovation]\ndeposit = 1000\n"};
    (void)state;
    refused_all(bad, sizeof(bad) / sizeof(*bad));
}

/* R-VIS-01/02: the documents' numbers are the defaults. */
static void test_visit_settings_defaults(void **state)
{
    (void)state;
    cfg_init(cfg);
    assert_int_equal(cfg->visits.new_owner_months, 1);
    assert_int_equal(cfg->visits.new_owner_max_months, 3);
    assert_int_equal(cfg->visits.second_after_months, 1);
    assert_int_equal(cfg->visits.second_window_days, 7);
    assert_int_equal(cfg->visits.manager_min_monthly, 2);
}

static void test_visit_settings_override(void **state)
{
    struct err e = {0};
    (void)state;
    cfg_init(cfg);
    assert_int_equal(cfg_parse(cfg,
                               "[visits]\nnew_owner_months = 2\n"
                               "new_owner_max_months = 4\n"
                               "manager_min_monthly = 5\n",
                               "", &e),
                     0);
    assert_int_equal(cfg->visits.new_owner_months, 2);
    assert_int_equal(cfg->visits.new_owner_max_months, 4);
    assert_int_equal(cfg->visits.manager_min_monthly, 5);
    assert_int_equal(cfg->visits.second_window_days, 7);
}

static void test_visit_settings_refused(void **state)
{
    static const char *const bad[] = {
        "[visits]\nnew_owner_months = 0\n",
        "[visits]\nsecond_window_days = x\n",
        "[visits]\nmanager_min_monthly = -1\n",
        "[visits]\nmanager_minimum = 2\n",
        "[visits]\nnew_owner_months = 4\n"}; /* above the 3-month limit */
    (void)state;
    refused_all(bad, sizeof(bad) / sizeof(*bad));
}

/* Checkpoints of derived state (issue 14): on by default, either trigger
 * turned off with 0, nonsense refused. */
static void test_checkpoint_settings(void **state)
{
    static const char *const bad[] = {
        "[deskd]\ncheckpoint_events = -1\n",
        "[deskd]\ncheckpoint_events = many\n",
        "[deskd]\ncheckpoint_events = 2000000000\n",
        "[deskd]\ncheckpoint_interval_s = 604801\n",
        "[deskd]\ncheckpoint_interval_s = 1h\n"};
    struct err e = {0};
    (void)state;
    cfg_init(cfg);
    assert_int_equal(cfg->checkpoint_events, 200000);
    assert_int_equal(cfg->checkpoint_interval_s, 86400);
    assert_int_equal(cfg_parse(cfg,
                               "[deskd]\ncheckpoint_events = 0\n"
                               "checkpoint_interval_s = 60\n",
                               "", &e),
                     0);
    assert_int_equal(cfg->checkpoint_events, 0);
    assert_int_equal(cfg->checkpoint_interval_s, 60);
    refused_all(bad, sizeof(bad) / sizeof(*bad));
}

static int parse(const char *text)
{
    struct err e = {0};
    cfg_init(cfg);
    return cfg_parse(cfg, text, "/etc/deskd", &e);
}

static void test_keys_map_to_operators(void **state)
{
    (void)state;
    assert_int_equal(parse(OPS "[security]\nmode = curve\nsecret_key = s.key\n"
                               "[keys]\nwangf = " KEY_A ", " KEY_B
                               "\nlina = " KEY_C "\n"),
                     0);
    assert_int_equal(cfg->sec_mode, CFG_SEC_CURVE);
    assert_string_equal(cfg->sec_secret_path, "/etc/deskd/s.key");
    assert_int_equal(cfg->nkeys, 3);
    assert_string_equal(cfg_key_operator(cfg, KEY_A), "wangf");
    assert_string_equal(cfg_key_operator(cfg, KEY_B), "wangf");
    assert_string_equal(cfg_key_operator(cfg, KEY_C), "lina");
    assert_null(
        cfg_key_operator(cfg, "0000000000000000000000000000000000000000"));
}

static void test_bad_keys_refused(void **state)
{
    (void)state;
    /* 39 chars; a character outside Z85; an unknown operator; twice */
    assert_int_not_equal(parse(OPS "[keys]\nwangf = " KEY_A "x\n"), 0);
    assert_int_not_equal(
        parse(OPS "[keys]\nwangf = Bs$IjRv7M8rNOx#Y}J+Wi52DEQ*?zkT$T}#f{KB\n"),
        0);
    assert_int_not_equal(
        parse(OPS
              "[keys]\nwangf = Bs$IjRv7M8rNOx#Y}J+Wi52DEQ*?zkT$T}#f{K\"*\n"),
        0);
    assert_int_not_equal(parse(OPS "[keys]\nnobody = " KEY_A "\n"), 0);
    assert_int_not_equal(
        parse(OPS "[keys]\nwangf = " KEY_A "\nlina = " KEY_A "\n"), 0);
    assert_int_not_equal(parse(OPS "[security]\nmode = tls\n"), 0);
}

static void test_curve_needs_secret_key(void **state)
{
    (void)state;
    assert_int_not_equal(parse(OPS "[security]\nmode = curve\n"), 0);
}

/* Plain on an endpoint other machines reach must be chosen explicitly. */
static void test_plain_on_open_endpoint_is_explicit(void **state)
{
    (void)state;
    assert_int_equal(parse(OPS), 0);
    assert_int_equal(cfg->sec_mode, CFG_SEC_PLAIN);
    assert_int_not_equal(parse("[deskd]\ncommands = tcp://0.0.0.0:7700\n" OPS),
                         0);
    assert_int_equal(parse("[deskd]\ncommands = tcp://0.0.0.0:7700\n" OPS
                           "[security]\nmode = plain\n"),
                     0);
    assert_int_equal(parse("[deskd]\ncommands = ipc:///run/deskd.sock\n" OPS),
                     0);
}

static void test_http_tokens(void **state)
{
    const char tok[] = "3f9a1c0e7b2d4a6f8e1c9b7a5d3f1e0c";
    (void)state;
    assert_int_equal(
        parse(OPS "[http_tokens]\n3f9a1c0e7b2d4a6f8e1c9b7a5d3f1e0c = lina\n"),
        0);
    assert_int_equal(cfg->ntokens, 1);
    assert_string_equal(cfg_token_operator(cfg, tok, strlen(tok))->id, "lina");
    assert_null(cfg_token_operator(cfg, tok, strlen(tok) - 1));
    assert_null(cfg_token_operator(cfg, "3f9a1c0e7b2d4a6f8e1c9b7a5d3f1e0d",
                                   strlen(tok)));
    assert_int_not_equal(parse(OPS "[http_tokens]\nshort = lina\n"), 0);
    assert_int_not_equal(
        parse(OPS "[http_tokens]\n3f9a1c0e7b2d4a6f8e1c9b7a5d3f1e0c = nobody\n"),
        0);
}

/* An HTTP API other machines reach must have tokens. */
static void test_open_http_needs_tokens(void **state)
{
    (void)state;
    assert_int_not_equal(parse("[deskd]\nhttp = 0.0.0.0:7780\n" OPS), 0);
    assert_int_equal(parse("[deskd]\nhttp = 0.0.0.0:7780\n" OPS
                           "[http_tokens]\n3f9a1c0e7b2d4a6f8e1c9b7a5d3f1e0c = "
                           "lina\n"),
                     0);
    assert_int_equal(parse("[deskd]\nhttp = off\n" OPS), 0);
}

static int setup(void **state)
{
    (void)state;
    cfg = calloc(1, sizeof(*cfg));
    return cfg ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(cfg);
    return 0;
}

/* deskd --check-config relies on these: the file's line, the first error. */
static void test_errors_name_the_line(void **state)
{
    struct err e = {0};
    (void)state;
    cfg_init(cfg);
    assert_int_equal(cfg_parse(cfg,
                               "; comment\n[deskd]\nbatch_max = 8\n\n"
                               "batch_max = lots\n[time]\nclock = never\n",
                               "", &e),
                     ERR_INVALID);
    assert_non_null(strstr(e.msg, "config:5: [deskd] batch_max"));
    cfg_init(cfg);
    assert_int_equal(cfg_parse(cfg, "[deskd]\n\nno equals sign\n", "", &e),
                     ERR_INVALID);
    assert_non_null(strstr(e.msg, "config:3: syntax error"));
}

/* A line longer than libinih's buffer is refused as such, not split into
 * a second line that then fails or, worse, parses. */
static void test_long_line_refused(void **state)
{
    char text[600];
    struct err e = {0};
    (void)state;
    snprintf(text, sizeof(text), "[deskd]\n; %0300d\nbatch_max = 8\n", 0);
    cfg_init(cfg);
    assert_int_equal(cfg_parse(cfg, text, "", &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "config:2: line over 199 bytes"));
    /* the first error is still the one named when a later line is bad */
    snprintf(text, sizeof(text), "[deskd]\n; %0300d\nbatch_max = x\n", 0);
    cfg_init(cfg);
    assert_int_equal(cfg_parse(cfg, text, "", &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "config:2: line over"));
    /* 199 bytes and its line end fit */
    snprintf(text, sizeof(text), "[deskd]\n;%0198d\nbatch_max = 9\n", 0);
    cfg_init(cfg);
    assert_int_equal(cfg_parse(cfg, text, "", &e), 0);
    assert_int_equal(cfg->batch_max, 9);
    /* just under the limit is fine, and so is a last line without \n */
    snprintf(text, sizeof(text), "[deskd]\n; %0190d\nbatch_max = 8", 0);
    cfg_init(cfg);
    assert_int_equal(cfg_parse(cfg, text, "", &e), 0);
    assert_int_equal(cfg->batch_max, 8);
}

/* http_actor must be an operator: otherwise every dashboard request would
 * be refused at run time instead of the config at start. */
static void test_http_actor_is_an_operator(void **state)
{
    struct err e = {0};
    (void)state;
    assert_int_equal(parse(OPS "[deskd]\nhttp_actor = wangf\n"), 0);
    cfg_init(cfg);
    assert_int_equal(
        cfg_parse(cfg, OPS "[deskd]\nhttp_actor = nobody\n", "", &e),
        ERR_INVALID);
    assert_string_equal(e.field, "deskd.http_actor");
    assert_non_null(strstr(e.msg, "'nobody' is not listed"));
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

/* Relative paths, and data_dir when the file names none, start at the
 * config file's directory and come out absolute, whatever the working
 * directory was when it was loaded or is later (a service runs in /). */
static void test_paths_from_config_dir(void **state)
{
    char tmpl[] = "/tmp/test_config.XXXXXX", dir[PATH_MAX], cwd[PATH_MAX];
    char path[PATH_MAX + 32], want[PATH_MAX + 64];
    struct err e = {0};
    (void)state;
    assert_non_null(mkdtemp(tmpl));
    assert_non_null(realpath(tmpl, dir));
    snprintf(path, sizeof(path), "%s/etc", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/etc/holidays.tsv", dir);
    write_file(path, "2026-10-01\tholiday\tNational Day\n");
    snprintf(path, sizeof(path), "%s/etc/deskd.conf", dir);
    write_file(path, "[time]\ncalendar = holidays.tsv\n"
                     "[security]\nsecret_key = ../keys/server.key\n");
    assert_non_null(getcwd(cwd, sizeof(cwd)));
    assert_int_equal(chdir(dir), 0);
    cfg_init(cfg);
    assert_int_equal(cfg_load(cfg, "etc/deskd.conf", &e), 0);
    assert_int_equal(chdir("/"), 0);
    snprintf(want, sizeof(want), "%s/etc/var", dir);
    assert_string_equal(cfg->data_dir, want);
    snprintf(want, sizeof(want), "%s/etc/holidays.tsv", dir);
    assert_string_equal(cfg->calendar_path, want);
    assert_int_equal(cfg->cal.nspecial, 1);
    snprintf(want, sizeof(want), "%s/etc/../keys/server.key", dir);
    assert_string_equal(cfg->sec_secret_path, want);
    snprintf(want, sizeof(want), "%s/etc/" CFG_DASHBOARD_DIR, dir);
    assert_string_equal(cfg->dashboard_dir, want);
    /* an absolute data_dir stays as written */
    write_file(path, "[deskd]\ndata_dir = /var/lib/deskd\n");
    cfg_init(cfg);
    assert_int_equal(cfg_load(cfg, path, &e), 0);
    assert_string_equal(cfg->data_dir, "/var/lib/deskd");
    /* CURVE with a key this user cannot read: deskd refuses to start,
     * a tool that only applies the rules (cfg_load_rules) reads them */
    write_file(path, "[security]\nmode = curve\nsecret_key = no.key\n"
                     "[complaints]\nauto_close_days = 5\n");
    cfg_init(cfg);
    assert_int_equal(cfg_load(cfg, path, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "secret key"));
    cfg_init(cfg);
    assert_int_equal(cfg_load_rules(cfg, path, &e), 0);
    assert_int_equal(cfg->cmp.auto_close_days, 5);
    /* a bad calendar line is named by its file and line */
    snprintf(want, sizeof(want), "%s/etc/holidays.tsv", dir);
    write_file(want, "2026-10-01\tholiday\tNational Day\n2026-13-01\tholiday"
                     "\tX\n");
    write_file(path, "[time]\ncalendar = holidays.tsv\n");
    cfg_init(cfg);
    assert_int_equal(cfg_load(cfg, path, &e), ERR_INVALID);
    assert_non_null(strstr(e.msg, "holidays.tsv:2:"));
    assert_int_equal(chdir(cwd), 0);
    unlink(want);
    unlink(path);
    snprintf(path, sizeof(path), "%s/etc", dir);
    rmdir(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fee_due_day),
        cmocka_unit_test(test_card_settings_defaults),
        cmocka_unit_test(test_card_settings_override),
        cmocka_unit_test(test_card_settings_refused),
        cmocka_unit_test(test_ren_settings_defaults),
        cmocka_unit_test(test_ren_settings_override),
        cmocka_unit_test(test_ren_settings_refused),
        cmocka_unit_test(test_visit_settings_defaults),
        cmocka_unit_test(test_visit_settings_override),
        cmocka_unit_test(test_visit_settings_refused),
        cmocka_unit_test(test_checkpoint_settings),
        cmocka_unit_test(test_keys_map_to_operators),
        cmocka_unit_test(test_bad_keys_refused),
        cmocka_unit_test(test_curve_needs_secret_key),
        cmocka_unit_test(test_plain_on_open_endpoint_is_explicit),
        cmocka_unit_test(test_http_tokens),
        cmocka_unit_test(test_open_http_needs_tokens),
        cmocka_unit_test(test_errors_name_the_line),
        cmocka_unit_test(test_long_line_refused),
        cmocka_unit_test(test_paths_from_config_dir),
        cmocka_unit_test(test_http_actor_is_an_operator),
        cmocka_unit_test(test_override),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
