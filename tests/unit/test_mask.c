/* tests/unit/test_mask.c - masking of personal data (core/mask.c,
 * R-GEN-02): the documents' examples, which keys are personal, and that a
 * masked value never splits a UTF-8 character. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "../../core/cmd.h"
#include "../../core/mask.h"

static const char *phone(const char *s)
{
    static char out[MASK_MAX];
    mask_phone(s, strlen(s), out, sizeof(out));
    return out;
}

/* R-GEN-02: phone 138****5678, ID 4403**********1234. */
static void test_gen02_document_examples(void **state)
{
    char out[MASK_MAX];
    (void)state;
    assert_string_equal(phone("13812345678"), "138****5678");
    mask_id("440301199001011234", 18, out, sizeof(out));
    assert_string_equal(out, "4403**********1234");
    mask_name("李四", strlen("李四"), out, sizeof(out));
    assert_string_equal(out, "李*");
    assert_string_equal(phone("1234"), "**34"); /* too short to keep */
}

/* A contact may be a handle in Chinese: characters are counted, not
 * bytes, so the result is valid UTF-8 with one star per hidden one. */
static void test_gen02_utf8_never_split(void **state)
{
    const char *m;
    (void)state;
    m = phone("微信号王芳1988");
    assert_string_equal(m, "微信号**1988"); /* 9 characters: 3 + 2 + 4 */
    assert_true(cmd_utf8_ok((const unsigned char *)m, strlen(m), false));
    m = phone("王芳芳");
    assert_true(cmd_utf8_ok((const unsigned char *)m, strlen(m), false));
}

static const char *text(const char *s)
{
    static char out[1024];
    mask_text(s, strlen(s), out);
    assert_int_equal(strlen(out), strlen(s)); /* one star per byte hidden */
    assert_true(cmd_utf8_ok((const unsigned char *)out, strlen(out), true));
    return out;
}

/* R-GEN-02 in free text: numbers typed into a description among Chinese
 * characters are masked like the structured fields; other numbers are
 * left alone. */
static void test_gen02_free_text(void **state)
{
    (void)state;
    assert_string_equal(text("业主王先生13812345678来电"),
                        "业主王先生138****5678来电");
    assert_string_equal(text("电话：138-1234-5678，或 139 8765 4321。"),
                        "电话：138-****-5678，或 139 **** 4321。");
    assert_string_equal(text("座机0755-12345678转8"), "座机0755-****5678转8");
    assert_string_equal(text("身份证440301199001011234已核对"),
                        "身份证4403**********1234已核对");
    assert_string_equal(text("证件号44030119900101123X。"),
                        "证件号4403**********123X。");
    assert_string_equal(text("车牌粤B12345停在消防通道"),
                        "车牌粤B***45停在消防通道");
    assert_string_equal(text("新能源粤B·D12345"), "新能源粤B·****45");
    /* not personal: dates, amounts, rooms, a 12-digit number, codes */
    assert_string_equal(text("2026-12-03 3号楼1201室 金额12000元 "
                             "单号123456789012 编号A13812345678"),
                        "2026-12-03 3号楼1201室 金额12000元 "
                        "单号123456789012 编号A13812345678");
}

static void test_gen02_which_keys(void **state)
{
    (void)state;
    assert_int_equal(pii_of("id_no", 5), PII_ID);
    assert_int_equal(pii_of("phones", 6), PII_PHONES);
    assert_int_equal(pii_of("emergency_phone", 15), PII_PHONE);
    assert_int_equal(pii_of("contact", 7), PII_PHONE);
    assert_int_equal(pii_of("emergency_name", 14), PII_NAME);
    assert_int_equal(pii_of("name", 4), PII_NONE);
    assert_int_equal(pii_of("unit", 4), PII_NONE);
    assert_int_equal(pii_of("what", 4), PII_TEXT);
    assert_int_equal(pii_of("note", 4), PII_TEXT);
    assert_int_equal(pii_of("issue", 5), PII_TEXT);
    /* every free-text key (pii_of rules most keys out by first letter and
     * length first: none of these may fall through that filter) */
    static const char *const text[] = {
        "what",    "wants",   "issue",   "note",    "notes",   "text",
        "reason",  "summary", "problem", "needs",   "actions", "remark",
        "remarks", "reply",   "result",  "comment", "detail"};
    for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
        assert_int_equal(pii_of(text[i], strlen(text[i])), PII_TEXT);
    assert_int_equal(pii_of("whats", 5), PII_NONE);
    assert_int_equal(pii_of("Note", 4), PII_NONE);
    assert_int_equal(pii_of("detail\xff", 7), PII_NONE);
    assert_int_equal(pii_of("\xff"
                            "etail",
                            6),
                     PII_NONE);
}

static bool may_need(void (*build)(struct cw *))
{
    struct cw w;
    bool r;
    cw_init(&w);
    build(&w);
    r = mask_may_need(cw_data(&w), cw_len(&w));
    cw_release(&w);
    return r;
}

static void nested_phone(struct cw *w)
{
    cw_map(w, 2);
    cw_kstr(w, "unit", "3-1-201");
    cw_str(w, "data");
    cw_map(w, 1);
    cw_kstr(w, "owner_phone", "13812345678");
}

