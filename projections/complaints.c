/* projections/complaints.c - owns sub-dbs complaints, open_complaints,
 * complaint_log and no_visit, and the complaints' timers. */
#include "complaints.h"

#include <string.h>

#include "../core/date.h"

#define KEY_MAX 64

static void enc(struct cw *w, const struct complaint *c)
{
    cw_map(w, 32);
    cw_kstr(w, "complaint", c->id);
    cw_kstr(w, "channel", c->channel);
    cw_kstr(w, "unit", c->unit);
    cw_kstr(w, "name", c->name);
    cw_kbool(w, "anonymous", c->anonymous);
    cw_kstr(w, "receiver", c->receiver);
    cw_kstr(w, "handler", c->handler);
    cw_kstr(w, "state", c->state);
    cw_kint(w, "category", c->category);
    cw_kstr(w, "validity", c->validity);
    cw_kstr(w, "visit_result", c->visit_result);
    cw_kstr(w, "issue", c->issue);
    cw_kbool(w, "emergency", c->emergency);
    cw_kbool(w, "major", c->major);
    cw_kbool(w, "hot", c->hot);
    cw_kbool(w, "no_visit", c->no_visit);
    cw_kint(w, "people", c->people);
    cw_kint(w, "times", c->times);
    cw_kint(w, "reopen_count", c->reopen_count);
    cw_kint(w, "level", c->level);
    cw_kint(w, "escalations", c->escalations);
    cw_kint(w, "claim_fen", c->claim_fen);
    cw_kint(w, "received", c->received);
    cw_kint(w, "first_reply", c->first_reply);
    cw_kint(w, "reply_due", c->reply_due);
    cw_kint(w, "re_reply_due", c->re_reply_due);
    cw_kint(w, "update_due", c->update_due);
    cw_kint(w, "handled", c->handled);
    cw_kint(w, "visit_due", c->visit_due);
    cw_kint(w, "auto_close_at", c->auto_close_at);
    cw_kint(w, "closed", c->closed);
    cw_kint(w, "version", 1);
}

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

static void dec(const msgpack_object *m, struct complaint *c)
{
    memset(c, 0, sizeof(*c));
    codec_copy_str(m, "complaint", c->id, sizeof(c->id));
    codec_copy_str(m, "channel", c->channel, sizeof(c->channel));
    codec_copy_str(m, "unit", c->unit, sizeof(c->unit));
    codec_copy_str(m, "name", c->name, sizeof(c->name));
    codec_copy_str(m, "receiver", c->receiver, sizeof(c->receiver));
    codec_copy_str(m, "handler", c->handler, sizeof(c->handler));
    codec_copy_str(m, "state", c->state, sizeof(c->state));
    codec_copy_str(m, "validity", c->validity, sizeof(c->validity));
    codec_copy_str(m, "visit_result", c->visit_result,
                   sizeof(c->visit_result));
    codec_copy_str(m, "issue", c->issue, sizeof(c->issue));
    c->anonymous = getb(m, "anonymous");
    c->emergency = getb(m, "emergency");
    c->major = getb(m, "major");
    c->hot = getb(m, "hot");
    c->no_visit = getb(m, "no_visit");
    c->category = (int)geti(m, "category");
    c->people = (int)geti(m, "people");
    c->times = (int)geti(m, "times");
    c->reopen_count = (int)geti(m, "reopen_count");
    c->level = (int)geti(m, "level");
    c->escalations = (int)geti(m, "escalations");
    c->claim_fen = geti(m, "claim_fen");
    c->received = geti(m, "received");
    c->first_reply = geti(m, "first_reply");
    c->reply_due = geti(m, "reply_due");
    c->re_reply_due = geti(m, "re_reply_due");
    c->update_due = geti(m, "update_due");
    c->handled = geti(m, "handled");
    c->visit_due = geti(m, "visit_due");
    c->auto_close_at = geti(m, "auto_close_at");
    c->closed = geti(m, "closed");
}

int complaints_get(MDB_txn *txn, const struct views *v, const char *id,
                   struct complaint *c)
{
    struct codec_doc d;
    int rc = proj_get(txn, v->dbi[DB_COMPLAINTS], id, strlen(id), &d);
    if (rc)
        return rc;
    dec(d.obj, c);
    codec_doc_release(&d);
    return 0;
}

