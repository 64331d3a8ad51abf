/* core/server.c - the server loop: drains waiting commands into segments
 * of one long derived write txn (group commit), hands each segment's log
 * records to the flusher thread (core/flusher.c), and replies only once
 * the log holds them durably. Timers and signals run on the same libevent
 * loop, so domain code never takes a lock.
 *
 * Durability with one flush per commit: the log is opened MDB_NOMETASYNC,
 * so a commit flushes its data pages and writes its meta page without a
 * flush. The replies of a segment wait until the meta page of the commit
 * that holds it is on disk: the next commit's flush covers it or, when no
 * job is waiting, the flusher's own log_sync(). Meanwhile the next
 * segments are decided on derived state, which holds them uncommitted:
 * its txn is committed (unflushed) only when every segment in it is in
 * the log, so derived state is never ahead of the log; a failed log
 * write aborts it, fails every reply decided after the failed job, and
 * derived state catches up from the log. */
#include "server.h"

#include "mask.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

struct server srv;

#define SERVE_ROUNDS 64 /* batches per loop turn before timers get a go */
#define STOP_ROUNDS 16  /* serve() turns a SIGTERM gives what is queued */

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
    size_t c = *cap ? *cap : 64;
    void *q;
    if (need <= *cap)
        return 0;
    while (c < need)
        c *= 2;
    q = realloc(*p, c * size);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

static void outbox_init(struct outbox *o)
{
    memset(o, 0, sizeof(*o));
    cw_init(&o->replies);
    cw_init(&o->bodies);
}

/* An outbox from the free list (or a new one); NULL when out of memory. */
static struct outbox *box_get(void)
{
    struct outbox *o = srv.free_box;
    if (o) {
        srv.free_box = o->next;
        srv.nfree_box--;
    } else if ((o = malloc(sizeof(*o)))) {
        outbox_init(o);
    } else {
        return NULL;
    }
    o->next = NULL;
    o->n = o->nev = 0;
    o->need = 0;
    cw_reset(&o->replies);
    cw_reset(&o->bodies);
    return o;
}

static void outbox_release(struct outbox *o);

/* Keeps a done outbox for reuse, up to FREE_BOX_MAX of them: a peak of
 * outboxes waiting (their events wait for the LMDB log) does not stay
 * allocated. */
#define FREE_BOX_MAX 32
static void box_put(struct outbox *o)
{
    if (srv.nfree_box >= FREE_BOX_MAX) {
        outbox_release(o);
        return;
    }
    o->next = srv.free_box;
    srv.free_box = o;
    srv.nfree_box++;
}

/* Queues a decided segment's outbox: it is answered once the log is
 * durable through the head it was decided at (its own events and every
 * earlier one it may have read). */
static void box_queue(struct outbox *o)
{
    o->need = srv.pipe.batch.next_seq - 1;
    o->next = NULL;
    if (!srv.q_reply)
        srv.q_reply = o;
    if (srv.q_last)
        srv.q_last->next = o;
    else
        srv.q_first = o;
    srv.q_last = o;
}

static void outbox_release(struct outbox *o)
{
    for (size_t i = 0; i < o->n; i++) /* unanswered: stopped by a fault */
        bus_msg_release(&o->msg[i]);
    cw_release(&o->replies);
    cw_release(&o->bodies);
    free(o->msg);
    free(o->reply_off);
    free(o->ev_off);
    free(o->ev_type);
    free(o);
}

/* Copies the loop's counters where other threads read them. */
static void publish_stats(void)
{
    struct metrics *m = &srv.metrics;
    metrics_set(&m->events, srv.pipe.stats.events);
    metrics_set(&m->cmd_ok, srv.pipe.stats.ok);
    metrics_set(&m->cmd_failed, srv.pipe.stats.failed);
    metrics_set(&m->cmd_duplicate, srv.pipe.stats.duplicates);
    metrics_set(&m->batches, srv.stats.batches);
    metrics_set(&m->commits, srv.stats.commits);
    metrics_set(&m->syncs, srv.stats.syncs);
    metrics_set(&m->frames, srv.stats.frames);
    metrics_set(&m->map_grows, srv.stats.map_grows);
    metrics_set(&m->timers_fired, srv.stats.timers_fired);
    metrics_set(&m->timers_failed, srv.stats.timers_failed);
}

/* Sends every reply (the log holds their events durably). */
static void outbox_reply(struct outbox *o)
{
    /* before the replies: a query a desk sends next waits for this much */
    publish_stats();
    if (o->nev)
        metrics_acked(&srv.metrics, o->last_seq);
    for (size_t i = 0; i < o->n; i++) {
        size_t end = i + 1 < o->n ? o->reply_off[i + 1] : cw_len(&o->replies);
        bus_reply(&srv.bus, &o->msg[i], cw_data(&o->replies) + o->reply_off[i],
                  end - o->reply_off[i]);
    }
    o->n = 0;
    cw_reset(&o->replies);
}

/* Publishes every event, in seq order (they are durable and in the LMDB
 * log, where readers of the stream find them). */
static void outbox_publish(struct outbox *o)
{
    /* before publishing: whoever is woken by an event finds it durable */
    publish_stats();
    if (o->nev) {
        metrics_durable(&srv.metrics, o->last_seq);
        bus_feed_wake(&srv.bus);
    }
    for (size_t i = 0; i < o->nev; i++) {
        size_t end = i + 1 < o->nev ? o->ev_off[i + 1] : cw_len(&o->bodies);
        bus_publish(&srv.bus, o->ev_type[i], cw_data(&o->bodies) + o->ev_off[i],
                    end - o->ev_off[i]);
    }
    o->nev = 0;
    cw_reset(&o->bodies);
}

