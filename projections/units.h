/* projections/units.h - estates, buildings, units, people, who lives in a
 * unit (links with dates) and who owned it when (ownership history,
 * R-GEN-01..03). Reads for handlers and queries. */
#ifndef DESKD_PROJ_UNITS_H
#define DESKD_PROJ_UNITS_H

#include "projections.h"

#define UNIT_KEY_MAX 64  /* "estate/building-room" */
#define PERSON_ID_MAX 24 /* "P" + seq */

int proj_units_apply(MDB_txn *txn, const struct views *v,
                     const struct event *ev);

/* Lookups: 0 with doc filled (release it), MDB_NOTFOUND, or an error;
 * with doc NULL, only whether it is there. */
int units_get_estate(MDB_txn *txn, const struct views *v, const char *estate,
                     struct codec_doc *doc);
int units_get_building(MDB_txn *txn, const struct views *v, const char *estate,
                       const char *building, struct codec_doc *doc);
int units_get_unit(MDB_txn *txn, const struct views *v, const char *unit,
                   struct codec_doc *doc);
int units_get_person(MDB_txn *txn, const struct views *v, const char *person,
                     struct codec_doc *doc);

/* Owner of unit on day (as of that day's end): copies the person id into
 * owner (empty when none) and the effective day of that ownership into
 * *since (DATE_NONE when none). The latest transfer's effective day goes to
 * *latest (DATE_NONE when none). */
int units_owner_on(MDB_txn *txn, const struct views *v, const char *unit,
                   int32_t day, char owner[PERSON_ID_MAX], int32_t *since,
                   int32_t *latest);

/* Calls fn for every link of unit (any dates); link is the stored map. */
typedef int (*units_link_fn)(void *ctx, const msgpack_object *link);
int units_each_link(MDB_txn *txn, const struct views *v, const char *unit,
                    units_link_fn fn, void *ctx);
/* The open link (no end date) of person with role at unit, if any: 0 and
 * doc filled, or MDB_NOTFOUND. */
int units_open_link(MDB_txn *txn, const struct views *v, const char *unit,
                    const char *person, const char *role,
                    struct codec_doc *doc);

/* Calls fn for every unit whose key starts with prefix ("HY/" = one
 * estate, "HY/3-" = one building, "" = all); unit is the stored map. */
typedef int (*units_unit_fn)(void *ctx, const msgpack_object *unit);
int units_each_unit(MDB_txn *txn, const struct views *v, const char *prefix,
                    units_unit_fn fn, void *ctx);

/* Calls fn for every person record (searches). */
typedef int (*units_person_fn)(void *ctx, const msgpack_object *person);
int units_each_person(MDB_txn *txn, const struct views *v, units_person_fn fn,
                      void *ctx);

#endif
