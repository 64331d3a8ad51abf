/* handlers/fee_queries.c - what the desk and the cashier read about money:
 * the overdue list with aging buckets and chase stages (R-FEE-06), as of
 * any date (R-FEE-07); the unit statement; the daily takings; the
 * large-debtor list for manager visits. */
#include <stdlib.h>
#include <string.h>

#include "../core/rates.h"
#include "../projections/fees.h"
#include "../projections/units.h"
#include "handlers.h"

#define OVERDUE_PAYERS_MAX 8   /* payers of one unit in one list */
#define OVERDUE_GROUPS_MAX 256 /* buildings in one estate's totals */
#define OVERDUE_ROW_BILLS 64   /* bills listed in one row ("more" beyond) */

struct owed_ctx {
    const char *payer;
    int64_t owed;
};

static int add_owed(void *ctx, const struct bill *b)
{
    struct owed_ctx *c = ctx;
    if (!strcmp(b->payer, c->payer))
        c->owed += b->amount - b->settled;
    return 0;
}

int fee_owed_by(struct hctx *h, const char *unit, const char *payer,
                int64_t *owed)
{
    struct owed_ctx c = {payer, 0};
    int rc = fees_each_unit_bill(h->txn, h->v, unit, true, add_owed, &c);
    *owed = c.owed;
    return rc;
}

/* One overdue bill of a row: what it still owes as of the day. */
struct row_bill {
    char id[BILL_ID_MAX];
    char period[16];
    char item[24];
    int64_t owed;
    int32_t due;
};

/* One (unit, payer) row being summed, with its bills. */
struct row {
    char unit[UNIT_KEY_MAX];
    char payer[PERSON_ID_MAX];
    int64_t amount;
    int32_t oldest;
    int nbills;
    struct row_bill bills[OVERDUE_ROW_BILLS];
};

struct group {
    char name[UNIT_KEY_MAX];
    int64_t amount;
    int units;
};

struct overdue_ctx {
    struct hctx *h;
    int32_t asof;
    int64_t asof_end;
    bool live;
    bool explain; /* each row says why (explain=true) */
    const char *prefix;
    size_t plen;
    int64_t min_amount; /* large-debtor list: at least this */
    struct row rows[OVERDUE_PAYERS_MAX];
    int nrows;
    struct group groups[OVERDUE_GROUPS_MAX];
    int ngroups;
    int64_t total;
    uint32_t n;
    int rc;
};

static const char *bucket(int64_t days)
{
    return fees_bucket_names[fees_bucket(days)];
}

/* R-FEE-06: the chase stage follows from how long the oldest bill is
 * overdue; an approved extension pauses it. */
static const char *stage(int64_t days, const struct chase *c, int32_t asof)
{
    if (c->extension_until != DATE_NONE && c->extension_until >= asof)
        return "extension";
    return days <= 30   ? "reminder"
           : days <= 60 ? "first_notice"
           : days <= 90 ? "second_notice"
                        : "legal";
}

static void add_group(struct overdue_ctx *c, const char *unit, int64_t amt)
{
    char name[UNIT_KEY_MAX];
    const char *dash = strrchr(unit, '-');
    int i;
    snprintf(name, sizeof(name), "%.*s",
             (int)(dash ? (size_t)(dash - unit) : strlen(unit)), unit);
    for (i = 0; i < c->ngroups && strcmp(c->groups[i].name, name); i++)
        ;
    if (i == c->ngroups) {
        if (c->ngroups == OVERDUE_GROUPS_MAX)
            return;
        snprintf(c->groups[c->ngroups++].name, UNIT_KEY_MAX, "%s", name);
    }
    c->groups[i].amount += amt;
    c->groups[i].units++;
}

/* What the bills listed in a row owe together. */
static int64_t row_listed(const struct row *r)
{
    int64_t t = 0;

    for (int i = 0; i < r->nbills; i++)
        t += r->bills[i].owed;
    return t;
}