/* Takes the committed batch's events for publication. */
static int outbox_take_events(struct outbox *o, const struct log_batch *b)
{
    size_t cap = o->ev_cap;
    o->nev = 0;
    if (b->nevents == 0)
        return 0;
    o->last_seq = b->next_seq - 1;
    /* the second array first: ev_cap grows only once both have room */
    if (grow((void **)&o->ev_type, &cap, b->nevents, sizeof(*o->ev_type)) ||
        grow((void **)&o->ev_off, &o->ev_cap, b->nevents, sizeof(size_t)))
        return -1;
    for (size_t i = 0; i < b->nevents; i++) {
        const char *body;
        size_t len;
        log_batch_body(b, i, &body, &len);
        o->ev_off[i] = cw_len(&o->bodies);
        o->ev_type[i] = log_batch_type(b, i);
        /* every listed key may subscribe, whatever its role: personal
         * data goes out masked (R-GEN-02); log.read gives it in full to
         * the roles allowed */
        mask_event(&o->bodies, body, len, log_batch_hash(b, i), LOG_HASH_LEN);
    }
    o->nev = b->nevents;
    return 0;
}

/* Every command of the batch gets the same failure. */
/* Every command of a batch that did not commit gets e, with its own id
 * read again from its frame (the frames must still be held). */
static void outbox_fail_all(struct outbox *o, const struct err *e)
{
    cw_reset(&o->replies);
    for (size_t i = 0; i < o->n; i++) {
        struct envelope env;
        struct err pe = {0};
        bool ok = !cmd_envelope_parse(&env, zmq_msg_data(&o->msg[i].body),
                                      zmq_msg_size(&o->msg[i].body), &pe);
        o->reply_off[i] = cw_len(&o->replies);
        pipe_reply_error(&o->replies, ok ? env.id : NULL, ok ? env.id_len : 0,
                         e);
        cmd_envelope_release(&env);
    }
    o->nev = 0;
}

/* Receives whatever is waiting, up to batch_max. */
static size_t drain(struct outbox *o)
{
    size_t max = (size_t)srv.cfg.batch_max;
    o->n = 0;
    while (o->n < max) {
        size_t cap = o->cap;
        /* reply_off first: cap grows only once both have room */
        if (grow((void **)&o->reply_off, &cap, o->n + 1, sizeof(size_t)) ||
            grow((void **)&o->msg, &o->cap, o->n + 1, sizeof(*o->msg)))
            break;
        if (bus_recv(&srv.bus, &o->msg[o->n]))
            break;
        o->n++;
    }
    return o->n;
}

/* Under CURVE, the operator the connection authenticated as, if its key
 * is still listed with that operator ("" when revoked since); NULL in
 * plain mode. */
static const char *msg_operator(const struct bus_msg *m)
{
    const char *op;
    if (srv.cfg.sec_mode != CFG_SEC_CURVE)
        return NULL;
    op = cfg_key_operator(&srv.cfg, m->key);
    return op && m->user[0] && !strcmp(op, m->user) ? m->user : "";
}

/* How much one derived txn may hold before the loop stops deciding new
 * segments until it can be committed (its dirty pages are in memory). */
#define DERIVED_TXN_EVENTS 4096

/* Notes when derived state's txn was first seen open (after the segment
 * that began it), or that none is. */
static void derived_note(void)
{
    if (!srv.pipe.batch.txn)
        srv.dtxn_since = 0;
    else if (!srv.dtxn_since)
        srv.dtxn_since = clock_mono_ms();
}

/* Whether derived state's txn must be committed before the loop decides
 * another segment: it holds DERIVED_TXN_EVENTS, a query over HTTP or a
 * checkpoint waits for what it holds (core/fresh.h), or it has been open
 * derived_commit_ms. The segments in flight then reach the log and settle
 * commits it. */
static bool derived_full(void)
{
    const struct log_batch *b = &srv.pipe.batch;
    return b->txn &&
           (b->txn_events >= DERIVED_TXN_EVENTS ||
            fresh_pending(&srv.fresh, srv.log.applied_seq) ||
            (srv.cfg.derived_commit_ms && srv.dtxn_since &&
             clock_mono_ms() - srv.dtxn_since >= srv.cfg.derived_commit_ms));
}

static void settle(bool wait);

/* Ends derived state's txn between segments: once nothing is in flight
 * it is committed; a txn that cannot be (a job failed) was aborted by
 * settle. */
static void derived_close(void)
{
    if (!srv.pipe.batch.txn)
        return;
    settle(true);
    if (srv.pipe.batch.txn) { /* in flight still: cannot be (settle waited) */
        log_batch_abort(&srv.pipe.batch);
        srv.log.derived_behind = srv.log.applied_seq < srv.log.last_seq;
    }
}

/* Brings derived state up to the log (growing the maps if need be). */
static int catch_up(struct err *e)
{
    uint64_t grows = srv.log.grows;
    int rc;
    derived_close();
    rc = log_catch_up(&srv.log, derived_ops.apply, srv.views, e);
    srv.stats.map_grows += srv.log.grows - grows;
    return rc;
}

/* Commands and timers are decided on derived state that holds the whole
 * log: after a derived commit failed, it catches up first. Until it has,
 * queries are answered (from what derived state holds) and every other
 * command is refused; 0 when it is ready. */
