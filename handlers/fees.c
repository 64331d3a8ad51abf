/* handlers/fees.c - billing (R-FEE-01, R-FEE-02, R-FEE-05), one-off charges,
 * late fees and waivers (R-FEE-08), and the chase actions of R-FEE-06
 * (notices, hardship extensions). Amounts come from the fee schedule in
 * config/ as it stood on the bill's date and are written into the event,
 * so replay and later rate changes never alter a bill. */
#include <string.h>

#include "../projections/fees.h"
#include "../projections/units.h"
#include "handlers.h"

#define PERIOD_STR 8 /* "2026-03" + NUL */

const char *const chase_stages[] = {"first", "second", "legal", NULL};

/* "2026-03" -> first day of that month. */
int fee_period_parse(const char *s, size_t n, int32_t *first)
{
    char buf[DATE_STR_MAX];
    if (n != 7)
        return -1;
    memcpy(buf, s, 7);
    memcpy(buf + 7, "-01", 4);
    return date_parse(buf, 10, first);
}

static void period_format(int32_t first, char buf[PERIOD_STR])
{
    char d[DATE_STR_MAX];
    date_format(first, d);
    memcpy(buf, d, 7);
    buf[7] = '\0';
}

/* Half up to whole fen: area (hundredths of m²) x fen per m². */
static int64_t m2_amount(int64_t area_c, int64_t rate)
{
    return (area_c * rate + 50) / 100;
}

int64_t fee_monthly_amount(const struct rate *r, int64_t area_c)
{
    return r->basis == RB_M2_MONTH ? m2_amount(area_c, r->amount) : r->amount;
}

int fee_unit_area(const msgpack_object *unit, int64_t *area_c)
{
    const char *s;
    size_t n;
    int64_t whole = 0, frac = 0;
    size_t i = 0;
    if (codec_get_str(unit, "area", &s, &n))
        return -1;
    for (; i < n && s[i] != '.'; i++)
        whole = whole * 10 + (s[i] - '0');
    for (size_t j = i + 1; j < n && j <= i + 2; j++)
        frac = frac * 10 + (s[j] - '0');
    if (n - i == 2)
        frac *= 10;
    *area_c = whole * 100 + frac;
    return 0;
}

/* The payer of a unit's fees on a day: its owner then (R-FEE-10: arrears
 * stay with the payer who owed them). */
int fee_payer_on(struct hctx *h, const char *unit, int32_t day,
                 char payer[PERSON_ID_MAX])
{
    int32_t since, latest;
    return units_owner_on(h->txn, h->v, unit, day, payer, &since, &latest);
}

struct billed_ctx {
    const char *item;
    const char *period;
    bool found;
};

static int find_billed(void *ctx, const struct bill *b)
{
    struct billed_ctx *c = ctx;
    if (!strcmp(b->item, c->item) && !strcmp(b->period, c->period)) {
        c->found = true;
        return 1;
    }
    return 0;
}

struct run_ctx {
    struct hctx *h;
    int32_t first, last, due;
    char period[PERIOD_STR];
    int64_t skipped;
    int rc;
    struct err *e;
};

/* Emits one bill and settles it from the prepayment balance if any. */
static int bill_one(struct run_ctx *r, const char *unit, const char *payer,
                    const struct rate *rate, int64_t amount, int64_t *prepaid)
{
    struct hctx *h = r->h;
    char bill[24];
    struct cw *w;
    int rc;

    snprintf(bill, sizeof(bill), "B%llu",
             (unsigned long long)(h->next_seq + h->nev));
    w = hctx_data_begin(h);
    cw_map(w, 10);
    cw_kstr(w, "bill", bill);
    cw_kstr(w, "unit", unit);
    cw_kstr(w, "payer", payer);
    cw_kstr(w, "item", rate->item);
    cw_kstr(w, "period", r->period);
    cw_kint(w, "amount", amount);
    cw_kdate(w, "due", r->due);
    cw_kint(w, "rate", rate->amount);
    cw_kstr(w, "basis", rate_basis_name(rate->basis));
    cw_kdate(w, "date", hdl_today(h));
    if ((rc = emit(h, EV_FEE_BILLED, "unit:%s", unit)))
        return rc;
    if (*prepaid <= 0 || amount <= 0)
        return 0;
    w = hctx_data_begin(h);
    cw_map(w, 4);
    cw_kstr(w, "unit", unit);
    cw_kstr(w, "bill", bill);
    cw_kint(w, "amount", *prepaid < amount ? *prepaid : amount);
    cw_kdate(w, "date", hdl_today(h));
    *prepaid -= *prepaid < amount ? *prepaid : amount;
    return emit(h, EV_PREPAY_APPLIED, "unit:%s", unit);
}

