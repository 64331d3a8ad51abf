/* core/args.c - validates a command body against its table entry: every
 * field's type, limits and presence, unknown fields refused. Produces struct
 * args; the handler then only applies business rules. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "date.h"

static const char *ftype_name(enum ftype t)
{
    switch (t) {
#define X(n, s)                                                                \
    case FT_##n:                                                               \
        return s;
        FIELD_TYPES(X)
#undef X
    }
    return "?";
}

static int wrong_type(const struct field *f, struct err *e)
{
    return err_set(e, ERR_INVALID, f->name, "'%s' must be a %s", f->name,
                   ftype_name(f->type));
}

/* Digits written from the right (snprintf was most of its cost, and it
 * formats every amount a command or a query shows). */
void cmd_dec2_format(int64_t v, char buf[CMD_DEC2_STR])
{
    char tmp[CMD_DEC2_STR];
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    size_t i = sizeof(tmp), n = 0;

    tmp[--i] = '\0';
    tmp[--i] = (char)('0' + a % 10), a /= 10;
    tmp[--i] = (char)('0' + a % 10), a /= 10;
    tmp[--i] = '.';
    do
        tmp[--i] = (char)('0' + a % 10), a /= 10;
    while (a);
    if (v < 0)
        buf[n++] = '-';
    memcpy(buf + n, tmp + i, sizeof(tmp) - i);
}

static int range(const struct field *f, int64_t v, struct err *e)
{
    char a[CMD_DEC2_STR], lo[CMD_DEC2_STR], hi[CMD_DEC2_STR];
    if (v >= f->min && v <= f->max)
        return 0;
    if (f->type != FT_DEC2)
        return err_set(e, ERR_INVALID, f->name,
                       "'%s' is %lld, outside %lld..%lld", f->name,
                       (long long)v, (long long)f->min, (long long)f->max);
    cmd_dec2_format(v, a);
    cmd_dec2_format(f->min, lo);
    cmd_dec2_format(f->max, hi);
    return err_set(e, ERR_INVALID, f->name, "'%s' is %s, outside %s..%s",
                   f->name, a, lo, hi);
}

/* "123", "123.4", "123.45" -> hundredths; -1 if malformed. */
static int dec2_from_str(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;
    size_t i = 0, frac = 0;
    bool dot = false, neg = n && s[0] == '-';
    if (neg)
        i++;
    if (i == n)
        return -1;
    for (; i < n; i++) {
        if (s[i] == '.' && !dot) {
            dot = true;
            continue;
        }
        if (s[i] < '0' || s[i] > '9' || (dot && ++frac > 2) ||
            __builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, s[i] - '0', &v))
            return -1;
    }
    if (dot && frac == 0)
        return -1;
    for (; frac < 2; frac++) /* to hundredths, still in range */
        if (__builtin_mul_overflow(v, 10, &v))
            return -1;
    *out = neg ? -v : v;
    return 0;
}

static int parse_dec2(const struct field *f, const msgpack_object *o,
                      int64_t *out, struct err *e)
{
    if (o->type == MSGPACK_OBJECT_STR) {
        if (dec2_from_str(o->via.str.ptr, o->via.str.size, out))
            return err_set(e, ERR_INVALID, f->name,
                           "'%s' must be a number with at most 2 decimals",
                           f->name);
        return 0;
    }
    if (o->type == MSGPACK_OBJECT_FLOAT32 ||
        o->type == MSGPACK_OBJECT_FLOAT64) {
        double x = o->via.f64 * 100.0, r = round(x);
        if (!isfinite(x) || fabs(x) > 9e15 || fabs(x - r) > 1e-6)
            return err_set(e, ERR_INVALID, f->name,
                           "'%s' must be a number with at most 2 decimals",
                           f->name);
        *out = (int64_t)r;
        return 0;
    }
    if (codec_obj_int(o, out) || *out > INT64_MAX / 100 ||
        *out < INT64_MIN / 100)
        return wrong_type(f, e);
    *out *= 100;
    return 0;
}

