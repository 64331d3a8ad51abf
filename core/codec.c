/* core/codec.c - msgpack checking, unpacking, lookup and writing. Owns every
 * direct call into msgpack-c. Untrusted input goes through codec_check()
 * before anything is allocated for it. */
#include "codec.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"

struct scan {
    const unsigned char *p;
    size_t len;
    size_t off;
    struct err *e;
};

static int scan_fail(struct scan *s, const char *what)
{
    return err_set(s->e, ERR_BAD_REQUEST, NULL,
                   "malformed msgpack at byte %zu: %s", s->off, what);
}

/* Reads an n-byte big-endian unsigned integer at the cursor. */
static int scan_uint(struct scan *s, int n, uint64_t *v)
{
    if (s->len - s->off < (size_t)n)
        return scan_fail(s, "truncated");
    *v = 0;
    for (int i = 0; i < n; i++)
        *v = (*v << 8) | s->p[s->off + (size_t)i];
    s->off += (size_t)n;
    return 0;
}

static int scan_skip(struct scan *s, uint64_t n, const char *what)
{
    if (n > CODEC_STR_MAX)
        return err_set(s->e, ERR_BAD_REQUEST, NULL,
                       "%s of %llu bytes at byte %zu exceeds the limit of %d",
                       what, (unsigned long long)n, s->off, CODEC_STR_MAX);
    if (s->len - s->off < n)
        return scan_fail(s, "truncated");
    s->off += (size_t)n;
    return 0;
}

static int scan_value(struct scan *s, int depth, bool want_str);

static int scan_items(struct scan *s, uint64_t n, bool map, int depth)
{
    if (depth >= CODEC_DEPTH_MAX)
        return err_set(s->e, ERR_BAD_REQUEST, NULL,
                       "msgpack nested deeper than %d levels", CODEC_DEPTH_MAX);
    /* Each element takes at least one byte: refuse counts the frame cannot
     * hold before the unpacker sizes an allocation by them. */
    if (n > CODEC_ITEMS_MAX || n * (map ? 2 : 1) > s->len - s->off)
        return err_set(s->e, ERR_BAD_REQUEST, NULL,
                       "msgpack %s of %llu items at byte %zu is too large",
                       map ? "map" : "array", (unsigned long long)n, s->off);
    for (uint64_t i = 0; i < n; i++) {
        if (map && scan_value(s, depth + 1, true))
            return s->e ? s->e->code : ERR_BAD_REQUEST;
        if (scan_value(s, depth + 1, false))
            return s->e ? s->e->code : ERR_BAD_REQUEST;
    }
    return 0;
}

static int scan_value(struct scan *s, int depth, bool want_str)
{
    uint64_t n;
    unsigned char b;

    if (s->off >= s->len)
        return scan_fail(s, "truncated");
    b = s->p[s->off++];
    if (want_str && !((b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb)))
        return scan_fail(s, "map key is not a string");
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return 0;
    if (b >= 0x80 && b <= 0x8f)
        return scan_items(s, b & 0x0f, true, depth);
    if (b >= 0x90 && b <= 0x9f)
        return scan_items(s, b & 0x0f, false, depth);
    if (b >= 0xa0 && b <= 0xbf)
        return scan_skip(s, b & 0x1f, "string");
    switch (b) {
    case 0xc4:
    case 0xc5:
    case 0xc6: /* bin 8/16/32 */
        if (scan_uint(s, 1 << (b - 0xc4), &n))
            return ERR_BAD_REQUEST;
        return scan_skip(s, n, "bin");
    case 0xd9:
    case 0xda:
    case 0xdb: /* str 8/16/32 */
        if (scan_uint(s, 1 << (b - 0xd9), &n))
            return ERR_BAD_REQUEST;
        return scan_skip(s, n, "string");
    case 0xca:
        return scan_skip(s, 4, "float");
    case 0xcb:
        return scan_skip(s, 8, "float");
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xcf:
        return scan_skip(s, 1u << (b - 0xcc), "integer");
    case 0xd0:
    case 0xd1:
    case 0xd2:
    case 0xd3:
        return scan_skip(s, 1u << (b - 0xd0), "integer");
    case 0xdc:
    case 0xdd:
        if (scan_uint(s, b == 0xdc ? 2 : 4, &n))
            return ERR_BAD_REQUEST;
        return scan_items(s, n, false, depth);
    case 0xde:
    case 0xdf:
        if (scan_uint(s, b == 0xde ? 2 : 4, &n))
            return ERR_BAD_REQUEST;
        return scan_items(s, n, true, depth);
    default: /* 0xc1 and the ext family: we never use them */
        s->off--;
        return scan_fail(s, "unsupported type");
    }
}