static int derived_ready(struct err *e)
{
    if (srv.catching_up)
        return err_set(e, ERR_UNAVAILABLE, NULL, "%s", srv.pipe.unavailable);
    srv.pipe.unavailable[0] = '\0';
    if (!srv.log.derived_behind || !catch_up(e))
        return 0;
    snprintf(srv.pipe.unavailable, sizeof(srv.pipe.unavailable),
             "derived state is behind the log and cannot catch up (%.150s); "
             "nothing was written, retry later",
             e->msg);
    diag_warn("%s", srv.pipe.unavailable);
    return ERR_UNAVAILABLE;
}

/* A segment that cannot finish (a full map, a failed write to derived
 * state): its writes are in the one derived txn, so that txn goes, once
 * the log holds everything sealed before; derived state then catches up
 * from the log. */
static void abandon(void)
{
    struct log_batch *b = &srv.pipe.batch;
    log_batch_drop_segment(b);
    settle(true);
    log_batch_abort(b);
    srv.log.derived_behind = srv.log.applied_seq < srv.log.last_seq;
}

/* Ends a decided segment: its events go out with the outbox, its log
 * records to the flusher. */
static int seal(struct outbox *o, struct err *e)
{
    struct log_batch *b = &srv.pipe.batch;
    struct log_job *j;
    if (outbox_take_events(o, b)) {
        abandon();
        return err_set(e, ERR_UNAVAILABLE, NULL, "out of memory");
    }
    log_batch_seal(b, &j);
    if (j)
        flusher_push(&srv.fl, j);
    return 0;
}

/* After a full derived map: grow it and catch up, so the segment runs
 * again on derived state that holds the whole log. */
static int regrow(struct err *e)
{
    int rc;
    abandon();
    srv.stats.map_grows++;
    if ((rc = log_grow(&srv.log, e))) {
        char why[sizeof(e->msg)];
        snprintf(why, sizeof(why), "%s", e->msg);
        err_set(e, ERR_UNAVAILABLE, NULL,
                "%.200s; nothing was written, retry later", why);
        return rc;
    }
    return catch_up(e);
}

/* Runs the batch's commands as one segment; on MDB_MAP_FULL grows the map
 * and runs them all again, so no command is refused for it. */
static int execute(struct outbox *o, struct err *e)
{
    struct log_batch *b = &srv.pipe.batch;
    int rc;
    if (srv.catching_up) /* queries too: derived state is partial */
        return derived_ready(e);
    derived_ready(e); /* queries still run when it is not */
    memset(e, 0, sizeof(*e));
retry:
    cw_reset(&o->replies);
    if ((rc = log_batch_begin(b, e)))
        return rc;
    for (size_t i = 0; i < o->n; i++) {
        o->reply_off[i] = cw_len(&o->replies);
        if (o->msg[i].bad_frames) {
            struct err fe = {0};
            err_set(&fe, ERR_BAD_REQUEST, NULL,
                    "one frame per request (a REQ socket adds an empty "
                    "delimiter before it); nothing was done");
            pipe_reply_error(&o->replies, NULL, 0, &fe);
            srv.pipe.stats.failed++;
            continue;
        }
        rc = pipe_exec(&srv.pipe, zmq_msg_data(&o->msg[i].body),
                       zmq_msg_size(&o->msg[i].body), msg_operator(&o->msg[i]),
                       &o->replies);
        if (rc)
            break;
    }
    if (rc == MDB_MAP_FULL) {
        if ((rc = regrow(e)))
            return rc;
        goto retry;
    }
    if (rc) {
        abandon();
        return err_set(e, ERR_UNAVAILABLE, NULL,
                       "batch failed: %s; nothing was written",
                       mdb_strerror(rc));
    }
    return seal(o, e);
}

/* Sends the replies of every queued outbox the log now holds durably
 * (durable), and publishes the events of those the LMDB log holds too
 * (visible), in the order they were decided. */
static void answer_durable(uint64_t durable, uint64_t visible)
{
    struct outbox *o;
    while ((o = srv.q_reply) && o->need <= durable) {
        srv.q_reply = o->next;
        outbox_reply(o);
    }
    while ((o = srv.q_first) && o->need <= visible && o != srv.q_reply) {
        srv.q_first = o->next;
        if (!srv.q_first)
            srv.q_last = NULL;
        outbox_publish(o);
        box_put(o);
    }
}

/* A log write failed: nothing from its first seq on was written. Every
 * outbox decided after that point is answered with the failure instead
 * (its events never happened); earlier ones still wait to be durable. */
static void fail_from(uint64_t first, int code, const struct err *why)
{
    struct err e = {0};
    err_set(&e, ERR_UNAVAILABLE, NULL,
            "the log could not be written (%s%s); nothing of this batch "
            "was written, retry later",
            code > 0 || code < -30800 ? mdb_strerror(code) : why->msg,
            log_why(&srv.log, code));
    diag_warn("%s", e.msg);
    /* those answered already are durable: need < first */
    for (struct outbox *o = srv.q_reply; o; o = o->next)
        if (o->need >= first) {
            outbox_fail_all(o, &e);
            o->need = first - 1;
        }
}

/* Whether derived state's txn is to be committed once nothing in it is in
 * flight: when it is full, or at once with derived_commit_ms 0. Committing
 * it less often than every log commit writes fewer pages: a page that
 * later segments change again is written once (PERFORMANCE.md). */
static bool derived_due(void)
{
    return !srv.cfg.derived_commit_ms || derived_full();
}

/* Keeps a wake-up for derived state's txn at its due time while one is
 * open and nothing in it is in flight (otherwise the flusher's news
 * settles it), so an idle loop commits it too. */