static int parse_str(const struct field *f, const msgpack_object *o,
                     struct argv *v, struct err *e)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return wrong_type(f, e);
    v->s = o->via.str.ptr;
    v->len = o->via.str.size;
    if ((int64_t)v->len < (f->min ? f->min : 1) || (int64_t)v->len > f->max)
        return err_set(e, ERR_INVALID, f->name,
                       "'%s' must be %lld..%lld bytes, got %zu", f->name,
                       (long long)(f->min ? f->min : 1), (long long)f->max,
                       v->len);
    if (!cmd_utf8_ok((const unsigned char *)v->s, v->len, f->type == FT_TEXT))
        return err_set(e, ERR_INVALID, f->name, "'%s' is not printable UTF-8",
                       f->name);
    return 0;
}

static int parse_enum(const struct field *f, const msgpack_object *o,
                      struct argv *v, struct err *e)
{
    if (o->type != MSGPACK_OBJECT_STR)
        return wrong_type(f, e);
    for (int64_t i = 0; f->choices[i]; i++) {
        if (codec_obj_is_str(o, f->choices[i])) {
            v->i = i;
            v->s = f->choices[i];
            v->len = strlen(f->choices[i]);
            return 0;
        }
    }
    return err_set(e, ERR_INVALID, f->name, "'%s' must be one of %s%s%s%s%s",
                   f->name, f->choices[0], f->choices[1] ? ", " : "",
                   f->choices[1] ? f->choices[1] : "",
                   f->choices[1] && f->choices[2] ? ", " : "",
                   f->choices[1] && f->choices[2] ? "..." : "");
}

static int parse_strs(const struct field *f, const msgpack_object *o,
                      struct err *e)
{
    uint32_t cap = f->min ? (uint32_t)f->min : CMD_LIST_MAX;
    if (o->type != MSGPACK_OBJECT_ARRAY)
        return wrong_type(f, e);
    if (o->via.array.size > cap)
        return err_set(e, ERR_INVALID, f->name, "'%s' has more than %u items",
                       f->name, cap);
    for (uint32_t i = 0; i < o->via.array.size; i++) {
        const msgpack_object *x = &o->via.array.ptr[i];
        if (x->type != MSGPACK_OBJECT_STR || x->via.str.size == 0 ||
            (int64_t)x->via.str.size > f->max ||
            !cmd_utf8_ok((const unsigned char *)x->via.str.ptr, x->via.str.size,
                         false))
            return err_set(e, ERR_INVALID, f->name,
                           "'%s' items must be 1..%lld bytes of UTF-8", f->name,
                           (long long)f->max);
    }
    return 0;
}

/* Identifiers go into stream names and keys: a safe alphabet only. */
static int id_check(const struct field *f, const struct argv *v, struct err *e)
{
    for (size_t i = 0; i < v->len; i++) {
        char c = v->s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
            return err_set(e, ERR_INVALID, f->name,
                           "'%s' may hold only letters, digits, '_', '-' "
                           "and '.'",
                           f->name);
    }
    return 0;
}

static int parse_date(const struct field *f, const msgpack_object *o,
                      struct argv *v, struct err *e)
{
    int32_t d;
    if (o->type != MSGPACK_OBJECT_STR ||
        date_parse(o->via.str.ptr, o->via.str.size, &d))
        return err_set(e, ERR_INVALID, f->name,
                       "'%s' must be a real date YYYY-MM-DD", f->name);
    v->i = d;
    return 0;
}

