/* handlers/handover.c - the shift handover (交接班, docs/HANDOVER.md): the
 * sheet of one shift read from the events recorded in it, and the handover
 * itself, which records the sheet's totals and the cash counted.
 *
 * The sheet comes from the log alone (what the window's events say, and
 * complaints as they stood at the end of the window), so replaying the log
 * gives the same sheet for any past shift. Money is integer fen
 * (R-GEN-04). */
#include "handlers.h"

#include "../projections/complaints.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HO_DAYS_MAX 31 /* longest window: one month */
#define NMETH 4        /* pay_methods */

/* What one shift's events add up to. */
struct sheet {
    const struct hctx *h;
    int64_t from, to;            /* [from, to), ms */
    char desk[CMD_DESK_MAX + 1]; /* "" for every desk */
    uint64_t first_seq, last_seq, events;
    int64_t paid[NMETH], voided[NMETH];
    uint32_t paid_n[NMETH], voided_n[NMETH], receipts;
    /* Encoded arrays and their lengths. */
    struct cw escal, fired, cards_issued, cards_lost, passes;
    uint32_t n_escal, n_fired, n_issued, n_lost, n_passes;
    /* Complaints received in the window (ids). */
    char (*cmp)[CMP_ID_MAX];
    uint32_t n_cmp, cap_cmp;
};

static void sheet_init(struct sheet *s, const struct hctx *h)
{
    memset(s, 0, sizeof(*s));
    s->h = h;
    cw_init(&s->escal);
    cw_init(&s->fired);
    cw_init(&s->cards_issued);
    cw_init(&s->cards_lost);
    cw_init(&s->passes);
}

static void sheet_release(struct sheet *s)
{
    cw_release(&s->escal);
    cw_release(&s->fired);
    cw_release(&s->cards_issued);
    cw_release(&s->cards_lost);
    cw_release(&s->passes);
    free(s->cmp);
}

static int method_index(const msgpack_object *o)
{
    for (int i = 0; i < NMETH; i++)
        if (o && codec_obj_is_str(o, pay_methods[i]))
            return i;
    return -1;
}

/* recorded_at of the event at seq (ms); -1 when it cannot be read. */
static int64_t seq_time(const struct hctx *h, uint64_t seq)
{
    const unsigned char *hash;
    const char *body, *s;
    size_t len, n;
    struct codec_doc d;
    struct err e;
    int64_t t = -1;

    if (log_get(h->ltxn, h->log, seq, &hash, &body, &len) ||
        codec_doc_parse_trusted(&d, body, len, &e))
        return -1;
    if (codec_get_str(d.obj, "recorded_at", &s, &n) ||
        ts_parse(s, n, h->cfg->cal.offset_min, &t))
        t = -1;
    codec_doc_release(&d);
    return t;
}

/* The first seq recorded at or after t: recorded_at never goes backwards
 * along the log (core/clock.h), so a binary search finds it. */
