/* core/codec.c - msgpack checking, unpacking, lookup and writing. Owns every
 * direct call into msgpack-c. Untrusted input goes through codec_check()
 * before anything is allocated for it. */
#include "codec.h"

#include <pthread.h>
#include <stdint.h>
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

/* Byte by byte, no strlen: most keys it is asked about differ at the
 * first byte (every lookup compares the wanted key with each of a map's). */
bool codec_obj_is_str(const msgpack_object *o, const char *s)
{
    const char *p;
    uint32_t n;
    if (!o || o->type != MSGPACK_OBJECT_STR)
        return false;
    p = o->via.str.ptr;
    n = o->via.str.size;
    for (uint32_t i = 0; i < n; i++)
        if (s[i] != p[i] || s[i] == '\0')
            return false;
    return s[n] == '\0';
}

const msgpack_object *codec_get(const msgpack_object *map, const char *key)
{
    size_t n;
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    n = strlen(key); /* once: most of the map's keys differ in length */
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
            !memcmp(k->via.str.ptr, key, n))
            return &map->via.map.ptr[i].val;
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

/* The writer appends to sb itself: msgpack's packer calls sbuffer_write
 * through a pointer for every header and every body, which was a tenth of
 * the writer's time per command. The bytes are msgpack-c's own choices
 * (the smallest form; str8 for 32..255 bytes); test_codec compares them.
 * Like msgpack_sbuffer_write, a failed growth writes nothing. */
static bool cw_grow(struct cw *w, size_t n)
{
    size_t cap = w->sb.alloc ? w->sb.alloc : MSGPACK_SBUFFER_INIT_SIZE;
    char *p;
    while (cap - w->sb.size < n) {
        if (cap > SIZE_MAX / 2)
            return false;
        cap *= 2;
    }
    if (!(p = realloc(w->sb.data, cap)))
        return false;
    w->sb.data = p;
    w->sb.alloc = cap;
    return true;
}

static inline void cw_put(struct cw *w, const void *p, size_t n)
{
    if (n && (w->sb.alloc - w->sb.size >= n || cw_grow(w, n))) {
        memcpy(w->sb.data + w->sb.size, p, n);
        w->sb.size += n;
    }
}

/* A tag and n in 1, 2, 4 or 8 big-endian bytes. */
static void cw_tag(struct cw *w, unsigned char tag, uint64_t v, int bytes)
{
    unsigned char b[9];
    b[0] = tag;
    for (int i = 0; i < bytes; i++)
        b[1 + i] = (unsigned char)(v >> (8 * (bytes - 1 - i)));
    cw_put(w, b, 1 + (size_t)bytes);
}

/* A header of a sized type: fix form below fix_max, else 8/16/32 bits
 * (tag8 0 when the type has no 8-bit form). */
static void cw_head(struct cw *w, unsigned char fix, size_t fix_max,
                    unsigned char tag8, unsigned char tag16, size_t n)
{
    if (n < fix_max) {
        unsigned char b = (unsigned char)(fix | n);
        cw_put(w, &b, 1);
    } else if (tag8 && n < 256) {
        cw_tag(w, tag8, n, 1);
    } else if (n < 65536) {
        cw_tag(w, tag16, n, 2);
    } else {
        cw_tag(w, (unsigned char)(tag16 + 1), n, 4);
    }
}

void cw_map(struct cw *w, uint32_t n)
{
    cw_head(w, 0x80, 16, 0, 0xde, n);
}

void cw_array(struct cw *w, uint32_t n)
{
    cw_head(w, 0x90, 16, 0, 0xdc, n);
}

void cw_strn(struct cw *w, const char *s, size_t n)
{
    cw_head(w, 0xa0, 32, 0xd9, 0xda, n);
    cw_put(w, s, n);
}

void cw_str(struct cw *w, const char *s)
{
    cw_strn(w, s, strlen(s));
}

void cw_uint(struct cw *w, uint64_t v)
{
    if (v < 128) {
        unsigned char b = (unsigned char)v;
        cw_put(w, &b, 1);
    } else if (v < 256) {
        cw_tag(w, 0xcc, v, 1);
    } else if (v < 65536) {
        cw_tag(w, 0xcd, v, 2);
    } else if (v <= UINT32_MAX) {
        cw_tag(w, 0xce, v, 4);
    } else {
        cw_tag(w, 0xcf, v, 8);
    }
}

void cw_int(struct cw *w, int64_t v)
{
    if (v >= 0) {
        cw_uint(w, (uint64_t)v);
    } else if (v >= -32) {
        unsigned char b = (unsigned char)v;
        cw_put(w, &b, 1);
    } else if (v >= INT8_MIN) {
        cw_tag(w, 0xd0, (uint64_t)v, 1);
    } else if (v >= INT16_MIN) {
        cw_tag(w, 0xd1, (uint64_t)v, 2);
    } else if (v >= INT32_MIN) {
        cw_tag(w, 0xd2, (uint64_t)v, 4);
    } else {
        cw_tag(w, 0xd3, (uint64_t)v, 8);
    }
}

void cw_bool(struct cw *w, bool v)
{
    unsigned char b = v ? 0xc3 : 0xc2;
    cw_put(w, &b, 1);
}

void cw_nil(struct cw *w)
{
    unsigned char b = 0xc0;
    cw_put(w, &b, 1);
}

void cw_bin(struct cw *w, const void *p, size_t n)
{
    cw_head(w, 0, 0, 0xc4, 0xc5, n);
    cw_put(w, p, n);
}

void cw_raw(struct cw *w, const void *p, size_t n)
{
    cw_put(w, p, n);
}

void cw_obj(struct cw *w, const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        cw_nil(w);
        return;
    case MSGPACK_OBJECT_BOOLEAN:
        cw_bool(w, o->via.boolean);
        return;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        cw_uint(w, o->via.u64);
        return;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        cw_int(w, o->via.i64);
        return;
    case MSGPACK_OBJECT_STR:
        cw_strn(w, o->via.str.ptr, o->via.str.size);
        return;
    case MSGPACK_OBJECT_BIN:
        cw_bin(w, o->via.bin.ptr, o->via.bin.size);
        return;
    case MSGPACK_OBJECT_ARRAY:
        cw_array(w, o->via.array.size);
        for (uint32_t i = 0; i < o->via.array.size; i++)
            cw_obj(w, &o->via.array.ptr[i]);
        return;
    case MSGPACK_OBJECT_MAP:
        cw_map(w, o->via.map.size);
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            cw_obj(w, &o->via.map.ptr[i].key);
            cw_obj(w, &o->via.map.ptr[i].val);
        }
        return;
    default: /* floats and ext: rare, msgpack's packer writes them */
        msgpack_pack_object(&w->pk, *o);
        return;
    }
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
