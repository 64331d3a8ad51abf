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
#include "../projections/workorders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HO_DAYS_MAX 31 /* longest window: one month */
#define NMETH 4        /* pay_methods */

/* A payment or a void counted in the money of the shift, kept for
 * explain=true: fen is what it adds to its method's net (a void takes). */
struct pay_line {
    uint64_t seq;
    int method;
    bool voided;
    int64_t fen;
    char payment[24], unit[48];
};

/* What one shift's events add up to. */
struct sheet {
    struct hctx *h;
    bool explain;                /* keep the money lines (explain=true) */
    int64_t from, to;            /* [from, to), ms */
    int64_t next_to;             /* the next shift is [to, next_to) */
    char desk[CMD_DESK_MAX + 1]; /* "" for every desk */
    uint64_t first_seq, last_seq, events;
    uint64_t end_seq; /* the last event recorded before to (0: none) */
    int64_t paid[NMETH], voided[NMETH];
    uint32_t paid_n[NMETH], voided_n[NMETH], receipts;
    /* Encoded arrays and their lengths. */
    struct cw escal, fired, cards_issued, cards_lost, passes, keys_out, keys_in;
    uint32_t n_escal, n_fired, n_issued, n_lost, n_passes, n_keys_out,
        n_keys_in;
    /* Complaints received in the window (ids). */
    char (*cmp)[CMP_ID_MAX];
    uint32_t n_cmp, cap_cmp;
    struct pay_line *pays; /* explain only, in log order */
    uint32_t n_pays, cap_pays;
};

static void sheet_init(struct sheet *s, struct hctx *h)
{
    memset(s, 0, sizeof(*s));
    s->h = h;
    cw_init(&s->escal);
    cw_init(&s->fired);
    cw_init(&s->cards_issued);
    cw_init(&s->cards_lost);
    cw_init(&s->passes);
    cw_init(&s->keys_out);
    cw_init(&s->keys_in);
}

