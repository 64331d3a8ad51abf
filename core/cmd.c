/* core/cmd.c - the generic command front: envelope, table-driven field
 * validation, role check, and the handler context's event emission. No
 * handler re-checks what the table already says. */
#include "cmd.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "date.h"

const struct cmd_spec *cmd_find(const char *name, size_t len)
{
    for (size_t i = 0; i < cmd_table_len; i++)
        if (strlen(cmd_table[i].name) == len &&
            memcmp(cmd_table[i].name, name, len) == 0)
            return &cmd_table[i];
    return NULL;
}

bool cmd_event_type_known(const char *s, size_t len)
{
    for (size_t i = 0; i < cmd_event_types_len; i++)
        if (strlen(cmd_event_types[i]) == len &&
            !memcmp(cmd_event_types[i], s, len))
            return true;
    return false;
}

/* Valid UTF-8, no overlongs or surrogates; control characters refused
 * (TAB/LF/CR allowed in multi-line text). */
bool cmd_utf8_ok(const unsigned char *s, size_t n, bool multiline)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        uint32_t cp;
        if (c < 0x80) {
            if ((c < 0x20 || c == 0x7f) &&
                !(multiline && (c == '\n' || c == '\t' || c == '\r')))
                return false;
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            k = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            k = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            k = 3, cp = c & 0x07;
        else
            return false;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + j] & 0x3f);
        }
        if ((k == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (k == 3 && (cp < 0x10000 || cp > 0x10ffff)))
            return false;
        i += k + 1;
    }
    return true;
}

static int env_str(const msgpack_object *map, const char *key, size_t lo,
                   size_t hi, const char **s, size_t *n, struct err *e)
{
    const msgpack_object *o = codec_get(map, key);
    if (!o)
        return err_set(e, ERR_BAD_REQUEST, key, "envelope has no '%s'", key);
    if (o->type != MSGPACK_OBJECT_STR)
        return err_set(e, ERR_BAD_REQUEST, key, "'%s' is not a string", key);
    if (o->via.str.size < lo || o->via.str.size > hi ||
        !cmd_utf8_ok((const unsigned char *)o->via.str.ptr, o->via.str.size,
                     false))
        return err_set(e, ERR_BAD_REQUEST, key,
                       "'%s' must be %zu..%zu bytes of printable UTF-8", key,
                       lo, hi);
    *s = o->via.str.ptr;
    *n = o->via.str.size;
    return 0;
}

/* Every key known, none twice: a proxy or auditor that reads the last of
 * two values must never see another command than deskd did. */
static int env_keys(const msgpack_object *m, struct err *e)
{
    static const char *const keys[] = {"id",   "cmd",  "actor",
                                       "desk", "body", "expect"};
    unsigned seen = 0;
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        const msgpack_object *k = &m->via.map.ptr[i].key;
        size_t j = 0;
        while (j < sizeof(keys) / sizeof(*keys) &&
               !codec_obj_is_str(k, keys[j]))
            j++;
        if (j == sizeof(keys) / sizeof(*keys))
            return err_set(e, ERR_BAD_REQUEST, NULL,
                           "unknown envelope key '%.*s'",
                           (int)(k->type != MSGPACK_OBJECT_STR ? 0
                                 : k->via.str.size > 32        ? 32
                                                        : k->via.str.size),
                           k->type == MSGPACK_OBJECT_STR ? k->via.str.ptr : "");
        if (seen & (1u << j))
            return err_set(e, ERR_BAD_REQUEST, keys[j],
                           "envelope key '%s' appears twice", keys[j]);
        seen |= 1u << j;
    }
    return 0;
}

/* A code point a reader can see: not a space of any width. */
static bool visible_cp(uint32_t cp)
{
    return !(cp == 0x20 || cp == 0xa0 || cp == 0x1680 ||
             (cp >= 0x2000 && cp <= 0x200b) || cp == 0x2028 || cp == 0x2029 ||
             cp == 0x202f || cp == 0x205f || cp == 0x3000 || cp == 0xfeff);
}

/* Valid UTF-8 (checked before) with at least one visible character. */
bool cmd_has_visible(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint32_t cp = s[i];
        size_t k = cp < 0x80 ? 0 : cp < 0xe0 ? 1 : cp < 0xf0 ? 2 : 3;
        if (k)
            cp &= 0x3f >> k;
        for (size_t j = 1; j <= k && i + j < n; j++)
            cp = (cp << 6) | (s[i + j] & 0x3f);
        if (visible_cp(cp))
            return true;
        i += k + 1;
    }
    return false;
}

static int env_expect(const msgpack_object *x, struct err *e)
{
    if (x->type != MSGPACK_OBJECT_MAP)
        return err_set(e, ERR_BAD_REQUEST, "expect",
                       "'expect' must be a map of stream to version");
    for (uint32_t i = 0; i < x->via.map.size; i++) {
        int64_t v;
        if (codec_obj_int(&x->via.map.ptr[i].val, &v) || v < 0 ||
            x->via.map.ptr[i].key.via.str.size > LOG_STREAM_MAX)
            return err_set(e, ERR_BAD_REQUEST, "expect",
                           "'expect' values must be versions >= 0");
    }
    return 0;
}