static void derived_timer(void)
{
    const struct log_batch *b = &srv.pipe.batch;
    int64_t left;
    struct timeval tv;
    derived_note();
    if (!b->txn || b->inflight || evtimer_pending(srv.dcommit_ev, NULL))
        return;
    left = srv.dtxn_since + srv.cfg.derived_commit_ms - clock_mono_ms();
    if (left < 1)
        left = 1;
    tv.tv_sec = left / 1000;
    tv.tv_usec = (left % 1000) * 1000;
    evtimer_add(srv.dcommit_ev, &tv);
}

/* Takes the flusher's news (waiting for it to be idle when wait): jobs
 * committed leave the batch's in-flight list; a failed job fails what was
 * decided after it and ends derived state's txn (caught up before the
 * next command); derived state's txn is committed once nothing in it is
 * in flight and it is due (derived_due; always when wait); durable
 * outboxes are answered. */
static void settle(bool wait)
{
    struct log_batch *b = &srv.pipe.batch;
    struct flusher_state st;
    struct err e = {0};
    uint64_t visible;

    if (!srv.fl.started)
        return;
    derived_note();
    if (wait)
        flusher_wait(&srv.fl, &st);
    else
        flusher_state(&srv.fl, &st);
    srv.stats.commits = st.commits;
    srv.stats.syncs = st.syncs;
    srv.stats.frames = st.frames;
    if (st.sync_failed) {
        /* The log is committed but the disk did not confirm it, and after
         * a failed flush the page cache is no longer a witness of what
         * is on disk. Stop without answering: a restart reads what is
         * really there, and the desks retry with the same ids (a command
         * that made it is answered as a duplicate). */
        diag_warn("%s: stopping without answering (the outcome of the "
                  "commands waiting is unknown; retry with the same ids)",
                  st.err.msg);
        _exit(EXIT_SYNC_FAILED);
    }
    log_batch_logged(b, st.committed);
    if (st.failed) {
        if (!wait) /* the flusher may still read the dropped jobs */
            flusher_wait(&srv.fl, &st);
        fail_from(st.failed_first, st.failed, &st.err);
        log_batch_abort(b); /* its txn, and the jobs never written */
        srv.log.derived_behind = srv.log.applied_seq < srv.log.last_seq;
        flusher_clear(&srv.fl);
    }
    if (b->txn && !b->ltxn && !b->doomed && (wait || derived_due())) {
        if (!b->inflight)
            log_batch_commit_derived(b, &e);
        else /* what is journaled: into the LMDB log first */
            flusher_urge(&srv.fl);
    }
    derived_timer();
    fresh_have(&srv.fresh, srv.log.applied_seq);
    visible = st.durable < st.committed ? st.durable : st.committed;
    answer_durable(st.durable, visible);
    if (!srv.q_first && visible >= srv.log.last_seq) {
        metrics_acked(&srv.metrics, visible);
        metrics_durable(&srv.metrics, visible);
    }
    if (srv.deferred && !derived_full()) { /* serve() stopped for it */
        srv.deferred = false;
        event_active(srv.kick, EV_TIMEOUT, 0);
    }
}

/* One batch: execute, hand its log records over, queue its replies. */
static void one_batch(struct outbox *o)
{
    struct err e = {0};
    int rc = execute(o, &e);

    if (rc)
        outbox_fail_all(o, &e); /* while the frames are still held */
    srv.stats.batches++;
    metrics_observe(&srv.metrics.batch, metrics_batch_bounds, METRICS_BATCH_N,
                    o->n);
    if (o->n > srv.stats.max_batch)
        srv.stats.max_batch = o->n;
    if (rc && !srv.catching_up) /* that is logged by its progress */
        diag_warn("%s", e.msg);
    box_queue(o);
}

/* A failed timer is skipped by key and due time together: re-armed for
 * another time (its complaint moved on), it runs again. */
static bool timer_skipped(const struct timer *t)
{
    for (int i = 0; i < srv.ntimer_skip; i++)
        if (srv.timer_skip_due[i] == t->due &&
            !strcmp(srv.timer_skip[i], t->key))
            return true;
    return false;
}

/* Runs one due timer's command; a command that fails is logged and not
 * retried until restart (its timer stays in the table for the audit). */
static int fire_one(struct timer *t, struct cw *reply)
{
    char id[LOG_CMD_ID_MAX + 1];
    struct codec_doc d;
    bool ok = false;
    size_t at = cw_len(reply);
    int rc;

    snprintf(id, sizeof(id), PIPE_SYSTEM_ID "t:%.*s:%lld", 40, t->key,
             (long long)t->due);
    rc = pipe_exec_system(&srv.pipe, id, t->cmd, t->body, reply);
    if (rc)
        return rc;
    if (!codec_doc_parse(&d, cw_data(reply) + at, cw_len(reply) - at, NULL)) {
        codec_get_bool(d.obj, "ok", &ok);
        codec_doc_release(&d);
    }
    if (ok) {
        srv.stats.timers_fired++;
    } else {
        srv.stats.timers_failed++;
        diag_warn("timer '%s' (%s) failed; not retried until restart", t->key,
                  t->cmd);
        if (srv.ntimer_skip < TIMER_SKIP_MAX) {
            srv.timer_skip_due[srv.ntimer_skip] = t->due;
            snprintf(srv.timer_skip[srv.ntimer_skip++],
                     sizeof(srv.timer_skip[0]), "%s", t->key);
        }
    }
    return 0;
}