static int put(MDB_txn *txn, const struct views *v, const struct complaint *c)
{
    struct cw w;
    int rc;
    cw_init(&w);
    enc(&w, c);
    rc = proj_put(txn, v->dbi[DB_COMPLAINTS], c->id, strlen(c->id), &w);
    cw_release(&w);
    return rc;
}

/* A timer that runs a system command about this complaint. */
static int arm(MDB_txn *txn, const struct views *v, const char *id,
               const char *rule, int64_t due, const char *cmd)
{
    char key[CMP_ID_MAX + 32];
    struct cw body;
    int rc;
    if (!due)
        return 0;
    snprintf(key, sizeof(key), "%s:%s", id, rule);
    cw_init(&body);
    cw_map(&body, 3);
    cw_kstr(&body, "complaint", id);
    cw_kstr(&body, "rule", rule);
    cw_kint(&body, "due", due);
    rc = timer_set(txn, v, due, key, cmd, &body);
    cw_release(&body);
    return rc;
}

static int disarm(MDB_txn *txn, const struct views *v, const char *id,
                  const char *rule)
{
    char key[CMP_ID_MAX + 32];
    snprintf(key, sizeof(key), "%s:%s", id, rule);
    return timer_clear(txn, v, key);
}

static int timeline(MDB_txn *txn, const struct views *v,
                    const struct event *ev, const char *id)
{
    unsigned char k[KEY_MAX];
    size_t n = strlen(id) + 1;
    struct cw w;
    int rc;

    memcpy(k, id, n);
    proj_key_u64(k + n, ev->seq);
    cw_init(&w);
    cw_map(&w, 5);
    cw_kint(&w, "seq", (int64_t)ev->seq);
    cw_kstr(&w, "type", ev_type_name(ev->type));
    cw_kstrn(&w, "actor", ev->actor, ev->actor_len);
    cw_kint(&w, "recorded", ev->recorded_at);
    cw_kobj(&w, "data", ev->data);
    rc = proj_put(txn, v->dbi[DB_CMP_LOG], k, n + 8, &w);
    cw_release(&w);
    return rc;
}

static const msgpack_object *dl(const struct event *ev)
{
    return codec_get(ev->data, "deadlines");
}

static int on_received(MDB_txn *txn, const struct views *v,
                       const struct event *ev, struct complaint *c)
{
    static const unsigned char nil = 0xc0;
    MDB_val k = {strlen(c->id), c->id}, val = {1, (void *)&nil};
    const msgpack_object *d = dl(ev);
    int rc;

    codec_copy_str(ev->data, "channel", c->channel, sizeof(c->channel));
    codec_copy_str(ev->data, "unit", c->unit, sizeof(c->unit));
    codec_copy_str(ev->data, "name", c->name, sizeof(c->name));
    codec_copy_str(ev->data, "receiver", c->receiver, sizeof(c->receiver));
    codec_copy_str(ev->data, "what", c->issue, 61);
    c->anonymous = getb(ev->data, "anonymous");
    c->emergency = getb(ev->data, "emergency");
    c->claim_fen = geti(ev->data, "claim_fen");
    c->people = (int)geti(ev->data, "people");
    c->times = 1;
    c->received = geti(ev->data, "received_at");
    c->reply_due = geti(d, "reply");
    c->update_due = geti(d, "update_due");
    snprintf(c->state, sizeof(c->state), "received");
    if ((rc = mdb_put(txn, v->dbi[DB_OPEN_CMP], &k, &val, 0)) ||
        (rc = arm(txn, v, c->id, "missed_reply", c->reply_due,
                  "complaint.escalate")) ||
        (rc = arm(txn, v, c->id, "open_10d", geti(d, "open_10d"),
                  "complaint.escalate")) ||
        (rc = arm(txn, v, c->id, "open_15d", geti(d, "open_15d"),
                  "complaint.escalate")))
        return rc;
    return arm(txn, v, c->id, "update_due", c->update_due,
               "complaint.escalate");
}

