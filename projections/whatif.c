/* projections/whatif.c - a policy what-if (projections/whatif.h): the log
 * replayed through a scratch pipeline under a changed config, the
 * decisions that config drives made again, the same figures counted on
 * both logs. The live data dir is only read (one LMDB snapshot). */
#include "whatif.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../core/date.h"
#include "../core/deadline.h"
#include "../core/log.h"
#include "../core/pipeline.h"
#include "complaints.h"
#include "fees.h"
#include "projections.h"
#include "rebuild.h"

#define WHATIF_TXN_EVENTS 1000 /* events per write txn in the scratch log */
#define WHATIF_DEFAULT_MAP ((size_t)64 << 20)

int whatif_setting_ok(const char *setting, struct err *e)
{
    static const char *const made_again[] = {
        "complaints.escalate.open_10d=", "complaints.escalate.open_15d=",
        "complaints.reply.", "fees.late_fee."};
    size_t key = strcspn(setting, "=");

    for (size_t i = 0; i < sizeof(made_again) / sizeof(*made_again); i++)
        if (!strncmp(setting, made_again[i], strlen(made_again[i])))
            return 0;
    return err_set(e, ERR_INVALID, NULL,
                   "--set '%.*s': deskd knows this setting, but whatif does "
                   "not make its decisions again (they are recorded in the "
                   "desk's own events); whatif takes "
                   "complaints.escalate.open_10d, complaints.escalate.open_15d,"
                   " complaints.reply.<channel>, fees.late_fee.<item>",
                   (int)key, setting);
}

/* ---- counting: the same on both logs ---- */

struct ids {
    char (*id)[CMP_ID_MAX];
    size_t n, cap;
};

static int ids_add(struct ids *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->id[i], id))
            return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        void *p = realloc(s->id, cap * sizeof(*s->id));
        if (!p)
            return -1;
        s->id = p;
        s->cap = cap;
    }
    snprintf(s->id[s->n++], CMP_ID_MAX, "%s", id);
    return 0;
}

/* One event of the window into side. */
static int count(struct whatif_side *s, struct ids *seen,
                 const struct event *ev, int64_t from, int64_t to)
{
    char rule[32], id[CMP_ID_MAX];
    int64_t amount = 0;

    if (ev->occurred_at < from || ev->occurred_at > to)
        return 0;
    s->events++;
    switch (ev->type) {
    case EV_LATE_FEE_ASSESSED:
        codec_get_int(ev->data, "amount", &amount);
        s->late_fee_fen += amount;
        s->late_fee_bills++;
        return 0;
    case EV_WO_ESCALATED:
        s->wo_escalations++;
        return 0;
    case EV_COMPLAINT_ESCALATED:
        codec_copy_str(ev->data, "rule", rule, sizeof(rule));
        codec_copy_str(ev->data, "complaint", id, sizeof(id));
        for (int r = 0; r < RULE_COUNT; r++)
            if (!strcmp(rule, cmp_rule_names[r]))
                s->escalations[r]++;
        if (ids_add(seen, id))
            return -1;
        s->complaints_escalated = seen->n;
        return 0;
    default:
        return 0;
    }
}

/* ---- the scratch replay ---- */

struct run {
    const struct config *cfg;
    int64_t from, to;
    struct log live, scratch;
    MDB_txn *rtxn;
    struct views *views;
    struct clock clk;
    struct pipeline pipe;
    bool open; /* a batch is open */
    uint64_t in_batch;
    char last_rerun[LOG_CMD_ID_MAX + 1];
    struct cw data, frame, reply;
    struct whatif_report *r;
    struct err *e;
};

static int lmdb_fail(struct err *e, const char *what, int rc)
{
    return err_set(e, ERR_UNAVAILABLE, NULL, "whatif: %s: %s", what,
                   rc > 0 ? mdb_strerror(rc) : "failed");
}

static int batch_open(struct run *w)
{
    if (w->open)
        return 0;
    if (log_batch_begin(&w->pipe.batch, w->e))
        return w->e->code;
    w->open = true;
    w->in_batch = 0;
    return 0;
}

static int batch_done(struct run *w, bool force)
{
    if (!w->open || (!force && w->in_batch < WHATIF_TXN_EVENTS))
        return 0;
    w->open = false;
    return log_batch_commit(&w->pipe.batch, w->e) ? w->e->code : 0;
}

static void advance(struct run *w, int64_t t)
{
    if (t > clock_peek(&w->clk))
        clock_set(&w->clk, t, NULL);
}