static uint64_t first_seq_at(const struct hctx *h, int64_t t, uint64_t last)
{
    uint64_t lo = 1, hi = last + 1;

    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (seq_time(h, mid) < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The id part of a stream "kind:id". */
static void stream_id(const msgpack_object *body, const char **s, size_t *n)
{
    const char *c;

    if (codec_get_str(body, "stream", s, n)) {
        *s = "";
        *n = 0;
        return;
    }
    c = memchr(*s, ':', *n);
    if (c) {
        *n -= (size_t)(c + 1 - *s);
        *s = c + 1;
    }
}

/* An event that fired by itself (a timer): {seq, type, id, at, rule}. */
static void fired_row(struct sheet *s, struct cw *w, uint64_t seq,
                      const msgpack_object *body, const char *type)
{
    const msgpack_object *data = codec_get(body, "data"),
                         *rule = codec_get(data, "rule");
    const char *id, *at;
    size_t n, an;

    stream_id(body, &id, &n);
    if (codec_get_str(body, "recorded_at", &at, &an))
        at = "", an = 0;
    cw_map(w, 5);
    cw_kint(w, "seq", (int64_t)seq);
    cw_kstr(w, "type", type);
    cw_kstrn(w, "id", id, n);
    cw_kstrn(w, "at", at, an);
    if (rule)
        cw_kobj(w, "rule", rule);
    else
        cw_knil(w, "rule");
    (void)s;
}

static void id_row(struct cw *w, uint32_t *n, const msgpack_object *body)
{
    const char *id;
    size_t len;

    stream_id(body, &id, &len);
    cw_strn(w, id, len);
    (*n)++;
}

static int cmp_add(struct sheet *s, const msgpack_object *body)
{
    const char *id;
    size_t n;

    stream_id(body, &id, &n);
    if (n == 0 || n >= CMP_ID_MAX)
        return 0;
    if (s->n_cmp == s->cap_cmp) {
        uint32_t cap = s->cap_cmp ? s->cap_cmp * 2 : 16;
        void *p = realloc(s->cmp, cap * sizeof(*s->cmp));
        if (!p)
            return ERR_UNAVAILABLE;
        s->cmp = p;
        s->cap_cmp = cap;
    }
    memcpy(s->cmp[s->n_cmp], id, n);
    s->cmp[s->n_cmp++][n] = '\0';
    return 0;
}

/* Whether the event was recorded at the sheet's desk (every desk when the
 * sheet names none). */
static bool at_desk(const struct sheet *s, const msgpack_object *body)
{
    const char *d;
    size_t n;

    if (!s->desk[0])
        return true;
    if (codec_get_str(body, "desk", &d, &n))
        return false;
    return n == strlen(s->desk) && memcmp(d, s->desk, n) == 0;
}

/* Folds one event of the window into the sheet. */
static int sheet_event(struct sheet *s, uint64_t seq,
                       const msgpack_object *body)
{
    const msgpack_object *data = codec_get(body, "data");
    const char *ts;
    size_t tn;
    enum ev_type t;
    int64_t amount = 0;
    int m;

    if (codec_get_str(body, "type", &ts, &tn))
        return 0;
    t = ev_type_parse(ts, tn);
    switch (t) {
    /* Deadlines that fired: every desk's shift hears of them. */
    case EV_COMPLAINT_ESCALATED:
    case EV_WO_ESCALATED:
        fired_row(s, &s->escal, seq, body, ev_type_name(t));
        s->n_escal++;
        return 0;
    case EV_REN_TERM_EXPIRED:
    case EV_REN_PASSES_OVERDUE:
    case EV_REN_VIOLATION_OVERDUE:
    case EV_PASS_EXPIRED:
    case EV_MOVEIN_FIX_OVERDUE:
    case EV_CALENDAR_COVERAGE_ENDING:
        fired_row(s, &s->fired, seq, body, ev_type_name(t));
        s->n_fired++;
        return 0;
    default:
        break;
    }
    if (!at_desk(s, body))
        return 0;
    switch (t) {
    case EV_COMPLAINT_RECEIVED:
        return cmp_add(s, body);
    case EV_FEE_PAID:
        m = method_index(codec_get(data, "method"));
        codec_get_int(data, "amount", &amount);
        if (m >= 0) {
            s->paid[m] += amount;
            s->paid_n[m]++;
        }
        return 0;
    case EV_PAYMENT_VOIDED:
        m = method_index(codec_get(data, "method"));
        codec_get_int(data, "amount", &amount);
        if (m >= 0) {
            s->voided[m] += amount;
            s->voided_n[m]++;
        }
        return 0;
    case EV_RECEIPT_ISSUED:
        s->receipts++;
        return 0;
    case EV_CARD_ISSUED:
        id_row(&s->cards_issued, &s->n_issued, body);
        return 0;
    case EV_CARD_LOST:
        id_row(&s->cards_lost, &s->n_lost, body);
        return 0;
    case EV_PASS_REQUESTED:
        id_row(&s->passes, &s->n_passes, body);
        return 0;
    default:
        return 0;
    }
}

/* Reads the window's events into s. */
static int sheet_read(struct sheet *s, struct err *e)
{
    const struct hctx *h = s->h;
    uint64_t last = h->next_seq - 1, seq;

    s->first_seq = first_seq_at(h, s->from, last);
    for (seq = s->first_seq; seq <= last; seq++) {
        const unsigned char *hash;
        const char *body, *ts;
        size_t len, tn;
        struct codec_doc d;
        int64_t t = 0;
        int rc;

        if (log_get(h->ltxn, h->log, seq, &hash, &body, &len) ||
            codec_doc_parse_trusted(&d, body, len, e))
            return err_set(e, ERR_UNAVAILABLE, NULL, "log read failed at %llu",
                           (unsigned long long)seq);
        if (codec_get_str(d.obj, "recorded_at", &ts, &tn) ||
            ts_parse(ts, tn, h->cfg->cal.offset_min, &t) || t >= s->to) {
            codec_doc_release(&d);
            break;
        }
        rc = sheet_event(s, seq, d.obj);
        codec_doc_release(&d);
        if (rc)
            return err_set(e, ERR_UNAVAILABLE, NULL, "out of memory");
        s->events++;
    }
    s->last_seq = s->events ? s->first_seq + s->events - 1 : 0;
    if (!s->events)
        s->first_seq = 0;
    return 0;
}

/* from, to and desk (else default_desk, which may be "") of a. */
static int sheet_args(struct sheet *s, const struct args *a,
                      const char *default_desk, struct err *e)
{
    s->from = arg_int(a, "from");
    s->to = arg_int(a, "to");
    if (s->to <= s->from)
        return err_set(e, ERR_INVALID, "to", "'to' must be after 'from'");
    if (s->to - s->from > (int64_t)HO_DAYS_MAX * MS_PER_DAY)
        return err_set(e, ERR_INVALID, "to", "a shift is at most %d days long",
                       HO_DAYS_MAX);
    if (arg_has(a, "desk"))
        arg_copy(a, "desk", s->desk, sizeof(s->desk));
    else
        snprintf(s->desk, sizeof(s->desk), "%s", default_desk);
    return sheet_read(s, e);
}

static int64_t cash_expected(const struct sheet *s)
{
    return s->paid[0] - s->voided[0]; /* pay_methods[0] is cash */
}

static void money_map(struct cw *w, const char *k, const int64_t *v)
{
    cw_str(w, k);
    cw_map(w, NMETH);
    for (int i = 0; i < NMETH; i++)
        cw_kint(w, pay_methods[i], v[i]);
}

static void counts(const struct sheet *s, int64_t *paid, int64_t *voided,
                   int64_t *np, int64_t *nv)
{
    *paid = *voided = *np = *nv = 0;
    for (int i = 0; i < NMETH; i++) {
        *paid += s->paid[i];
        *voided += s->voided[i];
        *np += s->paid_n[i];
        *nv += s->voided_n[i];
    }
}

/* {payments, paid_fen, voids, voided_fen, receipts, by_method,
 *  voided_by_method, net_by_method, cash_expected}: the money of the
 * shift, in fen (R-GEN-04). */
static void money_write(struct cw *w, const struct sheet *s)
{
    int64_t paid, voided, np, nv, net[NMETH];

    counts(s, &paid, &voided, &np, &nv);
    for (int i = 0; i < NMETH; i++)
        net[i] = s->paid[i] - s->voided[i];
    cw_map(w, 9);
    cw_kint(w, "payments", np);
    cw_kint(w, "paid_fen", paid);
    cw_kint(w, "voids", nv);
    cw_kint(w, "voided_fen", voided);
    cw_kint(w, "receipts", s->receipts);
    money_map(w, "paid_by_method", s->paid);
    money_map(w, "voided_by_method", s->voided);
    money_map(w, "net_by_method", net);
    cw_kint(w, "cash_expected", cash_expected(s));
}

static void list_write(struct cw *w, const char *k, const struct cw *l,
                       uint32_t n)
{
    cw_str(w, k);
    cw_array(w, n);
    cw_raw(w, cw_data(l), cw_len(l));
}

struct open_ctx {
    const struct sheet *s;
    struct cw *w;
    uint32_t n;
};

/* A complaint of the shift still open at its end: {complaint, unit,
 * state, received, next_deadline, next_rule}. */
static void open_write(struct open_ctx *o, const struct complaint *c)
{
    int rule, off = o->s->h->cfg->cal.offset_min;
    int64_t next = cmp_next_deadline(c, &rule);

    cw_map(o->w, 6);
    cw_kstr(o->w, "complaint", c->id);
    cw_kstr(o->w, "unit", c->unit);
    cw_kstr(o->w, "state", cmp_state_names[c->state]);
    cw_kts(o->w, "received", c->received, off);
    if (next)
        cw_kts(o->w, "next_deadline", next, off);
    else
        cw_knil(o->w, "next_deadline");
    cw_kstr(o->w, "next_rule", rule >= 0 ? cmp_rule_names[rule] : "");
    o->n++;
}

/* Complaints received in the shift and not closed at its end, as they
 * stood then (so a replay, or a later reading, gives the same list). */
static int open_complaints(const struct sheet *s, struct cw *w, uint32_t *n,
                           struct err *e)
{
    struct open_ctx o = {s, w, 0};

    for (uint32_t i = 0; i < s->n_cmp; i++) {
        struct complaint c;
        int rc =
            complaints_get_as_of(s->h->txn, s->h->v, s->cmp[i], s->to - 1, &c);
        if (rc == MDB_NOTFOUND)
            continue;
        if (rc)
            return err_set(e, ERR_UNAVAILABLE, NULL, "complaint %s: %s",
                           s->cmp[i], mdb_strerror(rc));
        if (c.state != CS_CLOSED)
            open_write(&o, &c);
    }
    *n = o.n;
    return 0;
}

int hdl_query_handover(struct hctx *h, const struct args *a, struct err *e)
{
    struct sheet s;
    struct cw open;
    struct cw *w = h->result;
    int off = h->cfg->cal.offset_min, rc;
    uint32_t n_open = 0;

    sheet_init(&s, h);
    cw_init(&open);
    if ((rc = sheet_args(&s, a, "", e)) ||
        (rc = open_complaints(&s, &open, &n_open, e)))
        goto out;
    cw_map(w, 14);
    cw_kstr(w, "desk", s.desk);
    cw_kts(w, "from", s.from, off);
    cw_kts(w, "to", s.to, off);
    cw_kint(w, "first_seq", (int64_t)s.first_seq);
    cw_kint(w, "last_seq", (int64_t)s.last_seq);
    cw_kint(w, "events", (int64_t)s.events);
    cw_kint(w, "complaints_received", s.n_cmp);
    list_write(w, "complaints_open", &open, n_open);
    list_write(w, "escalations", &s.escal, s.n_escal);
    list_write(w, "deadlines_fired", &s.fired, s.n_fired);
    cw_str(w, "money");
    money_write(w, &s);
    list_write(w, "cards_issued", &s.cards_issued, s.n_issued);
    list_write(w, "cards_lost", &s.cards_lost, s.n_lost);
    list_write(w, "release_passes", &s.passes, s.n_passes);
    h->has_result = true;
out:
    cw_release(&open);
    sheet_release(&s);
    return rc;
}

/* The outgoing clerk hands the shift over: the sheet's totals, the cash
 * counted and its difference from what the events say, recorded as they
 * are (a difference is never corrected here). */
int hdl_shift_handover(struct hctx *h, const struct args *a, struct err *e)
{
    struct sheet s;
    struct cw open;
    struct cw *w;
    char incoming[32];
    int64_t paid, voided, np, nv, counted = arg_int(a, "cash_counted");
    int off = h->cfg->cal.offset_min, rc;
    uint32_t n_open = 0;

    arg_copy(a, "incoming", incoming, sizeof(incoming));
    if (h->op && !strcmp(incoming, h->op->id))
        return err_set(e, ERR_INVALID, "incoming",
                       "the incoming clerk must be someone else");
    sheet_init(&s, h);
    cw_init(&open);
    if ((rc = sheet_args(&s, a, h->desk ? h->desk : "", e)) ||
        (rc = open_complaints(&s, &open, &n_open, e)))
        goto out;
    counts(&s, &paid, &voided, &np, &nv);
    w = hctx_data_begin(h);
    cw_map(w, 14 + (arg_has(a, "note") ? 1 : 0));
    cw_kstr(w, "desk", s.desk);
    cw_kts(w, "from", s.from, off);
    cw_kts(w, "to", s.to, off);
    cw_kstr(w, "incoming", incoming);
    cw_kint(w, "first_seq", (int64_t)s.first_seq);
    cw_kint(w, "last_seq", (int64_t)s.last_seq);
    cw_kint(w, "complaints_received", s.n_cmp);
    cw_kint(w, "complaints_open", n_open);
    cw_kint(w, "escalations", s.n_escal);
    cw_kint(w, "deadlines_fired", s.n_fired);
    cw_str(w, "money");
    money_write(w, &s);
    cw_kint(w, "cash_counted", counted);
    cw_kint(w, "cash_difference", counted - cash_expected(&s));
    cw_kint(w, "passes", s.n_passes);
    if (arg_has(a, "note"))
        cw_kobj(w, "note", arg(a, "note")->o);
    rc = emit(h, EV_SHIFT_HANDED_OVER, "shift:%s", s.desk[0] ? s.desk : "all");
out:
    cw_release(&open);
    sheet_release(&s);
    return rc;
}

struct ack_ctx {
    uint64_t handover;
    bool acked;
};

/* Whether an event of the shift's stream acknowledges handover. */
static int ack_seen(void *ctx, uint64_t seq, const char *body, size_t len)
{
    struct ack_ctx *c = ctx;
    struct codec_doc d;
    struct err e;
    int64_t of = 0;
    (void)seq;

    if (codec_doc_parse_trusted(&d, body, len, &e))
        return ERR_UNAVAILABLE;
    if (codec_obj_is_str(codec_get(d.obj, "type"),
                         ev_type_name(EV_SHIFT_HANDOVER_ACKED)) &&
        !codec_get_int(codec_get(d.obj, "data"), "handover", &of) &&
        (uint64_t)of == c->handover)
        c->acked = true;
    codec_doc_release(&d);
    return c->acked ? 1 : 0;
}

/* The incoming clerk takes the shift over: once, and only the clerk the
 * handover names. A count of their own is recorded beside the outgoing
 * clerk's, with the difference between the two, never reconciled here. */
int hdl_shift_handover_ack(struct hctx *h, const struct args *a, struct err *e)
{
    uint64_t seq = (uint64_t)arg_int(a, "handover");
    const unsigned char *hash;
    const char *body, *s, *stream;
    size_t len, n, sn;
    struct codec_doc d;
    const msgpack_object *data;
    struct ack_ctx c = {seq, false};
    char st[LOG_STREAM_MAX + 1];
    int64_t counted = 0;
    struct cw *w;
    bool scanned;
    int rc;

    if (seq >= h->next_seq ||
        log_get(h->ltxn, h->log, seq, &hash, &body, &len) ||
        codec_doc_parse_trusted(&d, body, len, e))
        return err_set(e, ERR_NOT_FOUND, "handover",
                       "event %llu is not a handover", (unsigned long long)seq);
    data = codec_get(d.obj, "data");
    if (!codec_obj_is_str(codec_get(d.obj, "type"),
                          ev_type_name(EV_SHIFT_HANDED_OVER)) ||
        codec_get_str(d.obj, "stream", &stream, &sn) || sn >= sizeof(st)) {
        codec_doc_release(&d);
        return err_set(e, ERR_NOT_FOUND, "handover",
                       "event %llu is not a handover", (unsigned long long)seq);
    }
    memcpy(st, stream, sn);
    st[sn] = '\0';
    if (codec_get_str(data, "incoming", &s, &n) || !h->op ||
        n != strlen(h->op->id) || memcmp(s, h->op->id, n)) {
        rc = err_set(e, ERR_RULE, "handover",
                     "only the incoming clerk named in handover %llu "
                     "acknowledges it",
                     (unsigned long long)seq);
        codec_doc_release(&d);
        return rc;
    }
    rc = log_stream_events(h->txn, h->ltxn, h->log, st, sn, ack_seen, &c,
                           &scanned);
    if (rc && !(rc == 1 && c.acked)) {
        codec_doc_release(&d);
        return err_set(e, ERR_UNAVAILABLE, NULL, "handover lookup failed");
    }
    if (c.acked) {
        codec_doc_release(&d);
        return err_set(e, ERR_RULE, "handover",
                       "handover %llu is already acknowledged",
                       (unsigned long long)seq);
    }
    w = hctx_data_begin(h);
    cw_map(w, 3 + (arg_has(a, "cash_counted") ? 2 : 0) +
                  (arg_has(a, "note") ? 1 : 0));
    cw_kint(w, "handover", (int64_t)seq);
    cw_kobj(w, "outgoing", codec_get(d.obj, "actor"));
    cw_kobj(w, "desk", codec_get(data, "desk"));
    if (arg_has(a, "cash_counted")) {
        codec_get_int(data, "cash_counted", &counted);
        cw_kint(w, "cash_counted", arg_int(a, "cash_counted"));
        cw_kint(w, "difference_from_outgoing",
                arg_int(a, "cash_counted") - counted);
    }
    if (arg_has(a, "note"))
        cw_kobj(w, "note", arg(a, "note")->o);
    codec_doc_release(&d);
    return emit(h, EV_SHIFT_HANDOVER_ACKED, "%s", st);
}