/* Fires every timer due by now, in due order, as one segment. */
static int fire_due(struct outbox *o, int64_t now, int *fired, struct err *e)
{
    struct log_batch *b = &srv.pipe.batch;
    char after[96] = "";
    int64_t after_due = 0;
    int rc;
    *fired = 0;
    if ((rc = derived_ready(e)))
        return rc;
retry:
    *fired = 0;
    cw_reset(&o->replies);
    if ((rc = log_batch_begin(b, e)))
        return rc;
    for (rc = 0; *fired < srv.cfg.batch_max && rc == 0;) {
        struct timer t;
        rc = derived_ops.next_timer(b->txn, srv.views, after_due,
                                    after[0] ? after : NULL, &t);
        if (rc == MDB_NOTFOUND || (rc == 0 && t.due > now)) {
            if (rc == 0)
                codec_doc_release(&t.doc);
            rc = 0;
            break;
        }
        if (rc)
            break;
        snprintf(after, sizeof(after), "%s", t.key);
        after_due = t.due;
        if (!timer_skipped(&t) && t.body) {
            rc = fire_one(&t, &o->replies);
            (*fired)++;
        }
        codec_doc_release(&t.doc);
    }
    if (rc == MDB_MAP_FULL) {
        if ((rc = regrow(e)))
            return rc;
        after[0] = '\0';
        goto retry;
    }
    if (rc) {
        abandon();
        return err_set(e, ERR_UNAVAILABLE, NULL, "timers: %s",
                       mdb_strerror(rc));
    }
    return seal(o, e); /* nothing fired, or all refused: no job */
}

/* Timers run off the server clock: after every turn of the loop, once a
 * second, and right after clock.set moves a manual clock. A full batch
 * means more may be due: the loop comes straight back (through serve(), so
 * waiting commands get their turn between timer batches). */
static void run_timers(void)
{
    struct outbox *o;
    struct err e = {0};
    int fired;

    if (srv.catching_up) /* due times are not all known yet */
        return;
    calendar_watch();
    if (derived_full() || !(o = box_get()))
        return; /* the next turn */
    if (fire_due(o, clock_now(&srv.clk), &fired, &e)) {
        diag_warn("%s", e.msg);
        box_put(o);
        return;
    }
    if (o->nev == 0) {
        box_put(o);
        return;
    }
    box_queue(o);
    if (fired >= srv.cfg.batch_max)
        event_active(srv.kick, EV_TIMEOUT, 0);
}

/* Asks for a checkpoint of derived state when one is due. Its copy runs
 * on a thread of its own in a read txn, while this loop goes on; the
 * commits meanwhile cannot reuse the pages that txn pins, and the map
 * cannot grow before it ends (a full map would hold the writer until
 * then). So the map gets room first: at most half of it in use. */
static void checkpoint_tick(void)
{
    struct err e = {0};
    if (srv.catching_up || srv.log.derived_behind ||
        !checkpoint_due(&srv.ckpt, srv.log.applied_seq,
                        (uint64_t)srv.cfg.checkpoint_events,
                        srv.cfg.checkpoint_interval_s))
        return;
    if (!log_derived_roomy(&srv.log)) {
        derived_close(); /* log_grow: no derived txn open */
        if (srv.log.derived_behind)
            return;
        srv.stats.map_grows++;
        if (log_grow(&srv.log, &e)) {
            diag_warn("%s; no checkpoint now", e.msg);
            return;
        }
    }
    checkpoint_request(&srv.ckpt);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    run_timers();
    settle(false);
    checkpoint_tick();
    publish_stats();
    if (bus_readable(&srv.bus))
        event_active(srv.kick, EV_TIMEOUT, 0);
}

/* A query over HTTP waits for derived state (core/fresh.h): derived_due
 * says it is due now, derived_full stops new segments until it is. */
static void on_fresh(evutil_socket_t fd, short what, void *arg)
{
    struct err e = {0};
    (void)fd, (void)what, (void)arg;
    fresh_drain(&srv.fresh);
    if (srv.log.derived_behind && !srv.catching_up)
        derived_ready(&e); /* it says why it cannot */
    settle(false);
    /* replies sent here may have consumed the ZMQ_FD edge, as in serve() */
    if (!srv.deferred && bus_readable(&srv.bus))
        event_active(srv.kick, EV_TIMEOUT, 0);
}

/* derived_commit_ms is up (derived_timer). */
static void on_dcommit(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    settle(false);
    if (!srv.deferred && bus_readable(&srv.bus))
        event_active(srv.kick, EV_TIMEOUT, 0);
}

/* The flusher committed or flushed something. */
static void on_flushed(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    settle(false);
    /* replies sent here may have consumed the ZMQ_FD edge, as in serve() */
    if (!srv.deferred && bus_readable(&srv.bus))
        event_active(srv.kick, EV_TIMEOUT, 0);
}

static void serve(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    for (int round = 0; round < SERVE_ROUNDS; round++) {
        struct outbox *o;
        if (derived_full()) {
            settle(false);
            if (derived_full()) { /* on_flushed calls again */
                srv.deferred = true;
                break;
            }
        }
        if (!(o = box_get()))
            break;
        if (drain(o) == 0) {
            box_put(o);
            break;
        }
        flusher_deciding(&srv.fl, true);
        one_batch(o);
        flusher_deciding(&srv.fl, false);
        derived_note();
    }
    settle(false);
    run_timers();
    /* Edge-triggered ZMQ_FD: sends may have consumed the edge. */
    if (!srv.deferred && bus_readable(&srv.bus))
        event_active(srv.kick, EV_TIMEOUT, 0);
}