/* Fires every timer due by `until`, in due order, each at its due time
 * (deskd running the whole time), under the changed config. */
static int fire_due(struct run *w, int64_t until)
{
    char prev[sizeof(((struct timer *)0)->key)] = "";
    int64_t prev_due = 0;

    for (;;) {
        struct timer t;
        char id[LOG_CMD_ID_MAX + 1];
        bool again;
        int rc =
            derived_ops.next_timer(w->pipe.batch.txn, w->views, 0, NULL, &t);
        if (rc == MDB_NOTFOUND)
            return 0;
        if (rc)
            return lmdb_fail(w->e, "timers", rc);
        if (t.due > until) {
            codec_doc_release(&t.doc);
            return 0;
        }
        /* a timer its command left in place would come back at once;
         * one without a body is never run (deskd skips it too) */
        again = !t.body || (t.due == prev_due && !strcmp(t.key, prev));
        prev_due = t.due;
        snprintf(prev, sizeof(prev), "%s", t.key);
        if (again) {
            rc = timer_clear(w->pipe.batch.txn, w->views,
                             w->pipe.batch.next_seq - 1, t.key);
            codec_doc_release(&t.doc);
            if (rc)
                return lmdb_fail(w->e, "timers", rc);
            continue;
        }
        advance(w, t.due);
        snprintf(id, sizeof(id), PIPE_SYSTEM_ID "t:%.*s:%lld", 40, t.key,
                 (long long)t.due);
        cw_reset(&w->reply);
        rc = pipe_exec_system(&w->pipe, id, t.cmd, t.body, &w->reply);
        if (rc == 0) {
            struct codec_doc d;
            bool ok = false;
            if (!codec_doc_parse(&d, cw_data(&w->reply), cw_len(&w->reply),
                                 NULL)) {
                codec_get_bool(d.obj, "ok", &ok);
                codec_doc_release(&d);
            }
            /* a refused timer would come back at once: deskd skips it
             * until restart, the replay clears it */
            if (!ok)
                rc = timer_clear(w->pipe.batch.txn, w->views,
                                 w->pipe.batch.next_seq - 1, t.key);
        }
        codec_doc_release(&t.doc);
        if (rc)
            return lmdb_fail(w->e, "a timer's command", rc);
        w->r->timers++;
        w->in_batch++;
    }
}

/* Appends data under ev's envelope (actor, desk, command id, times) and
 * applies it to the scratch read models. */
static int append(struct run *w, const struct event *ev, const char *cmd_id,
                  size_t cmd_id_len, const char *data, size_t len)
{
    char actor[64], desk[64];
    struct log_event_in in = {ev_type_name(ev->type),
                              ev->stream,
                              ev->stream_len,
                              ev->recorded_at,
                              ev->occurred_at,
                              actor,
                              desk,
                              cmd_id,
                              cmd_id_len,
                              data,
                              len};
    struct codec_doc doc;
    const char *body;
    size_t blen;
    uint64_t seq;
    int rc;

    snprintf(actor, sizeof(actor), "%.*s", (int)ev->actor_len, ev->actor);
    snprintf(desk, sizeof(desk), "%.*s", (int)ev->desk_len, ev->desk);
    advance(w, ev->recorded_at);
    if ((rc = log_append(&w->pipe.batch, &in, &seq, &body, &blen)))
        return lmdb_fail(w->e, "append", rc);
    if (codec_doc_parse_trusted(&doc, body, blen, NULL))
        return lmdb_fail(w->e, "append", -1);
    rc = derived_ops.apply(w->views, w->pipe.batch.txn, seq, doc.obj);
    codec_doc_release(&doc);
    if (rc)
        return err_set(w->e, ERR_UNAVAILABLE, NULL,
                       "whatif: the read models refused event %llu of the "
                       "log in the replay (code %d)",
                       (unsigned long long)ev->seq, rc);
    w->r->copied++;
    w->in_batch++;
    return 0;
}

/* complaint.received with its deadlines worked out again from its
 * receipt under the changed rules (the same deadline_apply the intake
 * uses); everything else in the body as recorded. */
