/* projections/projections.h - the read models. Every sub-db a projection
 * owns is listed once in PROJ_DBS (its owner in the comment); every
 * projection is one entry in the table in projections.c. A projection's
 * apply() is called for every event, in seq order, inside the write txn
 * that appends the event; it reads only the event and its own tables, so
 * replaying the log reproduces its tables byte for byte. */
#ifndef DESKD_PROJECTIONS_H
#define DESKD_PROJECTIONS_H

#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>

#include "../core/codec.h"
#include "../core/err.h"
#include "../handlers/events.h"

#define PROJ_DBS(X)                                                            \
    X(ESTATES, "estates")     /* units.c */                                    \
    X(BUILDINGS, "buildings") /* units.c */                                    \
    X(UNITS, "units")         /* units.c */                                    \
    X(PEOPLE, "people")       /* units.c */                                    \
    X(LINKS, "unit_links")    /* units.c: unit \0 person \0 role \0 from */    \
    X(OWNERS, "unit_owners")  /* units.c: unit \0 effective day \0 seq */

enum proj_db {
#define X(n, s) DB_##n,
    PROJ_DBS(X)
#undef X
        DB_COUNT
};

extern const char *const proj_db_names[DB_COUNT];

/* Handles of every projection sub-db in one environment. */
struct views {
    MDB_dbi dbi[DB_COUNT];
};

/* Opens (creating when create) every projection sub-db. */
int views_open(MDB_txn *txn, struct views *v, bool create, struct err *e);

/* An event as projections see it (points into a decoded body). */
struct event {
    uint64_t seq;
    enum ev_type type;
    const char *stream;
    size_t stream_len;
    uint64_t version;
    int64_t recorded_at; /* ms */
    int64_t occurred_at; /* ms; = recorded_at when the body has none */
    const char *actor;
    size_t actor_len;
    const msgpack_object *data;
};

/* Decodes a stored body into ev (pointing into doc). ERR_UNAVAILABLE if a
 * mandatory key is missing. Unknown types get EV_UNKNOWN (projections
 * ignore them). */
int event_parse(struct event *ev, struct codec_doc *doc, const char *body,
                size_t len, struct err *e);

/* Applies ev to every projection. 0, an MDB_* error or ERR_*. */
int proj_apply(MDB_txn *txn, const struct views *v, const struct event *ev);

struct projection {
    const char *name;
    int (*apply)(MDB_txn *txn, const struct views *v, const struct event *ev);
};

/* Helpers for projections: put/get a msgpack value under a key. */
int proj_put(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
             const struct cw *val);
/* 0 and doc filled (release it), MDB_NOTFOUND, or ERR_UNAVAILABLE. */
int proj_get(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
             struct codec_doc *doc);

#endif