/* R-FEE-05: the first month is charged from the start day (the 15th) to
 * the month's end, pro rata by days. */
static int64_t first_month(int64_t monthly, int32_t start, int32_t first,
                           int32_t last)
{
    int64_t days = last - first + 1;
    if (start <= first)
        return monthly;
    return (monthly * (last - start + 1) + days / 2) / days;
}

static int bill_unit(void *ctx, const msgpack_object *u)
{
    struct run_ctx *r = ctx;
    struct hctx *h = r->h;
    const struct fee_settings *fs = &h->cfg->fees;
    char unit[UNIT_KEY_MAX], type[16], payer[PERSON_ID_MAX];
    struct chase ch;
    int64_t area = 0, prepaid;

    codec_copy_str(u, "unit", unit, sizeof(unit));
    codec_copy_str(u, "type", type, sizeof(type));
    fee_unit_area(u, &area);
    if (fee_payer_on(h, unit, r->first, payer) || !payer[0] ||
        fees_chase(h->txn, h->v, unit, INT64_MAX, &ch) ||
        fees_prepaid(h->txn, h->v, unit, &prepaid)) {
        r->skipped++;
        return 0;
    }
    if (ch.start != DATE_NONE && ch.start > r->last) {
        r->skipped++;
        return 0;
    }
    for (int i = 0; i < fs->nrates; i++) {
        const struct rate *rate = &fs->rates[i];
        struct billed_ctx bc = {rate->item, r->period, false};
        int64_t amount;
        if ((rate->basis != RB_M2_MONTH && rate->basis != RB_MONTH) ||
            rates_find(fs, rate->item, type, r->first) != rate)
            continue;
        fees_each_unit_bill_due(h->txn, h->v, unit, r->due, find_billed, &bc);
        if (bc.found)
            continue; /* billed already: a run can be repeated safely */
        amount = first_month(fee_monthly_amount(rate, area),
                             ch.start == DATE_NONE ? r->first : ch.start,
                             r->first, r->last);
        if ((r->rc = bill_one(r, unit, payer, rate, amount, &prepaid)))
            return -1;
    }
    return 0;
}

/* R-FEE-02: monthly billing of every unit of an estate for a period. */
int hdl_fee_bill_run(struct hctx *h, const struct args *a, struct err *e)
{
    char estate[UNIT_KEY_MAX], prefix[UNIT_KEY_MAX + 1];
    struct run_ctx r = {.h = h, .e = e};
    struct codec_doc d;
    int y, m, dd;

    arg_copy(a, "estate", estate, sizeof(estate));
    if (units_get_estate(h->txn, h->v, estate, &d))
        return err_set(e, ERR_NOT_FOUND, "estate",
                       "estate '%s' is not registered", estate);
    codec_doc_release(&d);
    if (fee_period_parse(arg(a, "period")->s, arg(a, "period")->len, &r.first))
        return err_set(e, ERR_INVALID, "period",
                       "'period' must be a month YYYY-MM");
    date_to_ymd(r.first, &y, &m, &dd);
    r.last = r.first + date_days_in_month(y, m) - 1;
    r.due = date_from_ymd(y, m, fees_due_in(h->cfg->fees.due_day, y, m));
    period_format(r.first, r.period);
    snprintf(prefix, sizeof(prefix), "%s/", estate);
    if (units_each_unit(h->txn, h->v, prefix, bill_unit, &r) || r.rc)
        return err_set(e, ERR_UNAVAILABLE, NULL, "billing run failed");
    if (h->nev == 0)
        return err_set(e, ERR_CONFLICT, "period",
                       "nothing to bill for %s in '%s' (already billed, or "
                       "no unit has an owner)",
                       r.period, estate);
    return 0;
}

static int need_unit_doc(struct hctx *h, const struct args *a, char *unit,
                         struct codec_doc *d, struct err *e)
{
    arg_copy(a, "unit", unit, UNIT_KEY_MAX);
    if (units_get_unit(h->txn, h->v, unit, d))
        return err_set(e, ERR_NOT_FOUND, "unit", "unit '%s' is not registered",
                       unit);
    return 0;
}

