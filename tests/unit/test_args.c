/* tests/unit/test_args.c - field validation from the command table
 * (core/args.c): decimals in hundredths, at their limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "../../core/cmd.h"
#include "../../core/codec_json.h"

static const struct field f_area[] = {
    {"area", FT_DEC2, F_REQ, 1, INT64_MAX, NULL, "m²"}, {NULL}};
static const struct cmd_spec spec = {"t.area", "", 0, 0, f_area, NULL, "{}"};

/* Parses {"area": s} and returns 0 with the hundredths in *v, or the
 * error code. */
static int area(const char *s, int64_t *v)
{
    struct codec_doc d;
    struct args a;
    struct err e = {0};
    struct cw w;
    int rc;

    cw_init(&w);
    cw_map(&w, 1);
    cw_kstr(&w, "area", s);
    assert_int_equal(codec_doc_parse(&d, cw_data(&w), cw_len(&w), &e), 0);
    rc = cmd_args_parse(&spec, d.obj, 480, &a, &e);
    if (rc == 0)
        *v = a.v[0].i;
    codec_doc_release(&d);
    cw_release(&w);
    return rc;
}

static void test_dec2_values(void **state)
{
    int64_t v = 0;
    (void)state;
    assert_int_equal(area("120.50", &v), 0);
    assert_int_equal(v, 12050);
    assert_int_equal(area("88", &v), 0);
    assert_int_equal(v, 8800);
    assert_int_equal(area("0.5", &v), 0);
    assert_int_equal(v, 50);
    assert_int_equal(area("92233720368547758.07", &v), 0);
    assert_int_equal(v, INT64_MAX);
}

static void test_dec2_format(void **state)
{
    static const int64_t v[] = {0,    5,     -5,     99,        100,
                                -100, 12050, -12050, INT64_MAX, INT64_MIN};
    char got[CMD_DEC2_STR], want[64];
    (void)state;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint64_t a = v[i] < 0 ? (uint64_t)0 - (uint64_t)v[i] : (uint64_t)v[i];
        snprintf(want, sizeof(want), "%s%llu.%02llu", v[i] < 0 ? "-" : "",
                 (unsigned long long)(a / 100), (unsigned long long)(a % 100));
        cmd_dec2_format(v[i], got);
        assert_string_equal(got, want);
    }
    cmd_dec2_format(INT64_MIN, got);
    assert_string_equal(got, "-92233720368547758.08");
    cmd_dec2_format(-7, got);
    assert_string_equal(got, "-0.07");
}

/* hctx_emit writes "prefix:%s" stream names itself; what it writes must
 * be what printf would, and a name one byte too long is refused. */
static void test_stream_names(void **state)
{
    struct hctx h;
    char big[LOG_STREAM_MAX + 2];
    (void)state;
    hctx_init(&h);
    assert_int_equal(hctx_emit(&h, "t", 0, "unit:%s", "A/1-101"), 0);
    assert_string_equal(h.ev[0].stream, "unit:A/1-101");
    assert_int_equal(h.ev[0].stream_len, 12);
    assert_int_equal(hctx_emit(&h, "t", 0, "system:calendar"), 0);
    assert_string_equal(h.ev[1].stream, "system:calendar");
    assert_int_equal(hctx_emit(&h, "t", 0, "a%%b:%s", "x"), 0);
    assert_string_equal(h.ev[2].stream, "a%b:x");
    memset(big, 'x', sizeof(big));
    big[LOG_STREAM_MAX - 5] = '\0'; /* "unit:" + 123: exactly the most */
    assert_int_equal(hctx_emit(&h, "t", 0, "unit:%s", big), 0);
    assert_int_equal(h.ev[3].stream_len, LOG_STREAM_MAX);
    big[LOG_STREAM_MAX - 5] = 'x';
    big[LOG_STREAM_MAX - 4] = '\0';
    assert_int_equal(hctx_emit(&h, "t", 0, "unit:%s", big), ERR_INVALID);
    assert_int_equal(hctx_emit(&h, "t", 0, "%s", ""), ERR_INVALID);
    assert_int_equal(h.nev, 4);
    hctx_release(&h);
}

/* Regression: a 17-digit number overflowed when scaled to hundredths and
 * came back negative. */
static void test_dec2_overflow_refused(void **state)
{
    int64_t v;
    (void)state;
    assert_int_equal(area("92233720368547759", &v), ERR_INVALID);
    assert_int_equal(area("92233720368547758.08", &v), ERR_INVALID);
    assert_int_equal(area("99999999999999999999", &v), ERR_INVALID);
    assert_int_equal(area("1.234", &v), ERR_INVALID);
    assert_int_equal(area("1.", &v), ERR_INVALID);
    assert_int_equal(area("-", &v), ERR_INVALID);
}

static const struct field f_money[] = {
    {"amount", FT_MONEY, F_REQ, 1, 100000000, NULL, "fen"}, {NULL}};
static const struct cmd_spec money_spec = {"t.money", "",   0,   0,
                                           f_money,   NULL, "{}"};

/* Parses {"amount": <JSON value>}: 0 with the fen in *v, or the error. */
static int amount(const char *json, int64_t *v)
{
    json_t *j = json_loads(json, JSON_DECODE_ANY, NULL);
    json_t *m = json_object();
    struct codec_doc d;
    struct args a;
    struct err e = {0};
    struct cw w;
    int rc;

    assert_non_null(j);
    json_object_set_new(m, "amount", j);
    cw_init(&w);
    assert_int_equal(codec_from_json(m, &w), 0);
    json_decref(m);
    assert_int_equal(codec_doc_parse(&d, cw_data(&w), cw_len(&w), &e), 0);
    rc = cmd_args_parse(&money_spec, d.obj, 480, &a, &e);
    if (rc == 0)
        *v = a.v[0].i;
    codec_doc_release(&d);
    cw_release(&w);
    return rc;
}

/* R-GEN-04: money is parsed as integer fen only: a fraction, a float
 * that looks whole, a number in a string or past the limit is refused
 * (never rounded), and what is accepted is exactly what was sent. */
static void test_gen04_money_is_integer_fen(void **state)
{
    int64_t v = 0;
    (void)state;
    assert_int_equal(amount("12345", &v), 0);
    assert_int_equal(v, 12345);
    assert_int_equal(amount("100000000", &v), 0);
    assert_int_equal(v, 100000000);
    assert_int_equal(amount("12.5", &v), ERR_INVALID);
    assert_int_equal(amount("12.0", &v), ERR_INVALID);
    assert_int_equal(amount("\"1250\"", &v), ERR_INVALID);
    assert_int_equal(amount("\"12.50\"", &v), ERR_INVALID);
    assert_int_equal(amount("100000001", &v), ERR_INVALID);
    assert_int_equal(amount("0", &v), ERR_INVALID);
    assert_int_equal(amount("-100", &v), ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dec2_values),
        cmocka_unit_test(test_dec2_format),
        cmocka_unit_test(test_stream_names),
        cmocka_unit_test(test_dec2_overflow_refused),
        cmocka_unit_test(test_gen04_money_is_integer_fen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
