/* handlers/payments.c - taking money (R-FEE-03) and receipts (R-FEE-04):
 * a payment settles named bills (or the oldest first), excess goes to
 * prepayment only when asked, every payment gets the next receipt number
 * of its book, and a wrong payment is voided, never edited. */
#include <string.h>

#include "../projections/fees.h"
#include "../projections/units.h"
#include "handlers.h"

#define PAY_BILLS_MAX 64 /* bills one payment settles */

const char *const pay_methods[] = {"cash", "debit", "transfer", "pos", NULL};

struct pay_plan {
    char bill[PAY_BILLS_MAX][BILL_ID_MAX];
    int64_t open[PAY_BILLS_MAX];
    int64_t created[PAY_BILLS_MAX]; /* when each bill was recorded (ms) */
    int n;
    int64_t owed; /* what the planned bills owe */
    bool more;    /* open bills beyond the first PAY_BILLS_MAX */
};

static int plan_add(void *ctx, const struct bill *b)
{
    struct pay_plan *p = ctx;
    if (p->n == PAY_BILLS_MAX) {
        p->more = true;
        return 1;
    }
    snprintf(p->bill[p->n], BILL_ID_MAX, "%s", b->id);
    p->created[p->n] = b->created;
    p->open[p->n] = b->amount - b->settled;
    p->owed += p->open[p->n++];
    return 0;
}

/* The bills named (each must be the unit's and still owe something), or
 * every open bill of the unit, oldest due first. */
static int plan(struct hctx *h, const struct args *a, const char *unit,
                struct pay_plan *p, struct err *e)
{
    const msgpack_object *names = arg(a, "bills")->o;
    memset(p, 0, sizeof(*p));
    if (!arg_has(a, "bills"))
        return fees_each_unit_bill(h->txn, h->v, unit, true, plan_add, p)
                   ? err_set(e, ERR_UNAVAILABLE, NULL, "bill lookup failed")
                   : 0;
    for (uint32_t i = 0; i < names->via.array.size; i++) {
        const msgpack_object *s = &names->via.array.ptr[i];
        char id[BILL_ID_MAX];
        struct bill b;
        snprintf(id, sizeof(id), "%.*s", (int)s->via.str.size, s->via.str.ptr);
        if (fees_get_bill(h->txn, h->v, id, &b) || strcmp(b.unit, unit))
            return err_set(e, ERR_NOT_FOUND, "bills",
                           "bill '%s' is not a bill of '%s'", id, unit);
        if (b.amount - b.settled <= 0)
            return err_set(e, ERR_CONFLICT, "bills",
                           "bill '%s' is already settled", id);
        for (int j = 0; j < p->n; j++)
            if (!strcmp(p->bill[j], id))
                return err_set(e, ERR_INVALID, "bills",
                               "bill '%s' is named twice", id);
        plan_add(p, &b);
    }
    return 0;
}

/* R-FEE-03: a payment settles bills that exist on its date. Every bill
 * the amount reaches must have been recorded on or before day (local):
 * a payment dated earlier would show money against a bill nobody had
 * issued yet, and the statement and aging as of that day would no longer
 * match what the desk knew then. Money taken before a bill exists is
 * recorded on its own day as a prepayment (prepay_excess) and applied. */
static int check_dates(const struct hctx *h, const struct pay_plan *p,
                       int64_t amount, int32_t day, struct err *e)
{
    for (int i = 0; i < p->n && amount > 0; amount -= p->open[i], i++) {
        int32_t made = date_of_ts(p->created[i], h->cfg->cal.offset_min);
        char d[DATE_STR_MAX], m[DATE_STR_MAX];
        if (day >= made)
            continue;
        date_format(day, d);
        date_format(made, m);
        return err_set(e, ERR_RULE, "date",
                       "R-FEE-03: bill '%s' was issued on %s; a payment "
                       "dated %s cannot settle it (date the payment on or "
                       "after %s)",
                       p->bill[i], m, d, m);
    }
    return 0;
}