/* The payer named, or the unit's owner on day. */
int fee_charge_payer(struct hctx *h, const struct args *a, const char *unit,
                     int32_t day, char payer[PERSON_ID_MAX], struct err *e)
{
    struct codec_doc d;
    if (arg_has(a, "payer")) {
        arg_copy(a, "payer", payer, PERSON_ID_MAX);
        if (units_get_person(h->txn, h->v, payer, &d))
            return err_set(e, ERR_NOT_FOUND, "payer",
                           "person '%s' is not registered", payer);
        codec_doc_release(&d);
        return 0;
    }
    if (fee_payer_on(h, unit, day, payer) || !payer[0])
        return err_set(e, ERR_RULE, "payer",
                       "R-FEE-02: unit '%s' has no owner on that day; name "
                       "the payer",
                       unit);
    return 0;
}

int fee_emit_charge(struct hctx *h, const struct fee_charge *c,
                    char bill[BILL_ID_MAX])
{
    struct cw *w;
    bool ref = c->ref_key != NULL;

    snprintf(bill, BILL_ID_MAX, "B%llu",
             (unsigned long long)(h->next_seq + h->nev));
    w = hctx_data_begin(h);
    cw_map(w, 9 + (c->note ? 1 : 0) + (ref ? 1 : 0));
    cw_kstr(w, "bill", bill);
    cw_kstr(w, "unit", c->unit);
    cw_kstr(w, "payer", c->payer);
    cw_kstr(w, "item", c->item);
    cw_kdate(w, "period", c->day);
    cw_kint(w, "amount", c->amount);
    cw_kdate(w, "due", c->day);
    cw_kint(w, "quantity", c->qty);
    cw_kdate(w, "date", c->day);
    if (c->note)
        cw_kobj(w, "note", c->note);
    if (ref)
        cw_kstr(w, c->ref_key, c->ref_val);
    return emit(h, EV_FEE_BILLED, "unit:%s", c->unit);
}

/* A one-off charge (R-FEE-01): cards, copies, housekeeping, collections. */
int hdl_fee_charge(struct hctx *h, const struct args *a, struct err *e)
{
    char unit[UNIT_KEY_MAX], type[16], item[RATE_ITEM_MAX],
        payer[PERSON_ID_MAX], bill[BILL_ID_MAX];
    int32_t day =
        arg_has(a, "date") ? (int32_t)arg_int(a, "date") : hdl_today(h);
    int64_t qty = arg_has(a, "quantity") ? arg_int(a, "quantity") : 1, amount;
    const struct rate *r;
    struct codec_doc d;
    int rc = need_unit_doc(h, a, unit, &d, e);

    if (rc)
        return rc;
    codec_copy_str(d.obj, "type", type, sizeof(type));
    codec_doc_release(&d);
    arg_copy(a, "item", item, sizeof(item));
    r = rates_find(&h->cfg->fees, item, type, day);
    if (!r)
        return err_set(e, ERR_INVALID, "item",
                       "no rate for '%s' on a %s unit on that day", item, type);
    if (r->basis == RB_M2_MONTH || r->basis == RB_MONTH)
        return err_set(e, ERR_INVALID, "item",
                       "'%s' is billed monthly by fee.bill_run", item);
    if (r->basis == RB_QUOTE && !arg_has(a, "amount"))
        return err_set(e, ERR_INVALID, "amount",
                       "'%s' is charged at a quoted amount: give 'amount'",
                       item);
    amount = r->basis == RB_QUOTE ? arg_int(a, "amount") : r->amount * qty;
    if ((rc = fee_charge_payer(h, a, unit, day, payer, e)))
        return rc;
    return fee_emit_charge(
        h,
        &(struct fee_charge){unit, payer, item, amount, qty, day,
                             arg_has(a, "note") ? arg(a, "note")->o : NULL,
                             NULL, NULL},
        bill);
}

/* R-FEE-05: fees start on the 15th of the move-in month when the owner
 * moves in on the 1st-15th, else on the 1st of the next month; the
 * prepayment due at move-in is worked out from the schedule. */
int hdl_fee_move_in(struct hctx *h, const struct args *a, struct err *e)
{
    char unit[UNIT_KEY_MAX], type[16];
    int32_t day = (int32_t)arg_int(a, "date"), start;
    bool monthly = arg_has(a, "monthly") && arg_int(a, "monthly");
    const struct rate *r;
    int64_t area = 0, prepay = 0;
    struct codec_doc d;
    struct cw *w;
    int y, m, dd, rc = need_unit_doc(h, a, unit, &d, e);

    if (rc)
        return rc;
    codec_copy_str(d.obj, "type", type, sizeof(type));
    fee_unit_area(d.obj, &area);
    codec_doc_release(&d);
    date_to_ymd(day, &y, &m, &dd);
    start = dd <= 15 ? date_from_ymd(y, m, 15)
                     : date_add_months(date_from_ymd(y, m, 1), 1);
    r = rates_find(&h->cfg->fees, "property_fee", type, start);
    if (r && !monthly)
        prepay = fee_monthly_amount(r, area) * h->cfg->fees.prepay_months;
    w = hctx_data_begin(h);
    cw_map(w, 5);
    cw_kstr(w, "unit", unit);
    cw_kdate(w, "move_in", day);
    cw_kdate(w, "start", start);
    cw_kbool(w, "monthly", monthly);
    cw_kint(w, "prepay_due", prepay);
    return emit(h, EV_FEE_START_SET, "unit:%s", unit);
}

