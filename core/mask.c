/* core/mask.c - personal data masked (R-GEN-02); see mask.h. */
#include "mask.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Personal keys by name, with their lengths (pii_of runs on every string
 * of every event published: a length compare first). */
#define KEY(s, kind)                                                           \
    {                                                                          \
        s, sizeof(s) - 1, kind                                                 \
    }
static const struct {
    const char *name;
    size_t len;
    enum pii kind;
} named_keys[] = {
    /* free text typed at the desk */
    KEY("what", PII_TEXT), KEY("wants", PII_TEXT), KEY("issue", PII_TEXT),
    KEY("note", PII_TEXT), KEY("notes", PII_TEXT), KEY("text", PII_TEXT),
    KEY("reason", PII_TEXT), KEY("summary", PII_TEXT), KEY("problem", PII_TEXT),
    KEY("needs", PII_TEXT), KEY("actions", PII_TEXT), KEY("remark", PII_TEXT),
    KEY("remarks", PII_TEXT), KEY("reply", PII_TEXT), KEY("result", PII_TEXT),
    KEY("comment", PII_TEXT), KEY("detail", PII_TEXT),
    /* structured */
    KEY("id_no", PII_ID), KEY("emergency_name", PII_NAME),
    KEY("contact", PII_PHONE), /* a complainant's */
};
#undef KEY

#define NAMED_LEN_MAX 14 /* the longest named key */

/* For each first letter a..z, a bit per length of the named keys that
 * start with it: most keys of an event are ruled out by it alone. */
static uint16_t named_lens[26];
static pthread_once_t named_once = PTHREAD_ONCE_INIT;

static void named_lens_make(void)
{
    for (size_t i = 0; i < sizeof(named_keys) / sizeof(named_keys[0]); i++) {
        DESK_ASSERT(named_keys[i].len <= NAMED_LEN_MAX &&
                    named_keys[i].name[0] >= 'a' &&
                    named_keys[i].name[0] <= 'z');
        named_lens[named_keys[i].name[0] - 'a'] |=
            (uint16_t)(1u << named_keys[i].len);
    }
}

enum pii pii_of(const char *key, size_t len)
{
    unsigned c;
    if (len < 4)
        return PII_NONE;
    if (key[len - 1] == 'e' && len >= 5 && !memcmp(key + len - 5, "phone", 5))
        return PII_PHONE;
    if (key[len - 1] == 's' && len >= 6 && !memcmp(key + len - 6, "phones", 6))
        return PII_PHONES;
    if (len > NAMED_LEN_MAX)
        return PII_NONE;
    pthread_once(&named_once, named_lens_make);
    c = (unsigned char)key[0] - 'a';
    if (c >= 26 || !(named_lens[c] >> len & 1))
        return PII_NONE;
    for (size_t i = 0; i < sizeof(named_keys) / sizeof(named_keys[0]); i++)
        if (named_keys[i].len == len && key[0] == named_keys[i].name[0] &&
            !memcmp(key, named_keys[i].name, len))
            return named_keys[i].kind;
    return PII_NONE;
}

/* Bytes of the UTF-8 character starting at s[i] (1 for a stray byte). */
static size_t char_len(const char *s, size_t n, size_t i)
{
    size_t k = i + 1;
    while (k < n && ((unsigned char)s[k] & 0xc0) == 0x80)
        k++;
    return k - i;
}

/* Keeps the first head and last tail characters, a star for each one in
 * between; strings too short to hide anything become all stars but the
 * last two. Counts UTF-8 characters, never splits one, so a masked value
 * is still valid UTF-8 (a contact may be "微信 wang_88"). */
static void mask(const char *s, size_t n, size_t head, size_t tail, char *out,
                 size_t cap)
{
    size_t o = 0, nc = 0, c = 0;

    for (size_t i = 0; i < n; i += char_len(s, n, i))
        nc++;
    if (nc <= head + tail) {
        head = 0;
        tail = nc > 2 ? 2 : 0;
    }
    for (size_t i = 0; i < n; c++) {
        size_t k = char_len(s, n, i);
        bool keep = c < head || c >= nc - tail;
        size_t len = keep ? k : 1;
        if (o + len + 1 > cap)
            break;
        if (keep)
            memcpy(out + o, s + i, k);
        else
            out[o] = '*';
        o += len;
        i += k;
    }
    out[o] = '\0';
}