/* Runs one command deskd gives itself (actor system) as a segment of its
 * own, published like any other. */
int server_system_command(const char *cmd, const char *own_id,
                          const struct cw *body, struct err *e)
{
    struct log_batch *b = &srv.pipe.batch;
    struct outbox *o;
    struct codec_doc d;
    char id[LOG_CMD_ID_MAX + 1];
    int rc;

    if (own_id)
        snprintf(id, sizeof(id), "%s", own_id);
    else
        snprintf(id, sizeof(id), PIPE_SYSTEM_ID "%.24s:%lld:%llu", cmd,
                 (long long)clock_now(&srv.clk),
                 (unsigned long long)srv.pipe.batch.next_seq);
    if ((rc = derived_ready(e)) ||
        (rc = codec_doc_parse_trusted(&d, cw_data(body), cw_len(body), e)))
        return rc;
    if (!(o = box_get())) {
        codec_doc_release(&d);
        return err_set(e, ERR_UNAVAILABLE, NULL, "out of memory");
    }
retry:
    cw_reset(&o->replies);
    if ((rc = log_batch_begin(b, e)))
        goto out;
    rc = pipe_exec_system(&srv.pipe, id, cmd, d.obj, &o->replies);
    if (rc == MDB_MAP_FULL) {
        if ((rc = regrow(e)))
            goto out;
        goto retry;
    }
    if (rc) {
        abandon();
        rc = err_set(e, ERR_UNAVAILABLE, NULL, "%s: %s; nothing written", cmd,
                     mdb_strerror(rc));
        goto out;
    }
    if (b->nevents == 0) { /* done before (own_id), or refused */
        seal(o, e);
        rc = own_id ? 0
                    : err_set(e, ERR_UNAVAILABLE, NULL, "%s: nothing written",
                              cmd);
        goto out;
    }
    if ((rc = seal(o, e)))
        goto out;
    box_queue(o);
    o = NULL;
out:
    if (o)
        box_put(o);
    codec_doc_release(&d);
    return rc;
}

/* SIGHUP: the desks' keys again from the config file (revocation without a
 * restart); the reload is an event. Connections of a removed key are
 * refused from their next command on (see msg_operator). */
static void on_hup(evutil_socket_t sig, short what, void *arg)
{
    struct err e = {0};
    int added = 0, removed = 0;
    struct cw w;
    (void)sig, (void)what, (void)arg;

    sd_notify(0, "RELOADING=1");
    calendar_reload();
    if (cfg_keys_reload(&srv.cfg, &added, &removed, &e)) {
        diag_warn("SIGHUP: keys unchanged: %s", e.msg);
        sd_notify(0, "READY=1\nSTATUS=SIGHUP: keys unchanged (see the log)");
        return;
    }
    sd_notifyf(0, "READY=1\nSTATUS=serving; %d desk keys", srv.cfg.nkeys);
    diag_info("SIGHUP: %d keys listed, %d added, %d removed", srv.cfg.nkeys,
              added, removed);
    cw_init(&w);
    cw_map(&w, 3);
    cw_kint(&w, "keys", srv.cfg.nkeys);
    cw_kint(&w, "added", added);
    cw_kint(&w, "removed", removed);
    if (server_system_command("security.keys_reloaded", NULL, &w, &e))
        diag_warn("SIGHUP: reload not recorded: %s", e.msg);
    cw_release(&w);
    /* replies sent on the way may have consumed the ZMQ_FD edge */
    if (bus_readable(&srv.bus))
        event_active(srv.kick, EV_TIMEOUT, 0);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what, (void)arg;
    diag_info("signal %d: finishing queued commands and stopping", (int)sig);
    sd_notify(0, "STOPPING=1");
    if (srv.catching_up) /* each step is committed: the next start goes on */
        diag_info("stopped while catching up: %llu of %llu events replayed; "
                  "the rest at the next start",
                  (unsigned long long)(srv.log.applied_seq - srv.catch_up_from),
                  (unsigned long long)(srv.log.last_seq - srv.catch_up_from));
    srv.stopping = 1;
    /* decide what is already queued and answer it once it is durable;
     * serve() stops early when derived state's txn is full, which a
     * settle that waits empties (bounded: desks may go on sending) */
    for (int i = 0; i < STOP_ROUNDS; i++) {
        serve(-1, 0, NULL);
        settle(true);
        if (!bus_readable(&srv.bus))
            break;
    }
    event_base_loopbreak(srv.base);
}

static int write_endpoints(struct err *e)
{
    char path[PATH_MAX + 16], tmp[PATH_MAX + 16];
    FILE *f;
    snprintf(path, sizeof(path), "%s/endpoints", srv.cfg.data_dir);
    snprintf(tmp, sizeof(tmp), "%s/endpoints.tmp", srv.cfg.data_dir);
    f = fopen(tmp, "w");
    if (!f)
        return err_set(e, ERR_UNAVAILABLE, NULL, "write '%s': %s", tmp,
                       strerror(errno));
    fprintf(f, "commands %s\nevents %s\n", srv.bus.cmd_ep, srv.bus.pub_ep);
    if (srv.http)
        fprintf(f, "http %s\n", srv.http_ep);
    fprintf(f, "state %s\n", srv.catching_up ? "catching_up" : "ready");
    if (fclose(f) || rename(tmp, path))
        return err_set(e, ERR_UNAVAILABLE, NULL, "write '%s': %s", path,
                       strerror(errno));
    return 0;
}

