/* tests/unit/test_config_renovation.c - the [renovation] section of
 * deskd.conf (R-REN-02, R-REN-03, R-REN-05 settings): defaults, the
 * shipped file, overrides, and refusals of unknown keys and out-of-range
 * values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "../../core/config.h"

static struct config *cfg;

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
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        struct err e = {0};
        cfg_init(cfg);
        assert_int_equal(cfg_parse(cfg, bad[i], "", &e), ERR_INVALID);
        assert_string_not_equal(e.field, "");
    }
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ren_settings_defaults),
        cmocka_unit_test(test_ren_settings_override),
        cmocka_unit_test(test_ren_settings_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