/* R-FEE-06: a hardship extension, approved by a manager (the table allows
 * only managers and admins). */
int hdl_fee_extension(struct hctx *h, const struct args *a, struct err *e)
{
    char unit[UNIT_KEY_MAX];
    struct codec_doc d;
    struct cw *w;
    int rc = need_unit_doc(h, a, unit, &d, e);
    if (rc)
        return rc;
    codec_doc_release(&d);
    if (arg_int(a, "until") < hdl_today(h))
        return err_set(e, ERR_INVALID, "until", "'until' is in the past");
    w = hctx_data_begin(h);
    cw_map(w, 5);
    cw_kstr(w, "unit", unit);
    cw_kdate(w, "until", (int32_t)arg_int(a, "until"));
    cw_kobj(w, "reason", arg(a, "reason")->o);
    cw_kstr(w, "approver", h->op->id);
    cw_kdate(w, "date", hdl_today(h));
    return emit(h, EV_EXTENSION_GRANTED, "unit:%s", unit);
}

/* R-FEE-06: a notice delivered; the second carries a payment deadline. */
int hdl_fee_notice(struct hctx *h, const struct args *a, struct err *e)
{
    char unit[UNIT_KEY_MAX];
    const char *stage = arg(a, "stage")->s;
    bool deadline = arg_has(a, "deadline");
    struct codec_doc d;
    struct cw *w;
    int rc = need_unit_doc(h, a, unit, &d, e);
    if (rc)
        return rc;
    codec_doc_release(&d);
    if (!strcmp(stage, "second") && !deadline)
        return err_set(e, ERR_RULE, "deadline",
                       "R-FEE-06: the second notice carries a deadline");
    w = hctx_data_begin(h);
    cw_map(w, 3 + (deadline ? 1 : 0));
    cw_kstr(w, "unit", unit);
    cw_kstr(w, "stage", stage);
    cw_kdate(w, "date", hdl_today(h));
    if (deadline)
        cw_kdate(w, "deadline", (int32_t)arg_int(a, "deadline"));
    return emit(h, EV_NOTICE_DELIVERED, "unit:%s", unit);
}

/* R-FEE-08: waiving (part of) what a bill still owes, with approver and
 * reason. */
int hdl_fee_waive(struct hctx *h, const struct args *a, struct err *e)
{
    char id[BILL_ID_MAX];
    struct bill b;
    int64_t open, amount;
    struct cw *w;

    arg_copy(a, "bill", id, sizeof(id));
    if (fees_get_bill(h->txn, h->v, id, &b))
        return err_set(e, ERR_NOT_FOUND, "bill", "bill '%s' does not exist",
                       id);
    open = b.amount - b.settled;
    amount = arg_has(a, "amount") ? arg_int(a, "amount") : open;
    if (open <= 0)
        return err_set(e, ERR_CONFLICT, "bill", "bill '%s' owes nothing", id);
    if (amount > open)
        return err_set(e, ERR_INVALID, "amount", "bill '%s' owes only %lld fen",
                       id, (long long)open);
    w = hctx_data_begin(h);
    cw_map(w, 6);
    cw_kstr(w, "bill", id);
    cw_kstr(w, "unit", b.unit);
    cw_kint(w, "amount", amount);
    cw_kobj(w, "reason", arg(a, "reason")->o);
    cw_kstr(w, "approver", h->op->id);
    cw_kdate(w, "date", hdl_today(h));
    return emit(h, EV_FEE_WAIVED, "unit:%s", b.unit);
}

struct late_ctx {
    struct hctx *h;
    int32_t day;
    const char *for_bill;
    int64_t assessed;
    int rc;
    int64_t bills, charged; /* of the whole run, fen */
};

static int sum_late(void *ctx, const struct bill *b)
{
    struct late_ctx *c = ctx;
    if (!strcmp(b->item, "late_fee") && !strcmp(b->period, c->for_bill))
        c->assessed += b->amount;
    return 0;
}

