/* core/codec_json.c - msgpack values to jansson values and back. */
#include "codec_json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static json_t *bin_to_hex(const char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    char *s = malloc(n * 2 + 1);
    json_t *j;
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = hex[(unsigned char)p[i] >> 4];
        s[2 * i + 1] = hex[(unsigned char)p[i] & 15];
    }
    s[2 * n] = '\0';
    j = json_string(s);
    free(s);
    return j;
}

static json_t *map_to_json(const msgpack_object *o)
{
    json_t *j = json_object();
    for (uint32_t i = 0; j && i < o->via.map.size; i++) {
        const msgpack_object_kv *kv = &o->via.map.ptr[i];
        char key[256];
        size_t n;
        if (kv->key.type != MSGPACK_OBJECT_STR)
            continue;
        n = kv->key.via.str.size < sizeof(key) - 1 ? kv->key.via.str.size
                                                   : sizeof(key) - 1;
        memcpy(key, kv->key.via.str.ptr, n);
        key[n] = '\0';
        json_object_set_new(j, key, codec_to_json(&kv->val));
    }
    return j;
}

json_t *codec_to_json(const msgpack_object *o)
{
    json_t *j;
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        return json_null();
    case MSGPACK_OBJECT_BOOLEAN:
        return json_boolean(o->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return json_integer((json_int_t)o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return json_integer((json_int_t)o->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return json_real(o->via.f64);
    case MSGPACK_OBJECT_STR:
        return json_stringn_nocheck(o->via.str.ptr, o->via.str.size);
    case MSGPACK_OBJECT_BIN:
        return bin_to_hex(o->via.bin.ptr, o->via.bin.size);
    case MSGPACK_OBJECT_ARRAY:
        j = json_array();
        for (uint32_t i = 0; j && i < o->via.array.size; i++)
            json_array_append_new(j, codec_to_json(&o->via.array.ptr[i]));
        return j;
    case MSGPACK_OBJECT_MAP:
        return map_to_json(o);
    default:
        return json_null();
    }
}

int codec_from_json(const json_t *j, struct cw *w)
{
    const char *k;
    json_t *v;
    size_t i;

    switch (json_typeof(j)) {
    case JSON_NULL:
        cw_nil(w);
        return 0;
    case JSON_TRUE:
    case JSON_FALSE:
        cw_bool(w, json_is_true(j));
        return 0;
    case JSON_INTEGER:
        cw_int(w, json_integer_value(j));
        return 0;
    case JSON_REAL:
        msgpack_pack_double(&w->pk, json_real_value(j));
        return 0;
    case JSON_STRING:
        cw_strn(w, json_string_value(j), json_string_length(j));
        return 0;
    case JSON_ARRAY:
        cw_array(w, (uint32_t)json_array_size(j));
        json_array_foreach(j, i, v) if (codec_from_json(v, w)) return -1;
        return 0;
    case JSON_OBJECT:
        cw_map(w, (uint32_t)json_object_size(j));
        json_object_foreach((json_t *)j, k, v)
        {
            cw_str(w, k);
            if (codec_from_json(v, w))
                return -1;
        }
        return 0;
    }
    return -1;
}

json_t *codec_json_typed(const struct cmd_spec *c, const char *k, const char *v)
{
    const struct field *fd = NULL;
    char *end;
    for (int i = 0; c && c->fields[i].name; i++)
        if (!strcmp(c->fields[i].name, k))
            fd = &c->fields[i];
    if (!fd)
        return json_string(v);
    switch (fd->type) {
    case FT_INT:
    case FT_MONEY: {
        long long n;
        errno = 0;
        n = strtoll(v, &end, 10);
        return (*v && !*end && !errno) ? json_integer(n) : json_string(v);
    }
    case FT_BOOL:
        if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))
            return json_true();
        if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"))
            return json_false();
        return json_string(v);
    case FT_STRS: {
        json_t *a = json_array();
        char *dup = strdup(v), *save = NULL;
        for (char *t = dup ? strtok_r(dup, ",", &save) : NULL; t;
             t = strtok_r(NULL, ",", &save))
            json_array_append_new(a, json_string(t));
        free(dup);
        return a;
    }
    case FT_ANY: {
        json_t *j = json_loads(v, JSON_DECODE_ANY, NULL);
        return j ? j : json_string(v);
    }
    default:
        return json_string(v);
    }
}