static int parse_value(const struct field *f, const msgpack_object *o,
                       int offset_min, struct argv *v, struct err *e)
{
    v->o = o;
    switch (f->type) {
    case FT_ID:
        if (parse_str(f, o, v, e))
            return e->code;
        return id_check(f, v, e);
    case FT_STR:
    case FT_TEXT:
        return parse_str(f, o, v, e);
    case FT_INT:
    case FT_MONEY:
        if (codec_obj_int(o, &v->i))
            return o->type == MSGPACK_OBJECT_FLOAT64 ||
                           o->type == MSGPACK_OBJECT_FLOAT32
                       ? err_set(e, ERR_INVALID, f->name,
                                 "'%s' must be a whole number%s", f->name,
                                 f->type == FT_MONEY ? " of fen" : "")
                       : wrong_type(f, e);
        return range(f, v->i, e);
    case FT_DEC2:
        if (parse_dec2(f, o, &v->i, e))
            return e->code;
        return range(f, v->i, e);
    case FT_DATE:
        return parse_date(f, o, v, e);
    case FT_TIME:
        if (o->type != MSGPACK_OBJECT_STR ||
            ts_parse(o->via.str.ptr, o->via.str.size, offset_min, &v->i))
            return err_set(e, ERR_INVALID, f->name,
                           "'%s' must be an ISO 8601 time", f->name);
        return 0;
    case FT_ENUM:
        return parse_enum(f, o, v, e);
    case FT_BOOL:
        if (o->type != MSGPACK_OBJECT_BOOLEAN)
            return wrong_type(f, e);
        v->i = o->via.boolean;
        return 0;
    case FT_STRS:
        return parse_strs(f, o, e);
    case FT_ANY:
        return o->type == MSGPACK_OBJECT_MAP ? 0 : wrong_type(f, e);
    }
    return wrong_type(f, e);
}

static int find_field(const struct cmd_spec *spec, const msgpack_object *k)
{
    for (int i = 0; spec->fields[i].name; i++)
        if (codec_obj_is_str(k, spec->fields[i].name))
            return i;
    return -1;
}

int cmd_args_parse(const struct cmd_spec *spec, const msgpack_object *body,
                   int offset_min, struct args *a, struct err *e)
{
    uint32_t n = body ? body->via.map.size : 0;

    memset(a, 0, sizeof(*a));
    a->spec = spec;
    for (uint32_t i = 0; i < n; i++) {
        const msgpack_object_kv *kv = &body->via.map.ptr[i];
        int fi = find_field(spec, &kv->key);
        if (fi < 0) {
            char name[ERR_FIELD_MAX];
            size_t kn =
                kv->key.type == MSGPACK_OBJECT_STR ? kv->key.via.str.size : 0;
            if (kn >= sizeof(name))
                kn = sizeof(name) - 1;
            memcpy(name, kn ? kv->key.via.str.ptr : "", kn);
            name[kn] = '\0';
            return err_set(e, ERR_INVALID, name, "'%s' has no field '%s'",
                           spec->name, name);
        }
        if (a->v[fi].set)
            return err_set(e, ERR_INVALID, spec->fields[fi].name,
                           "'%s' appears twice", spec->fields[fi].name);
        if (kv->val.type == MSGPACK_OBJECT_NIL)
            continue; /* an explicit nil is the same as absent */
        if (parse_value(&spec->fields[fi], &kv->val, offset_min, &a->v[fi], e))
            return e->code;
        a->v[fi].set = true;
    }
    for (int i = 0; spec->fields[i].name; i++)
        if ((spec->fields[i].flags & F_REQ) && !a->v[i].set)
            return err_set(e, ERR_INVALID, spec->fields[i].name,
                           "'%s' is required", spec->fields[i].name);
    return 0;
}

const struct argv *arg(const struct args *a, const char *name)
{
    for (int i = 0; a->spec->fields[i].name; i++)
        if (strcmp(a->spec->fields[i].name, name) == 0)
            return &a->v[i];
    desk_assert_fail(name, __FILE__, __LINE__);
}

bool arg_has(const struct args *a, const char *name)
{
    return arg(a, name)->set;
}

int64_t arg_int(const struct args *a, const char *name)
{
    return arg(a, name)->i;
}

void arg_copy(const struct args *a, const char *name, char *buf, size_t cap)
{
    const struct argv *v = arg(a, name);
    size_t n = v->set ? (v->len < cap ? v->len : cap - 1) : 0;
    if (n)
        memcpy(buf, v->s, n);
    buf[n] = '\0';
}