static void kdate_or_nil(struct cw *w, const char *k, int32_t day)
{
    if (day == DATE_NONE)
        cw_knil(w, k);
    else
        cw_kdate(w, k, day);
}

/* The row's bills, oldest due first, each with its own days overdue and
 * aging bucket (R-FEE-06). */
static void write_bills(struct overdue_ctx *c, const struct row *r)
{
    struct cw *w = c->h->result;

    cw_str(w, "bills");
    cw_array(w, (uint32_t)r->nbills);
    for (int i = 0; i < r->nbills; i++) {
        const struct row_bill *b = &r->bills[i];
        int64_t days = (int64_t)c->asof - b->due;
        cw_map(w, 7);
        cw_kstr(w, "bill", b->id);
        cw_kstr(w, "period", b->period);
        cw_kstr(w, "item", b->item);
        cw_kint(w, "owed", b->owed);
        cw_kdate(w, "due", b->due);
        cw_kint(w, "days_overdue", days);
        cw_kstr(w, "bucket", bucket(days));
    }
}

/* ---- explain=true: why a row owes what it owes ---- */

/* The rule each kind of settlement line follows. */
static const char *settle_rule(const char *kind)
{
    return !strcmp(kind, "payment")      ? "R-FEE-03"
           : !strcmp(kind, "void")       ? "R-FEE-04"
           : !strcmp(kind, "prepayment") ? "R-FEE-05"
                                         : "R-FEE-08"; /* waiver */
}

struct why_bill_ctx {
    struct why *y;
    const char *bill;
};

/* A waiver names who approved it and why (R-FEE-08); the reason is
 * free text and leaves masked like the rest of the result (R-GEN-02). */
static int why_waiver(struct why_bill_ctx *b, const struct settlement *s,
                      const char *day)
{
    char approver[32] = "", reason[256] = "";
    struct codec_doc d;
    struct event ev;
    int rc = hdl_event_get(b->y->h, s->seq, &d, &ev);

    if (rc)
        return rc;
    codec_copy_str(ev.data, "approver", approver, sizeof(approver));
    codec_copy_str(ev.data, "reason", reason, sizeof(reason));
    why_entry(b->y, s->seq, ev_type_name(ev.type), ev.occurred_at,
              settle_rule(s->kind), -s->amount,
              "waiver of %lld fen on %s approved by %s (dated %s): %s",
              (long long)s->amount, b->bill, approver, day, reason);
    codec_doc_release(&d);
    return 0;
}

/* A line that settled (or, voided, unsettled) the bill: takes from what
 * it owes. */
static int why_settlement(void *ctx, const struct settlement *s)
{
    struct why_bill_ctx *b = ctx;
    char day[DATE_STR_MAX];

    date_format(s->occ, day);
    if (!strcmp(s->kind, "waiver"))
        return why_waiver(b, s, day);
    if (!strcmp(s->kind, "void"))
        return why_event(b->y, s->seq, settle_rule(s->kind), -s->amount,
                         "payment %s voided: %lld fen of %s owed again "
                         "(dated %s)",
                         s->ref, (long long)-s->amount, b->bill, day);
    return why_event(b->y, s->seq, settle_rule(s->kind), -s->amount,
                     "%s %s settles %lld fen of %s (dated %s)", s->kind, s->ref,
                     (long long)s->amount, b->bill, day);
}

/* The late fee's own inputs, as the run recorded them (R-FEE-08), and
 * the policy configured now. */