static void intake_again(struct run *w, const msgpack_object *d)
{
    const struct complaint_settings *cs = &w->cfg->cmp;
    char channel[32];
    int64_t at = 0;
    int ch = -1;

    codec_copy_str(d, "channel", channel, sizeof(channel));
    codec_get_int(d, "received_at", &at);
    for (int i = 0; i < CH_COUNT; i++)
        if (!strcmp(channel, cmp_channel_names[i]))
            ch = i;
    cw_reset(&w->data);
    cw_map(&w->data, d->via.map.size);
    for (uint32_t i = 0; i < d->via.map.size; i++) {
        const msgpack_object_kv *kv = &d->via.map.ptr[i];
        const msgpack_object *dl = &kv->val;
        cw_obj(&w->data, &kv->key);
        if (ch < 0 || kv->key.type != MSGPACK_OBJECT_STR ||
            kv->key.via.str.size != 9 ||
            memcmp(kv->key.via.str.ptr, "deadlines", 9) ||
            dl->type != MSGPACK_OBJECT_MAP) {
            cw_obj(&w->data, dl);
            continue;
        }
        cw_map(&w->data, dl->via.map.size);
        for (uint32_t j = 0; j < dl->via.map.size; j++) {
            const msgpack_object *k = &dl->via.map.ptr[j].key;
            const struct deadline *rule = NULL;
            char name[32] = "";
            if (k->type == MSGPACK_OBJECT_STR && k->via.str.size < sizeof(name))
                memcpy(name, k->via.str.ptr, k->via.str.size);
            if (!strcmp(name, "reply"))
                rule = &cs->reply[ch];
            else if (!strcmp(name, "open_10d"))
                rule = &cs->rule[RULE_OPEN_10D].after;
            else if (!strcmp(name, "open_15d"))
                rule = &cs->rule[RULE_OPEN_15D].after;
            cw_obj(&w->data, k);
            if (rule)
                cw_int(&w->data, deadline_apply(rule, &w->cfg->cal, at));
            else
                cw_obj(&w->data, &dl->via.map.ptr[j].val);
        }
    }
    w->r->rewritten++;
}

/* Whether a fee.assess_late reply charged anything. */
static bool charged(const msgpack_object *reply)
{
    const msgpack_object *evs = codec_get(reply, "events");

    for (uint32_t i = 0;
         evs && evs->type == MSGPACK_OBJECT_ARRAY && i < evs->via.array.size;
         i++)
        if (codec_obj_is_str(codec_get(&evs->via.array.ptr[i], "type"),
                             ev_type_name(EV_LATE_FEE_ASSESSED)))
            return true;
    return false;
}

/* A late-fee run of the log run again: fee.assess_late for the same
 * estate and day, by the same operator at the same time. One run wrote
 * one event per bill and, since runs are recorded, a fee.late_fee_run
 * last (the only one when it charged nothing): the first event of the
 * command runs it, the rest are skipped. A log written before runs were
 * recorded has no trace of a run that charged nothing. */
static int late_again(struct run *w, const struct event *ev, const char *cmd_id,
                      size_t cmd_id_len)
{
    char unit[64], actor[64];
    const msgpack_object *day = codec_get(ev->data, "date");
    struct codec_doc d;
    bool ok = false, any = false;
    int rc;

    if (strlen(w->last_rerun) == cmd_id_len &&
        !memcmp(w->last_rerun, cmd_id, cmd_id_len))
        return 0;
    snprintf(w->last_rerun, sizeof(w->last_rerun), "%.*s", (int)cmd_id_len,
             cmd_id);
    if (ev->type == EV_LATE_FEE_RUN)
        codec_copy_str(ev->data, "estate", unit, sizeof(unit));
    else
        codec_copy_str(ev->data, "unit", unit, sizeof(unit));
    unit[strcspn(unit, "/")] = '\0';
    snprintf(actor, sizeof(actor), "%.*s", (int)ev->actor_len, ev->actor);
    advance(w, ev->recorded_at);
    cw_reset(&w->frame);
    cw_map(&w->frame, 4 + (ev->desk_len ? 1 : 0));
    cw_kstrn(&w->frame, "id", cmd_id, cmd_id_len);
    cw_kstr(&w->frame, "cmd", "fee.assess_late");
    cw_kstr(&w->frame, "actor", actor);
    if (ev->desk_len)
        cw_kstrn(&w->frame, "desk", ev->desk, ev->desk_len);
    cw_str(&w->frame, "body");
    cw_map(&w->frame, day ? 2 : 1);
    cw_kstr(&w->frame, "estate", unit);
    if (day)
        cw_kobj(&w->frame, "date", day);
    cw_reset(&w->reply);
    if ((rc = pipe_exec(&w->pipe, cw_data(&w->frame), cw_len(&w->frame), NULL,
                        &w->reply)))
        return lmdb_fail(w->e, "fee.assess_late", rc);
    if (!codec_doc_parse(&d, cw_data(&w->reply), cw_len(&w->reply), NULL)) {
        codec_get_bool(d.obj, "ok", &ok);
        any = ok && charged(d.obj);
        codec_doc_release(&d);
    }
    w->r->reruns++;
    if (!any)
        w->r->rerun_refused++;
    w->in_batch++;
    return 0;
}

