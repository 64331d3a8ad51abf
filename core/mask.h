/* core/mask.h - masking of personal data (R-GEN-02) in one place: which
 * record keys are personal, and how each is shown to those who may not see
 * it in full. Used by the query handlers (msgpack), the live feed, the
 * audit exports and history (JSON). */
#ifndef DESKD_MASK_H
#define DESKD_MASK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "codec.h"

/* What a record key holds. */
enum pii {
    PII_NONE = 0,
    PII_ID,     /* "id_no": ID document number */
    PII_PHONE,  /* "*phone", "contact": one phone number (or handle) */
    PII_PHONES, /* "*phones": a list of them */
    PII_NAME,   /* "emergency_name": the emergency contact */
    PII_TEXT    /* free text a clerk typed ("what", "note", "reason", ...):
                   phone, ID and plate numbers inside it are masked */
};

#define MASK_MAX 128 /* bytes of one masked value, NUL included */

enum pii pii_of(const char *key, size_t len);

/* phone 13812345678 -> 138****5678, ID 440301199001011234 ->
 * 4403**********1234, name 李四 -> 李*. Output is NUL-terminated in out
 * (cap bytes). */
void mask_phone(const char *s, size_t n, char *out, size_t cap);
void mask_id(const char *s, size_t n, char *out, size_t cap);
void mask_name(const char *s, size_t n, char *out, size_t cap);
/* By kind (PII_PHONES: one element; PII_TEXT: see mask_text). */
void mask_as(enum pii kind, const char *s, size_t n, char *out, size_t cap);
/* Free text with the personal numbers in it masked like the structured
 * fields: mobile phones (13812345678, 138-1234-5678, 138 1234 5678 ->
 * 138****5678), landlines (0755-12345678 -> 0755-****5678), ID numbers
 * (18 or 15 characters -> 4403**********1234) and plate numbers (粤B12345,
 * 粤B·D12345 -> 粤B***45). Only ASCII bytes are replaced, one star each,
 * so out has exactly n bytes (plus a NUL) and stays valid UTF-8. */
void mask_text(const char *s, size_t n, char *out);

/* Masks every personal value in j, at any depth, in place. */
void mask_json(json_t *j);

/* The same over msgpack: writes one map entry (key, then the value masked
 * by the key's kind, recursing into maps and arrays). */
void mask_msgpack_kv(struct cw *w, const msgpack_object *k,
                     const msgpack_object *v);
/* Writes o to w with every personal value masked, at any depth. */
void mask_msgpack(struct cw *w, const msgpack_object *o);
/* False when no map key in the encoded msgpack (one value, at any
 * depth) is one pii_of() names personal: such a body needs no decoding.
 * True too for bytes that are not one whole msgpack value. */
bool mask_may_need(const char *p, size_t n);
/* Appends the body (an encoded event or record) to w, masked if it needs
 * it; a body that does not decode is appended as it is. */
void mask_body(struct cw *w, const char *p, size_t n);
/* The same for an event as PUB and log.read send it: masked, with one key
 * added, "hash": the 32-byte hash stored with it (the BLAKE2b of the
 * stored body), so any reader can check that each event's "prev" is the
 * hash of the one before. */
void mask_event(struct cw *w, const char *p, size_t n,
                const unsigned char *hash, size_t hash_len);

#endif