static void why_late_fee(struct why *y, const struct bill *b,
                         const struct event *ev)
{
    int64_t principal = 0, days = 0, daily = 0, cap = 0, before = 0;
    int32_t run = DATE_NONE, grace = 0;
    const struct late_policy *p;
    struct bill base;
    const char *s;
    size_t n;

    codec_get_int(ev->data, "principal", &principal);
    codec_get_int(ev->data, "days", &days);
    codec_get_int(ev->data, "daily_bp", &daily);
    codec_get_int(ev->data, "cap_bp", &cap);
    codec_get_int(ev->data, "previously", &before);
    if (!codec_get_str(ev->data, "date", &s, &n))
        date_parse(s, n, &run);
    if (fees_get_bill(y->h->txn, y->h->v, b->period, &base)) {
        base.item[0] = '\0';
        base.due = run;
    }
    grace = (int32_t)(run - base.due - days);
    why_entry(y, ev->seq, ev_type_name(ev->type), ev->occurred_at, "R-FEE-08",
              b->amount,
              "late fee %s on %s: %lld fen unpaid x %lld bp a day x %lld "
              "days past %d days' grace / 10000, at most %lld bp of the "
              "principal; %lld fen assessed before, %lld fen now",
              b->id, b->period, (long long)principal, (long long)daily,
              (long long)days, grace, (long long)cap, (long long)before,
              (long long)b->amount);
    if (!base.item[0])
        return;
    if ((p = rates_late(&y->h->cfg->fees, base.item)))
        why_fact(y, "config", "R-FEE-08",
                 "[fees] late_fee.%s = grace=%d daily_bp=%d cap_bp=%d "
                 "(the policy now)",
                 base.item, p->grace_days, p->daily_bp, p->cap_bp);
    else
        why_fact(y, "config", "R-FEE-08",
                 "no late-fee policy for %s now (off by default)", base.item);
}

/* One listed bill: its own event (what it charged), each line that
 * settled it by the day, and what it owes then (R-FEE-06). */
static int why_one_bill(struct overdue_ctx *c, struct why *y,
                        const struct row_bill *rb)
{
    struct why_bill_ctx bc = {y, rb->id};
    struct codec_doc d;
    struct event ev;
    struct bill b;
    char due[DATE_STR_MAX], day[DATE_STR_MAX];
    int64_t rate = 0, days = (int64_t)c->asof - rb->due;
    int rc;

    if ((rc = fees_get_bill(c->h->txn, c->h->v, rb->id, &b)) ||
        (rc = hdl_event_get(c->h, strtoull(rb->id + 1, NULL, 10), &d, &ev)))
        return rc;
    date_format(b.due, due);
    if (ev.type == EV_LATE_FEE_ASSESSED) {
        why_late_fee(y, &b, &ev);
    } else {
        char rated[64] = "";
        const char *basis;
        size_t bl;
        if (!codec_get_int(ev.data, "rate", &rate) &&
            !codec_get_str(ev.data, "basis", &basis, &bl))
            snprintf(rated, sizeof(rated),
                     " (rate %lld fen per %.*s, R-FEE-01)", (long long)rate,
                     (int)bl, basis);
        why_entry(y, ev.seq, ev_type_name(ev.type), ev.occurred_at, "R-FEE-02",
                  b.amount, "bill %s: %s %s, %lld fen due %s%s", b.id, b.item,
                  b.period, (long long)b.amount, due, rated);
    }
    codec_doc_release(&d);
    if ((rc = fees_each_settlement(c->h->txn, c->h->v, rb->id, c->asof,
                                   c->asof_end, why_settlement, &bc)))
        return rc;
    date_format(c->asof, day);
    why_fact(y, "rule", "R-FEE-06",
             "%s was due %s, overdue from the next day: %lld days on %s "
             "(%s), owing %lld fen",
             rb->id, due, (long long)days, day, bucket(days),
             (long long)rb->owed);
    return 0;
}