/* R-FEE-04: next number in the book, and a date not before the last. */
static int next_receipt(struct hctx *h, const char *book, int32_t day,
                        int64_t *number, struct err *e)
{
    int32_t last_day;
    if (fees_last_receipt(h->txn, h->v, book, number, &last_day))
        return err_set(e, ERR_UNAVAILABLE, NULL, "receipt lookup failed");
    if (last_day != DATE_NONE && day < last_day) {
        char d[DATE_STR_MAX];
        date_format(last_day, d);
        return err_set(e, ERR_RULE, "date",
                       "R-FEE-04: receipt book '%s' already has a receipt "
                       "dated %s; a receipt's date never goes back",
                       book, d);
    }
    (*number)++;
    return 0;
}

static void write_allocs(struct cw *w, const struct pay_plan *p, int64_t amount)
{
    size_t at;
    uint32_t n = 0;
    cw_str(w, "alloc");
    at = cw_array_open(w);
    for (int i = 0; i < p->n && amount > 0; i++, n++) {
        int64_t x = p->open[i] < amount ? p->open[i] : amount;
        cw_array(w, 2);
        cw_str(w, p->bill[i]);
        cw_int(w, x);
        amount -= x;
    }
    cw_array_close(w, at, n);
}

/* What one payment is: where it goes, how much, its receipt. */
struct pay_out {
    const char *unit, *payer, *method, *book;
    int64_t amount;
    int32_t day;
    int64_t number;
    const char *ref_key, *ref_val; /* named on payment and receipt, or NULL */
};

static int emit_paid(struct hctx *h, const struct pay_out *o,
                     const struct pay_plan *p)
{
    int64_t prepaid = o->amount > p->owed ? o->amount - p->owed : 0;
    int64_t occurred =
        o->day == hdl_today(h)
            ? 0
            : ts_of_date(o->day, 12 * 60, h->cfg->cal.offset_min);
    bool ref = o->ref_key != NULL;
    char pay[24];
    struct cw *w;
    int rc;

    snprintf(pay, sizeof(pay), "Y%llu",
             (unsigned long long)(h->next_seq + h->nev));
    w = hctx_data_begin(h);
    cw_map(w, 10 + (ref ? 1 : 0));
    cw_kstr(w, "payment", pay);
    cw_kstr(w, "unit", o->unit);
    cw_kstr(w, "payer", o->payer);
    cw_kstr(w, "method", o->method);
    cw_kint(w, "amount", o->amount);
    write_allocs(w, p, o->amount);
    cw_kint(w, "prepaid", prepaid);
    cw_kdate(w, "date", o->day);
    cw_kstr(w, "book", o->book);
    cw_kint(w, "number", o->number);
    if (ref)
        cw_kstr(w, o->ref_key, o->ref_val);
    if ((rc = emit_at(h, EV_FEE_PAID, occurred, "unit:%s", o->unit)))
        return rc;
    w = hctx_data_begin(h);
    cw_map(w, 6 + (ref ? 1 : 0));
    cw_kstr(w, "book", o->book);
    cw_kint(w, "number", o->number);
    cw_kstr(w, "payment", pay);
    cw_kstr(w, "unit", o->unit);
    cw_kint(w, "amount", o->amount);
    cw_kdate(w, "date", o->day);
    if (ref)
        cw_kstr(w, o->ref_key, o->ref_val);
    return emit_at(h, EV_RECEIPT_ISSUED, occurred, "receipts:%s", o->book);
}

int fee_take_payment(struct hctx *h, const struct fee_take *t, struct err *e)
{
    struct pay_plan p = {.n = 1, .owed = t->amount};
    struct pay_out o = {t->unit, t->payer,   t->method,
                        t->book, t->amount,  hdl_today(h),
                        0,       t->ref_key, t->ref_val};
    int rc = next_receipt(h, t->book, o.day, &o.number, e);

    if (rc)
        return rc;
    snprintf(p.bill[0], BILL_ID_MAX, "%s", t->bill);
    p.open[0] = t->amount;
    return emit_paid(h, &o, &p);
}

