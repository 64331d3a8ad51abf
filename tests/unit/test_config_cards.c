/* tests/unit/test_config_cards.c - the [cards] section of deskd.conf
 * (R-CARD-01, R-CARD-02, R-CARD-05 settings): defaults, overrides, and
 * refusals of unknown keys and out-of-range values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>

#include "../../core/config.h"

static struct config *cfg;

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
        cmocka_unit_test(test_card_settings_defaults),
        cmocka_unit_test(test_card_settings_override),
        cmocka_unit_test(test_card_settings_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