static int why_chase(void *ctx, uint64_t seq, const msgpack_object *e)
{
    struct why *y = ctx;
    const msgpack_object *d = codec_get(e, "data");
    char until[16] = "", stage_s[16] = "", deadline[16] = "";

    if (codec_obj_is_str(codec_get(e, "kind"), "extension")) {
        codec_copy_str(d, "until", until, sizeof(until));
        return why_event(y, seq, "R-FEE-06", WHY_NO_FEN,
                         "hardship extension until %s: the stage shows "
                         "extension until then",
                         until);
    }
    if (!codec_obj_is_str(codec_get(e, "kind"), "notice"))
        return 0; /* the fee start: not about being overdue */
    codec_copy_str(d, "stage", stage_s, sizeof(stage_s));
    codec_copy_str(d, "deadline", deadline, sizeof(deadline));
    return why_event(y, seq, "R-FEE-06", WHY_NO_FEN, "%s notice delivered%s%s",
                     stage_s, deadline[0] ? ", deadline " : "", deadline);
}

/* "why": {"amount": the bills and what settled them, summing to the
 * amount; "stage": the aging rule, extensions and notices}. */
static int write_why(struct overdue_ctx *c, const struct row *r,
                     const struct chase *ch, int64_t days)
{
    struct cw *w = c->h->result;
    char oldest[DATE_STR_MAX], day[DATE_STR_MAX];
    struct why y;
    int rc = 0;

    cw_str(w, "why");
    cw_map(w, 2);
    why_begin(&y, c->h, "amount");
    for (int i = 0; i < r->nbills && !rc; i++)
        rc = why_one_bill(c, &y, &r->bills[i]);
    if (r->nbills == OVERDUE_ROW_BILLS && r->amount > row_listed(r))
        why_fact(&y, "rule", "R-FEE-06",
                 "only the oldest %d bills are listed and explained",
                 OVERDUE_ROW_BILLS);
    why_end(&y);
    date_format(r->oldest, oldest);
    date_format(c->asof, day);
    why_begin(&y, c->h, "stage");
    why_fact(&y, "rule", "R-FEE-06",
             "oldest overdue bill due %s: %lld days overdue on %s, bucket "
             "%s; stage by days: 1-30 reminder, 31-60 first_notice, 61-90 "
             "second_notice, over 90 legal",
             oldest, (long long)days, day, bucket(days));
    if (!rc)
        rc = fees_each_chase(c->h->txn, c->h->v, r->unit, c->asof_end,
                             why_chase, &y);
    if (ch->extension_until != DATE_NONE && ch->extension_until >= c->asof)
        why_fact(&y, "rule", "R-FEE-06",
                 "an extension covers %s: the stage is extension", day);
    why_end(&y);
    return rc;
}

static void write_row(struct overdue_ctx *c, const struct row *r,
                      int64_t unit_total)
{
    struct cw *w = c->h->result;
    struct chase ch;
    int64_t days = (int64_t)c->asof - r->oldest;

    fees_chase(c->h->txn, c->h->v, r->unit, c->asof_end, &ch);
    cw_map(w, 13 + (c->explain ? 1 : 0));
    cw_kstr(w, "unit", r->unit);
    cw_kstr(w, "payer", r->payer);
    cw_kint(w, "amount", r->amount);
    cw_kdate(w, "oldest_due", r->oldest);
    cw_kint(w, "days_overdue", days);
    cw_kstr(w, "bucket", bucket(days));
    cw_kstr(w, "stage", stage(days, &ch, c->asof));
    cw_kstr(w, "notice", ch.notice);
    cw_str(w, "extension_until");
    if (ch.extension_until != DATE_NONE) {
        char d[DATE_STR_MAX];
        date_format(ch.extension_until, d);
        cw_str(w, d);
    } else {
        cw_nil(w);
    }
    /* the deadline the second notice set (R-FEE-06), while it is the
     * last notice delivered */
    kdate_or_nil(w, "notice_deadline", ch.notice_deadline);
    cw_kint(w, "unit_total", unit_total);
    cw_kbool(w, "more_bills",
             r->nbills == OVERDUE_ROW_BILLS && r->amount > row_listed(r));
    write_bills(c, r);
    if (c->explain && !c->rc)
        c->rc = write_why(c, r, &ch, days);
    c->n++;
    c->total += r->amount;
    add_group(c, r->unit, r->amount);
}