/* A system event a timer made (its command id names the timer). */
static bool timer_made(const struct event *ev, const char *cmd_id, size_t n)
{
    static const char tid[] = PIPE_SYSTEM_ID "t:";
    return ev->actor_len == 6 && !memcmp(ev->actor, "system", 6) &&
           n >= sizeof(tid) - 1 && !memcmp(cmd_id, tid, sizeof(tid) - 1);
}

static bool desk_made(const struct event *ev)
{
    return !(ev->actor_len == 6 && !memcmp(ev->actor, "system", 6));
}

/* One live event: counted for the real side, then taken, dropped or
 * decided again in the scratch log. */
static int one(struct run *w, const struct event *ev, const char *cmd_id,
               size_t n)
{
    bool again = ev->recorded_at >= w->from;
    int rc;

    if ((rc = batch_open(w)))
        return rc;
    if (again && (rc = fire_due(w, ev->recorded_at)))
        return rc;
    if (again && timer_made(ev, cmd_id, n)) {
        w->r->dropped++;
    } else if (again &&
               (ev->type == EV_LATE_FEE_ASSESSED ||
                ev->type == EV_LATE_FEE_RUN) &&
               desk_made(ev)) {
        rc = late_again(w, ev, cmd_id, n);
    } else if (again && ev->type == EV_COMPLAINT_RECEIVED) {
        intake_again(w, ev->data);
        rc = append(w, ev, cmd_id, n, cw_data(&w->data), cw_len(&w->data));
    } else {
        cw_reset(&w->data);
        cw_obj(&w->data, ev->data);
        rc = append(w, ev, cmd_id, n, cw_data(&w->data), cw_len(&w->data));
    }
    return rc ? rc : batch_done(w, false);
}

static int replay(struct run *w, struct ids *seen, struct progress *p)
{
    uint64_t last;
    int rc = log_last_seq(w->rtxn, &w->live, &last);

    if (rc)
        return lmdb_fail(w->e, "last seq", rc);
    progress_begin(p, "replaying under the changed config", "events", last);
    for (uint64_t seq = 1; seq <= last; seq++) {
        const unsigned char *hash;
        const char *body, *cmd_id = "";
        size_t len, n = 0;
        struct codec_doc doc;
        struct event ev;

        if ((rc = log_get(w->rtxn, &w->live, seq, &hash, &body, &len)) ||
            (rc = event_parse(&ev, &doc, body, len, w->e))) {
            progress_abort(p);
            return err_set(w->e, ERR_UNAVAILABLE, NULL,
                           "whatif: seq %llu is unreadable",
                           (unsigned long long)seq);
        }
        if (ev.recorded_at > w->to) {
            codec_doc_release(&doc);
            break;
        }
        codec_get_str(doc.obj, "cmd_id", &cmd_id, &n);
        rc = count(&w->r->real, seen, &ev, w->from, w->to);
        if (rc)
            rc = err_set(w->e, ERR_UNAVAILABLE, NULL, "whatif: out of memory");
        else
            rc = one(w, &ev, cmd_id, n);
        codec_doc_release(&doc);
        if (rc) {
            progress_abort(p);
            return rc;
        }
        progress_update(p, seq);
    }
    progress_end(p);
    if (!(rc = batch_open(w)) && !(rc = fire_due(w, w->to)))
        rc = batch_done(w, true);
    return rc;
}

/* Counts the scratch log's events of the window. */
static int count_scratch(struct run *w, struct ids *seen)
{
    MDB_txn *t;
    uint64_t last;
    int rc;

    if (log_read_begin(&w->scratch, &t, w->e))
        return w->e->code;
    if ((rc = log_last_seq(t, &w->scratch, &last)))
        rc = lmdb_fail(w->e, "last seq", rc);
    for (uint64_t seq = 1; !rc && seq <= last; seq++) {
        const unsigned char *hash;
        const char *body;
        size_t len;
        struct codec_doc doc;
        struct event ev;
        if ((rc = log_get(t, &w->scratch, seq, &hash, &body, &len)) ||
            (rc = event_parse(&ev, &doc, body, len, w->e))) {
            rc = lmdb_fail(w->e, "scratch log", rc);
            break;
        }
        if (count(&w->r->sim, seen, &ev, w->from, w->to))
            rc = err_set(w->e, ERR_UNAVAILABLE, NULL, "whatif: out of memory");
        codec_doc_release(&doc);
    }
    mdb_txn_abort(t);
    return rc;
}

