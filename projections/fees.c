/* projections/fees.c - read models of money (R-FEE-01..10). Owns sub-dbs
 * bills, unit_bills, open_bills, bill_allocs, payments, receipts,
 * prepayments, fee_ledger, takings and fee_chase. Every settlement of a
 * bill (payment, prepayment, waiver, void) is kept as its own line with its
 * business date and recording time, so "who owed what on 2026-03-31" is
 * computed from these lines, never from today's totals. */
#include "fees.h"

#include <string.h>

#include "../core/date.h"

#define KEY_MAX 160

static int put_nil(MDB_txn *txn, MDB_dbi dbi, const unsigned char *k, size_t kl)
{
    static const unsigned char nil = 0xc0;
    MDB_val key = {kl, (void *)k}, val = {1, (void *)&nil};
    return mdb_put(txn, dbi, &key, &val, 0);
}

static int del_key(MDB_txn *txn, MDB_dbi dbi, const unsigned char *k, size_t kl)
{
    MDB_val key = {kl, (void *)k};
    int rc = mdb_del(txn, dbi, &key, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* unit \0 due bill */
static size_t unit_bill_key(unsigned char *k, const char *unit, int32_t due,
                            const char *bill)
{
    size_t u = strlen(unit) + 1, b = strlen(bill);
    memcpy(k, unit, u);
    proj_key_day(k + u, due);
    memcpy(k + u + 4, bill, b);
    return u + 4 + b;
}

/* prefix \0 seq idx */
static size_t seq_key(unsigned char *k, const char *prefix, uint64_t seq,
                      unsigned idx)
{
    size_t n = strlen(prefix) + 1;
    memcpy(k, prefix, n);
    proj_key_u64(k + n, seq);
    k[n + 8] = (unsigned char)(idx >> 8);
    k[n + 9] = (unsigned char)idx;
    return n + 10;
}

static int32_t data_day(const msgpack_object *m, const char *key)
{
    const char *s;
    size_t n;
    int32_t d;
    if (codec_get_str(m, key, &s, &n) || date_parse(s, n, &d))
        return DATE_NONE;
    return d;
}

static int parse_bill(const msgpack_object *m, struct bill *b)
{
    memset(b, 0, sizeof(*b));
    codec_copy_str(m, "bill", b->id, sizeof(b->id));
    codec_copy_str(m, "unit", b->unit, sizeof(b->unit));
    codec_copy_str(m, "payer", b->payer, sizeof(b->payer));
    codec_copy_str(m, "item", b->item, sizeof(b->item));
    codec_copy_str(m, "period", b->period, sizeof(b->period));
    b->due = data_day(m, "due");
    if (codec_get_int(m, "amount", &b->amount) || b->due == DATE_NONE)
        return ERR_UNAVAILABLE;
    codec_get_int(m, "settled", &b->settled);
    codec_get_int(m, "created", &b->created);
    return 0;
}

static int write_bill(MDB_txn *txn, const struct views *v, const struct bill *b)
{
    struct cw w;
    int rc;
    cw_init(&w);
    cw_map(&w, 9);
    cw_kstr(&w, "bill", b->id);
    cw_kstr(&w, "unit", b->unit);
    cw_kstr(&w, "payer", b->payer);
    cw_kstr(&w, "item", b->item);
    cw_kstr(&w, "period", b->period);
    cw_kint(&w, "amount", b->amount);
    cw_kdate(&w, "due", b->due);
    cw_kint(&w, "created", b->created);
    cw_kint(&w, "settled", b->settled);
    rc = proj_put(txn, v->dbi[DB_BILLS], b->id, strlen(b->id), &w);
    cw_release(&w);
    return rc;
}

int fees_get_bill(MDB_txn *txn, const struct views *v, const char *id,
                  struct bill *b)
{
    struct codec_doc d;
    int rc = proj_get(txn, v->dbi[DB_BILLS], id, strlen(id), &d);
    if (rc)
        return rc;
    rc = parse_bill(d.obj, b);
    codec_doc_release(&d);
    return rc;
}

/* One statement line: debit raises what the unit owes, credit lowers it. */
static int ledger(MDB_txn *txn, const struct views *v, const struct event *ev,
                  unsigned idx, const char *unit, const char *kind,
                  const char *ref, int64_t debit, int64_t credit)
{
    unsigned char k[KEY_MAX];
    struct cw w;
    int32_t day = data_day(ev->data, "date");
    const msgpack_object *book = codec_get(ev->data, "book");
    int64_t no = 0;
    int rc;

    /* payments and voids name their receipt (R-FEE-04) */
    codec_get_int(ev->data, "number", &no);
    cw_init(&w);
    cw_map(&w, book ? 8 : 6);
    cw_kdate(&w, "date", day != DATE_NONE ? day : ev->recorded_day);
    if (book) {
        cw_kobj(&w, "receipt_book", book);
        cw_kint(&w, "receipt_no", no);
    }
    cw_kint(&w, "recorded", ev->recorded_at);
    cw_kstr(&w, "kind", kind);
    cw_kstr(&w, "ref", ref);
    cw_kint(&w, "debit", debit);
    cw_kint(&w, "credit", credit);
    rc =
        proj_put(txn, v->dbi[DB_LEDGER], k, seq_key(k, unit, ev->seq, idx), &w);
    cw_release(&w);
    return rc;
}

static int apply_billed(MDB_txn *txn, const struct views *v,
                        const struct event *ev)
{
    unsigned char k[KEY_MAX];
    struct bill b;
    size_t kl;
    int rc;

    if ((rc = parse_bill(ev->data, &b)))
        return rc;
    b.settled = 0;
    b.created = ev->recorded_at;
    kl = unit_bill_key(k, b.unit, b.due, b.id);
    if ((rc = write_bill(txn, v, &b)) ||
        (rc = put_nil(txn, v->dbi[DB_UNIT_BILLS], k, kl)) ||
        (b.amount > 0 && (rc = put_nil(txn, v->dbi[DB_OPEN_BILLS], k, kl))))
        return rc;
    return ledger(txn, v, ev, 0, b.unit,
                  ev->type == EV_LATE_FEE_ASSESSED ? "late_fee" : "bill", b.id,
                  b.amount, 0);
}

/* Adds delta to what settled bill id (negative: a void puts it back) and
 * keeps the line for as-of questions. */
static int settle(MDB_txn *txn, const struct views *v, const struct event *ev,
                  unsigned idx, const char *id, int64_t delta, const char *kind,
                  const char *ref, int32_t occ)
{
    unsigned char k[KEY_MAX], ok[KEY_MAX];
    struct bill b;
    struct cw w;
    size_t okl;
    int rc = fees_get_bill(txn, v, id, &b);

    if (rc)
        return rc;
    b.settled += delta;
    okl = unit_bill_key(ok, b.unit, b.due, b.id);
    if ((rc = write_bill(txn, v, &b)))
        return rc;
    rc = b.settled >= b.amount ? del_key(txn, v->dbi[DB_OPEN_BILLS], ok, okl)
                               : put_nil(txn, v->dbi[DB_OPEN_BILLS], ok, okl);
    if (rc)
        return rc;
    cw_init(&w);
    cw_map(&w, 5);
    cw_kint(&w, "amount", delta);
    cw_kint(&w, "occ", occ);
    cw_kint(&w, "rec", ev->recorded_at);
    cw_kstr(&w, "kind", kind);
    cw_kstr(&w, "ref", ref);
    rc = proj_put(txn, v->dbi[DB_ALLOCS], k, seq_key(k, id, ev->seq, idx), &w);
    cw_release(&w);
    return rc;
}

static int add_prepaid(MDB_txn *txn, const struct views *v, const char *unit,
                       int64_t delta)
{
    int64_t bal;
    struct cw w;
    int rc = fees_prepaid(txn, v, unit, &bal);
    if (rc)
        return rc;
    cw_init(&w);
    cw_map(&w, 1);
    cw_kint(&w, "balance", bal + delta);
    rc = proj_put(txn, v->dbi[DB_PREPAY], unit, strlen(unit), &w);
    cw_release(&w);
    return rc;
}

/* The cashier's daily sheet: per recording day, desk and method. */
static int takings(MDB_txn *txn, const struct views *v, const struct event *ev,
                   const char *method, int64_t amount)
{
    unsigned char k[KEY_MAX];
    size_t dl = ev->desk_len < 32 ? ev->desk_len : 32, ml = strlen(method);
    int64_t count = 0, sum = 0;
    struct codec_doc d;
    struct cw w;
    int rc;

    proj_key_day(k, ev->recorded_day);
    memcpy(k + 4, ev->desk, dl);
    k[4 + dl] = '\0';
    memcpy(k + 5 + dl, method, ml);
    if (proj_get(txn, v->dbi[DB_TAKINGS], k, 5 + dl + ml, &d) == 0) {
        codec_get_int(d.obj, "count", &count);
        codec_get_int(d.obj, "amount", &sum);
        codec_doc_release(&d);
    }
    cw_init(&w);
    cw_map(&w, 4);
    cw_kstrn(&w, "desk", ev->desk, dl);
    cw_kstr(&w, "method", method);
    cw_kint(&w, "count", count + (amount > 0 ? 1 : -1));
    cw_kint(&w, "amount", sum + amount);
    rc = proj_put(txn, v->dbi[DB_TAKINGS], k, 5 + dl + ml, &w);
    cw_release(&w);
    return rc;
}

/* alloc: [[bill, amount], ...]; sign -1 reverses (void). */
static int settle_allocs(MDB_txn *txn, const struct views *v,
                         const struct event *ev, int sign, const char *kind,
                         const char *ref, int32_t occ)
{
    const msgpack_object *a = codec_get(ev->data, "alloc");
    for (uint32_t i = 0; a && i < a->via.array.size; i++) {
        const msgpack_object *p = &a->via.array.ptr[i];
        char bill[BILL_ID_MAX];
        int64_t amt;
        size_t n;
        int rc;
        if (p->type != MSGPACK_OBJECT_ARRAY || p->via.array.size != 2 ||
            p->via.array.ptr[0].type != MSGPACK_OBJECT_STR ||
            codec_obj_int(&p->via.array.ptr[1], &amt))
            return ERR_UNAVAILABLE;
        n = p->via.array.ptr[0].via.str.size;
        if (n >= sizeof(bill))
            return ERR_UNAVAILABLE;
        memcpy(bill, p->via.array.ptr[0].via.str.ptr, n);
        bill[n] = '\0';
        if ((rc = settle(txn, v, ev, i, bill, sign * amt, kind, ref, occ)))
            return rc;
    }
    return 0;
}

static int apply_paid(MDB_txn *txn, const struct views *v,
                      const struct event *ev)
{
    char unit[64], pay[BILL_ID_MAX], method[16];
    int64_t amount = 0, prepaid = 0;
    int32_t day = data_day(ev->data, "date");
    struct cw w;
    int rc;

    codec_copy_str(ev->data, "unit", unit, sizeof(unit));
    codec_copy_str(ev->data, "payment", pay, sizeof(pay));
    codec_copy_str(ev->data, "method", method, sizeof(method));
    codec_get_int(ev->data, "amount", &amount);
    codec_get_int(ev->data, "prepaid", &prepaid);
    cw_init(&w);
    cw_obj(&w, ev->data);
    rc = proj_put(txn, v->dbi[DB_PAYMENTS], pay, strlen(pay), &w);
    cw_release(&w);
    if (rc || (rc = settle_allocs(txn, v, ev, 1, "payment", pay, day)) ||
        (prepaid && (rc = add_prepaid(txn, v, unit, prepaid))) ||
        (rc = takings(txn, v, ev, method, amount)))
        return rc;
    return ledger(txn, v, ev, 0xffff, unit, "payment", pay, 0, amount);
}

static size_t receipt_key(unsigned char *k, const msgpack_object *d)
{
    char book[32];
    int64_t no = 0;
    size_t n = codec_copy_str(d, "book", book, sizeof(book)) + 1;
    codec_get_int(d, "number", &no);
    memcpy(k, book, n);
    proj_key_u64(k + n, (uint64_t)no);
    return n + 8;
}

static int apply_receipt(MDB_txn *txn, const struct views *v,
                         const struct event *ev)
{
    unsigned char k[KEY_MAX];
    struct cw w;
    int rc;
    cw_init(&w);
    cw_obj(&w, ev->data);
    rc = proj_put(txn, v->dbi[DB_RECEIPTS], k, receipt_key(k, ev->data), &w);
    cw_release(&w);
    return rc;
}

/* R-FEE-04: a voided payment keeps its record and its receipt, marked. */
static int apply_voided(MDB_txn *txn, const struct views *v,
                        const struct event *ev)
{
    static const msgpack_object yes = {.type = MSGPACK_OBJECT_BOOLEAN,
                                       .via.boolean = true};
    unsigned char k[KEY_MAX];
    char unit[64], pay[BILL_ID_MAX], method[16];
    int64_t amount = 0, prepaid = 0;
    int rc;

    codec_copy_str(ev->data, "unit", unit, sizeof(unit));
    codec_copy_str(ev->data, "payment", pay, sizeof(pay));
    codec_copy_str(ev->data, "method", method, sizeof(method));
    codec_get_int(ev->data, "amount", &amount);
    codec_get_int(ev->data, "prepaid", &prepaid);
    if ((rc = proj_update_field(txn, v->dbi[DB_PAYMENTS], pay, strlen(pay),
                                "voided", &yes)) ||
        (rc = proj_update_field(txn, v->dbi[DB_RECEIPTS], k,
                                receipt_key(k, ev->data), "voided", &yes)) ||
        (rc = settle_allocs(txn, v, ev, -1, "void", pay,
                            data_day(ev->data, "date"))) ||
        (prepaid && (rc = add_prepaid(txn, v, unit, -prepaid))) ||
        (rc = takings(txn, v, ev, method, -amount)))
        return rc;
    return ledger(txn, v, ev, 0, unit, "void", pay, amount, 0);
}

static int apply_prepay(MDB_txn *txn, const struct views *v,
                        const struct event *ev)
{
    char unit[64], bill[BILL_ID_MAX];
    int64_t amount = 0;
    int rc;
    codec_copy_str(ev->data, "unit", unit, sizeof(unit));
    codec_copy_str(ev->data, "bill", bill, sizeof(bill));
    codec_get_int(ev->data, "amount", &amount);
    if ((rc = add_prepaid(txn, v, unit, -amount)) ||
        (rc = settle(txn, v, ev, 0, bill, amount, "prepayment", bill,
                     data_day(ev->data, "date"))))
        return rc;
    /* money already counted when it was paid: an informational line */
    return ledger(txn, v, ev, 0, unit, "prepayment_applied", bill, 0, 0);
}

static int apply_waived(MDB_txn *txn, const struct views *v,
                        const struct event *ev)
{
    char unit[64], bill[BILL_ID_MAX];
    int64_t amount = 0;
    int rc;
    codec_copy_str(ev->data, "unit", unit, sizeof(unit));
    codec_copy_str(ev->data, "bill", bill, sizeof(bill));
    codec_get_int(ev->data, "amount", &amount);
    if ((rc = settle(txn, v, ev, 0, bill, amount, "waiver", bill,
                     data_day(ev->data, "date"))))
        return rc;
    return ledger(txn, v, ev, 0, unit, "waiver", bill, 0, amount);
}

/* Fee start, extensions and notices, in order, with their recording
 * time (R-FEE-05, R-FEE-06). */
static int apply_chase(MDB_txn *txn, const struct views *v,
                       const struct event *ev, const char *kind)
{
    unsigned char k[KEY_MAX];
    char unit[64];
    struct cw w;
    int rc;
    codec_copy_str(ev->data, "unit", unit, sizeof(unit));
    cw_init(&w);
    cw_map(&w, 3);
    cw_kstr(&w, "kind", kind);
    cw_kint(&w, "rec", ev->recorded_at);
    cw_kobj(&w, "data", ev->data);
    rc = proj_put(txn, v->dbi[DB_CHASE], k, seq_key(k, unit, ev->seq, 0), &w);
    cw_release(&w);
    return rc;
}

int proj_fees_apply(MDB_txn *txn, const struct views *v, const struct event *ev)
{
    switch (ev->type) {
    case EV_FEE_BILLED:
    case EV_LATE_FEE_ASSESSED:
        return apply_billed(txn, v, ev);
    case EV_FEE_PAID:
        return apply_paid(txn, v, ev);
    case EV_RECEIPT_ISSUED:
        return apply_receipt(txn, v, ev);
    case EV_PAYMENT_VOIDED:
        return apply_voided(txn, v, ev);
    case EV_PREPAY_APPLIED:
        return apply_prepay(txn, v, ev);
    case EV_FEE_WAIVED:
        return apply_waived(txn, v, ev);
    case EV_FEE_START_SET:
        return apply_chase(txn, v, ev, "start");
    case EV_EXTENSION_GRANTED:
        return apply_chase(txn, v, ev, "extension");
    case EV_NOTICE_DELIVERED:
        return apply_chase(txn, v, ev, "notice");
    default:
        return 0;
    }
}

/* ---- reads ---- */

int fees_each_settlement(MDB_txn *txn, const struct views *v, const char *bill,
                         int32_t asof, int64_t asof_end, fees_settlement_fn fn,
                         void *ctx)
{
    size_t pl = strlen(bill) + 1;
    MDB_cursor *cur;
    MDB_val k = {pl, (void *)bill}, val;
    int rc = mdb_cursor_open(txn, v->dbi[DB_ALLOCS], &cur);

    if (rc)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &val, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
        struct settlement s = {0};
        struct codec_doc d;
        int64_t occ = 0;
        if (k.mv_size != pl + 10 || memcmp(k.mv_data, bill, pl))
            break;
        if (codec_doc_parse_trusted(&d, val.mv_data, val.mv_size, NULL))
            continue;
        s.seq = proj_key_get_u64((unsigned char *)k.mv_data + pl);
        codec_get_int(d.obj, "amount", &s.amount);
        codec_get_int(d.obj, "occ", &occ);
        codec_get_int(d.obj, "rec", &s.rec);
        codec_copy_str(d.obj, "kind", s.kind, sizeof(s.kind));
        codec_copy_str(d.obj, "ref", s.ref, sizeof(s.ref));
        codec_doc_release(&d);
        s.occ = (int32_t)occ;
        if (s.rec > asof_end || occ > asof)
            continue;
        if ((rc = fn(ctx, &s))) {
            rc = rc > 0 ? 0 : rc;
            break;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int add_settled(void *ctx, const struct settlement *s)
{
    *(int64_t *)ctx += s->amount;
    return 0;
}

int fees_settled_as_of(MDB_txn *txn, const struct views *v, const char *bill,
                       int32_t asof, int64_t asof_end, int64_t *settled)
{
    *settled = 0;
    return fees_each_settlement(txn, v, bill, asof, asof_end, add_settled,
                                settled);
}

const char *const fees_bucket_names[FEES_BUCKETS] = {"1-30", "31-60", "61-90",
                                                     ">90"};

int fees_bucket(int64_t days)
{
    return days <= 30 ? 0 : days <= 60 ? 1 : days <= 90 ? 2 : 3;
}

int fees_overdue_as_of(MDB_txn *txn, const struct views *v,
                       const struct bill *b, int32_t asof, int64_t asof_end,
                       int64_t *open)
{
    int64_t settled;
    int rc;

    *open = 0;
    if (b->due >= asof || b->created > asof_end)
        return 0; /* not due yet: paying on the due date is in time */
    if ((rc = fees_settled_as_of(txn, v, b->id, asof, asof_end, &settled)))
        return rc;
    *open = b->amount - settled;
    return 0;
}

static int walk_bills(MDB_txn *txn, MDB_dbi idx, const struct views *v,
                      const void *prefix, size_t pl, fees_bill_fn fn, void *ctx)
{
    const char *unit = prefix;
    MDB_cursor *cur;
    MDB_val k = {pl, (void *)prefix}, val;
    int rc = mdb_cursor_open(txn, idx, &cur);

    if (rc)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &val, pl ? MDB_SET_RANGE : MDB_FIRST);
         rc == 0; rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
        const char *kp = k.mv_data, *z = memchr(kp, '\0', k.mv_size);
        char id[BILL_ID_MAX];
        size_t off, n;
        struct bill b;
        if (pl && (k.mv_size < pl || memcmp(kp, unit, pl)))
            break;
        off = z ? (size_t)(z - kp) + 5 : k.mv_size;
        n = k.mv_size > off ? k.mv_size - off : 0;
        if (!n || n >= sizeof(id))
            continue;
        memcpy(id, kp + off, n);
        id[n] = '\0';
        if (fees_get_bill(txn, v, id, &b))
            continue;
        if ((rc = fn(ctx, &b))) {
            rc = rc > 0 ? 0 : rc;
            break;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int fees_each_unit_bill(MDB_txn *txn, const struct views *v, const char *unit,
                        bool open_only, fees_bill_fn fn, void *ctx)
{
    return walk_bills(txn, v->dbi[open_only ? DB_OPEN_BILLS : DB_UNIT_BILLS], v,
                      unit, strlen(unit) + 1, fn, ctx);
}

int fees_each_unit_bill_due(MDB_txn *txn, const struct views *v,
                            const char *unit, int32_t due, fees_bill_fn fn,
                            void *ctx)
{
    unsigned char k[KEY_MAX];
    size_t n = strlen(unit) + 1;
    memcpy(k, unit, n);
    proj_key_day(k + n, due);
    return walk_bills(txn, v->dbi[DB_UNIT_BILLS], v, k, n + 4, fn, ctx);
}

int fees_each_bill(MDB_txn *txn, const struct views *v, bool open_only,
                   fees_bill_fn fn, void *ctx)
{
    return walk_bills(txn, v->dbi[open_only ? DB_OPEN_BILLS : DB_UNIT_BILLS], v,
                      "", 0, fn, ctx);
}

int fees_prepaid(MDB_txn *txn, const struct views *v, const char *unit,
                 int64_t *balance)
{
    struct codec_doc d;
    int rc = proj_get(txn, v->dbi[DB_PREPAY], unit, strlen(unit), &d);
    *balance = 0;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return rc;
    codec_get_int(d.obj, "balance", balance);
    codec_doc_release(&d);
    return 0;
}

int fees_last_receipt(MDB_txn *txn, const struct views *v, const char *book,
                      int64_t *number, int32_t *date)
{
    size_t pl = strlen(book) + 1;
    unsigned char k[KEY_MAX];
    MDB_cursor *cur;
    MDB_val key, val;
    int rc;

    *number = 0;
    *date = DATE_NONE;
    memcpy(k, book, pl);
    proj_key_u64(k + pl, UINT64_MAX);
    key = (MDB_val){pl + 8, k};
    if ((rc = mdb_cursor_open(txn, v->dbi[DB_RECEIPTS], &cur)))
        return rc;
    rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE);
    rc = rc == 0 ? mdb_cursor_get(cur, &key, &val, MDB_PREV)
                 : mdb_cursor_get(cur, &key, &val, MDB_LAST);
    if (rc == 0 && key.mv_size == pl + 8 && !memcmp(key.mv_data, book, pl)) {
        struct codec_doc d;
        *number = (int64_t)proj_key_get_u64((unsigned char *)key.mv_data + pl);
        if (!codec_doc_parse_trusted(&d, val.mv_data, val.mv_size, NULL)) {
            *date = data_day(d.obj, "date");
            codec_doc_release(&d);
        }
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : rc;
}

int fees_get_payment(MDB_txn *txn, const struct views *v, const char *id,
                     struct codec_doc *doc)
{
    return proj_get(txn, v->dbi[DB_PAYMENTS], id, strlen(id), doc);
}

int fees_each_chase(MDB_txn *txn, const struct views *v, const char *unit,
                    int64_t asof_end, fees_chase_fn fn, void *ctx)
{
    size_t pl = strlen(unit) + 1;
    MDB_cursor *cur;
    MDB_val k = {pl, (void *)unit}, val;
    int rc = mdb_cursor_open(txn, v->dbi[DB_CHASE], &cur);

    if (rc)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &val, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
        struct codec_doc d;
        int64_t rec = 0;
        if (k.mv_size != pl + 10 || memcmp(k.mv_data, unit, pl))
            break;
        if (codec_doc_parse_trusted(&d, val.mv_data, val.mv_size, NULL))
            continue;
        codec_get_int(d.obj, "rec", &rec);
        rc = rec <= asof_end
                 ? fn(ctx, proj_key_get_u64((unsigned char *)k.mv_data + pl),
                      d.obj)
                 : 0;
        codec_doc_release(&d);
        if (rc) {
            rc = rc > 0 ? 0 : rc;
            break;
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int chase_entry(void *ctx, uint64_t seq, const msgpack_object *e)
{
    struct chase *c = ctx;
    const msgpack_object *d = codec_get(e, "data");
    (void)seq;
    if (codec_obj_is_str(codec_get(e, "kind"), "start")) {
        c->start = data_day(d, "start");
    } else if (codec_obj_is_str(codec_get(e, "kind"), "extension")) {
        c->extension_until = data_day(d, "until");
    } else {
        codec_copy_str(d, "stage", c->notice, sizeof(c->notice));
        c->notice_day = data_day(d, "date");
        c->notice_deadline = data_day(d, "deadline"); /* the last notice's */
    }
    return 0;
}

int fees_chase(MDB_txn *txn, const struct views *v, const char *unit,
               int64_t asof_end, struct chase *c)
{
    c->start = c->extension_until = c->notice_day = c->notice_deadline =
        DATE_NONE;
    c->notice[0] = '\0';
    return fees_each_chase(txn, v, unit, asof_end, chase_entry, c);
}

int fees_each_line(MDB_txn *txn, const struct views *v, const char *unit,
                   fees_line_fn fn, void *ctx)
{
    return proj_each(txn, v->dbi[DB_LEDGER], unit, strlen(unit) + 1, fn, ctx);
}

int fees_each_receipt(MDB_txn *txn, const struct views *v, const char *book,
                      fees_line_fn fn, void *ctx)
{
    return proj_each(txn, v->dbi[DB_RECEIPTS], book, strlen(book) + 1, fn, ctx);
}

int fees_each_taking(MDB_txn *txn, const struct views *v, int32_t day,
                     fees_line_fn fn, void *ctx)
{
    unsigned char k[4];
    proj_key_day(k, day);
    return proj_each(txn, v->dbi[DB_TAKINGS], k, 4, fn, ctx);
}