/* The unit's rows (one per payer), each with the unit's total across
 * its payers. */
static void flush_rows(struct overdue_ctx *c)
{
    int64_t unit_total = 0;

    for (int i = 0; i < c->nrows; i++)
        unit_total += c->rows[i].amount;
    for (int i = 0; i < c->nrows; i++)
        if (c->rows[i].amount >= c->min_amount)
            write_row(c, &c->rows[i], unit_total);
    c->nrows = 0;
}

static int overdue_bill(void *ctx, const struct bill *b)
{
    struct overdue_ctx *c = ctx;
    int64_t open = b->amount - b->settled;
    int i;

    if (c->plen && strncmp(b->unit, c->prefix, c->plen))
        return 0;
    if (b->due >= c->asof)
        return 0; /* not due yet: paying on the due date is in time */
    if (!c->live && (c->rc = fees_overdue_as_of(c->h->txn, c->h->v, b, c->asof,
                                                c->asof_end, &open)))
        return -1;
    if (open <= 0)
        return 0;
    if (c->nrows && strcmp(c->rows[0].unit, b->unit))
        flush_rows(c);
    for (i = 0; i < c->nrows && strcmp(c->rows[i].payer, b->payer); i++)
        ;
    if (i == c->nrows) {
        if (c->nrows == OVERDUE_PAYERS_MAX)
            return 0;
        memset(&c->rows[i], 0, sizeof(c->rows[i]));
        snprintf(c->rows[i].unit, UNIT_KEY_MAX, "%s", b->unit);
        snprintf(c->rows[i].payer, PERSON_ID_MAX, "%s", b->payer);
        c->rows[i].oldest = b->due;
        c->nrows++;
    }
    c->rows[i].amount += open;
    if (b->due < c->rows[i].oldest)
        c->rows[i].oldest = b->due;
    if (c->rows[i].nbills < OVERDUE_ROW_BILLS) { /* bills come in due order */
        struct row_bill *rb = &c->rows[i].bills[c->rows[i].nbills++];
        snprintf(rb->id, sizeof(rb->id), "%s", b->id);
        snprintf(rb->period, sizeof(rb->period), "%s", b->period);
        snprintf(rb->item, sizeof(rb->item), "%s", b->item);
        rb->owed = open;
        rb->due = b->due;
    }
    return 0;
}

static void write_totals(struct overdue_ctx *c)
{
    struct cw *w = c->h->result;
    cw_kint(w, "total", c->total);
    cw_str(w, "buildings");
    cw_array(w, (uint32_t)c->ngroups);
    for (int i = 0; i < c->ngroups; i++) {
        cw_map(w, 3);
        cw_kstr(w, "building", c->groups[i].name);
        cw_kint(w, "amount", c->groups[i].amount);
        cw_kint(w, "units", c->groups[i].units);
    }
}

/* Live: walks the bills that owe something now. As of a past day: walks
 * every bill and counts only what was recorded by the end of that day and
 * dated on or before it (R-FEE-07). */
static int overdue(struct hctx *h, const struct args *a, int64_t min_amount,
                   struct err *e)
{
    char prefix[UNIT_KEY_MAX + 2] = "";
    struct overdue_ctx *c = calloc(1, sizeof(*c));
    struct cw *w = h->result;
    size_t at;
    int rc;

