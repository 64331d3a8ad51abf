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

/* R-GEN-02: a body is decoded for masking when one of its keys is
 * personal; words inside values do not count (masking goes by key). */
static void test_gen02_may_need(void **state)
{
    (void)state;
    assert_true(may_need(nested_phone));
    assert_true(may_need(long_key_phone));
    assert_true(may_need(free_text));
    assert_false(may_need(words_in_values_only));
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