static void sheet_release(struct sheet *s)
{
    cw_release(&s->escal);
    cw_release(&s->fired);
    cw_release(&s->cards_issued);
    cw_release(&s->cards_lost);
    cw_release(&s->passes);
    cw_release(&s->keys_out);
    cw_release(&s->keys_in);
    free(s->cmp);
    free(s->pays);
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

/* Keys handed over at move-in or returned at move-out: {seq, at, unit,
 * keys}, the count read from the event's data key k. */
static void key_row(struct cw *w, uint32_t *n, uint64_t seq,
                    const msgpack_object *body, const char *k)
{
    const msgpack_object *data = codec_get(body, "data");
    const char *unit, *at;
    size_t un, an;
    int64_t keys = 0;

    if (codec_get_str(body, "recorded_at", &at, &an))
        at = "", an = 0;
    if (codec_get_str(data, "unit", &unit, &un))
        unit = "", un = 0;
    codec_get_int(data, k, &keys);
    cw_map(w, 4);
    cw_kint(w, "seq", (int64_t)seq);
    cw_kstrn(w, "at", at, an);
    cw_kstrn(w, "unit", unit, un);
    cw_kint(w, "keys", keys);
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

/* Keeps, for explain=true, the payment (or void) in body of amount fen by
 * method m. */
static int pay_add(struct sheet *s, uint64_t seq, const msgpack_object *body,
                   int m, int64_t fen, bool voided)
{
    const msgpack_object *data = codec_get(body, "data");
    struct pay_line *p;

    if (!s->explain)
        return 0;
    if (s->n_pays == s->cap_pays) {
        uint32_t cap = s->cap_pays ? s->cap_pays * 2 : 16;
        void *q = realloc(s->pays, cap * sizeof(*s->pays));
        if (!q)
            return ERR_UNAVAILABLE;
        s->pays = q;
        s->cap_pays = cap;
    }
    p = &s->pays[s->n_pays++];
    p->seq = seq;
    p->method = m;
    p->voided = voided;
    p->fen = voided ? -fen : fen;
    codec_copy_str(data, "payment", p->payment, sizeof(p->payment));
    codec_copy_str(data, "unit", p->unit, sizeof(p->unit));
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
        if (m < 0)
            return 0;
        s->paid[m] += amount;
        s->paid_n[m]++;
        return pay_add(s, seq, body, m, amount, false);
    case EV_PAYMENT_VOIDED:
        m = method_index(codec_get(data, "method"));
        codec_get_int(data, "amount", &amount);
        if (m < 0)
            return 0;
        s->voided[m] += amount;
        s->voided_n[m]++;
        return pay_add(s, seq, body, m, amount, true);
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
    case EV_MOVEIN_KEYS_HANDED:
        key_row(&s->keys_out, &s->n_keys_out, seq, body, "keys");
        return 0;
    case EV_UNIT_MOVED_OUT:
        key_row(&s->keys_in, &s->n_keys_in, seq, body, "keys_returned");
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
    s->end_seq = seq - 1; /* events before first_seq are before from */
    s->last_seq = s->events ? s->first_seq + s->events - 1 : 0;
    if (!s->events)
        s->first_seq = 0;
    return 0;
}

/* from, to, next_to (else as long a shift again) and desk (else
 * default_desk, which may be "") of a. */
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
    s->next_to =
        arg_has(a, "next_to") ? arg_int(a, "next_to") : 2 * s->to - s->from;
    if (s->next_to <= s->to)
        return err_set(e, ERR_INVALID, "next_to",
                       "'next_to' must be after 'to'");
    if (s->next_to - s->to > (int64_t)HO_DAYS_MAX * MS_PER_DAY)
        return err_set(e, ERR_INVALID, "next_to",
                       "the next shift is at most %d days long", HO_DAYS_MAX);
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
 * shift, in fen (R-GEN-04); extra keys follow (the caller writes them). */
static void money_write(struct cw *w, const struct sheet *s, uint32_t extra)
{
    int64_t paid, voided, np, nv, net[NMETH];

    counts(s, &paid, &voided, &np, &nv);
    for (int i = 0; i < NMETH; i++)
        net[i] = s->paid[i] - s->voided[i];
    cw_map(w, 9 + extra);
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

/* key: the payments of method m taken in the shift (R-FEE-03, +fen) and,
 * with voids, those voided in it (R-FEE-04, -fen), in log order, then how
 * they make the figure (R-GEN-04): their fen sum to it. */
static int why_money(struct sheet *s, struct cw *w, const char *key, int m,
                     bool voids, const char *figure)
{
    struct why y;
    int64_t sum = 0;
    int rc = 0;

    why_begin_in(&y, s->h, w, key);
    for (uint32_t i = 0; i < s->n_pays && !rc; i++) {
        const struct pay_line *p = &s->pays[i];
        if (p->method != m || (p->voided && !voids))
            continue;
        sum += p->fen;
        if (p->voided)
            rc = why_event(&y, p->seq, "R-FEE-04", p->fen,
                           "payment %s of %s (%s, %lld fen) voided in the "
                           "shift: taken back out",
                           p->payment, p->unit, pay_methods[m],
                           (long long)-p->fen);
        else
            rc = why_event(&y, p->seq, "R-FEE-03", p->fen,
                           "payment %s of %s taken by %s: %lld fen", p->payment,
                           p->unit, pay_methods[m], (long long)p->fen);
    }
    why_fact(&y, "rule", "R-GEN-04",
             "%s: the fen above summed as integers, %lld fen", figure,
             (long long)sum);
    why_end(&y);
    return rc;
}

/* money.why: {cash_expected, paid_by_method: {method: [...]},
 * net_by_method: {method: [...]}}. */
static int money_why(struct sheet *s, struct cw *w)
{
    char fig[96];
    int rc;

    cw_str(w, "why");
    cw_map(w, 3);
    if ((rc = why_money(s, w, "cash_expected", 0, true,
                        "cash to hand over = cash taken - cash voided")))
        return rc;
    cw_str(w, "paid_by_method");
    cw_map(w, NMETH);
    for (int m = 0; m < NMETH && !rc; m++) {
        snprintf(fig, sizeof(fig), "%s paid = the %s payments taken",
                 pay_methods[m], pay_methods[m]);
        rc = why_money(s, w, pay_methods[m], m, false, fig);
    }
    if (rc)
        return rc;
    cw_str(w, "net_by_method");
    cw_map(w, NMETH);
    for (int m = 0; m < NMETH && !rc; m++) {
        snprintf(fig, sizeof(fig), "%s net = %s taken - %s voided",
                 pay_methods[m], pay_methods[m], pay_methods[m]);
        rc = why_money(s, w, pay_methods[m], m, true, fig);
    }
    return rc;
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
static int open_write(struct open_ctx *o, const struct complaint *c)
{
    int rule, off = o->s->h->cfg->cal.offset_min;
    int64_t next = cmp_next_deadline(c, &rule);

    cw_map(o->w, 6 + (o->s->explain ? 1 : 0));
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
    if (!o->s->explain)
        return 0;
    /* why.next_deadline: the event that set it, as query.complaint says */
    cw_str(o->w, "why");
    cw_map(o->w, next ? 1 : 0);
    return next
               ? cmp_why_deadline(o->s->h, o->w, c, "next_deadline", rule, next)
               : 0;
}

/* Complaints received in the shift and not closed at its end, as the log
 * up to the shift's last event had them (so a replay, or a later reading,
 * gives the same list, even when a timer for a deadline inside the shift
 * fired only after it). */
static int open_complaints(const struct sheet *s, struct cw *w, uint32_t *n,
                           struct err *e)
{
    struct open_ctx o = {s, w, 0};

    for (uint32_t i = 0; i < s->n_cmp; i++) {
        struct complaint c;
        int rc = complaints_get_at_seq(s->h->txn, s->h->v, s->cmp[i],
                                       s->end_seq, &c);
        if (rc == MDB_NOTFOUND)
            continue;
        if (rc)
            return err_set(e, ERR_UNAVAILABLE, NULL, "complaint %s: %s",
                           s->cmp[i], mdb_strerror(rc));
        if (c.state != CS_CLOSED && (rc = open_write(&o, &c)))
            return err_set(e, ERR_UNAVAILABLE, NULL, "complaint %s: %s",
                           s->cmp[i], mdb_strerror(rc));
    }
    *n = o.n;
    return 0;
}

struct next_ctx {
    const struct sheet *s;
    int off;
    struct cw *w;
    uint32_t n;
};

/* The rule id of a deadline by its timer's command and rule. */
static const char *timer_rule_id(const msgpack_object *entry)
{
    static const struct {
        const char *cmd, *rule;
    } by_cmd[] = {
        {"renovation.expire_term", "R-REN-02"},
        {"renovation.passes_overdue", "R-REN-04"},
        {"renovation.violation_overdue", "R-REN-05"},
        {"release.expire", "R-REL-04"},
        {"movein.fix_overdue", "R-MOV-02"},
    };
    const msgpack_object *cmd = codec_get(entry, "cmd");
    char rule[32] = "";

    codec_copy_str(codec_get(entry, "body"), "rule", rule, sizeof(rule));
    if (codec_obj_is_str(cmd, "complaint.escalate") ||
        codec_obj_is_str(cmd, "complaint.auto_close"))
        return cmp_timer_rule_id(rule);
    if (codec_obj_is_str(cmd, "workorder.escalate"))
        return wo_rule_id(rule);
    for (size_t i = 0; i < sizeof(by_cmd) / sizeof(by_cmd[0]); i++)
        if (codec_obj_is_str(cmd, by_cmd[i].cmd))
            return by_cmd[i].rule;
    return "";
}

/* why.due of a next deadline: the event that armed its timer (timer_log
 * keeps its seq) and the timer's rule. */
static int next_why(struct next_ctx *c, int64_t due, uint64_t armed,
                    const msgpack_object *entry)
{
    struct why y;
    char key[96] = "", cmd[48] = "", when[TS_STR_MAX];
    int rc;

    codec_copy_str(entry, "key", key, sizeof(key));
    codec_copy_str(entry, "cmd", cmd, sizeof(cmd));
    ts_format(due, c->off, when);
    cw_str(c->w, "why");
    cw_map(c->w, 1);
    why_begin_in(&y, c->s->h, c->w, "due");
    rc = why_event(&y, armed, timer_rule_id(entry), WHY_NO_FEN,
                   "armed the timer %s: at %s deskd runs %s", key, when, cmd);
    why_end(&y);
    return rc;
}

/* A deadline of the next shift: {due, cmd, key, about} where about is the
 * timer's record (its ids and rule, without the due time). */
static int next_row(void *ctx, int64_t due, uint64_t armed,
                    const msgpack_object *entry)
{
    struct next_ctx *c = ctx;
    const msgpack_object *body = codec_get(entry, "body");
    uint32_t n = 0;
    size_t at;

    cw_map(c->w, 4 + (c->s->explain ? 1 : 0));
    cw_kts(c->w, "due", due, c->off);
    cw_kobj(c->w, "cmd", codec_get(entry, "cmd"));
    cw_kobj(c->w, "key", codec_get(entry, "key"));
    cw_str(c->w, "about");
    at = cw_map_open(c->w);
    for (uint32_t i = 0;
         body && body->type == MSGPACK_OBJECT_MAP && i < body->via.map.size;
         i++) {
        const msgpack_object_kv *kv = &body->via.map.ptr[i];
        if (codec_obj_is_str(&kv->key, "due"))
            continue;
        cw_obj(c->w, &kv->key);
        cw_obj(c->w, &kv->val);
        n++;
    }
    cw_map_close(c->w, at, n);
    c->n++;
    if (c->s->explain && next_why(c, due, armed, entry))
        return -ERR_UNAVAILABLE;
    return 0;
}

/* Every deadline (a live timer) due in the next shift, as the timers stood
 * once the shift's last event was applied: what the incoming clerk was
 * handed, whatever happened since. */
static int next_deadlines(const struct sheet *s, struct cw *w, uint32_t *n,
                          struct err *e)
{
    struct next_ctx c = {s, s->h->cfg->cal.offset_min, w, 0};
    int rc = s->end_seq ? timer_each_live(s->h->txn, s->h->v, s->to, s->next_to,
                                          s->end_seq, next_row, &c)
                        : 0;

    *n = c.n;
    return rc ? err_set(e, ERR_UNAVAILABLE, NULL, "timers: %s",
                        rc < 0 ? "the log cannot be read" : mdb_strerror(rc))
              : 0;
}

struct visit_ctx {
    int off;
    struct cw *w;
    uint32_t n;
};

/* R-WO-03: a repair or housekeeping order done and not yet visited back:
 * {order, kind, unit, assignee, completed, visit_due}. */
static int visit_row(void *ctx, const void *rec)
{
    struct visit_ctx *c = ctx;
    const struct workorder *o = rec;

    if (o->state != WS_COMPLETED || o->visit_result[0] || !wo_needs_visit(o))
        return 0;
    cw_map(c->w, 6);
    cw_kstr(c->w, "order", o->id);
    cw_kstr(c->w, "kind", o->kind);
    cw_kstr(c->w, "unit", o->unit);
    cw_kstr(c->w, "assignee", o->assignee);
    cw_kts(c->w, "completed", o->completed, c->off);
    if (o->visit_due)
        cw_kts(c->w, "visit_due", o->visit_due, c->off);
    else
        cw_knil(c->w, "visit_due");
    c->n++;
    return 0;
}

/* Work orders waiting for a return visit at the end of the shift, as the
 * log up to its last event had them (like the open complaints). */
static int return_visits(const struct sheet *s, struct cw *w, uint32_t *n,
                         struct err *e)
{
    struct visit_ctx c = {s->h->cfg->cal.offset_min, w, 0};
    int rc =
        workorders_each_at_seq(s->h->txn, s->h->v, s->end_seq, visit_row, &c);

    *n = c.n;
    return rc ? err_set(e, ERR_UNAVAILABLE, NULL, "work orders: %s",
                        mdb_strerror(rc))
              : 0;
}

/* What the sheet lists beside the window's own events. */
struct sheet_lists {
    struct cw open, next, visits;
    uint32_t n_open, n_next, n_visits;
};

static void lists_init(struct sheet_lists *l)
{
    memset(l, 0, sizeof(*l));
    cw_init(&l->open);
    cw_init(&l->next);
    cw_init(&l->visits);
}

static int lists_read(struct sheet_lists *l, const struct sheet *s,
                      struct err *e)
{
    int rc;

    if ((rc = open_complaints(s, &l->open, &l->n_open, e)) ||
        (rc = next_deadlines(s, &l->next, &l->n_next, e)))
        return rc;
    return return_visits(s, &l->visits, &l->n_visits, e);
}

static void lists_release(struct sheet_lists *l)
{
    cw_release(&l->open);
    cw_release(&l->next);
    cw_release(&l->visits);
}

int hdl_query_handover(struct hctx *h, const struct args *a, struct err *e)
{
    struct sheet s;
    struct sheet_lists l;
    struct cw *w = h->result;
    int off = h->cfg->cal.offset_min, rc;

    sheet_init(&s, h);
    s.explain = hdl_explain(a);
    lists_init(&l);
    if ((rc = sheet_args(&s, a, "", e)) || (rc = lists_read(&l, &s, e)))
        goto out;
    cw_map(w, 20);
    cw_kstr(w, "desk", s.desk);
    cw_kts(w, "from", s.from, off);
    cw_kts(w, "to", s.to, off);
    cw_kts(w, "next_to", s.next_to, off);
    cw_kint(w, "first_seq", (int64_t)s.first_seq);
    cw_kint(w, "last_seq", (int64_t)s.last_seq);
    cw_kint(w, "end_seq", (int64_t)s.end_seq);
    cw_kint(w, "events", (int64_t)s.events);
    cw_kint(w, "complaints_received", s.n_cmp);
    list_write(w, "complaints_open", &l.open, l.n_open);
    list_write(w, "escalations", &s.escal, s.n_escal);
    list_write(w, "deadlines_fired", &s.fired, s.n_fired);
    list_write(w, "deadlines_next", &l.next, l.n_next);
    cw_str(w, "money");
    money_write(w, &s, s.explain ? 1 : 0);
    if (s.explain && (rc = money_why(&s, w))) {
        rc = err_set(e, ERR_UNAVAILABLE, NULL, "the log cannot be read");
        goto out;
    }
    list_write(w, "cards_issued", &s.cards_issued, s.n_issued);
    list_write(w, "cards_lost", &s.cards_lost, s.n_lost);
    list_write(w, "keys_handed", &s.keys_out, s.n_keys_out);
    list_write(w, "keys_returned", &s.keys_in, s.n_keys_in);
    list_write(w, "release_passes", &s.passes, s.n_passes);
    list_write(w, "return_visits", &l.visits, l.n_visits);
    h->has_result = true;
out:
    lists_release(&l);
    sheet_release(&s);
    return rc;
}

/* The outgoing clerk hands the shift over: the sheet's totals, the cash
 * counted and its difference from what the events say, recorded as they
 * are (a difference is never corrected here). */
int hdl_shift_handover(struct hctx *h, const struct args *a, struct err *e)
{
    struct sheet s;
    struct sheet_lists l;
    struct cw *w;
    char incoming[32];
    int64_t paid, voided, np, nv, counted = arg_int(a, "cash_counted");
    int off = h->cfg->cal.offset_min, rc;

    arg_copy(a, "incoming", incoming, sizeof(incoming));
    if (h->op && !strcmp(incoming, h->op->id))
        return err_set(e, ERR_INVALID, "incoming",
                       "the incoming clerk must be someone else");
    sheet_init(&s, h);
    lists_init(&l);
    if ((rc = sheet_args(&s, a, h->desk ? h->desk : "", e)) ||
        (rc = lists_read(&l, &s, e)))
        goto out;
    counts(&s, &paid, &voided, &np, &nv);
    w = hctx_data_begin(h);
    cw_map(w, 19 + (arg_has(a, "note") ? 1 : 0));
    cw_kstr(w, "desk", s.desk);
    cw_kts(w, "from", s.from, off);
    cw_kts(w, "to", s.to, off);
    cw_kstr(w, "incoming", incoming);
    cw_kint(w, "first_seq", (int64_t)s.first_seq);
    cw_kint(w, "last_seq", (int64_t)s.last_seq);
    cw_kint(w, "complaints_received", s.n_cmp);
    cw_kint(w, "complaints_open", l.n_open);
    cw_kint(w, "escalations", s.n_escal);
    cw_kint(w, "deadlines_fired", s.n_fired);
    cw_kts(w, "next_to", s.next_to, off);
    cw_kint(w, "deadlines_next", l.n_next);
    cw_str(w, "money");
    money_write(w, &s, 0);
    cw_kint(w, "cash_counted", counted);
    cw_kint(w, "cash_difference", counted - cash_expected(&s));
    cw_kint(w, "passes", s.n_passes);
    cw_kint(w, "keys_handed", s.n_keys_out);
    cw_kint(w, "keys_returned", s.n_keys_in);
    cw_kint(w, "return_visits", l.n_visits);
    if (arg_has(a, "note"))
        cw_kobj(w, "note", arg(a, "note")->o);
    rc = emit(h, EV_SHIFT_HANDED_OVER, "shift:%s", s.desk[0] ? s.desk : "all");
out:
    lists_release(&l);
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