    if (!c)
        return err_set(e, ERR_UNAVAILABLE, NULL, "out of memory");
    if (arg_has(a, "estate") && arg_has(a, "building"))
        snprintf(prefix, sizeof(prefix), "%.*s/%.*s-",
                 (int)arg(a, "estate")->len, arg(a, "estate")->s,
                 (int)arg(a, "building")->len, arg(a, "building")->s);
    else if (arg_has(a, "estate"))
        snprintf(prefix, sizeof(prefix), "%.*s/", (int)arg(a, "estate")->len,
                 arg(a, "estate")->s);
    c->h = h;
    c->prefix = prefix;
    c->plen = strlen(prefix);
    c->min_amount = min_amount;
    c->asof = hdl_today(h);
    c->live = !arg_has(a, "as_of") || arg_int(a, "as_of") >= c->asof;
    c->explain = hdl_explain(a);
    if (arg_has(a, "as_of"))
        c->asof = (int32_t)arg_int(a, "as_of");
    c->asof_end = ts_of_date(c->asof + 1, 0, h->cfg->cal.offset_min) - 1;
    cw_map(w, 5);
    cw_kdate(w, "as_of", c->asof);
    cw_str(w, "units");
    at = cw_array_open(w);
    rc = fees_each_bill(h->txn, h->v, c->live, overdue_bill, c);
    flush_rows(c);
    cw_array_close(w, at, c->n);
    cw_kint(w, "count", c->n);
    write_totals(c);
    rc = rc || c->rc;
    free(c);
    h->has_result = true;
    return rc ? err_set(e, ERR_UNAVAILABLE, NULL, "overdue scan failed") : 0;
}

int hdl_query_overdue(struct hctx *h, const struct args *a, struct err *e)
{
    return overdue(h, a, 0, e);
}

/* R-FEE-06: large debtors, for the manager's visits. */
int hdl_query_large_debtors(struct hctx *h, const struct args *a, struct err *e)
{
    return overdue(h, a, h->cfg->fees.large_debtor_fen, e);
}

struct stmt_ctx {
    struct cw *w;
    int32_t asof;
    int64_t asof_end;
    int64_t balance;
    uint32_t n;
};

/* One statement line with the running balance (what the unit owes). */
static int stmt_line(void *ctx, const msgpack_object *l)
{
    struct stmt_ctx *c = ctx;
    const char *s;
    size_t n;
    int32_t day;
    int64_t rec = 0, debit = 0, credit = 0;

    codec_get_int(l, "recorded", &rec);
    if (codec_get_str(l, "date", &s, &n) || date_parse(s, n, &day) ||
        rec > c->asof_end || day > c->asof)
        return 0;
    codec_get_int(l, "debit", &debit);
    codec_get_int(l, "credit", &credit);
    c->balance += debit - credit;
    cw_map(c->w, codec_get(l, "receipt_book") ? 8 : 6);
    if (codec_get(l, "receipt_book")) {
        cw_kobj(c->w, "receipt_book", codec_get(l, "receipt_book"));
        cw_kobj(c->w, "receipt_no", codec_get(l, "receipt_no"));
    }
    cw_kobj(c->w, "date", codec_get(l, "date"));
    cw_kobj(c->w, "kind", codec_get(l, "kind"));
    cw_kobj(c->w, "ref", codec_get(l, "ref"));
    cw_kint(c->w, "debit", debit);
    cw_kint(c->w, "credit", credit);
    cw_kint(c->w, "balance", c->balance);
    c->n++;
    return 0;
}

/* The unit's account: every bill, payment, void, late fee, waiver and
 * prepayment use, in the order recorded, with a running balance; as of a
 * date it shows only what was known and dated by then (R-FEE-07). */
int hdl_query_statement(struct hctx *h, const struct args *a, struct err *e)
{
    char unit[UNIT_KEY_MAX];
    struct stmt_ctx c = {h->result, 0, 0, 0, 0};
    struct codec_doc d;
    int64_t prepaid;
    size_t at;

    arg_copy(a, "unit", unit, sizeof(unit));
    if (units_get_unit(h->txn, h->v, unit, &d))
        return err_set(e, ERR_NOT_FOUND, "unit", "unit '%s' is not registered",
                       unit);
    codec_doc_release(&d);
    c.asof = arg_has(a, "as_of") ? (int32_t)arg_int(a, "as_of") : hdl_today(h);
    c.asof_end = ts_of_date(c.asof + 1, 0, h->cfg->cal.offset_min) - 1;
    cw_map(c.w, 5);
    cw_kstr(c.w, "unit", unit);
    cw_kdate(c.w, "as_of", c.asof);
    cw_str(c.w, "lines");
    at = cw_array_open(c.w);
    if (fees_each_line(h->txn, h->v, unit, stmt_line, &c) ||
        fees_prepaid(h->txn, h->v, unit, &prepaid))
        return err_set(e, ERR_UNAVAILABLE, NULL, "statement failed");
    cw_array_close(c.w, at, c.n);
    cw_kint(c.w, "balance", c.balance);
    cw_kint(c.w, "prepaid_now", prepaid);
    h->has_result = true;
    return 0;
}

