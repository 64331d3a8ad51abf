/* tests/unit/test_codec.c - the msgpack front door: codec_check refuses
 * what could make the unpacker allocate on an attacker's word, and the
 * writer/reader helpers round-trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/codec.h"
#include "../../core/codec_json.h"

static void sample(struct cw *w)
{
    cw_map(w, 4);
    cw_kstr(w, "id", "a1");
    cw_kint(w, "n", -42);
    cw_str(w, "list");
    cw_array(w, 2);
    cw_str(w, "x");
    cw_bool(w, true);
    cw_str(w, "m");
    cw_map(w, 1);
    cw_knil(w, "z");
}

static void test_valid_and_every_truncation(void **state)
{
    struct cw w;
    struct err e = {0};
    (void)state;
    cw_init(&w);
    sample(&w);
    assert_int_equal(codec_check(cw_data(&w), cw_len(&w), &e), 0);
    for (size_t n = 0; n < cw_len(&w); n++)
        assert_int_equal(codec_check(cw_data(&w), n, &e), ERR_BAD_REQUEST);
    cw_raw(&w, "\xc0", 1); /* trailing byte */
    assert_int_equal(codec_check(cw_data(&w), cw_len(&w), &e), ERR_BAD_REQUEST);
    cw_release(&w);
}

static void test_bombs_refused(void **state)
{
    static const struct {
        const char *bytes;
        size_t n;
    } bombs[] = {
        {"\xdd\xff\xff\xff\xff", 5}, {"\xdf\xff\xff\xff\xff", 5},
        {"\xdc\xff\xff", 3},         {"\xdb\xff\xff\xff\xff", 5},
        {"\xc6\xff\xff\xff\xff", 5}, {"\xd4\x00\x00", 3},
        {"\xc7\x01\x00\x00", 4},     {"\xc1", 1},
        {"\x81\x01\x01", 3}, /* integer map key */
    };
    char deep[64];
    struct err e = {0};
    (void)state;
    for (size_t i = 0; i < sizeof(bombs) / sizeof(*bombs); i++)
        assert_int_equal(codec_check(bombs[i].bytes, bombs[i].n, &e),
                         ERR_BAD_REQUEST);
    memset(deep, 0x91, CODEC_DEPTH_MAX + 1);
    deep[CODEC_DEPTH_MAX + 1] = (char)0xc0;
    assert_int_equal(codec_check(deep, CODEC_DEPTH_MAX + 2, &e),
                     ERR_BAD_REQUEST);
    memset(deep, 0x91, CODEC_DEPTH_MAX);
    deep[CODEC_DEPTH_MAX] = (char)0xc0;
    assert_int_equal(codec_check(deep, CODEC_DEPTH_MAX + 1, &e), 0);
}

static void test_long_string_refused(void **state)
{
    struct cw w;
    struct err e = {0};
    char *s = calloc(1, CODEC_STR_MAX + 1);
    (void)state;
    memset(s, 'a', CODEC_STR_MAX + 1);
    cw_init(&w);
    cw_strn(&w, s, CODEC_STR_MAX + 1);
    assert_int_equal(codec_check(cw_data(&w), cw_len(&w), &e), ERR_BAD_REQUEST);
    cw_reset(&w);
    cw_strn(&w, s, CODEC_STR_MAX);
    assert_int_equal(codec_check(cw_data(&w), cw_len(&w), &e), 0);
    cw_release(&w);
    free(s);
}

static void test_lookup_and_patched_maps(void **state)
{
    struct cw w;
    struct codec_doc d;
    const char *s;
    size_t n;
    int64_t v;
    char buf[4];
    size_t at;
    (void)state;
    cw_init(&w);
    at = cw_map_open(&w);
    cw_kstr(&w, "name", "abcdef");
    cw_kint(&w, "n", 7);
    cw_map_close(&w, at, 2);
    assert_int_equal(codec_doc_parse(&d, cw_data(&w), cw_len(&w), NULL), 0);
    assert_int_equal(codec_get_str(d.obj, "name", &s, &n), 0);
    assert_int_equal(n, 6);
    assert_int_equal(codec_get_int(d.obj, "n", &v), 0);
    assert_int_equal(v, 7);
    assert_int_equal(codec_get_int(d.obj, "name", &v), -1);
    assert_null(codec_get(d.obj, "missing"));
    assert_int_equal(codec_copy_str(d.obj, "name", buf, sizeof(buf)), 3);
    assert_string_equal(buf, "abc");
    codec_doc_release(&d);
    cw_release(&w);
}

static void test_json_round_trip(void **state)
{
    const char *text = "{\"a\":[1,-2,\"三\",true,null],\"b\":{\"c\":1.5}}";
    json_t *j = json_loads(text, 0, NULL), *back;
    struct cw w;
    struct codec_doc d;
    (void)state;
    cw_init(&w);
    assert_int_equal(codec_from_json(j, &w), 0);
    assert_int_equal(codec_doc_parse(&d, cw_data(&w), cw_len(&w), NULL), 0);
    back = codec_to_json(d.obj);
    assert_true(json_equal(j, back));
    json_decref(j);
    json_decref(back);
    codec_doc_release(&d);
    cw_release(&w);
}