int hdl_fee_pay(struct hctx *h, const struct args *a, struct err *e)
{
    char unit[UNIT_KEY_MAX], payer[PERSON_ID_MAX], book[32];
    int32_t day =
        arg_has(a, "date") ? (int32_t)arg_int(a, "date") : hdl_today(h);
    int64_t amount = arg_int(a, "amount"), number;
    bool excess_ok = arg_has(a, "prepay_excess") && arg_int(a, "prepay_excess");
    struct pay_plan p;
    struct codec_doc d;
    int rc;

    arg_copy(a, "unit", unit, sizeof(unit));
    if (units_get_unit(h->txn, h->v, unit, &d))
        return err_set(e, ERR_NOT_FOUND, "unit", "unit '%s' is not registered",
                       unit);
    codec_doc_release(&d);
    if (day > hdl_today(h))
        return err_set(e, ERR_INVALID, "date",
                       "a payment cannot be dated in the future");
    if ((rc = plan(h, a, unit, &p, e)))
        return rc;
    if (amount > p.owed && p.more)
        return err_set(e, ERR_INVALID, "bills",
                       "unit '%s' has more than %d open bills: %lld fen "
                       "settles the oldest %d; pay at most that or name the "
                       "bills",
                       unit, PAY_BILLS_MAX, (long long)p.owed, PAY_BILLS_MAX);
    if (amount > p.owed && !excess_ok)
        return err_set(e, ERR_RULE, "amount",
                       "R-FEE-03: %lld fen is more than the %lld fen owed; "
                       "put the excess to prepayment explicitly "
                       "(prepay_excess) or take less",
                       (long long)amount, (long long)p.owed);
    arg_copy(a, "book", book, sizeof(book));
    if ((rc = next_receipt(h, book, day, &number, e)) ||
        (rc = check_dates(h, &p, amount, day, e)))
        return rc;
    if ((rc = fee_charge_payer(h, a, unit, day, payer, e)))
        return rc;
    return emit_paid(h,
                     &(struct pay_out){unit, payer, arg(a, "method")->s, book,
                                       amount, day, number, NULL, NULL},
                     &p);
}

/* R-FEE-04: a wrong payment is voided (its receipt with it) and a new one
 * taken; the record stays. */
int hdl_fee_void_payment(struct hctx *h, const struct args *a, struct err *e)
{
    char id[BILL_ID_MAX], unit[UNIT_KEY_MAX];
    int64_t prepaid = 0, balance;
    bool voided = false;
    struct codec_doc d;
    const msgpack_object *m;
    struct cw *w;
    int rc;

    arg_copy(a, "payment", id, sizeof(id));
    if (fees_get_payment(h->txn, h->v, id, &d))
        return err_set(e, ERR_NOT_FOUND, "payment",
                       "payment '%s' does not exist", id);
    m = d.obj;
    codec_get_bool(m, "voided", &voided);
    codec_copy_str(m, "unit", unit, sizeof(unit));
    codec_get_int(m, "prepaid", &prepaid);
    rc = fees_prepaid(h->txn, h->v, unit, &balance);
    if (!rc && voided)
        rc = err_set(e, ERR_CONFLICT, "payment",
                     "payment '%s' is already "
                     "voided",
                     id);
    else if (!rc && prepaid > balance)
        rc = err_set(e, ERR_RULE, "payment",
                     "R-FEE-04: %lld fen of this payment's prepayment has "
                     "already settled later bills; void those settlements "
                     "first",
                     (long long)(prepaid - balance));
    if (rc) {
        codec_doc_release(&d);
        return rc;
    }
    w = hctx_data_begin(h);
    cw_map(w, 10);
    cw_kstr(w, "payment", id);
    cw_kstr(w, "unit", unit);
    cw_kobj(w, "method", codec_get(m, "method"));
    cw_kobj(w, "amount", codec_get(m, "amount"));
    cw_kobj(w, "alloc", codec_get(m, "alloc"));
    cw_kint(w, "prepaid", prepaid);
    cw_kobj(w, "book", codec_get(m, "book"));
    cw_kobj(w, "number", codec_get(m, "number"));
    cw_kobj(w, "reason", arg(a, "reason")->o);
    cw_kdate(w, "date", hdl_today(h));
    codec_doc_release(&d);
    return emit(h, EV_PAYMENT_VOIDED, "unit:%s", unit);
}