static int open_views(struct run *w)
{
    MDB_txn *t;
    int rc = mdb_txn_begin(w->scratch.denv, NULL, 0, &t);
    if (rc)
        return lmdb_fail(w->e, "scratch views", rc);
    if ((rc = derived_ops.open_views(t, true, &w->views, w->e))) {
        mdb_txn_abort(t);
        return rc;
    }
    return (rc = mdb_txn_commit(t)) ? lmdb_fail(w->e, "scratch views", rc) : 0;
}

/* ---- overdue totals by age at the end of the window ---- */

struct aging {
    MDB_txn *txn;
    const struct views *v;
    int32_t asof;
    int64_t asof_end;
    struct whatif_side *s;
};

static int age_bill(void *ctx, const struct bill *b)
{
    struct aging *a = ctx;
    int64_t open;

    if (fees_overdue_as_of(a->txn, a->v, b, a->asof, a->asof_end, &open))
        return -1;
    if (open > 0) {
        a->s->overdue_fen[fees_bucket((int64_t)a->asof - b->due)] += open;
        a->s->overdue_total += open;
    }
    return 0;
}

/* The read models of l (one snapshot), as they stood at the end of to. */
static int aging(struct log *l, const struct config *cfg, int64_t to,
                 struct whatif_side *s, struct err *e)
{
    struct aging a = {NULL, NULL, date_of_ts(to, cfg->cal.offset_min), to, s};
    struct views v;
    int rc;

    _Static_assert(FEES_BUCKETS ==
                       sizeof(s->overdue_fen) / sizeof(s->overdue_fen[0]),
                   "one figure per aging bucket");
    if ((rc = log_derived_begin(l, &a.txn, e)))
        return rc;
    a.v = &v;
    if (!(rc = views_open(a.txn, &v, false, e)) &&
        fees_each_bill(a.txn, &v, false, age_bill, &a))
        rc = err_set(e, ERR_UNAVAILABLE, NULL, "whatif: reading the bills");
    mdb_txn_abort(a.txn);
    return rc;
}

int whatif_run(const char *data_dir, const struct config *cfg, int64_t from_ms,
               int64_t to_ms, struct whatif_report *r, struct progress *p,
               struct err *e)
{
    struct run w = {.cfg = cfg, .from = from_ms, .to = to_ms, .r = r, .e = e};
    struct ids real = {0}, sim = {0};
    char tmp[PATH_MAX];
    size_t map;
    int rc;

    memset(r, 0, sizeof(*r));
    if ((rc = log_open(&w.live, data_dir, 0, true, e)))
        return rc;
    if ((rc = log_read_begin(&w.live, &w.rtxn, e)))
        goto out_live;
    if ((rc = rebuild_scratch_dir(tmp, sizeof(tmp), e)))
        goto out_rtxn;
    map = w.live.map_size * 2 + WHATIF_DEFAULT_MAP;
    if ((rc = log_open(&w.scratch, tmp, map, false, e)))
        goto out_tmp;
    if ((rc = open_views(&w)))
        goto out_scratch;
    clock_init(&w.clk, true, 1);
    cw_init(&w.data);
    cw_init(&w.frame);
    cw_init(&w.reply);
    pipe_init(&w.pipe, &w.scratch, cfg, &w.clk, w.views);
    rc = replay(&w, &real, p);
    if (w.open)
        log_batch_abort(&w.pipe.batch);
    if (!rc)
        rc = count_scratch(&w, &sim);
    if (!rc)
        rc = aging(&w.scratch, cfg, to_ms, &r->sim, e);
    if (!rc)
        rc = aging(&w.live, cfg, to_ms, &r->real, e);
    pipe_release(&w.pipe);
    cw_release(&w.data);
    cw_release(&w.frame);
    cw_release(&w.reply);
    derived_ops.free_views(w.views);
out_scratch:
    log_close(&w.scratch);
out_tmp:
    rebuild_scratch_remove(tmp);
out_rtxn:
    mdb_txn_abort(w.rtxn);
out_live:
    log_close(&w.live);
    free(real.id);
    free(sim.id);
    return rc;
}