/* R-FEE-08: brings the late fee of one overdue bill up to what its policy
 * gives for the days so far; each assessment is its own bill carrying its
 * inputs. */
static int late_one(void *ctx, const struct bill *b)
{
    struct late_ctx *c = ctx;
    struct hctx *h = c->h;
    const struct late_policy *p = rates_late(&h->cfg->fees, b->item);
    int64_t settled = b->settled, principal, days, total;
    char bill[24];
    struct cw *w;

    /* a run for a past day charges what was unpaid on that day */
    if (p && c->day < hdl_today(h) &&
        fees_settled_as_of(h->txn, h->v, b->id, c->day, h->now, &settled))
        return c->rc = ERR_UNAVAILABLE, -1;
    principal = b->amount - settled;
    if (!p || principal <= 0)
        return 0;
    days = (int64_t)c->day - b->due - p->grace_days;
    if (days <= 0)
        return 0;
    total = principal * p->daily_bp * days / 10000;
    if (total > principal * p->cap_bp / 10000)
        total = principal * p->cap_bp / 10000;
    c->for_bill = b->id;
    c->assessed = 0;
    fees_each_unit_bill(h->txn, h->v, b->unit, false, sum_late, c);
    if (total <= c->assessed)
        return 0;
    snprintf(bill, sizeof(bill), "B%llu",
             (unsigned long long)(h->next_seq + h->nev));
    w = hctx_data_begin(h);
    cw_map(w, 13);
    cw_kstr(w, "bill", bill);
    cw_kstr(w, "unit", b->unit);
    cw_kstr(w, "payer", b->payer);
    cw_kstr(w, "item", "late_fee");
    cw_kstr(w, "period", b->id); /* the bill it is charged on */
    cw_kint(w, "amount", total - c->assessed);
    cw_kdate(w, "due", c->day);
    cw_kdate(w, "date", c->day);
    cw_kint(w, "principal", principal);
    cw_kint(w, "days", days);
    cw_kint(w, "daily_bp", p->daily_bp);
    cw_kint(w, "cap_bp", p->cap_bp);
    cw_kint(w, "previously", c->assessed);
    c->bills++;
    c->charged += total - c->assessed;
    c->rc = emit(h, EV_LATE_FEE_ASSESSED, "unit:%s", b->unit);
    return c->rc ? -1 : 0;
}

static int late_unit(void *ctx, const msgpack_object *u)
{
    struct late_ctx *c = ctx;
    char unit[UNIT_KEY_MAX];
    codec_copy_str(u, "unit", unit, sizeof(unit));
    /* today: the bills open now; a past day: every bill, as it stood */
    return fees_each_unit_bill(c->h->txn, c->h->v, unit,
                               c->day >= hdl_today(c->h), late_one, c);
}

/* R-FEE-08: one late-fee run of an estate on a day. Every run is
 * recorded, last, by fee.late_fee_run {estate, date, bills, amount}, also
 * one that charged nothing: what-if (projections/whatif.c) runs each run
 * of the log again under another policy, and a run left out of the log
 * could not be. */
int hdl_fee_assess_late(struct hctx *h, const struct args *a, struct err *e)
{
    char estate[UNIT_KEY_MAX], prefix[UNIT_KEY_MAX + 1];
    struct late_ctx c = {
        h,    arg_has(a, "date") ? (int32_t)arg_int(a, "date") : hdl_today(h),
        NULL, 0,
        0,    0,
        0};
    struct codec_doc d;
    struct cw *w;

    arg_copy(a, "estate", estate, sizeof(estate));
    if (h->cfg->fees.nlate == 0)
        return err_set(e, ERR_RULE, NULL,
                       "R-FEE-08: no late-fee policy is configured (off by "
                       "default)");
    if (c.day > hdl_today(h))
        return err_set(e, ERR_INVALID, "date", "'date' is in the future");
    if (units_get_estate(h->txn, h->v, estate, &d))
        return err_set(e, ERR_NOT_FOUND, "estate",
                       "estate '%s' is not registered", estate);
    codec_doc_release(&d);
    snprintf(prefix, sizeof(prefix), "%s/", estate);
    if (units_each_unit(h->txn, h->v, prefix, late_unit, &c) || c.rc)
        return err_set(e, ERR_UNAVAILABLE, NULL, "late-fee run failed");
    w = hctx_data_begin(h);
    cw_map(w, 4);
    cw_kstr(w, "estate", estate);
    cw_kdate(w, "date", c.day);
    cw_kint(w, "bills", c.bills);
    cw_kint(w, "amount", c.charged);
    return emit(h, EV_LATE_FEE_RUN, "estate:%s", estate);
}