static void long_key_phone(struct cw *w) /* a str8 key */
{
    cw_map(w, 1);
    cw_kstr(w, "the_second_emergency_contact_of_the_owner_phone", "1");
}

static void free_text(struct cw *w)
{
    cw_map(w, 1);
    cw_kstr(w, "note", "门禁卡");
}

static void words_in_values_only(struct cw *w)
{
    cw_map(w, 2);
    cw_kstr(w, "name", "phone note id_no contact 电话号码 what");
    cw_kstr(w, "reasons", "noted"); /* not a personal key */
}

static void key_names_as_values(struct cw *w)
{
    static const unsigned char look_alike[] = {0xa5, 'p', 'h', 'o', 'n', 'e'};
    cw_map(w, 3);
    cw_kstr(w, "kind", "phone"); /* a value that spells a personal key */
    cw_str(w, "prev");           /* bytes that read as a fixstr "phone" */
    cw_bin(w, look_alike, sizeof(look_alike));
    cw_str(w, "tags");
    cw_array(w, 2);
    cw_str(w, "note");
    cw_str(w, "contact");
}

/* Every kind of msgpack value, which the walk must step over exactly: a
 * wrong length leaves it mid-value, and it then answers true. */
/* Payload bytes are 0xc1, which msgpack never uses: read as a type, they
 * stop the walk. */
#define X 0xc1
/* clang-format off */
static const unsigned char every_kind[] = {
    0xca, X, X, X, X,             /* float32 */
    0xcb, X, X, X, X, X, X, X, X, /* float64 */
    0xd4, 1, 0xa5,                /* fixext1 (its byte reads as a fixstr) */
    0xd8, 1,                      /* fixext16, then its 16 bytes */
    X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    0xc7, 2, 1, X, X,             /* ext8, 2 bytes */
    0xc5, 0, 1, X,                /* bin16, 1 byte */
    0xdc, 0, 2, 0xc0, 0xc3,       /* array16: nil, true */
    0xde, 0, 1, 0x01, 0x02,       /* map16 {1: 2} */
    0xd3, X, X, X, X, X, X, X, X, /* int64 */
    0xda, 0, 2, 'o', 'k',         /* str16 */
};
/* clang-format on */
#undef X
#define EVERY_KIND_N 10

static void every_kind_then_phone(struct cw *w)
{
    cw_map(w, 2);
    cw_str(w, "misc");
    cw_array(w, EVERY_KIND_N);
    cw_raw(w, every_kind, sizeof(every_kind));
    cw_str(w, "rows");
    cw_array(w, 1);
    cw_map(w, 1);
    cw_kstr(w, "mobile_phone", "13812345678");
}

static void every_kind_no_phone(struct cw *w)
{
    cw_map(w, 3);
    cw_str(w, "misc");
    cw_array(w, EVERY_KIND_N);
    cw_raw(w, every_kind, sizeof(every_kind));
    cw_kint(w, "big", 1LL << 40);
    cw_str(w, "list");
    cw_array(w, 2);
    cw_map(w, 1);
    cw_kbool(w, "ok", true);
    cw_nil(w);
}

static void str32_key_phone(struct cw *w) /* no packer writes this key */
{
    static const unsigned char key[] = {0xdb, 0,   0,   0,   5,
                                        'p',  'h', 'o', 'n', 'e'};
    cw_map(w, 1);
    cw_raw(w, key, sizeof(key));
    cw_str(w, "13812345678");
}

static void unused_type_byte(struct cw *w)
{
    static const unsigned char never = 0xc1;
    cw_map(w, 1);
    cw_str(w, "data");
    cw_raw(w, &never, 1);
}

static void cut_short(struct cw *w)
{
    cw_map(w, 2);
    cw_kstr(w, "unit", "3-1-201"); /* the second entry is missing */
}

/* R-GEN-02: a body is decoded for masking when one of its keys is
 * personal; words inside values do not count (masking goes by key). */
static void test_gen02_may_need(void **state)
{
    (void)state;
    assert_true(may_need(nested_phone));
    assert_true(may_need(long_key_phone));
    assert_true(may_need(free_text));
    assert_false(may_need(words_in_values_only));
    /* only keys count: values and binary data are stepped over whole */
    assert_false(may_need(key_names_as_values));
    assert_true(may_need(every_kind_then_phone));
    assert_false(may_need(every_kind_no_phone));
    /* bytes that are not one whole value are left to the decoder */
    assert_true(may_need(cut_short));
    assert_true(may_need(unused_type_byte));
    assert_true(may_need(str32_key_phone));
    { /* every cut of a body that needs nothing is left to the decoder */
        struct cw w;
        cw_init(&w);
        every_kind_no_phone(&w);
        for (size_t k = 0; k < cw_len(&w); k++)
            assert_true(mask_may_need(cw_data(&w), k));
        assert_false(mask_may_need(cw_data(&w), cw_len(&w)));
        cw_release(&w);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gen02_document_examples),
        cmocka_unit_test(test_gen02_utf8_never_split),
        cmocka_unit_test(test_gen02_which_keys),
        cmocka_unit_test(test_gen02_free_text),
        cmocka_unit_test(test_gen02_may_need),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