int codec_check(const char *buf, size_t len, struct err *e)
{
    struct err local;
    struct scan s = {(const unsigned char *)buf, len, 0, e ? e : &local};
    int rc;

    if (len == 0)
        return err_set(e, ERR_BAD_REQUEST, NULL, "empty frame");
    rc = scan_value(&s, 0, false);
    if (rc)
        return rc;
    if (s.off != len)
        return err_set(e, ERR_BAD_REQUEST, NULL,
                       "%zu trailing bytes after the msgpack value",
                       len - s.off);
    return 0;
}

/* Zones kept for this thread's next decodings. msgpack_unpack() decodes
 * into a zone the caller owns (msgpack_unpack_next() frees any zone it is
 * given and makes a new one: 8 KiB or more, a malloc and a free per
 * decoding, and the writer decodes several times per command), so a
 * released document's zone is cleared and kept for the next. A thread's
 * zones go when it exits. Under
 * AddressSanitizer none is kept, so that a use of a released document
 * still reads freed memory there. */
#ifdef __SANITIZE_ADDRESS__
#define ZONES_KEPT 0
#else
#define ZONES_KEPT 8
#endif
struct zones {
    msgpack_zone *z[ZONES_KEPT + 1];
    int n;
};
static pthread_key_t zones_key;
static pthread_once_t zones_once = PTHREAD_ONCE_INIT;

static void zones_free(void *p)
{
    struct zones *c = p;
    for (int i = 0; i < c->n; i++)
        msgpack_zone_free(c->z[i]);
    free(c);
}

static void zones_key_make(void)
{
    if (pthread_key_create(&zones_key, zones_free))
        abort(); /* out of keys at start-up */
}

static struct zones *zones(void)
{
    struct zones *c;
    pthread_once(&zones_once, zones_key_make);
    if (!(c = pthread_getspecific(zones_key)) && (c = calloc(1, sizeof(*c))) &&
        pthread_setspecific(zones_key, c)) {
        free(c);
        c = NULL;
    }
    return c;
}

/* A kept zone, or NULL (msgpack then makes one). */
static msgpack_zone *zone_take(void)
{
    struct zones *c = zones();
    return c && c->n ? c->z[--c->n] : NULL;
}

/* Back to this thread's zones, emptied (extra chunks freed), or freed. */
static void zone_give(msgpack_zone *z)
{
    struct zones *c;
    if (!z)
        return;
    if ((c = zones()) && c->n < ZONES_KEPT) {
        msgpack_zone_clear(z);
        c->z[c->n++] = z;
    } else {
        msgpack_zone_free(z);
    }
}

static void doc_free(struct codec_doc *d)
{
    zone_give(d->u.zone);
    msgpack_unpacked_init(&d->u);
}

static int doc_unpack(struct codec_doc *d, const char *buf, size_t len)
{
    size_t off = 0;
    msgpack_unpacked_init(&d->u);
    if (!(d->u.zone = zone_take()) &&
        !(d->u.zone = msgpack_zone_new(MSGPACK_ZONE_CHUNK_SIZE)))
        return -1;
    if (msgpack_unpack(buf, len, &off, d->u.zone, &d->u.data) !=
            MSGPACK_UNPACK_SUCCESS ||
        off != len) {
        doc_free(d);
        return -1;
    }
    d->obj = &d->u.data;
    return 0;
}

