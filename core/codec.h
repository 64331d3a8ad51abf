/* core/codec.h - msgpack in and out. The only module that includes msgpack.h
 * for its own use; others see msgpack_object (read-only) and struct cw.
 *
 * Untrusted bytes are never unpacked blindly: codec_check() walks the frame
 * first and refuses counts that the remaining bytes cannot hold, nesting
 * deeper than CODEC_DEPTH_MAX and strings longer than CODEC_STR_MAX, so the
 * unpacker never allocates on an attacker's say-so (dd ff 00 00 00 would ask
 * msgpack-c for ~96 GB). */
#ifndef DESKD_CODEC_H
#define DESKD_CODEC_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define CODEC_DEPTH_MAX 8         /* nesting levels in a command */
#define CODEC_ITEMS_MAX 4096      /* elements in one array or map */
#define CODEC_STR_MAX (16 * 1024) /* bytes in one string or bin */

/* Checks that buf holds exactly one well-formed msgpack value within the
 * limits above. ERR_BAD_REQUEST with a message naming the offset. */
int codec_check(const char *buf, size_t len, struct err *e);

/* A decoded document. obj points into doc-owned memory; valid until
 * codec_doc_release(). */
struct codec_doc {
    msgpack_unpacked u;
    const msgpack_object *obj;
};

/* codec_check() then unpack. On error nothing needs releasing. */
int codec_doc_parse(struct codec_doc *d, const char *buf, size_t len,
                    struct err *e);
/* Unpacks trusted bytes (our own log) with a sanity check; ERR_UNAVAILABLE if
 * they are corrupt. */
int codec_doc_parse_trusted(struct codec_doc *d, const char *buf, size_t len,
                            struct err *e);
void codec_doc_release(struct codec_doc *d);

/* Map lookup by string key; NULL if o is not a map or has no such key. */
const msgpack_object *codec_get(const msgpack_object *map, const char *key);
/* Typed getters: 0 on success, -1 if absent or of another type. Strings are
 * not NUL-terminated; they point into the document. */
int codec_get_str(const msgpack_object *map, const char *key, const char **s,
                  size_t *len);
int codec_get_int(const msgpack_object *map, const char *key, int64_t *v);
int codec_get_bool(const msgpack_object *map, const char *key, bool *v);
/* Copies a string value into buf (NUL-terminated, truncated to cap-1);
 * "" if absent. Returns the length copied. */
size_t codec_copy_str(const msgpack_object *map, const char *key, char *buf,
                      size_t cap);
/* Integer value of an object (positive or negative int). */
int codec_obj_int(const msgpack_object *o, int64_t *v);
bool codec_obj_is_str(const msgpack_object *o, const char *s);

/* A growable msgpack writer. */
struct cw {
    msgpack_sbuffer sb;
    msgpack_packer pk;
};

void cw_init(struct cw *w);
void cw_release(struct cw *w);
void cw_reset(struct cw *w); /* empty, keep the memory */
static inline const char *cw_data(const struct cw *w)
{
    return w->sb.data;
}
static inline size_t cw_len(const struct cw *w)
{
    return w->sb.size;
}

void cw_map(struct cw *w, uint32_t n);
void cw_array(struct cw *w, uint32_t n);
void cw_str(struct cw *w, const char *s);
void cw_strn(struct cw *w, const char *s, size_t n);
void cw_int(struct cw *w, int64_t v);
void cw_uint(struct cw *w, uint64_t v);
void cw_bool(struct cw *w, bool v);
void cw_nil(struct cw *w);
void cw_bin(struct cw *w, const void *p, size_t n);
void cw_raw(struct cw *w, const void *p, size_t n); /* pre-encoded msgpack */
void cw_obj(struct cw *w, const msgpack_object *o); /* re-encode a value */
/* Re-encodes a value in one canonical form: map keys in byte order, at
 * every depth (lists keep their order). -1 when out of memory. */
int cw_canon(struct cw *w, const msgpack_object *o);

/* A map whose count is known only at the end: cw_map_open() writes a map32
 * header and returns its offset; cw_map_close() patches the count. */
size_t cw_map_open(struct cw *w);
void cw_map_close(struct cw *w, size_t at, uint32_t n);
size_t cw_array_open(struct cw *w);
void cw_array_close(struct cw *w, size_t at, uint32_t n);

/* key + value shorthands for maps */
void cw_kstr(struct cw *w, const char *k, const char *v);
void cw_kstrn(struct cw *w, const char *k, const char *v, size_t n);
void cw_kint(struct cw *w, const char *k, int64_t v);
void cw_kbool(struct cw *w, const char *k, bool v);
void cw_knil(struct cw *w, const char *k);
void cw_kdate(struct cw *w, const char *k, int32_t day); /* "YYYY-MM-DD" */
void cw_kts(struct cw *w, const char *k, int64_t ts, int offset_min);
void cw_kobj(struct cw *w, const char *k, const msgpack_object *o);

#endif