/* One canonical form for retries by meaning (issue 19): map keys sorted at
 * every depth, lists in their order; an empty map too (it once handed
 * qsort a NULL array, which UBSan stops). */
static void canon_of(const char *json, struct cw *out)
{
    json_t *j = json_loads(json, 0, NULL);
    struct cw raw;
    struct codec_doc d;
    struct err e = {0};
    assert_non_null(j);
    cw_init(&raw);
    assert_int_equal(codec_from_json(j, &raw), 0);
    json_decref(j);
    assert_int_equal(codec_doc_parse(&d, cw_data(&raw), cw_len(&raw), &e), 0);
    cw_init(out);
    assert_int_equal(cw_canon(out, d.obj), 0);
    codec_doc_release(&d);
    cw_release(&raw);
}

static void test_canonical_form(void **state)
{
    struct cw a, b;
    (void)state;
    canon_of("{\"b\":1,\"a\":{\"y\":[2,1],\"x\":{}},\"c\":null}", &a);
    canon_of("{\"c\":null,\"a\":{\"x\":{},\"y\":[2,1]},\"b\":1}", &b);
    assert_int_equal(cw_len(&a), cw_len(&b));
    assert_memory_equal(cw_data(&a), cw_data(&b), cw_len(&a));
    cw_release(&b);
    canon_of("{\"c\":null,\"a\":{\"x\":{},\"y\":[1,2]},\"b\":1}", &b);
    assert_false(cw_len(&a) == cw_len(&b) &&
                 !memcmp(cw_data(&a), cw_data(&b), cw_len(&a)));
    cw_release(&a);
    cw_release(&b);
    canon_of("{}", &a);
    assert_int_equal(cw_len(&a), 1); /* fixmap 0 */
    cw_release(&a);
}

/* Decodings reuse this thread's zones: documents alive at once never
 * share one, each keeps its values until released, however many are
 * open and in whatever order they are released; a thread that decodes
 * and exits leaves nothing behind (check-asan's leak check). */
#define DOCS 20 /* more than a thread keeps */
static void decode_many(void)
{
    struct codec_doc d[DOCS];
    struct cw w[DOCS];
    char big[12000]; /* a zone grows past its first chunk for this one */
    struct err e = {0};
    const char *s;
    size_t n;

    memset(big, 'z', sizeof(big));
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < DOCS; i++) {
            char v[32];
            snprintf(v, sizeof(v), "v%d-%d", round, i);
            cw_init(&w[i]);
            cw_map(&w[i], 2);
            cw_kstr(&w[i], "k", v);
            cw_kstrn(&w[i], "big", big, i == 3 ? sizeof(big) : 1);
            assert_int_equal(
                codec_doc_parse(&d[i], cw_data(&w[i]), cw_len(&w[i]), &e), 0);
        }
        for (int k = 0; k < DOCS; k++) { /* every other first, then the rest */
            int i = k < DOCS / 2 ? 2 * k : 2 * (k - DOCS / 2) + 1;
            char v[32];
            snprintf(v, sizeof(v), "v%d-%d", round, i);
            assert_int_equal(codec_get_str(d[i].obj, "k", &s, &n), 0);
            assert_int_equal(n, strlen(v));
            assert_memory_equal(s, v, n);
            assert_int_equal(codec_get_str(d[i].obj, "big", &s, &n), 0);
            assert_int_equal(n, i == 3 ? sizeof(big) : 1);
            codec_doc_release(&d[i]);
            codec_doc_release(&d[i]); /* twice is harmless */
            cw_release(&w[i]);
        }
    }
    /* a failed decoding gives its zone back too */
    assert_int_not_equal(codec_doc_parse_trusted(&d[0], "\x92\x01", 2, NULL),
                         0);
}

static void *decode_thread(void *arg)
{
    (void)arg;
    decode_many();
    return NULL;
}

/* cw writes msgpack itself; its bytes must stay msgpack-c's, or a command
 * resent after an upgrade would get another fingerprint (cw_canon) and an
 * event body another hash. Each value at the edges of each form, written by
 * both, and re-encoded from its decoded object (cw_obj). */
static void same_as_msgpack(struct cw *w, msgpack_sbuffer *sb)
{
    struct codec_doc d;
    struct cw again;
    assert_int_equal(cw_len(w), sb->size);
    assert_memory_equal(cw_data(w), sb->data, sb->size);
    assert_int_equal(codec_doc_parse_trusted(&d, cw_data(w), cw_len(w), NULL),
                     0);
    cw_init(&again);
    cw_obj(&again, d.obj);
    assert_int_equal(cw_len(&again), sb->size);
    assert_memory_equal(cw_data(&again), sb->data, sb->size);
    cw_release(&again);
    codec_doc_release(&d);
}

/* The same values written by both writers. */
struct both {
    struct cw w;
    msgpack_sbuffer sb;
    msgpack_packer pk;
};