int codec_doc_parse(struct codec_doc *d, const char *buf, size_t len,
                    struct err *e)
{
    int rc = codec_check(buf, len, e);
    if (rc)
        return rc;
    if (doc_unpack(d, buf, len))
        return err_set(e, ERR_BAD_REQUEST, NULL, "malformed msgpack");
    return 0;
}

int codec_doc_parse_trusted(struct codec_doc *d, const char *buf, size_t len,
                            struct err *e)
{
    if (doc_unpack(d, buf, len))
        return err_set(e, ERR_UNAVAILABLE, NULL,
                       "stored record of %zu bytes does not decode", len);
    return 0;
}

void codec_doc_release(struct codec_doc *d)
{
    doc_free(d);
    d->obj = NULL;
}

bool codec_obj_is_str(const msgpack_object *o, const char *s)
{
    size_t n = strlen(s);
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
           memcmp(o->via.str.ptr, s, n) == 0;
}

const msgpack_object *codec_get(const msgpack_object *map, const char *key)
{
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object_kv *kv = &map->via.map.ptr[i];
        if (codec_obj_is_str(&kv->key, key))
            return &kv->val;
    }
    return NULL;
}

int codec_get_str(const msgpack_object *map, const char *key, const char **s,
                  size_t *len)
{
    const msgpack_object *o = codec_get(map, key);
    if (!o || o->type != MSGPACK_OBJECT_STR)
        return -1;
    *s = o->via.str.ptr;
    *len = o->via.str.size;
    return 0;
}

int codec_obj_int(const msgpack_object *o, int64_t *v)
{
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (o->via.u64 > INT64_MAX)
            return -1;
        *v = (int64_t)o->via.u64;
        return 0;
    }
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
        *v = o->via.i64;
        return 0;
    }
    return -1;
}

int codec_get_int(const msgpack_object *map, const char *key, int64_t *v)
{
    const msgpack_object *o = codec_get(map, key);
    return o ? codec_obj_int(o, v) : -1;
}

int codec_get_bool(const msgpack_object *map, const char *key, bool *v)
{
    const msgpack_object *o = codec_get(map, key);
    if (!o || o->type != MSGPACK_OBJECT_BOOLEAN)
        return -1;
    *v = o->via.boolean;
    return 0;
}

size_t codec_copy_str(const msgpack_object *map, const char *key, char *buf,
                      size_t cap)
{
    const char *s = NULL;
    size_t n = 0;
    if (codec_get_str(map, key, &s, &n))
        n = 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(buf, s, n);
    buf[n] = '\0';
    return n;
}

/* ---- writer ---- */

void cw_init(struct cw *w)
{
    msgpack_sbuffer_init(&w->sb);
    msgpack_packer_init(&w->pk, &w->sb, msgpack_sbuffer_write);
}

void cw_release(struct cw *w)
{
    msgpack_sbuffer_destroy(&w->sb);
}

void cw_reset(struct cw *w)
{
    w->sb.size = 0;
}

void cw_map(struct cw *w, uint32_t n)
{
    msgpack_pack_map(&w->pk, n);
}

void cw_array(struct cw *w, uint32_t n)
{
    msgpack_pack_array(&w->pk, n);
}

void cw_strn(struct cw *w, const char *s, size_t n)
{
    msgpack_pack_str_with_body(&w->pk, s, n);
}

void cw_str(struct cw *w, const char *s)
{
    cw_strn(w, s, strlen(s));
}

void cw_int(struct cw *w, int64_t v)
{
    msgpack_pack_int64(&w->pk, v);
}

void cw_uint(struct cw *w, uint64_t v)
{
    msgpack_pack_uint64(&w->pk, v);
}

void cw_bool(struct cw *w, bool v)
{
    if (v)
        msgpack_pack_true(&w->pk);
    else
        msgpack_pack_false(&w->pk);
}

void cw_nil(struct cw *w)
{
    msgpack_pack_nil(&w->pk);
}

void cw_bin(struct cw *w, const void *p, size_t n)
{
    msgpack_pack_bin_with_body(&w->pk, p, n);
}

void cw_raw(struct cw *w, const void *p, size_t n)
{
    msgpack_sbuffer_write(&w->sb, p, n);
}

