/* tests/unit/test_config_security.c - the [security], [keys] and
 * [http_tokens] sections of deskd.conf: what parses, what is refused
 * (a malformed key, a key or token for an operator that does not exist,
 * CURVE without a secret key, plain on a reachable endpoint not chosen
 * explicitly), and the lookups the bus and the HTTP thread use. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../core/config.h"

/* Z85 keys from zmq_curve_keypair; '=' and ':' included on purpose */
#define KEY_A "Bs$IjRv7M8rNOx#Y}J+Wi52DEQ*?zkT$T}#f{KB*"
#define KEY_B "zCI!+b/Smam)+0MHd+xiLAin^{0]52K1YI*1ECJ["
#define KEY_C "RDbw&q$G)xQq?Rxket%z41O)j7?cB{XwNt=-Pr:?"
#define OPS "[operators]\nwangf = clerk, W\nlina = cs_lead, L\n"

static struct config *cfg;

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
    cfg = malloc(sizeof(*cfg));
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
        cmocka_unit_test(test_keys_map_to_operators),
        cmocka_unit_test(test_bad_keys_refused),
        cmocka_unit_test(test_curve_needs_secret_key),
        cmocka_unit_test(test_plain_on_open_endpoint_is_explicit),
        cmocka_unit_test(test_http_tokens),
        cmocka_unit_test(test_open_http_needs_tokens),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
