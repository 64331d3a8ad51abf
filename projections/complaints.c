/* projections/complaints.c - owns sub-dbs complaints, open_complaints,
 * complaint_log, complaint_topics and no_visit, and the complaints'
 * timers. Everything here follows from cmp_fold(): the record is the fold
 * of the complaint's events, the open set and the timers are functions of
 * the record, the timeline is the events themselves. */
#include "complaints.h"

#include <stddef.h>
#include <string.h>

#include "../core/date.h"
#include "timeline.h"

#define KEY_MAX 96

const char *const cmp_state_names[] = {
#define X(n, s) s,
    CMP_STATES(X)
#undef X
        NULL};

/* ---- the fold ---- */

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

/* Copies at most cap-1 bytes of a string value, never splitting a UTF-8
 * sequence (lists show the head of "what happened"). */
static void copy_utf8(const msgpack_object *m, const char *k, char *out,
                      size_t cap)
{
    const char *s;
    size_t n, len;

    out[0] = '\0';
    if (codec_get_str(m, k, &s, &len))
        return;
    n = len < cap - 1 ? len : cap - 1;
    while (n < len && n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--; /* s[n] continues a sequence: cut before its lead byte */
    memcpy(out, s, n);
    out[n] = '\0';
}

static int rule_of(const msgpack_object *data)
{
    const char *s;
    size_t n;
    if (codec_get_str(data, "rule", &s, &n))
        return -1;
    for (int i = 0; i < RULE_COUNT; i++)
        if (strlen(cmp_rule_names[i]) == n && !memcmp(cmp_rule_names[i], s, n))
            return i;
    return -1;
}

int cmp_rule_tier(enum cmp_rule r)
{
    switch (r) {
    case RULE_OPEN_15D:
        return 3;
    case RULE_OPEN_10D:
        return 2;
    case RULE_MAJOR:
    case RULE_HOT:
        return 0;
    default:
        return 1;
    }
}

/* Rules that recur (one escalation per window) rather than fire once. */
static bool recurring(enum cmp_rule r)
{
    return r == RULE_UPDATE_DUE;
}

bool cmp_has_who(const struct complaint *c, const char *key)
{
    for (int i = 0; i < c->nwho; i++)
        if (!strcmp(c->who[i], key))
            return true;
    return false;
}

/* Remembers the complainant named in the event (key "who"), once. */
static void fold_who(struct complaint *c, const msgpack_object *d)
{
    char key[CMP_WHO_LEN];

    if (!codec_copy_str(d, "who", key, sizeof(key)) || cmp_has_who(c, key) ||
        c->nwho >= CMP_WHO_MAX)
        return;
    memcpy(c->who[c->nwho++], key, sizeof(key));
}

/* R-GEN-05: rule r's deadline, just taken from key of d, is provisional
 * when d marks key so. */
static void prov_set(struct complaint *c, enum cmp_rule r,
                     const msgpack_object *d, const char *key)
{
    proj_prov_set(&c->prov, (unsigned)r, d, key);
}

static void fold_received(struct complaint *c, const msgpack_object *d)
{
    const msgpack_object *dl = codec_get(d, "deadlines");

    codec_copy_str(d, "complaint", c->id, sizeof(c->id));
    codec_copy_str(d, "channel", c->channel, sizeof(c->channel));
    codec_copy_str(d, "unit", c->unit, sizeof(c->unit));
    codec_copy_str(d, "person", c->person, sizeof(c->person));
    codec_copy_str(d, "name", c->name, sizeof(c->name));
    codec_copy_str(d, "topic", c->topic, sizeof(c->topic));
    codec_copy_str(d, "receiver", c->receiver, sizeof(c->receiver));
    copy_utf8(d, "what", c->issue, sizeof(c->issue));
    c->anonymous = getb(d, "anonymous");
    c->emergency = getb(d, "emergency");
    c->claim_fen = geti(d, "claim_fen");
    c->people = (int)geti(d, "people");
    c->times = c->people;
    c->received = geti(d, "received_at");
    c->state = CS_RECEIVED;
    if (dl) {
        c->reply_due = geti(dl, "reply");
        c->open_10d_at = geti(dl, "open_10d");
        c->open_15d_at = geti(dl, "open_15d");
        c->update_due = geti(dl, "update_due");
        prov_set(c, RULE_MISSED_REPLY, d, "reply");
        prov_set(c, RULE_OPEN_10D, d, "open_10d");
        prov_set(c, RULE_OPEN_15D, d, "open_15d");
        prov_set(c, RULE_UPDATE_DUE, d, "update_due");
    }
}

static void fold_escalated(struct complaint *c, const msgpack_object *d)
{
    int r = rule_of(d);

    c->escalations++;
    if (r < 0)
        return;
    if (cmp_rule_tier((enum cmp_rule)r) > c->level)
        c->level = cmp_rule_tier((enum cmp_rule)r);
    if (!recurring((enum cmp_rule)r))
        c->fired |= 1u << r;
    if (r == RULE_MAJOR)
        c->major = true;
    if (r == RULE_HOT)
        c->hot = true;
    if (r == RULE_UPDATE_DUE) {
        c->update_due = geti(d, "next_due");
        prov_set(c, RULE_UPDATE_DUE, d, "next_due");
        c->missed_updates++;
    }
}

static void fold_handled(struct complaint *c, const msgpack_object *d,
                         int64_t at)
{
    c->handled = at;
    c->state = CS_HANDLED;
    c->no_visit = getb(d, "no_visit");
    codec_copy_str(d, "no_visit_reason", c->no_visit_reason,
                   sizeof(c->no_visit_reason));
    c->visit_due = geti(d, "visit_due");
    prov_set(c, RULE_VISIT_DUE, d, "visit_due");
    c->auto_close_at = geti(d, "auto_close_at");
    c->visit_result[0] = '\0';
    c->visited = 0;
}

static void fold_reopened(struct complaint *c, const msgpack_object *d)
{
    c->reopen_count = (int)geti(d, "count");
    c->state = c->first_reply ? CS_REPLIED : CS_RECEIVED;
    c->handled = c->visit_due = c->auto_close_at = c->closed = 0;
    c->no_visit = false;
    c->no_visit_reason[0] = '\0';
    c->fired &= ~(1u << RULE_VISIT_DUE);
    c->update_due = geti(d, "next_update_due");
    prov_set(c, RULE_UPDATE_DUE, d, "next_update_due");
}

void cmp_fold(struct complaint *c, enum ev_type t, const msgpack_object *d,
              int64_t at)
{
    switch (t) {
    case EV_COMPLAINT_RECEIVED:
        fold_received(c, d);
        fold_who(c, d);
        c->recorded = at;
        break;
    case EV_COMPLAINT_CLASSIFIED:
        if (c->category)
            c->reclassified++;
        c->category = (int)geti(d, "category");
        codec_copy_str(d, "cause", c->cause, sizeof(c->cause));
        codec_copy_str(d, "validity", c->validity, sizeof(c->validity));
        break;
    case EV_COMPLAINANT_ADDED:
        c->people = (int)geti(d, "people");
        c->times = (int)geti(d, "times");
        fold_who(c, d);
        break;
    case EV_COMPLAINT_DISPATCHED:
        codec_copy_str(d, "handler", c->handler, sizeof(c->handler));
        c->emergency |= getb(d, "emergency");
        if (c->state == CS_RECEIVED)
            c->state = CS_DISPATCHED;
        break;
    case EV_COMPLAINT_REPLIED:
        if (!c->first_reply)
            c->first_reply = at;
        if (c->state < CS_REPLIED)
            c->state = CS_REPLIED;
        c->re_reply_due = geti(d, "re_reply_by"); /* agreed, not computed */
        c->prov &= ~(1u << RULE_MISSED_RE_REPLY);
        c->fired &= ~(1u << RULE_MISSED_RE_REPLY);
        if (geti(d, "next_update_due")) {
            c->update_due = geti(d, "next_update_due");
            prov_set(c, RULE_UPDATE_DUE, d, "next_update_due");
        }
        break;
    case EV_COMPLAINT_UPDATED:
        c->update_due = geti(d, "next_update_due");
        prov_set(c, RULE_UPDATE_DUE, d, "next_update_due");
        break;
    case EV_COMPLAINT_HANDLED:
        fold_handled(c, d, at);
        break;
    case EV_COMPLAINT_VISITED:
        codec_copy_str(d, "result", c->visit_result, sizeof(c->visit_result));
        c->visited = at;
        if (geti(d, "auto_close_at")) { /* unreachable: closes by itself */
            c->no_visit = true;
            snprintf(c->no_visit_reason, sizeof(c->no_visit_reason),
                     "unreachable");
            c->auto_close_at = geti(d, "auto_close_at");
        }
        break;
    case EV_COMPLAINT_REOPENED:
        fold_reopened(c, d);
        break;
    case EV_COMPLAINT_CLOSED:
        c->state = CS_CLOSED;
        c->closed = at;
        break;
    case EV_COMPLAINT_ESCALATED:
        fold_escalated(c, d);
        break;
    case EV_COMPLAINT_CLAIMED:
        c->claim_fen = geti(d, "claim_fen");
        break;
    default:
        return;
    }
    if (at > c->updated)
        c->updated = at;
}

int64_t cmp_timer_due(const struct complaint *c, enum cmp_rule r)
{
    bool active = c->state < CS_HANDLED; /* handling still outstanding */

    if (c->fired & (1u << r))
        return 0;
    switch (r) {
    case RULE_MISSED_REPLY: /* a reopened one runs on the update clock */
        return active && !c->first_reply && !c->reopen_count ? c->reply_due : 0;
    case RULE_MISSED_RE_REPLY:
        return active ? c->re_reply_due : 0;
    case RULE_OPEN_10D:
        return active ? c->open_10d_at : 0;
    case RULE_OPEN_15D:
        return active ? c->open_15d_at : 0;
    case RULE_UPDATE_DUE:
        return active ? c->update_due : 0;
    case RULE_VISIT_DUE:
        return c->state == CS_HANDLED && !c->no_visit && !c->visit_result[0]
                   ? c->visit_due
                   : 0;
    default: /* major, hot: escalated by the handler at once */
        return 0;
    }
}

bool cmp_rule_over(enum cmp_rule r)
{
    return r == RULE_OPEN_10D || r == RULE_UPDATE_DUE;
}

int64_t cmp_timer_fire(const struct complaint *c, enum cmp_rule r)
{
    int64_t d = cmp_timer_due(c, r);

    return d && cmp_rule_over(r) ? d + 1 : d;
}

static int64_t auto_close_due(const struct complaint *c)
{
    return c->state == CS_HANDLED && c->no_visit ? c->auto_close_at : 0;
}

int64_t cmp_next_deadline(const struct complaint *c, int *rule)
{
    int64_t best = 0;

    *rule = -1;
    for (int r = 0; r < RULE_COUNT; r++) {
        int64_t d = cmp_timer_due(c, (enum cmp_rule)r);
        if (d && (!best || d < best)) {
            best = d;
            *rule = r;
        }
    }
    return best;
}

/* ---- storage ---- */

static void enc(struct cw *w, const void *rec)
{
    const struct complaint *c = rec;
    cw_map(w, 46);
    cw_kstr(w, "complaint", c->id);
    cw_kstr(w, "channel", c->channel);
    cw_kstr(w, "unit", c->unit);
    cw_kstr(w, "person", c->person);
    cw_kstr(w, "name", c->name);
    cw_kstr(w, "topic", c->topic);
    cw_kbool(w, "anonymous", c->anonymous);
    cw_kstr(w, "receiver", c->receiver);
    cw_kstr(w, "handler", c->handler);
    cw_kint(w, "state", c->state);
    cw_kint(w, "category", c->category);
    cw_kstr(w, "cause", c->cause);
    cw_kstr(w, "validity", c->validity);
    cw_kstr(w, "visit_result", c->visit_result);
    cw_kstr(w, "no_visit_reason", c->no_visit_reason);
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
    cw_kint(w, "reclassified", c->reclassified);
    cw_kint(w, "fired", c->fired);
    cw_kint(w, "prov", c->prov);
    cw_kint(w, "missed_updates", c->missed_updates);
    cw_str(w, "who");
    cw_array(w, (uint32_t)c->nwho);
    for (int i = 0; i < c->nwho; i++)
        cw_str(w, c->who[i]);
    cw_kint(w, "claim_fen", c->claim_fen);
    cw_kint(w, "received", c->received);
    cw_kint(w, "recorded", c->recorded);
    cw_kint(w, "updated", c->updated);
    cw_kint(w, "first_reply", c->first_reply);
    cw_kint(w, "reply_due", c->reply_due);
    cw_kint(w, "re_reply_due", c->re_reply_due);
    cw_kint(w, "update_due", c->update_due);
    cw_kint(w, "open_10d_at", c->open_10d_at);
    cw_kint(w, "open_15d_at", c->open_15d_at);
    cw_kint(w, "handled", c->handled);
    cw_kint(w, "visit_due", c->visit_due);
    cw_kint(w, "visited", c->visited);
    cw_kint(w, "auto_close_at", c->auto_close_at);
    cw_kint(w, "closed", c->closed);
    cw_kint(w, "version", 1);
}

static void dec_who(const msgpack_object *m, struct complaint *c)
{
    const msgpack_object *l = codec_get(m, "who");

    for (uint32_t i = 0; l && l->type == MSGPACK_OBJECT_ARRAY &&
                         i < l->via.array.size && c->nwho < CMP_WHO_MAX;
         i++) {
        const msgpack_object *o = &l->via.array.ptr[i];
        if (o->type != MSGPACK_OBJECT_STR || o->via.str.size >= CMP_WHO_LEN)
            continue;
        memcpy(c->who[c->nwho], o->via.str.ptr, o->via.str.size);
        c->who[c->nwho++][o->via.str.size] = '\0';
    }
}

static int dec(const msgpack_object *m, void *rec)
{
    struct complaint *c = rec;

    memset(c, 0, sizeof(*c));
    codec_copy_str(m, "complaint", c->id, sizeof(c->id));
    codec_copy_str(m, "channel", c->channel, sizeof(c->channel));
    codec_copy_str(m, "unit", c->unit, sizeof(c->unit));
    codec_copy_str(m, "person", c->person, sizeof(c->person));
    codec_copy_str(m, "name", c->name, sizeof(c->name));
    codec_copy_str(m, "topic", c->topic, sizeof(c->topic));
    codec_copy_str(m, "receiver", c->receiver, sizeof(c->receiver));
    codec_copy_str(m, "handler", c->handler, sizeof(c->handler));
    codec_copy_str(m, "cause", c->cause, sizeof(c->cause));
    codec_copy_str(m, "validity", c->validity, sizeof(c->validity));
    codec_copy_str(m, "visit_result", c->visit_result, sizeof(c->visit_result));
    codec_copy_str(m, "no_visit_reason", c->no_visit_reason,
                   sizeof(c->no_visit_reason));
    codec_copy_str(m, "issue", c->issue, sizeof(c->issue));
    c->anonymous = getb(m, "anonymous");
    c->emergency = getb(m, "emergency");
    c->major = getb(m, "major");
    c->hot = getb(m, "hot");
    c->no_visit = getb(m, "no_visit");
    c->state = (enum cmp_state)geti(m, "state");
    c->category = (int)geti(m, "category");
    c->people = (int)geti(m, "people");
    c->times = (int)geti(m, "times");
    c->reopen_count = (int)geti(m, "reopen_count");
    c->level = (int)geti(m, "level");
    c->escalations = (int)geti(m, "escalations");
    c->reclassified = (int)geti(m, "reclassified");
    c->fired = (unsigned)geti(m, "fired");
    c->prov = (unsigned)geti(m, "prov");
    c->missed_updates = (int)geti(m, "missed_updates");
    dec_who(m, c);
    c->claim_fen = geti(m, "claim_fen");
    c->received = geti(m, "received");
    c->recorded = geti(m, "recorded");
    c->updated = geti(m, "updated");
    c->first_reply = geti(m, "first_reply");
    c->reply_due = geti(m, "reply_due");
    c->re_reply_due = geti(m, "re_reply_due");
    c->update_due = geti(m, "update_due");
    c->open_10d_at = geti(m, "open_10d_at");
    c->open_15d_at = geti(m, "open_15d_at");
    c->handled = geti(m, "handled");
    c->visit_due = geti(m, "visit_due");
    c->visited = geti(m, "visited");
    c->auto_close_at = geti(m, "auto_close_at");
    c->closed = geti(m, "closed");
    return 0;
}

static void fold_any(void *state, enum ev_type t, const msgpack_object *d,
                     int64_t at)
{
    cmp_fold(state, t, d, at);
}

static const struct case_kind kind = {
    DB_COMPLAINTS,
    sizeof(struct complaint),
    offsetof(struct complaint, id),
    offsetof(struct complaint, recorded),
    offsetof(struct complaint, updated),
    dec,
    enc,
    fold_any,
};

int complaints_get(MDB_txn *txn, const struct views *v, const char *id,
                   struct complaint *c)
{
    return case_get(txn, v, &kind, id, 0, c);
}

/* ---- timers: a function of the record ---- */

/* Moves every timer whose due time changed between before and after. */
static int sync_timers(MDB_txn *txn, const struct views *v, uint64_t seq,
                       const struct complaint *before,
                       const struct complaint *after)
{
    int rc;

    for (int r = 0; r < RULE_COUNT; r++) {
        int64_t d1 = cmp_timer_fire(after, (enum cmp_rule)r);
        if (d1 == cmp_timer_fire(before, (enum cmp_rule)r))
            continue;
        rc = timer_move(txn, v, seq, "complaint", after->id, cmp_rule_names[r],
                        "complaint.escalate", d1);
        if (rc)
            return rc;
    }
    if (auto_close_due(after) == auto_close_due(before))
        return 0;
    return timer_move(txn, v, seq, "complaint", after->id, "auto_close",
                      "complaint.auto_close", auto_close_due(after));
}

/* ---- the other tables ---- */

void cmp_complainant_key(const char *person, const char *name,
                         const char *contact, const char *id, char *out,
                         size_t cap)
{
    if (person && person[0])
        snprintf(out, cap, "p:%s", person);
    else if (name && name[0])
        snprintf(out, cap, "n:%s", name);
    else if (contact && contact[0])
        snprintf(out, cap, "t:%s", contact);
    else
        snprintf(out, cap, "c:%s", id);
}

/* topic \0 received (8) id -> complainant key */
static size_t topic_key(unsigned char *k, const char *topic, int64_t at,
                        const char *id)
{
    size_t tl = strlen(topic) + 1, il = strlen(id);
    memcpy(k, topic, tl);
    proj_key_u64(k + tl, (uint64_t)at ^ 0x8000000000000000ull);
    memcpy(k + tl + 8, id, il);
    return tl + 8 + il;
}

static int index_topic(MDB_txn *txn, const struct views *v,
                       const struct complaint *c)
{
    unsigned char k[KEY_MAX];
    char who[96];
    struct cw w;
    int rc;

    if (!c->topic[0])
        return 0;
    if (c->nwho) /* the intake's complainant, as the handler keyed it */
        snprintf(who, sizeof(who), "%s", c->who[0]);
    else
        cmp_complainant_key(c->person, c->name, NULL, c->id, who, sizeof(who));
    cw_init(&w);
    cw_str(&w, who);
    rc = proj_put(txn, v->dbi[DB_CMP_TOPICS], k,
                  topic_key(k, c->topic, c->received, c->id), &w);
    cw_release(&w);
    return rc;
}

static int set_open(MDB_txn *txn, const struct views *v, const char *id,
                    bool open)
{
    static const unsigned char nil = 0xc0;
    MDB_val k = {strlen(id), (void *)id}, val = {1, (void *)&nil};
    int rc;

    if (open)
        return mdb_put(txn, v->dbi[DB_OPEN_CMP], &k, &val, 0);
    rc = mdb_del(txn, v->dbi[DB_OPEN_CMP], &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static bool is_complaint_event(enum ev_type t)
{
    return (t >= EV_COMPLAINT_RECEIVED && t <= EV_COMPLAINT_ESCALATED) ||
           t == EV_COMPLAINT_CLAIMED;
}

static int on_no_visit(MDB_txn *txn, const struct views *v,
                       const struct event *ev)
{
    char person[32];
    struct cw w;
    int rc;

    codec_copy_str(ev->data, "person", person, sizeof(person));
    cw_init(&w);
    cw_obj(&w, ev->data);
    rc = proj_put(txn, v->dbi[DB_NO_VISIT], person, strlen(person), &w);
    cw_release(&w);
    return rc;
}

int proj_complaints_apply(MDB_txn *txn, const struct views *v,
                          const struct event *ev)
{
    struct complaint before, c;
    char id[CMP_ID_MAX];
    int rc;

    if (ev->type == EV_NO_VISIT_REQUESTED)
        return on_no_visit(txn, v, ev);
    if (!is_complaint_event(ev->type))
        return 0;
    codec_copy_str(ev->data, "complaint", id, sizeof(id));
    memset(&before, 0, sizeof(before));
    if (ev->type != EV_COMPLAINT_RECEIVED &&
        (rc = complaints_get(txn, v, id, &before)))
        return rc;
    c = before;
    cmp_fold(&c, ev->type, ev->data, ev->occurred_at);
    if ((rc = case_put(txn, v, &kind, &c)) ||
        (rc = sync_timers(txn, v, ev->seq, &before, &c)))
        return rc;
    if (ev->type == EV_COMPLAINT_RECEIVED &&
        ((rc = set_open(txn, v, id, true)) || (rc = index_topic(txn, v, &c))))
        return rc;
    if ((before.state == CS_CLOSED) != (c.state == CS_CLOSED) &&
        (rc = set_open(txn, v, id, c.state != CS_CLOSED)))
        return rc;
    return timeline_put(txn, v, id, ev);
}

/* ---- reads ---- */

int complaints_each_open(MDB_txn *txn, const struct views *v, complaints_fn fn,
                         void *ctx)
{
    struct complaint c;
    return case_each(txn, v, &kind, v->dbi[DB_OPEN_CMP], 0, &c, fn, ctx);
}

int complaints_get_as_of(MDB_txn *txn, const struct views *v, const char *id,
                         int64_t cutoff, struct complaint *c)
{
    return case_get(txn, v, &kind, id, cutoff, c);
}

int complaints_get_at_seq(MDB_txn *txn, const struct views *v, const char *id,
                          uint64_t seq, struct complaint *c)
{
    return case_get_seq(txn, v, &kind, id, seq, c);
}

int complaints_each_as_of(MDB_txn *txn, const struct views *v, int64_t cutoff,
                          complaints_fn fn, void *ctx)
{
    struct complaint c;
    return case_each(txn, v, &kind, v->dbi[DB_COMPLAINTS], cutoff, &c, fn, ctx);
}

bool complaints_no_visit(MDB_txn *txn, const struct views *v,
                         const char *person)
{
    MDB_val k = {strlen(person), (void *)person}, val;
    return person[0] && mdb_get(txn, v->dbi[DB_NO_VISIT], &k, &val) == 0;
}

int complaints_each_on_topic(MDB_txn *txn, const struct views *v,
                             const char *topic, int64_t since,
                             complaints_topic_fn fn, void *ctx)
{
    unsigned char k0[KEY_MAX];
    size_t tl = strlen(topic) + 1;
    MDB_cursor *cur;
    MDB_val k = {topic_key(k0, topic, since, ""), k0}, val;
    int rc = mdb_cursor_open(txn, v->dbi[DB_CMP_TOPICS], &cur);

    if (rc)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &val, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
        char id[CMP_ID_MAX], who[CMP_WHO_LEN];
        struct codec_doc d;
        size_t il;
        if (k.mv_size < tl + 8 || memcmp(k.mv_data, topic, tl))
            break;
        il = k.mv_size - tl - 8;
        if (il >= sizeof(id) ||
            codec_doc_parse_trusted(&d, val.mv_data, val.mv_size, NULL))
            continue;
        memcpy(id, (const char *)k.mv_data + tl + 8, il);
        id[il] = '\0';
        who[0] = '\0';
        if (d.obj->type == MSGPACK_OBJECT_STR &&
            d.obj->via.str.size < sizeof(who)) {
            memcpy(who, d.obj->via.str.ptr, d.obj->via.str.size);
            who[d.obj->via.str.size] = '\0';
        }
        codec_doc_release(&d);
        if ((rc = fn(ctx, id, who,
                     (int64_t)(proj_key_get_u64(
                                   (const unsigned char *)k.mv_data + tl) ^
                               0x8000000000000000ull))))
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND || rc > 0 ? 0 : rc;
}