int cmd_envelope_parse(struct envelope *env, const char *frame, size_t len,
                       struct err *e)
{
    const msgpack_object *m, *desk;
    const char *s;
    size_t n;
    int rc;

    memset(env, 0, sizeof(*env));
    rc = codec_doc_parse(&env->doc, frame, len, e);
    if (rc)
        return rc;
    m = env->doc.obj;
    if (m->type != MSGPACK_OBJECT_MAP)
        return err_set(e, ERR_BAD_REQUEST, NULL, "command is not a map");
    if ((rc = env_keys(m, e)) ||
        (rc = env_str(m, "id", 1, LOG_CMD_ID_MAX, &env->id, &env->id_len, e)))
        return rc;
    if (!cmd_has_visible((const unsigned char *)env->id, env->id_len))
        return err_set(e, ERR_BAD_REQUEST, "id",
                       "'id' needs a visible character: an id of spaces "
                       "cannot be read back, retried or audited");
    if ((rc =
             env_str(m, "cmd", 1, CMD_NAME_MAX, &env->cmd, &env->cmd_len, e)) ||
        (rc = env_str(m, "actor", 1, CFG_OP_ID_MAX - 1, &env->actor,
                      &env->actor_len, e)))
        return rc;
    if ((desk = codec_get(m, "desk"))) {
        if ((rc = env_str(m, "desk", 1, CMD_DESK_MAX, &s, &n, e)))
            return rc;
        memcpy(env->desk, s, n);
        env->desk[n] = '\0';
    }
    env->body = codec_get(m, "body");
    if (env->body && env->body->type != MSGPACK_OBJECT_MAP)
        return err_set(e, ERR_BAD_REQUEST, "body", "'body' is not a map");
    env->expect = codec_get(m, "expect");
    if (env->expect)
        return env_expect(env->expect, e);
    return 0;
}

void cmd_envelope_release(struct envelope *env)
{
    if (env->doc.obj)
        codec_doc_release(&env->doc);
}

bool cmd_role_allows(const struct operator* op, unsigned roles)
{
    return (roles & op->role) != 0;
}

int cmd_authorise(const struct cmd_spec *spec, const struct operator* op,
                  struct err *e)
{
    bool reads = op->role == ROLE_READER && (spec->flags & CMD_QUERY) &&
                 (spec->roles & ROLE_ANY_DESK) == ROLE_ANY_DESK;
    if (!reads && !cmd_role_allows(op, spec->roles))
        return err_set(e, ERR_FORBIDDEN, NULL,
                       "role '%s' of operator '%s' may not run '%s'",
                       cfg_role_name(op->role), op->id, spec->name);
    return 0;
}

void hctx_init(struct hctx *h)
{
    memset(h, 0, sizeof(*h));
    cw_init(&h->data);
}

void hctx_release(struct hctx *h)
{
    cw_release(&h->data);
    free(h->ev);
    h->ev = NULL;
}

void hctx_reset(struct hctx *h)
{
    cw_reset(&h->data);
    h->nev = 0;
    h->has_result = false;
}

struct cw *hctx_data_begin(struct hctx *h)
{
    h->data_start = cw_len(&h->data);
    return &h->data;
}

/* The stream name: most handlers give "prefix:%s", written here without
 * vsnprintf (a tenth of a handler's time); any other format goes to it.
 * The length, or -1 if it does not fit in cap. */
static int stream_name(char *out, size_t cap, const char *fmt, va_list ap)
{
    const char *pct = strchr(fmt, '%');
    size_t pre, n;
    const char *s;
    int len;

    if (!pct || strcmp(pct, "%s") != 0) {
        len = vsnprintf(out, cap, fmt, ap);
        return len < 0 || (size_t)len >= cap ? -1 : len;
    }
    pre = (size_t)(pct - fmt);
    s = va_arg(ap, const char *);
    n = strlen(s);
    if (pre + n >= cap)
        return -1;
    memcpy(out, fmt, pre);
    memcpy(out + pre, s, n + 1);
    return (int)(pre + n);
}

int hctx_emit(struct hctx *h, const char *type, int64_t occurred_at,
              const char *stream_fmt, ...)
{
    struct hevent *ev;
    va_list ap;
    int n;

    if (h->nev == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 16;
        struct hevent *p = realloc(h->ev, cap * sizeof(*p));
        if (!p)
            return ERR_UNAVAILABLE;
        h->ev = p;
        h->cap = cap;
    }
    ev = &h->ev[h->nev];
    va_start(ap, stream_fmt);
    n = stream_name(ev->stream, sizeof(ev->stream), stream_fmt, ap);
    va_end(ap);
    if (n <= 0)
        return ERR_INVALID;
    ev->stream_len = (size_t)n;
    ev->type = type;
    ev->occurred_at = occurred_at;
    ev->off = h->data_start;
    ev->len = cw_len(&h->data) - h->data_start;
    h->data_start = cw_len(&h->data);
    h->nev++;
    return 0;
}