struct takings_ctx {
    struct cw *w;
    const struct argv *desk;
    int64_t total;
    uint32_t n;
};

static int taking(void *ctx, const msgpack_object *t)
{
    struct takings_ctx *c = ctx;
    int64_t amount = 0;
    const msgpack_object *desk = codec_get(t, "desk");
    if (c->desk->set && (!desk || desk->via.str.size != c->desk->len ||
                         memcmp(desk->via.str.ptr, c->desk->s, c->desk->len)))
        return 0;
    codec_get_int(t, "amount", &amount);
    c->total += amount;
    cw_obj(c->w, t);
    c->n++;
    return 0;
}

/* The cashier's check: money taken per desk and method on a day (voids on
 * the day they were made, as negative lines). */
int hdl_query_takings(struct hctx *h, const struct args *a, struct err *e)
{
    struct takings_ctx c = {h->result, arg(a, "desk"), 0, 0};
    int32_t day =
        arg_has(a, "date") ? (int32_t)arg_int(a, "date") : hdl_today(h);
    size_t at;

    cw_map(c.w, 3);
    cw_kdate(c.w, "date", day);
    cw_str(c.w, "lines");
    at = cw_array_open(c.w);
    if (fees_each_taking(h->txn, h->v, day, taking, &c))
        return err_set(e, ERR_UNAVAILABLE, NULL, "takings failed");
    cw_array_close(c.w, at, c.n);
    cw_kint(c.w, "total", c.total);
    h->has_result = true;
    return 0;
}

struct receipts_ctx {
    struct cw *w;
    uint32_t n;
};

static int receipt_line(void *ctx, const msgpack_object *r)
{
    struct receipts_ctx *c = ctx;
    const msgpack_object *card = codec_get(r, "card");
    bool voided = false;
    codec_get_bool(r, "voided", &voided);
    cw_map(c->w, 7 + (card ? 1 : 0));
    cw_kobj(c->w, "number", codec_get(r, "number"));
    cw_kobj(c->w, "date", codec_get(r, "date"));
    cw_kobj(c->w, "payment", codec_get(r, "payment"));
    cw_kobj(c->w, "unit", codec_get(r, "unit"));
    cw_kobj(c->w, "amount", codec_get(r, "amount"));
    cw_kbool(c->w, "voided", voided);
    cw_kobj(c->w, "book", codec_get(r, "book"));
    if (card) /* a card's fee names the card (R-CARD-02) */
        cw_kobj(c->w, "card", card);
    c->n++;
    return 0;
}

/* R-FEE-04: a receipt book, every number in order, voided ones marked. */
int hdl_query_receipts(struct hctx *h, const struct args *a, struct err *e)
{
    char book[32];
    struct receipts_ctx c = {h->result, 0};
    size_t at;

    arg_copy(a, "book", book, sizeof(book));
    cw_map(c.w, 2);
    cw_kstr(c.w, "book", book);
    cw_str(c.w, "receipts");
    at = cw_array_open(c.w);
    if (fees_each_receipt(h->txn, h->v, book, receipt_line, &c))
        return err_set(e, ERR_UNAVAILABLE, NULL, "receipt lookup failed");
    cw_array_close(c.w, at, c.n);
    h->has_result = true;
    return 0;
}