void mask_phone(const char *s, size_t n, char *out, size_t cap)
{
    mask(s, n, 3, 4, out, cap);
}

void mask_id(const char *s, size_t n, char *out, size_t cap)
{
    mask(s, n, 4, 4, out, cap);
}

/* The first character (UTF-8), then one star. */
void mask_name(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 1;
    if (!n || cap < 2) {
        if (cap)
            out[0] = '\0';
        return;
    }
    while (k < n && ((unsigned char)s[k] & 0xc0) == 0x80)
        k++;
    if (k + 2 > cap)
        k = 0;
    memcpy(out, s, k);
    out[k] = '*';
    out[k + 1] = '\0';
}

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool upper_or_digit(char c)
{
    return digit(c) || (c >= 'A' && c <= 'Z');
}

/* Digits from i (at most max); their count. */
static size_t digits_at(const char *s, size_t n, size_t i, size_t max)
{
    size_t k = 0;
    while (i + k < n && k < max && digit(s[i + k]))
        k++;
    return k;
}

/* Stars over the digits (only) of out[from, to), keeping the first keep_head
 * and last keep_tail digits of that span. */
static void star_digits(char *out, size_t from, size_t to, size_t keep_head,
                        size_t keep_tail)
{
    size_t nd = 0, c = 0;
    for (size_t i = from; i < to; i++)
        nd += digit(out[i]);
    for (size_t i = from; i < to; i++)
        if (digit(out[i]) || out[i] == 'X' || out[i] == 'x') {
            if (c >= keep_head && c + keep_tail < nd)
                out[i] = '*';
            c++;
        }
}

/* A number starting at i (a digit, after a non-digit): how many bytes it
 * spans and how to mask it; 0 when it is no personal number. */
static size_t number_at(const char *s, size_t n, size_t i, size_t *head,
                        size_t *tail)
{
    size_t run = digits_at(s, n, i, 20), a, b;

    if ((run == 17 && i + 17 < n && (s[i + 17] == 'X' || s[i + 17] == 'x') &&
         !(i + 18 < n && upper_or_digit(s[i + 18]))) ||
        run == 18 || run == 15) { /* ID number */
        *head = 4, *tail = run == 17 ? 3 : 4;
        return run == 17 ? 18 : run;
    }
    if (run == 11 && s[i] == '1' && s[i + 1] >= '3') { /* mobile */
        *head = 3, *tail = 4;
        return 11;
    }
    if (run == 3 && s[i] == '1' && i + 13 <= n &&
        (s[i + 3] == '-' || s[i + 3] == ' ') && s[i + 8] == s[i + 3] &&
        digits_at(s, n, i + 4, 5) == 4 && digits_at(s, n, i + 9, 5) == 4) {
        *head = 3, *tail = 4; /* 138-1234-5678 */
        return 13;
    }
    if ((run == 3 || run == 4) && s[i] == '0' && i + run < n &&
        s[i + run] == '-') { /* landline: area code, then 7 or 8 digits */
        a = run + 1;
        b = digits_at(s, n, i + a, 9);
        if (b == 7 || b == 8) {
            *head = run, *tail = 4;
            return a + b;
        }
    }
    return 0;
}

/* 粤B12345 etc.: a province's one-character abbreviation, a letter, an
 * optional middle dot or space, then 5 or 6 letters and digits. Bytes
 * spanned (and where the plate's characters start) or 0. */
static size_t plate_at(const char *s, size_t n, size_t i, size_t *body)
{
    static const char provinces[] =
        "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";
    size_t k, m = 0;
    bool found = false;

    for (size_t p = 0; p + 3 <= sizeof(provinces) - 1 && !found; p += 3)
        found = i + 3 <= n && !memcmp(s + i, provinces + p, 3);
    if (!found || i + 4 > n || !(s[i + 3] >= 'A' && s[i + 3] <= 'Z'))
        return 0;
    k = i + 4;
    if (k + 2 <= n && !memcmp(s + k, "\xc2\xb7", 2)) /* · */
        k += 2;
    else if (k < n && s[k] == ' ')
        k++;
    while (k + m < n && m < 7 && upper_or_digit(s[k + m]))
        m++;
    if (m != 5 && m != 6)
        return 0;
    *body = k;
    return k + m - i;
}