static int open_views(struct err *e)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(srv.log.denv, NULL, 0, &txn);
    if (rc)
        return err_set(e, ERR_UNAVAILABLE, NULL, "begin: %s", mdb_strerror(rc));
    if ((rc = derived_ops.open_views(txn, true, &srv.views, e))) {
        mdb_txn_abort(txn);
        return rc;
    }
    rc = mdb_txn_commit(txn);
    return rc ? err_set(e, ERR_UNAVAILABLE, NULL, "commit: %s",
                        mdb_strerror(rc))
              : 0;
}

/* One step of catching up (log_catch_up_step grows the maps when they
 * are full: what was applied stays applied, the step runs again). */
static int catch_up_step(struct err *e)
{
    uint64_t grows = srv.log.grows;
    int rc = log_catch_up_step(&srv.log, derived_ops.apply, srv.views,
                               CATCH_UP_TXN, e); /* grows the maps itself */
    srv.stats.map_grows += srv.log.grows - grows;
    return rc;
}

/* Start-up catch-up: deskd serves while it replays the log, one step of
 * CATCH_UP_TXN events per loop turn. Until it is done, /healthz says
 * catching_up, every command (queries too: derived state is partial, and
 * command ids are not all known) is refused as unavailable, and no timer
 * fires. */
static void catch_up_publish(void)
{
    uint64_t done = srv.log.applied_seq - srv.catch_up_from,
             total = srv.log.last_seq - srv.catch_up_from;
    metrics_set(&srv.metrics.catch_up_done, done);
    metrics_set(&srv.metrics.catch_up_total, total);
    metrics_set(&srv.metrics.catching_up, srv.catching_up);
    snprintf(srv.pipe.unavailable, sizeof(srv.pipe.unavailable),
             "deskd is starting: derived state is catching up with the log "
             "(%llu of %llu events replayed); nothing was written, retry "
             "shortly",
             (unsigned long long)done, (unsigned long long)total);
}

static void catch_up_line(void *ctx, const char *line)
{
    (void)ctx;
    diag_info("%s", line);
}

/* Test-only: while the file named by this variable exists, the start-up
 * catch-up waits before each step, so a test sees deskd catching up
 * without depending on how fast the machine is. */
#define CATCH_UP_HOLD_ENV "DESKD_TEST_CATCH_UP_HOLD"
#define CATCH_UP_HOLD_MS 20 /* between looks at the file */

static bool catch_up_held(void)
{
    const char *hold = getenv(CATCH_UP_HOLD_ENV);
    return hold && *hold && access(hold, F_OK) == 0;
}

static void on_catch_up(evutil_socket_t fd, short what, void *arg)
{
    struct err e = {0};
    (void)fd, (void)what, (void)arg;
    if (catch_up_held()) {
        struct timeval tv = {0, CATCH_UP_HOLD_MS * 1000};
        event_add(srv.catch_up_ev, &tv);
        return;
    }
    if (catch_up_step(&e)) {
        progress_abort(srv.log.progress);
        diag_warn("%s; stopping", e.msg);
        srv.catch_up_failed = true;
        event_base_loopbreak(srv.base);
        return;
    }
    if (srv.log.applied_seq < srv.log.last_seq) {
        /* a timeout, not event_active: the loop polls the sockets first */
        struct timeval now = {0, 0};
        catch_up_publish();
        event_add(srv.catch_up_ev, &now);
        return;
    }
    progress_end(srv.log.progress);
    srv.catching_up = false;
    catch_up_publish();
    srv.pipe.unavailable[0] = '\0';
    if (write_endpoints(&e))
        diag_warn("%s", e.msg);
    diag_info("ready: derived state holds the log (seq %llu)",
              (unsigned long long)srv.log.last_seq);
    event_active(srv.kick, EV_TIMEOUT, 0); /* due timers, waiting commands */
}

/* Whether start-up must catch up; if so, deskd serves while it does. */
static int catch_up_start(struct err *e)
{
    progress_init_fn(&srv.catch_up_progress, catch_up_line, NULL);
    srv.log.progress = &srv.catch_up_progress;
    srv.catch_up_from = srv.log.applied_seq;
    srv.catching_up = log_catch_up_begin(&srv.log) > 0;
    if (!srv.catching_up)
        return 0;
    catch_up_publish();
    srv.catch_up_ev = event_new(srv.base, -1, 0, on_catch_up, NULL);
    if (!srv.catch_up_ev)
        return err_set(e, ERR_UNAVAILABLE, NULL, "event setup failed");
    {
        struct timeval now = {0, 0};
        event_add(srv.catch_up_ev, &now);
    }
    return 0;
}

