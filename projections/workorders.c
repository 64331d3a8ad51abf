/* projections/workorders.c - owns sub-dbs work_orders and open_work_orders
 * and the work orders' timers; their timelines go to case_log. */
#include "workorders.h"

#include <stddef.h>
#include <string.h>

#include "timeline.h"

const char *const wo_state_names[] = {"logged", "dispatched", "completed",
                                      "closed", NULL};

static int64_t geti(const msgpack_object *m, const char *k)
{
    int64_t v = 0;
    codec_get_int(m, k, &v);
    return v;
}

static bool getb(const msgpack_object *m, const char *k)
{
    bool v = false;
    codec_get_bool(m, k, &v);
    return v;
}

static int rule_of(const msgpack_object *d)
{
    const char *s;
    size_t n;
    if (codec_get_str(d, "rule", &s, &n))
        return -1;
    for (int i = 0; i < WOR_COUNT; i++)
        if (strlen(wo_rule_names[i]) == n && !memcmp(wo_rule_names[i], s, n))
            return i;
    return -1;
}

bool wo_needs_visit(const struct workorder *w)
{
    return !strcmp(w->kind, "repair") || !strcmp(w->kind, "housekeeping");
}

static void fold_logged(struct workorder *w, const msgpack_object *d,
                        int64_t at)
{
    const char *s;
    size_t n, k;

    codec_copy_str(d, "order", w->id, sizeof(w->id));
    codec_copy_str(d, "kind", w->kind, sizeof(w->kind));
    codec_copy_str(d, "from", w->from, sizeof(w->from));
    codec_copy_str(d, "unit", w->unit, sizeof(w->unit));
    codec_copy_str(d, "person", w->person, sizeof(w->person));
    codec_copy_str(d, "receiver", w->receiver, sizeof(w->receiver));
    if (!codec_get_str(d, "text", &s, &n)) { /* cut at a UTF-8 boundary */
        k = n < sizeof(w->issue) - 1 ? n : sizeof(w->issue) - 1;
        while (k < n && k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
            k--;
        memcpy(w->issue, s, k);
        w->issue[k] = '\0';
    }
    w->emergency = getb(d, "emergency");
    w->same_day = getb(d, "same_day");
    w->received = geti(d, "received_at");
    w->stale_due = geti(d, "stale_due");
    proj_prov_set(&w->prov, WOR_STALE, d, "stale_due");
    w->recorded = at;
    w->state = WS_LOGGED;
}

static void fold_completed(struct workorder *w, const msgpack_object *d,
                           int64_t at)
{
    codec_copy_str(d, "category", w->category, sizeof(w->category));
    codec_copy_str(d, "payer", w->payer, sizeof(w->payer));
    codec_copy_str(d, "bill", w->bill, sizeof(w->bill));
    w->amount = geti(d, "amount");
    w->visit_due = geti(d, "visit_due");
    proj_prov_set(&w->prov, WOR_VISIT_DUE, d, "visit_due");
    w->completed = at;
    w->visit_result[0] = '\0';
    w->visited = 0;
    w->state = WS_COMPLETED;
}

static void fold_escalated(struct workorder *w, const msgpack_object *d)
{
    int r = rule_of(d), tier;

    w->escalations++;
    if (r < 0)
        return;
    w->fired |= 1u << r;
    tier = r == WOR_UNSOLVED ? 2 : 1;
    if (tier > w->level)
        w->level = tier;
}

void wo_fold(struct workorder *w, enum ev_type t, const msgpack_object *d,
             int64_t at)
{
    switch (t) {
    case EV_WO_LOGGED:
        fold_logged(w, d, at);
        break;
    case EV_WO_DISPATCHED:
        codec_copy_str(d, "to", w->assignee, sizeof(w->assignee));
        w->visit_at = geti(d, "visit_at");
        w->emergency |= getb(d, "emergency");
        if (w->state == WS_LOGGED)
            w->state = WS_DISPATCHED;
        break;
    case EV_WO_COMPLETED:
        fold_completed(w, d, at);
        break;
    case EV_WO_VISITED:
        codec_copy_str(d, "result", w->visit_result, sizeof(w->visit_result));
        w->visited = at;
        if (geti(d, "notice_due")) {
            w->notice_due = geti(d, "notice_due");
            proj_prov_set(&w->prov, WOR_NOTICE_DUE, d, "notice_due");
            w->notice_sent = 0;
            w->fired &= ~(1u << WOR_NOTICE_DUE);
        }
        break;
    case EV_WO_NOTICE_SENT:
        w->notice_sent = at;
        break;
    case EV_WO_REOPENED:
        w->reopen_count = (int)geti(d, "count");
        w->state = w->assignee[0] ? WS_DISPATCHED : WS_LOGGED;
        w->completed = w->visit_due = 0;
        w->stale_due = geti(d, "stale_due");
        proj_prov_set(&w->prov, WOR_STALE, d, "stale_due");
        w->fired &= ~((1u << WOR_STALE) | (1u << WOR_VISIT_DUE));
        break;
    case EV_WO_CLOSED:
        w->state = WS_CLOSED;
        w->closed = at;
        break;
    case EV_WO_ESCALATED:
        fold_escalated(w, d);
        break;
    default:
        return;
    }
    if (at > w->updated)
        w->updated = at;
}

int64_t wo_timer_due(const struct workorder *w, enum wo_rule r)
{
    if (w->fired & (1u << r) || w->state == WS_CLOSED)
        return 0;
    switch (r) {
    case WOR_STALE:
        return w->state < WS_COMPLETED ? w->stale_due : 0;
    case WOR_VISIT_DUE:
        return w->state == WS_COMPLETED && !w->visit_result[0] ? w->visit_due
                                                               : 0;
    case WOR_NOTICE_DUE:
        return w->notice_sent ? 0 : w->notice_due;
    default: /* unsolved: referred by the desk at once */
        return 0;
    }
}

/* ---- storage ---- */

/* clang-format off: one field per line reads better than its layout */
#define WO_STR_FIELDS(X)                                                       \
    X(id, "order")                                                             \
    X(kind, "kind")                                                            \
    X(from, "from")                                                            \
    X(unit, "unit")                                                            \
    X(person, "person")                                                        \
    X(receiver, "receiver")                                                    \
    X(assignee, "assignee")                                                    \
    X(issue, "issue")                                                          \
    X(category, "category")                                                    \
    X(payer, "payer")                                                          \
    X(bill, "bill")                                                            \
    X(visit_result, "visit_result")
#define WO_INT_FIELDS(X)                                                       \
    X(state, "state")                                                          \
    X(reopen_count, "reopen_count")                                            \
    X(level, "level")                                                          \
    X(escalations, "escalations")                                              \
    X(fired, "fired")                                                          \
    X(prov, "prov")                                                            \
    X(amount, "amount")                                                        \
    X(received, "received")                                                    \
    X(recorded, "recorded")                                                    \
    X(updated, "updated")                                                      \
    X(visit_at, "visit_at")                                                    \
    X(stale_due, "stale_due")                                                  \
    X(completed, "completed")                                                  \
    X(visit_due, "visit_due")                                                  \
    X(visited, "visited")                                                      \
    X(notice_due, "notice_due")                                                \
    X(notice_sent, "notice_sent")                                              \
    X(closed, "closed")

static void enc(struct cw *cw, const void *rec)
{
    const struct workorder *w = rec;
    uint32_t n = 2;
#define X(f, k) n++;
    WO_STR_FIELDS(X)
    WO_INT_FIELDS(X)
#undef X
    cw_map(cw, n);
#define X(f, k) cw_kstr(cw, k, w->f);
    WO_STR_FIELDS(X)
#undef X
#define X(f, k) cw_kint(cw, k, (int64_t)w->f);
    WO_INT_FIELDS(X)
#undef X
    cw_kbool(cw, "emergency", w->emergency);
    cw_kbool(cw, "same_day", w->same_day);
}

static int dec(const msgpack_object *m, void *rec)
{
    struct workorder *w = rec;

    memset(w, 0, sizeof(*w));
#define X(f, k) codec_copy_str(m, k, w->f, sizeof(w->f));
    WO_STR_FIELDS(X)
#undef X
#define X(f, k) w->f = (__typeof__(w->f))geti(m, k);
    WO_INT_FIELDS(X)
#undef X
    w->emergency = getb(m, "emergency");
    w->same_day = getb(m, "same_day");
    return 0;
}
/* clang-format on */

static void fold_any(void *state, enum ev_type t, const msgpack_object *d,
                     int64_t at)
{
    wo_fold(state, t, d, at);
}

static const struct case_kind kind = {
    DB_WORK_ORDERS,
    sizeof(struct workorder),
    offsetof(struct workorder, id),
    offsetof(struct workorder, recorded),
    offsetof(struct workorder, updated),
    dec,
    enc,
    fold_any,
};

int workorders_get(MDB_txn *txn, const struct views *v, const char *id,
                   struct workorder *w)
{
    return case_get(txn, v, &kind, id, 0, w);
}

static int sync_timers(MDB_txn *txn, const struct views *v, uint64_t seq,
                       const struct workorder *before,
                       const struct workorder *after)
{
    for (int r = 0; r < WOR_COUNT; r++) {
        int64_t d1 = wo_timer_due(after, (enum wo_rule)r);
        int rc;

        if (d1 == wo_timer_due(before, (enum wo_rule)r))
            continue;
        rc = timer_move(txn, v, seq, "order", after->id, wo_rule_names[r],
                        "workorder.escalate", d1);
        if (rc)
            return rc;
    }
    return 0;
}

static int set_open(MDB_txn *txn, const struct views *v, const char *id,
                    bool open)
{
    static const unsigned char nil = 0xc0;
    MDB_val k = {strlen(id), (void *)id}, val = {1, (void *)&nil};
    int rc;

    if (open)
        return mdb_put(txn, v->dbi[DB_OPEN_WO], &k, &val, 0);
    rc = mdb_del(txn, v->dbi[DB_OPEN_WO], &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int proj_workorders_apply(MDB_txn *txn, const struct views *v,
                          const struct event *ev)
{
    struct workorder before, w;
    char id[WO_ID_MAX];
    int rc;

    if (ev->type < EV_WO_LOGGED || ev->type > EV_WO_ESCALATED)
        return 0;
    codec_copy_str(ev->data, "order", id, sizeof(id));
    memset(&before, 0, sizeof(before));
    if (ev->type != EV_WO_LOGGED && (rc = workorders_get(txn, v, id, &before)))
        return rc;
    w = before;
    wo_fold(&w, ev->type, ev->data, ev->occurred_at);
    if ((rc = case_put(txn, v, &kind, &w)) ||
        (rc = sync_timers(txn, v, ev->seq, &before, &w)))
        return rc;
    if ((ev->type == EV_WO_LOGGED ||
         (before.state == WS_CLOSED) != (w.state == WS_CLOSED)) &&
        (rc = set_open(txn, v, id, w.state != WS_CLOSED)))
        return rc;
    return timeline_put(txn, v, id, ev);
}

/* ---- reads ---- */

int workorders_each_open(MDB_txn *txn, const struct views *v, workorders_fn fn,
                         void *ctx)
{
    struct workorder w;
    return case_each(txn, v, &kind, v->dbi[DB_OPEN_WO], 0, &w, fn, ctx);
}

int workorders_each_as_of(MDB_txn *txn, const struct views *v, int64_t cutoff,
                          workorders_fn fn, void *ctx)
{
    struct workorder w;
    return case_each(txn, v, &kind, v->dbi[DB_WORK_ORDERS], cutoff, &w, fn,
                     ctx);
}

int workorders_each_at_seq(MDB_txn *txn, const struct views *v, uint64_t seq,
                           workorders_fn fn, void *ctx)
{
    struct workorder w;
    return case_each_seq(txn, v, &kind, v->dbi[DB_WORK_ORDERS], seq, &w, fn,
                         ctx);
}