void mask_text(const char *s, size_t n, char *out)
{
    memcpy(out, s, n);
    out[n] = '\0';
    for (size_t i = 0; i < n;) {
        size_t head, tail, body, len = 0;
        if (digit(s[i]) && (i == 0 || !digit(s[i - 1])) &&
            !(i > 0 && ((s[i - 1] >= 'A' && s[i - 1] <= 'Z') ||
                        (s[i - 1] >= 'a' && s[i - 1] <= 'z')))) {
            len = number_at(s, n, i, &head, &tail);
            if (len && !(i + len < n && digit(s[i + len])))
                star_digits(out, i, i + len, head, tail);
            else
                len = 0;
        } else if ((len = plate_at(s, n, i, &body))) {
            for (size_t k = body; k + 2 < i + len; k++)
                out[k] = '*';
        }
        i += len ? len : 1;
    }
}

void mask_as(enum pii kind, const char *s, size_t n, char *out, size_t cap)
{
    if (kind == PII_TEXT) { /* cap >= n + 1: text keeps its length */
        if (cap > n)
            mask_text(s, n, out);
        else if (cap)
            out[0] = '\0';
        return;
    }
    if (kind == PII_ID)
        mask_id(s, n, out, cap);
    else if (kind == PII_NAME)
        mask_name(s, n, out, cap);
    else
        mask_phone(s, n, out, cap);
}

static void mask_string(json_t *v, enum pii kind)
{
    char out[MASK_MAX], *big = NULL;
    size_t n;
    if (!json_is_string(v))
        return;
    n = json_string_length(v);
    if (kind == PII_TEXT && n >= sizeof(out) && !(big = malloc(n + 1)))
        return;
    mask_as(kind, json_string_value(v), n, big ? big : out,
            big ? n + 1 : sizeof(out));
    json_string_setn(v, big ? big : out, kind == PII_TEXT ? n : strlen(out));
    free(big);
}

void mask_json(json_t *j)
{
    const char *k;
    json_t *v, *x;
    size_t i;

    if (json_is_array(j)) {
        json_array_foreach(j, i, v) mask_json(v);
        return;
    }
    if (!json_is_object(j))
        return;
    json_object_foreach(j, k, v)
    {
        enum pii kind = pii_of(k, strlen(k));
        if (kind == PII_PHONES && json_is_array(v)) {
            json_array_foreach(v, i, x) mask_string(x, PII_PHONE);
        } else if (kind != PII_NONE && kind != PII_PHONES) {
            mask_string(v, kind);
        } else {
            mask_json(v);
        }
    }
}

static void mask_msgpack_value(struct cw *w, enum pii kind,
                               const msgpack_object *v)
{
    char buf[MASK_MAX];
    if (kind == PII_PHONES && v->type == MSGPACK_OBJECT_ARRAY) {
        cw_array(w, v->via.array.size);
        for (uint32_t i = 0; i < v->via.array.size; i++)
            mask_msgpack_value(w, PII_PHONE, &v->via.array.ptr[i]);
    } else if (kind == PII_TEXT && v->type == MSGPACK_OBJECT_STR) {
        size_t n = v->via.str.size;
        char *big = n >= sizeof(buf) ? malloc(n + 1) : NULL;
        if (n >= sizeof(buf) && !big) {
            cw_nil(w); /* out of memory: never the unmasked text */
            return;
        }
        mask_text(v->via.str.ptr, n, big ? big : buf);
        cw_strn(w, big ? big : buf, n);
        free(big);
    } else if (kind == PII_TEXT) {
        mask_msgpack(w, v); /* not a string: nested free text, if any */
    } else if (kind != PII_NONE && kind != PII_PHONES &&
               v->type == MSGPACK_OBJECT_STR) {
        mask_as(kind, v->via.str.ptr, v->via.str.size, buf, sizeof(buf));
        cw_str(w, buf);
    } else if (kind != PII_NONE) {
        cw_nil(w); /* a personal key with an unexpected shape: drop it */
    } else {
        mask_msgpack(w, v);
    }
}

