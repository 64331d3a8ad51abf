/* tests/unit/test_config_visits.c - the [visits] section of deskd.conf
 * (R-VIS-01, R-VIS-02 settings): defaults, overrides, and refusals of
 * unknown keys, out-of-range values and a limit below the due month. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "../../core/config.h"

static struct config *cfg;

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
        cmocka_unit_test(test_visit_settings_defaults),
        cmocka_unit_test(test_visit_settings_override),
        cmocka_unit_test(test_visit_settings_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