int server_open(struct err *e)
{
    int rc;
    if ((rc = log_open(&srv.log, srv.cfg.data_dir, srv.cfg.map_size, false,
                       e)) ||
        (rc = open_views(e)))
        return rc;
    clock_init(&srv.clk, srv.cfg.clock_manual, srv.cfg.manual_start);
    clock_observe(&srv.clk, srv.log.last_recorded_at);
    pipe_init(&srv.pipe, &srv.log, &srv.cfg, &srv.clk, srv.views);
    srv.base = event_base_new();
    if (!srv.base)
        return err_set(e, ERR_UNAVAILABLE, NULL, "event_base_new failed");
    if ((rc = fresh_init(&srv.fresh, e)))
        return rc;
    fresh_have(&srv.fresh, srv.log.applied_seq);
    srv.fresh_ev = event_new(srv.base, srv.fresh.efd, EV_READ | EV_PERSIST,
                             on_fresh, NULL);
    srv.dcommit_ev = evtimer_new(srv.base, on_dcommit, NULL);
    if (!srv.fresh_ev || !srv.dcommit_ev || event_add(srv.fresh_ev, NULL))
        return err_set(e, ERR_UNAVAILABLE, NULL, "event setup failed");
    {
        struct flusher_opts fo = {
            .wait_us = srv.cfg.sync_wait_us,
            .journal_bytes = srv.cfg.journal_bytes,
            .commit_ms = srv.cfg.log_commit_ms,
            .dir = srv.cfg.data_dir,
            .commit_us = &srv.metrics.commit,
        };
        if ((rc = flusher_start(&srv.fl, &srv.log, &fo, e)))
            return rc;
    }
    if (srv.cfg.checkpoint_events || srv.cfg.checkpoint_interval_s)
        if ((rc = checkpoint_start(&srv.ckpt, &srv.log, &srv.fresh,
                                   &srv.metrics.durable_seq, e)))
            return rc;
    srv.flushed_ev =
        event_new(srv.base, srv.fl.efd, EV_READ | EV_PERSIST, on_flushed, NULL);
    if (!srv.flushed_ev || event_add(srv.flushed_ev, NULL))
        return err_set(e, ERR_UNAVAILABLE, NULL, "event setup failed");
    if ((rc = catch_up_start(e)))
        return rc;
    if ((rc = bus_open(&srv.bus, &srv.cfg, srv.base, serve, NULL, e)))
        return rc;
    metrics_acked(&srv.metrics, srv.log.last_seq);
    metrics_durable(&srv.metrics, srv.log.last_seq);
    {
        struct http_deps d = {&srv.cfg,     &srv.log, srv.views, &srv.clk,
                              &srv.metrics, &srv.bus, &srv.fresh};
        if ((rc = http_start(&srv.http, &d, srv.http_ep, e)))
            return rc;
    }
    srv.kick = event_new(srv.base, -1, 0, serve, NULL);
    srv.tick = event_new(srv.base, -1, EV_PERSIST, on_tick, NULL);
    {
        struct timeval second = {1, 0};
        if (!srv.tick || event_add(srv.tick, &second))
            return err_set(e, ERR_UNAVAILABLE, NULL, "timer setup failed");
    }
    srv.sig_int = evsignal_new(srv.base, SIGINT, on_signal, NULL);
    srv.sig_term = evsignal_new(srv.base, SIGTERM, on_signal, NULL);
    srv.sig_hup = evsignal_new(srv.base, SIGHUP, on_hup, NULL);
    if (!srv.kick || !srv.sig_int || !srv.sig_term || !srv.sig_hup ||
        event_add(srv.sig_int, NULL) || event_add(srv.sig_term, NULL) ||
        event_add(srv.sig_hup, NULL))
        return err_set(e, ERR_UNAVAILABLE, NULL, "event setup failed");
    return write_endpoints(e);
}

int server_run(void)
{
    event_active(srv.kick, EV_TIMEOUT, 0); /* anything queued before start */
    /* Type=notify (dist/deskd.service): ready once the log is open, the
     * sockets bound and the endpoints written; a no-op outside systemd. */
    sd_notifyf(0, "READY=1\nSTATUS=serving; log at seq %llu",
               (unsigned long long)srv.log.last_seq);
    event_base_dispatch(srv.base);
    if (srv.catch_up_failed) { /* as a failed start would */
        server_close();
        exit(1);
    }
    return 0;
}

void server_close(void)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/endpoints", srv.cfg.data_dir);
    unlink(path);
    if (srv.catch_up_ev)
        event_free(srv.catch_up_ev);
    srv.catch_up_ev = NULL;
    if (srv.kick)
        event_free(srv.kick);
    if (srv.tick)
        event_free(srv.tick);
    if (srv.sig_int)
        event_free(srv.sig_int);
    if (srv.sig_term)
        event_free(srv.sig_term);
    if (srv.sig_hup)
        event_free(srv.sig_hup);
    /* Freeing them restored the default action. A repeated signal must
     * not cut the shutdown short: replies may still be on their way out
     * (linger). SIGKILL remains for forcing it. */
    if (srv.stopping) {
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
    }
    settle(true);           /* everything decided is answered (or failed) */
    fresh_stop(&srv.fresh); /* no reader waits for the loop any more */
    flusher_stop(&srv.fl);
    checkpoint_stop(&srv.ckpt); /* after the copy under way */
    if (srv.flushed_ev)
        event_free(srv.flushed_ev);
    srv.flushed_ev = NULL;
    http_stop(srv.http); /* it reads the bus's feed eventfd */
    srv.http = NULL;
    if (srv.fresh_ev)
        event_free(srv.fresh_ev);
    if (srv.dcommit_ev)
        event_free(srv.dcommit_ev);
    srv.fresh_ev = srv.dcommit_ev = NULL;
    fresh_close(&srv.fresh); /* after the HTTP thread that waits on it */
    bus_close(&srv.bus);
    if (srv.base)
        event_base_free(srv.base);
    pipe_release(&srv.pipe);
    while (srv.q_first) {
        struct outbox *o = srv.q_first;
        srv.q_first = o->next;
        outbox_release(o);
    }
    srv.q_last = srv.q_reply = NULL;
    while (srv.free_box) {
        struct outbox *o = srv.free_box;
        srv.free_box = o->next;
        outbox_release(o);
    }
    srv.nfree_box = 0;
    log_close(&srv.log);
    if (srv.views)
        derived_ops.free_views(srv.views);
    srv.views = NULL;
}
