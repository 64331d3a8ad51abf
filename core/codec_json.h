/* core/codec_json.h - msgpack <-> JSON (jansson), for deskctl, deskaudit
 * exports and the HTTP API. bin values become lowercase hex strings. */
#ifndef DESKD_CODEC_JSON_H
#define DESKD_CODEC_JSON_H

#include <jansson.h>

#include "cmd.h"
#include "codec.h"

/* New reference; NULL only on allocation failure. */
json_t *codec_to_json(const msgpack_object *o);
/* Appends the msgpack encoding of j to w. Reals that are whole numbers stay
 * reals (the server decides what it accepts). Returns 0 or -1 for JSON values
 * msgpack cannot hold. */
int codec_from_json(const json_t *j, struct cw *w);

/* A key=value text argument (deskctl, HTTP query strings) as the JSON value
 * its field in c expects: integers, bools, comma-separated lists, maps as
 * JSON; a string otherwise or when the text does not fit (the command's
 * validation then reports it). c may be NULL. New reference. */
json_t *codec_json_typed(const struct cmd_spec *c, const char *key,
                         const char *text);

#endif
