/* core/pipeline.h - one command through the pipeline, inside the batch's
 * write txn: decode, authorise, validate, dedupe, check expectations, run
 * the handler, append its events, apply projections, record the command id
 * and write the reply. The server loop owns batching and durability. */
#ifndef DESKD_PIPELINE_H
#define DESKD_PIPELINE_H

#include "clock.h"
#include "cmd.h"
#include "config.h"
#include "derived.h"
#include "log.h"

#define REPLY_EVENTS_MAX                                                       \
    64 /* events echoed in one reply; log.read for more                        \
        */

struct pipe_stats {
    uint64_t ok, failed, duplicates, events;
};

struct pipeline {
    struct log *log;
    struct log_batch batch;
    const struct config *cfg;
    struct clock *clk;
    const struct views *views;
    struct hctx h;
    struct cw result;
    struct cw scratch;
    struct pipe_stats stats;
    /* When set, every command but a query is refused as unavailable with
     * this reason (derived state cannot catch up with the log). */
    char unavailable[ERR_MSG_MAX];
    /* Test-only (DESKD_TEST_FAIL_ID): the command with this id fails its
     * whole batch as a write error would, after its handler ran. NULL. */
    const char *test_fail_id;
};

void pipe_init(struct pipeline *p, struct log *l, const struct config *cfg,
               struct clock *clk, const struct views *v);
void pipe_release(struct pipeline *p);

/* Runs one command frame in p->batch's open txn and appends its reply to
 * reply. auth is the operator the transport authenticated (CURVE): the
 * envelope's actor must be it, or the command is forbidden; "" refuses
 * every command (a key revoked since the handshake); NULL (plain mode)
 * takes the envelope's actor as given. Returns 0 when a reply was written
 * (success or a command error), or a batch-fatal code (MDB_MAP_FULL: grow and
 * retry the whole batch; anything else: abort the batch) with nothing written
 * to reply. */
int pipe_exec(struct pipeline *p, const char *frame, size_t len,
              const char *auth, struct cw *reply);

/* Command ids deskd gives its own commands (timers, reloads) start with
 * this; a desk's command id may not, so no desk can take one first and
 * block a timer for good. */
#define PIPE_SYSTEM_ID "deskd:"

/* The same path for commands deskd gives itself (timers): actor "system",
 * body a msgpack map; cmd_id starts with PIPE_SYSTEM_ID. */
int pipe_exec_system(struct pipeline *p, const char *cmd_id, const char *cmd,
                     const msgpack_object *body, struct cw *reply);

/* Writes an error reply for id (may be NULL). */
void pipe_reply_error(struct cw *reply, const char *id, size_t id_len,
                      const struct err *e);

#endif