void cw_obj(struct cw *w, const msgpack_object *o)
{
    msgpack_pack_object(&w->pk, *o);
}

static int kv_cmp(const void *a, const void *b)
{
    const msgpack_object *x = &((const msgpack_object_kv *)a)->key,
                         *y = &((const msgpack_object_kv *)b)->key;
    size_t nx = x->type == MSGPACK_OBJECT_STR ? x->via.str.size : 0,
           ny = y->type == MSGPACK_OBJECT_STR ? y->via.str.size : 0;
    int c = memcmp(nx ? x->via.str.ptr : "", ny ? y->via.str.ptr : "",
                   nx < ny ? nx : ny);
    return c ? c : (nx > ny) - (nx < ny);
}

int cw_canon(struct cw *w, const msgpack_object *o)
{
    msgpack_object_kv *kv;
    uint32_t n;

    if (o->type == MSGPACK_OBJECT_ARRAY) {
        cw_array(w, o->via.array.size);
        for (uint32_t i = 0; i < o->via.array.size; i++)
            if (cw_canon(w, &o->via.array.ptr[i]))
                return -1;
        return 0;
    }
    if (o->type != MSGPACK_OBJECT_MAP) {
        cw_obj(w, o);
        return 0;
    }
    n = o->via.map.size;
    kv = n ? malloc(n * sizeof(*kv)) : NULL;
    if (n && !kv)
        return -1;
    if (n) { /* qsort and memcpy may not be given NULL, even for 0 */
        memcpy(kv, o->via.map.ptr, n * sizeof(*kv));
        qsort(kv, n, sizeof(*kv), kv_cmp);
    }
    cw_map(w, n);
    for (uint32_t i = 0; i < n; i++)
        if (cw_canon(w, &kv[i].key) || cw_canon(w, &kv[i].val)) {
            free(kv);
            return -1;
        }
    free(kv);
    return 0;
}

static size_t cw_open32(struct cw *w, unsigned char tag)
{
    unsigned char hdr[5] = {tag, 0, 0, 0, 0};
    size_t at = w->sb.size;
    cw_raw(w, hdr, sizeof(hdr));
    return at;
}

static void cw_close32(struct cw *w, size_t at, uint32_t n)
{
    unsigned char *p = (unsigned char *)w->sb.data + at + 1;
    p[0] = (unsigned char)(n >> 24);
    p[1] = (unsigned char)(n >> 16);
    p[2] = (unsigned char)(n >> 8);
    p[3] = (unsigned char)n;
}

size_t cw_map_open(struct cw *w)
{
    return cw_open32(w, 0xdf);
}

void cw_map_close(struct cw *w, size_t at, uint32_t n)
{
    cw_close32(w, at, n);
}

size_t cw_array_open(struct cw *w)
{
    return cw_open32(w, 0xdd);
}

void cw_array_close(struct cw *w, size_t at, uint32_t n)
{
    cw_close32(w, at, n);
}

void cw_kstr(struct cw *w, const char *k, const char *v)
{
    cw_str(w, k);
    cw_str(w, v);
}

void cw_kstrn(struct cw *w, const char *k, const char *v, size_t n)
{
    cw_str(w, k);
    cw_strn(w, v, n);
}

void cw_kint(struct cw *w, const char *k, int64_t v)
{
    cw_str(w, k);
    cw_int(w, v);
}

void cw_kbool(struct cw *w, const char *k, bool v)
{
    cw_str(w, k);
    cw_bool(w, v);
}

void cw_knil(struct cw *w, const char *k)
{
    cw_str(w, k);
    cw_nil(w);
}

void cw_kdate(struct cw *w, const char *k, int32_t day)
{
    char buf[DATE_STR_MAX];
    date_format(day, buf);
    cw_kstr(w, k, buf);
}

void cw_kts(struct cw *w, const char *k, int64_t ts, int offset_min)
{
    char buf[TS_STR_MAX];
    ts_format(ts, offset_min, buf);
    cw_kstr(w, k, buf);
}

void cw_kobj(struct cw *w, const char *k, const msgpack_object *o)
{
    cw_str(w, k);
    cw_obj(w, o);
}