static int on_replied(MDB_txn *txn, const struct views *v,
                      const struct event *ev, struct complaint *c)
{
    int64_t again = geti(ev->data, "re_reply_by");
    int rc;
    if (!c->first_reply)
        c->first_reply = ev->recorded_at;
    if (!strcmp(c->state, "received") || !strcmp(c->state, "dispatched"))
        snprintf(c->state, sizeof(c->state), "replied");
    c->re_reply_due = again;
    if ((rc = disarm(txn, v, c->id, "missed_reply")) ||
        (rc = disarm(txn, v, c->id, "missed_re_reply")))
        return rc;
    return arm(txn, v, c->id, "missed_re_reply", again, "complaint.escalate");
}

static int on_updated(MDB_txn *txn, const struct views *v,
                      const struct event *ev, struct complaint *c)
{
    c->update_due = geti(ev->data, "next_update_due");
    return arm(txn, v, c->id, "update_due", c->update_due,
               "complaint.escalate");
}

static int on_handled(MDB_txn *txn, const struct views *v,
                      const struct event *ev, struct complaint *c)
{
    int rc;
    c->handled = ev->recorded_at;
    c->visit_due = geti(ev->data, "visit_due");
    c->auto_close_at = geti(ev->data, "auto_close_at");
    c->no_visit = getb(ev->data, "no_visit");
    c->update_due = 0;
    snprintf(c->state, sizeof(c->state), "handled");
    if ((rc = disarm(txn, v, c->id, "update_due")) ||
        (rc = disarm(txn, v, c->id, "missed_reply")) ||
        (rc = disarm(txn, v, c->id, "missed_re_reply")) ||
        (rc = arm(txn, v, c->id, "visit_due", c->visit_due,
                  "complaint.escalate")))
        return rc;
    return arm(txn, v, c->id, "auto_close", c->auto_close_at,
               "complaint.auto_close");
}

static int on_reopened(MDB_txn *txn, const struct views *v,
                       const struct event *ev, struct complaint *c)
{
    int rc;
    c->reopen_count = (int)geti(ev->data, "count");
    c->handled = c->visit_due = c->auto_close_at = 0;
    c->update_due = geti(ev->data, "next_update_due");
    snprintf(c->state, sizeof(c->state), "replied");
    if ((rc = disarm(txn, v, c->id, "auto_close")) ||
        (rc = disarm(txn, v, c->id, "visit_due")))
        return rc;
    return arm(txn, v, c->id, "update_due", c->update_due,
               "complaint.escalate");
}

static int on_closed(MDB_txn *txn, const struct views *v,
                     const struct event *ev, struct complaint *c)
{
    char prefix[CMP_ID_MAX + 2];
    MDB_val k = {strlen(c->id), c->id};
    int rc = mdb_del(txn, v->dbi[DB_OPEN_CMP], &k, NULL);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    c->closed = ev->recorded_at;
    snprintf(c->state, sizeof(c->state), "closed");
    snprintf(prefix, sizeof(prefix), "%s:", c->id);
    return timer_clear_prefix(txn, v, prefix);
}

/* Tier reached: 1 cs_lead, 2 manager, 3 branch GM (R-CMP-07). */
static int tier(const char *rule)
{
    if (!strcmp(rule, "open_15d"))
        return 3;
    if (!strcmp(rule, "open_10d"))
        return 2;
    if (!strcmp(rule, "major") || !strcmp(rule, "hot"))
        return 0;
    return 1;
}

static int on_escalated(MDB_txn *txn, const struct views *v,
                        const struct event *ev, struct complaint *c)
{
    char rule[24];
    int rc;
    codec_copy_str(ev->data, "rule", rule, sizeof(rule));
    c->escalations++;
    if (tier(rule) > c->level)
        c->level = tier(rule);
    c->major |= !strcmp(rule, "major");
    c->hot |= !strcmp(rule, "hot");
    if ((rc = disarm(txn, v, c->id, rule)))
        return rc;
    if (!strcmp(rule, "update_due")) { /* the next window */
        c->update_due = geti(ev->data, "next_due");
        return arm(txn, v, c->id, rule, c->update_due, "complaint.escalate");
    }
    return 0;
}