void mask_msgpack_kv(struct cw *w, const msgpack_object *k,
                     const msgpack_object *v)
{
    enum pii kind = k->type == MSGPACK_OBJECT_STR
                        ? pii_of(k->via.str.ptr, k->via.str.size)
                        : PII_NONE;
    cw_obj(w, k);
    mask_msgpack_value(w, kind, v);
}

void mask_msgpack(struct cw *w, const msgpack_object *o)
{
    if (o->type == MSGPACK_OBJECT_MAP) {
        cw_map(w, o->via.map.size);
        for (uint32_t i = 0; i < o->via.map.size; i++)
            mask_msgpack_kv(w, &o->via.map.ptr[i].key, &o->via.map.ptr[i].val);
    } else if (o->type == MSGPACK_OBJECT_ARRAY) {
        cw_array(w, o->via.array.size);
        for (uint32_t i = 0; i < o->via.array.size; i++)
            mask_msgpack(w, &o->via.array.ptr[i]);
    } else {
        cw_obj(w, o);
    }
}

/* Reads a big-endian length of k bytes at p[*at]; false past the end. */
static bool be_len(const unsigned char *p, size_t n, size_t *at, int k,
                   size_t *out)
{
    size_t v = 0;
    if (n - *at < (size_t)k)
        return false;
    for (int i = 0; i < k; i++)
        v = v << 8 | p[(*at)++];
    *out = v;
    return true;
}

/* pii_of() for the map key at p[at], when it is a string. */
static bool key_personal(const unsigned char *p, size_t n, size_t at)
{
    size_t len;
    if (at >= n)
        return false;
    if (p[at] >= 0xa0 && p[at] <= 0xbf) {
        len = p[at] & 0x1f, at += 1;
    } else if (p[at] == 0xd9 && n - at >= 2) {
        len = p[at + 1], at += 2;
    } else if (p[at] == 0xda && n - at >= 3) {
        len = (size_t)p[at + 1] << 8 | p[at + 2], at += 3;
    } else if (p[at] == 0xdb && n - at >= 5) {
        len = (size_t)p[at + 1] << 24 | (size_t)p[at + 2] << 16 |
              (size_t)p[at + 3] << 8 | p[at + 4],
        at += 5;
    } else {
        return false;
    }
    return len <= n - at && pii_of((const char *)p + at, len) != PII_NONE;
}

/* Steps over the value at p[*at] when it is one byte or a short string
 * that fits (most keys and values of an event), without a call of
 * walk_may_need; false, moving nothing, for anything else. */
static inline bool skip_flat(const unsigned char *p, size_t n, size_t *at)
{
    size_t len;
    unsigned char t;
    if (*at >= n)
        return false;
    t = p[*at];
    if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3) {
        *at += 1;
        return true;
    }
    if (t < 0xa0 || t > 0xbf)
        return false;
    len = t & 0x1f;
    if (n - *at - 1 < len)
        return false;
    *at += 1 + len;
    return true;
}

/* Walks one msgpack value at p[*at] (moving *at past it): true when a map
 * key in it is one pii_of() names, or when the bytes do not walk (too
 * deep, cut short): the caller then decodes them. Masking goes by key
 * only, so strings that are values and binary data (an event's 32-byte
 * prev) are stepped over whole, never looked into. */
