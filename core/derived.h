/* core/derived.h - what the layers above core register so that core keeps
 * derived state without knowing it: the read models' sub-dbs, how one
 * stored event changes them, and the timers they arm. Declared here and
 * defined once, by projections/projections.c, the way handlers/commands.c
 * defines the command table. Core never looks inside struct views. */
#ifndef DESKD_DERIVED_H
#define DESKD_DERIVED_H

#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>

#include "codec.h"
#include "err.h"
#include "log.h"

struct views; /* the read models' sub-db handles: opaque to core */

/* "At due, deskd runs system command cmd with body": armed and cleared by
 * the read models while they apply events (so replay rebuilds them), fired
 * by the server loop through the normal pipeline. */
struct timer {
    int64_t due;
    char key[96];
    char cmd[48];
    const msgpack_object *body; /* valid while the doc lives */
    struct codec_doc doc;
};

struct derived_ops {
    /* Opens (creating when create) the read models' sub-dbs in dtxn;
     * *out is freed with free_views. */
    int (*open_views)(MDB_txn *dtxn, bool create, struct views **out,
                      struct err *e);
    void (*free_views)(struct views *v);
    /* One stored event, in seq order (ctx: the struct views *). The live
     * path and every catch-up and replay call the same function. */
    log_derive_fn apply;
    /* The earliest timer after (after_due, after_key) (after_key NULL:
     * the earliest of all): 0 and t filled (release t->doc), or
     * MDB_NOTFOUND. */
    int (*next_timer)(MDB_txn *dtxn, const struct views *v, int64_t after_due,
                      const char *after_key, struct timer *t);
};

extern const struct derived_ops derived_ops;

#endif