static void both_init(struct both *b)
{
    cw_init(&b->w);
    msgpack_sbuffer_init(&b->sb);
    msgpack_packer_init(&b->pk, &b->sb, msgpack_sbuffer_write);
}

/* Compares them, then releases both. */
static void both_check(struct both *b)
{
    same_as_msgpack(&b->w, &b->sb);
    msgpack_sbuffer_destroy(&b->sb);
    cw_release(&b->w);
}

static void test_writer_bytes_are_msgpack_cs(void **state)
{
    static const int64_t ints[] = {0,
                                   1,
                                   31,
                                   32,
                                   127,
                                   128,
                                   255,
                                   256,
                                   65535,
                                   65536,
                                   4294967295LL,
                                   4294967296LL,
                                   INT64_MAX,
                                   -1,
                                   -32,
                                   -33,
                                   -128,
                                   -129,
                                   -32768,
                                   -32769,
                                   INT32_MIN,
                                   (int64_t)INT32_MIN - 1,
                                   INT64_MIN};
    static const size_t lens[] = {0, 1, 15, 16, 31, 32, 255, 256, 65535, 65536};
    char *text = malloc(70000);
    (void)state;
    assert_non_null(text);
    memset(text, 'x', 70000);
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        size_t n = lens[i];
        struct both b;
        both_init(&b);
        /* a map and an array of n entries, a string and a bin of n bytes */
        cw_array(&b.w, 4);
        msgpack_pack_array(&b.pk, 4);
        cw_map(&b.w, (uint32_t)n);
        msgpack_pack_map(&b.pk, n);
        for (size_t k = 0; k < n; k++) {
            char key[24];
            snprintf(key, sizeof(key), "%zu", k);
            cw_kint(&b.w, key, ints[k % (sizeof(ints) / sizeof(ints[0]))]);
            msgpack_pack_str_with_body(&b.pk, key, strlen(key));
            msgpack_pack_int64(&b.pk,
                               ints[k % (sizeof(ints) / sizeof(ints[0]))]);
        }
        cw_array(&b.w, (uint32_t)n);
        msgpack_pack_array(&b.pk, n);
        for (size_t k = 0; k < n; k++) {
            cw_uint(&b.w, (uint64_t)ints[k % (sizeof(ints) / sizeof(ints[0]))]);
            msgpack_pack_uint64(
                &b.pk, (uint64_t)ints[k % (sizeof(ints) / sizeof(ints[0]))]);
        }
        cw_strn(&b.w, text, n);
        msgpack_pack_str_with_body(&b.pk, text, n);
        cw_bin(&b.w, text, n);
        msgpack_pack_bin_with_body(&b.pk, text, n);
        both_check(&b);
    }
    { /* the rest of the kinds, floats through msgpack's packer */
        struct both b;
        both_init(&b);
        cw_array(&b.w, 5);
        msgpack_pack_array(&b.pk, 5);
        cw_nil(&b.w);
        msgpack_pack_nil(&b.pk);
        cw_bool(&b.w, true);
        msgpack_pack_true(&b.pk);
        cw_bool(&b.w, false);
        msgpack_pack_false(&b.pk);
        msgpack_pack_double(&b.w.pk, 2.5);
        msgpack_pack_double(&b.pk, 2.5);
        msgpack_pack_float(&b.w.pk, 0.5f);
        msgpack_pack_float(&b.pk, 0.5f);
        both_check(&b);
    }
    free(text);
}

static void test_key_lookup_edges(void **state)
{
    struct cw w;
    struct codec_doc d;
    (void)state;
    cw_init(&w);
    cw_map(&w, 3);
    cw_kint(&w, "ab", 1);
    cw_str(&w, "a");
    cw_int(&w, 2);
    cw_strn(&w, "a\0c", 3); /* a key with a NUL inside */
    cw_int(&w, 3);
    assert_int_equal(codec_doc_parse_trusted(&d, cw_data(&w), cw_len(&w), NULL),
                     0);
    assert_int_equal(codec_get(d.obj, "a")->via.u64, 2);
    assert_int_equal(codec_get(d.obj, "ab")->via.u64, 1);
    assert_null(codec_get(d.obj, "abc"));
    assert_null(codec_get(d.obj, ""));
    assert_false(codec_obj_is_str(NULL, "a"));
    assert_false(codec_obj_is_str(&d.obj->via.map.ptr[2].key, "a"));
    codec_doc_release(&d);
    cw_release(&w);
}

static void test_zones_reused_safely(void **state)
{
    pthread_t t;
    (void)state;
    decode_many();
    assert_int_equal(pthread_create(&t, NULL, decode_thread, NULL), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    decode_many(); /* this thread's zones again */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_and_every_truncation),
        cmocka_unit_test(test_bombs_refused),
        cmocka_unit_test(test_long_string_refused),
        cmocka_unit_test(test_lookup_and_patched_maps),
        cmocka_unit_test(test_json_round_trip),
        cmocka_unit_test(test_canonical_form),
        cmocka_unit_test(test_zones_reused_safely),
        cmocka_unit_test(test_writer_bytes_are_msgpack_cs),
        cmocka_unit_test(test_key_lookup_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