static int on_event(MDB_txn *txn, const struct views *v,
                    const struct event *ev, struct complaint *c)
{
    switch (ev->type) {
    case EV_COMPLAINT_RECEIVED:
        return on_received(txn, v, ev, c);
    case EV_COMPLAINT_CLASSIFIED:
        c->category = (int)geti(ev->data, "category");
        codec_copy_str(ev->data, "validity", c->validity,
                       sizeof(c->validity));
        return 0;
    case EV_COMPLAINANT_ADDED:
        c->people = (int)geti(ev->data, "people");
        c->times++;
        return 0;
    case EV_COMPLAINT_DISPATCHED:
        codec_copy_str(ev->data, "handler", c->handler, sizeof(c->handler));
        c->emergency |= getb(ev->data, "emergency");
        if (!strcmp(c->state, "received"))
            snprintf(c->state, sizeof(c->state), "dispatched");
        return 0;
    case EV_COMPLAINT_REPLIED:
        return on_replied(txn, v, ev, c);
    case EV_COMPLAINT_UPDATED:
        return on_updated(txn, v, ev, c);
    case EV_COMPLAINT_HANDLED:
        return on_handled(txn, v, ev, c);
    case EV_COMPLAINT_VISITED:
        codec_copy_str(ev->data, "result", c->visit_result,
                       sizeof(c->visit_result));
        c->visit_due = 0;
        return disarm(txn, v, c->id, "visit_due");
    case EV_COMPLAINT_REOPENED:
        return on_reopened(txn, v, ev, c);
    case EV_COMPLAINT_CLOSED:
        return on_closed(txn, v, ev, c);
    case EV_COMPLAINT_ESCALATED:
        return on_escalated(txn, v, ev, c);
    default:
        return 0;
    }
}

int proj_complaints_apply(MDB_txn *txn, const struct views *v,
                          const struct event *ev)
{
    struct complaint c;
    char id[CMP_ID_MAX];
    int rc;

    if (ev->type == EV_NO_VISIT_REQUESTED) {
        char person[32];
        struct cw w;
        codec_copy_str(ev->data, "person", person, sizeof(person));
        cw_init(&w);
        cw_obj(&w, ev->data);
        rc = proj_put(txn, v->dbi[DB_NO_VISIT], person, strlen(person), &w);
        cw_release(&w);
        return rc;
    }
    if (ev->type < EV_COMPLAINT_RECEIVED || ev->type > EV_COMPLAINT_ESCALATED)
        return 0;
    codec_copy_str(ev->data, "complaint", id, sizeof(id));
    if (ev->type == EV_COMPLAINT_RECEIVED) {
        memset(&c, 0, sizeof(c));
        snprintf(c.id, sizeof(c.id), "%s", id);
    } else if ((rc = complaints_get(txn, v, id, &c))) {
        return rc;
    }
    if ((rc = on_event(txn, v, ev, &c)) || (rc = put(txn, v, &c)))
        return rc;
    return timeline(txn, v, ev, id);
}

int complaints_each_open(MDB_txn *txn, const struct views *v,
                         complaints_fn fn, void *ctx)
{
    MDB_cursor *cur;
    MDB_val k, val;
    int rc = mdb_cursor_open(txn, v->dbi[DB_OPEN_CMP], &cur);
    if (rc)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &val, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
        char id[CMP_ID_MAX];
        struct complaint c;
        if (k.mv_size >= sizeof(id))
            continue;
        memcpy(id, k.mv_data, k.mv_size);
        id[k.mv_size] = '\0';
        if (complaints_get(txn, v, id, &c))
            continue;
        if ((rc = fn(ctx, &c))) {
            rc = rc > 0 ? 0 : rc;
            break;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int complaints_each_entry(MDB_txn *txn, const struct views *v,
                          const char *id, proj_each_fn fn, void *ctx)
{
    return proj_each(txn, v->dbi[DB_CMP_LOG], id, strlen(id) + 1, fn, ctx);
}

bool complaints_no_visit(MDB_txn *txn, const struct views *v,
                         const char *person)
{
    MDB_val k = {strlen(person), (void *)person}, val;
    return person[0] && mdb_get(txn, v->dbi[DB_NO_VISIT], &k, &val) == 0;
}