#define WALK_DEPTH 32
static bool walk_may_need(const unsigned char *p, size_t n, size_t *at,
                          int depth)
{
    unsigned char t;
    size_t len = 0, items = 0;
    bool map = false;

    if (*at >= n || depth > WALK_DEPTH)
        return true;
    t = p[(*at)++];
    if (t <= 0x7f || t >= 0xe0 || t == 0xc0 || t == 0xc2 || t == 0xc3)
        return false; /* fixint, nil, bool (0xc1 is never used: below) */
    if (t <= 0x8f) {
        items = t & 0x0f, map = true;
    } else if (t <= 0x9f) {
        items = t & 0x0f;
    } else if (t <= 0xbf) {
        len = t & 0x1f;
    } else {
        switch (t) {
        case 0xc4:
        case 0xd9: /* bin8, str8 */
            if (!be_len(p, n, at, 1, &len))
                return true;
            break;
        case 0xc5:
        case 0xda: /* bin16, str16 */
            if (!be_len(p, n, at, 2, &len))
                return true;
            break;
        case 0xc6:
        case 0xdb: /* bin32, str32 */
            if (!be_len(p, n, at, 4, &len))
                return true;
            break;
        case 0xc7:
        case 0xc8:
        case 0xc9: /* ext 8/16/32: length, type */
            if (!be_len(p, n, at, 1 << (t - 0xc7), &len))
                return true;
            len++;
            break;
        case 0xca: /* float32 */
            len = 4;
            break;
        case 0xcb: /* float64 */
            len = 8;
            break;
        case 0xcc:
        case 0xd0:
            len = 1;
            break;
        case 0xcd:
        case 0xd1:
            len = 2;
            break;
        case 0xce:
        case 0xd2:
            len = 4;
            break;
        case 0xcf:
        case 0xd3:
            len = 8;
            break;
        case 0xd4:
        case 0xd5:
        case 0xd6:
        case 0xd7:
        case 0xd8: /* fixext */
            len = 1 + ((size_t)1 << (t - 0xd4));
            break;
        case 0xdc:
        case 0xdd: /* array16/32 */
            if (!be_len(p, n, at, t == 0xdc ? 2 : 4, &items))
                return true;
            break;
        case 0xde:
        case 0xdf: /* map16/32 */
            if (!be_len(p, n, at, t == 0xde ? 2 : 4, &items))
                return true;
            map = true;
            break;
        default: /* 0xc1: never used */
            return true;
        }
    }
    if (len) { /* a scalar's bytes */
        if (n - *at < len)
            return true;
        *at += len;
        return false;
    }
    for (size_t i = 0; i < items; i++) {
        if (map &&
            (key_personal(p, n, *at) ||
             (!skip_flat(p, n, at) && walk_may_need(p, n, at, depth + 1))))
            return true;
        if (!skip_flat(p, n, at) && walk_may_need(p, n, at, depth + 1))
            return true;
    }
    return false;
}

bool mask_may_need(const char *p, size_t n)
{
    size_t at = 0;
    return walk_may_need((const unsigned char *)p, n, &at, 0) || at != n;
}

/* Adds one to the count of the map whose header starts at w's offset at
 * (a fixmap grows into a map16 when it must). */
static void map_count_inc(struct cw *w, size_t at)
{
    unsigned char *h = (unsigned char *)w->sb.data + at;
    if (*h >= 0x80 && *h < 0x8f) {
        (*h)++;
    } else if (*h == 0x8f) { /* 15 keys: 16 need a map16 header */
        size_t tail = w->sb.size - at - 1;
        cw_raw(w, "\0\0", 2);
        h = (unsigned char *)w->sb.data + at;
        memmove(h + 3, h + 1, tail);
        h[0] = 0xde, h[1] = 0, h[2] = 16;
    } else if (*h == 0xde) {
        unsigned v = ((unsigned)h[1] << 8 | h[2]) + 1;
        DESK_ASSERT(v <= 0xffff);
        h[1] = (unsigned char)(v >> 8), h[2] = (unsigned char)v;
    } else {
        uint32_t v;
        DESK_ASSERT(*h == 0xdf);
        v = ((uint32_t)h[1] << 24 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 8 |
             h[4]) +
            1;
        h[1] = (unsigned char)(v >> 24), h[2] = (unsigned char)(v >> 16);
        h[3] = (unsigned char)(v >> 8), h[4] = (unsigned char)v;
    }
}

void mask_event(struct cw *w, const char *p, size_t n,
                const unsigned char *hash, size_t hash_len)
{
    size_t at = cw_len(w);
    unsigned char t;
    mask_body(w, p, n);
    t = (unsigned char)w->sb.data[at];
    if (!((t >= 0x80 && t <= 0x8f) || t == 0xde || t == 0xdf))
        return; /* not a map: sent as stored */
    map_count_inc(w, at);
    cw_str(w, "hash");
    cw_bin(w, hash, hash_len);
}

void mask_body(struct cw *w, const char *p, size_t n)
{
    struct codec_doc d;
    if (!mask_may_need(p, n) || codec_doc_parse_trusted(&d, p, n, NULL)) {
        cw_raw(w, p, n);
        return;
    }
    mask_msgpack(w, d.obj);
    codec_doc_release(&d);
}
