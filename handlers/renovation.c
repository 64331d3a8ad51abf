/* handlers/renovation.c - renovation at the desk (R-REN-01..05): filing
 * with its documents checklist, consent and pledge; the term and its
 * extensions; deposits taken through the fee machinery (a bill paid at
 * once, its receipt naming the renovation); worker passes; inspections,
 * violations and their rectification; the completion inspection and the
 * refund of the deposits. */
#include <string.h>

#include "../core/calendar.h"
#include "../projections/fees.h"
#include "../projections/renovation.h"
#include "../projections/units.h"
#include "handlers.h"

const char *const ren_parties[] = {"owner", "contractor", NULL};
const char *const ren_violation_kinds[] = {"facade", "structure", "drains",
                                           "other", NULL};
const char *const inspection_results[] = {"passed", "failed", NULL};

/* The renovation named by the "renovation" field. */
static int need_ren(struct hctx *h, const struct args *a, struct ren_rec *r,
                    struct err *e)
{
    char id[REN_ID_MAX];
    arg_copy(a, "renovation", id, sizeof(id));
    if (ren_get(h->txn, h->v, id, r))
        return err_set(e, ERR_NOT_FOUND, "renovation",
                       "renovation '%s' is not on file", id);
    return 0;
}

/* ... and still open: not yet refunded. */
static int need_open_ren(struct hctx *h, const struct args *a,
                         struct ren_rec *r, struct err *e)
{
    int rc = need_ren(h, a, r, e);
    if (rc == 0 && r->refunded_on != DATE_NONE)
        return err_set(e, ERR_CONFLICT, "renovation",
                       "renovation '%s' is closed: its deposit was refunded",
                       r->id);
    return rc;
}

struct unit_busy {
    const char *unit;
    char id[REN_ID_MAX];
};

static int find_open(void *ctx, const struct ren_rec *r)
{
    struct unit_busy *b = ctx;
    if (strcmp(r->unit, b->unit) || r->refunded_on != DATE_NONE)
        return 0;
    snprintf(b->id, sizeof(b->id), "%s", r->id);
    return 1;
}

/* R-REN-01: drawings and the worker list always; the contractor's
 * licence and qualification unless the owner does the work himself. */
static int check_documents(const struct args *a, bool self, struct err *e)
{
    static const char *const all[] = {"licence", "qualification", "drawings",
                                      "worker_list", NULL};
    const char *miss = arg_strs_missing(a, "documents", self ? all + 2 : all);
    if (miss)
        return err_set(e, ERR_RULE, "documents",
                       "R-REN-01: document '%s' is missing", miss);
    return 0;
}

/* R-REN-01 (who and what) and R-REN-02 (term). */
static int check_filing(struct hctx *h, const struct args *a, const char *unit,
                        const char *owner, const char *applicant, struct err *e)
{
    bool self = arg_has(a, "self") && arg_int(a, "self");
    int32_t start = (int32_t)arg_int(a, "start"),
            end = (int32_t)arg_int(a, "end");
    int32_t last = date_period_end(start, h->cfg->ren.term_months);
    struct unit_busy b = {unit, ""};
    struct codec_doc d;
    char who[PERSON_ID_MAX];
    int rc;

    if (!self && (!arg_has(a, "contractor") || !arg_has(a, "in_charge")))
        return err_set(e, ERR_INVALID,
                       arg_has(a, "contractor") ? "in_charge" : "contractor",
                       "a contractor's renovation names the contractor and "
                       "its person in charge ('self' when the owner does it)");
    if (arg_has(a, "in_charge")) {
        arg_copy(a, "in_charge", who, sizeof(who));
        if (units_get_person(h->txn, h->v, who, &d))
            return err_set(e, ERR_NOT_FOUND, "in_charge",
                           "person '%s' is not registered", who);
        codec_doc_release(&d);
    }
    if (end < start)
        return err_set(e, ERR_INVALID, "end", "'end' is before 'start'");
    if (start < hdl_today(h))
        return err_set(e, ERR_INVALID, "start", "'start' is in the past");
    if ((rc = check_documents(a, self, e)))
        return rc;
    if (strcmp(applicant, owner) && !arg_has(a, "consent"))
        return err_set(e, ERR_RULE, "consent",
                       "R-REN-01: '%s' is not the owner: the owner's written "
                       "consent is needed",
                       applicant);
    if (arg_has(a, "waterproof") && arg_int(a, "waterproof") &&
        !arg_has(a, "pledge"))
        return err_set(e, ERR_RULE, "pledge",
                       "R-REN-01: breaking the waterproof layer needs the "
                       "owner's pledge");
    if (end > last)
        return err_set(e, ERR_RULE, "end",
                       "R-REN-02: the term is at most %d months",
                       h->cfg->ren.term_months);
    if (ren_each(h->txn, h->v, find_open, &b) < 0)
        return err_set(e, ERR_UNAVAILABLE, NULL, "renovation lookup failed");
    if (b.id[0])
        return err_set(e, ERR_CONFLICT, "unit",
                       "'%s' already has renovation '%s' on file", unit, b.id);
    return 0;
}

static void kopt(struct cw *w, const struct args *a, const char *k)
{
    if (arg_has(a, k))
        cw_kobj(w, k, arg(a, k)->o);
    else
        cw_knil(w, k);
}

int hdl_ren_file(struct hctx *h, const struct args *a, struct err *e)
{
    char unit[UNIT_KEY_MAX], applicant[PERSON_ID_MAX], owner[PERSON_ID_MAX];
    bool self = arg_has(a, "self") && arg_int(a, "self");
    const struct renovation_settings *rs = &h->cfg->ren;
    int32_t since, latest;
    char id[REN_ID_MAX];
    struct hdl_prov p = {0};
    struct codec_doc d;
    struct cw *w;
    size_t mo;
    int rc;

    arg_copy(a, "unit", unit, sizeof(unit));
    arg_copy(a, "applicant", applicant, sizeof(applicant));
    if (units_get_unit(h->txn, h->v, unit, &d))
        return err_set(e, ERR_NOT_FOUND, "unit", "unit '%s' is not registered",
                       unit);
    codec_doc_release(&d);
    if (units_get_person(h->txn, h->v, applicant, &d))
        return err_set(e, ERR_NOT_FOUND, "applicant",
                       "person '%s' is not registered", applicant);
    codec_doc_release(&d);
    if (units_owner_on(h->txn, h->v, unit, hdl_today(h), owner, &since,
                       &latest))
        return err_set(e, ERR_UNAVAILABLE, NULL, "owner lookup failed");
    if (!owner[0])
        return err_set(e, ERR_RULE, "unit",
                       "R-REN-01: '%s' has no owner to answer for the "
                       "renovation",
                       unit);
    if ((rc = check_filing(h, a, unit, owner, applicant, e)))
        return rc;
    snprintf(id, sizeof(id), "RN%llu",
             (unsigned long long)(h->next_seq + h->nev));
    w = hctx_data_begin(h);
    mo = cw_map_open(w);
    cw_kstr(w, "renovation", id);
    cw_kstr(w, "unit", unit);
    cw_kstr(w, "owner", owner);
    cw_kstr(w, "applicant", applicant);
    cw_kbool(w, "self", self);
    kopt(w, a, "contractor");
    kopt(w, a, "in_charge");
    cw_kobj(w, "items", arg(a, "items")->o);
    cw_kobj(w, "documents", arg(a, "documents")->o);
    kopt(w, a, "consent");
    cw_kbool(w, "waterproof",
             arg_has(a, "waterproof") && arg_int(a, "waterproof"));
    kopt(w, a, "pledge");
    cw_kdate(w, "start", (int32_t)arg_int(a, "start"));
    cw_kdate(w, "end", (int32_t)arg_int(a, "end"));
    /* R-REN-02, R-REN-04: when the term counts as over (timers) */
    cw_kint(w, "end_due",
            hdl_day_due(h, (int32_t)arg_int(a, "end"), &p, "end_due"));
    cw_kint(w, "deposit_due",
            self ? rs->self_deposit
                 : rs->owner_deposit + rs->contractor_deposit);
    cw_kdate(w, "date", hdl_today(h));
    cw_map_close(w, mo, 17 + hdl_kprov(w, &p));
    return emit(h, EV_REN_FILED, "renovation:%s", id);
}

/* R-REN-03: the party's deposit as a bill paid at once, its receipt
 * naming the renovation; the register counts it as held. */
int hdl_ren_pay_deposit(struct hctx *h, const struct args *a, struct err *e)
{
    const struct renovation_settings *rs = &h->cfg->ren;
    char party[16], book[32], bill[BILL_ID_MAX];
    struct ren_rec r;
    int64_t amount, paid;
    const char *payer;
    struct cw *w;
    int rc = need_open_ren(h, a, &r, e);

    if (rc)
        return rc;
    arg_copy(a, "party", party, sizeof(party));
    if (r.self && !strcmp(party, "contractor"))
        return err_set(e, ERR_INVALID, "party",
                       "the owner renovates himself: there is no contractor "
                       "deposit");
    bool owner = !strcmp(party, "owner");
    amount = r.self  ? rs->self_deposit
             : owner ? rs->owner_deposit
                     : rs->contractor_deposit;
    paid = owner ? r.owner_paid : r.contractor_paid;
    if (paid > 0)
        return err_set(e, ERR_CONFLICT, "party",
                       "the %s's deposit for '%s' is already taken", party,
                       r.id);
    payer = owner ? r.owner : r.in_charge;
    arg_copy(a, "book", book, sizeof(book));
    if ((rc = fee_emit_charge(
             h,
             &(struct fee_charge){r.unit, payer, "renovation_deposit", amount,
                                  1, hdl_today(h), NULL, "renovation", r.id},
             bill)) ||
        (rc = fee_take_payment(
             h,
             &(struct fee_take){r.unit, payer, arg(a, "method")->s, book, bill,
                                amount, "renovation", r.id},
             e)))
        return rc;
    w = hctx_data_begin(h);
    cw_map(w, 7);
    cw_kstr(w, "renovation", r.id);
    cw_kstr(w, "unit", r.unit);
    cw_kstr(w, "party", party);
    cw_kstr(w, "payer", payer);
    cw_kint(w, "amount", amount);
    cw_kstr(w, "bill", bill);
    cw_kdate(w, "date", hdl_today(h));
    return emit(h, EV_REN_DEPOSIT_TAKEN, "renovation:%s", r.id);
}

/* R-REN-02: an extension moves the end at most extension_months past the
 * current one. */
int hdl_ren_extend(struct hctx *h, const struct args *a, struct err *e)
{
    int32_t end = (int32_t)arg_int(a, "end");
    struct hdl_prov p = {0};
    struct ren_rec r;
    struct cw *w;
    size_t mo;
    int rc = need_open_ren(h, a, &r, e);

    if (rc)
        return rc;
    if (!strcmp(r.completion, "passed"))
        return err_set(e, ERR_CONFLICT, "renovation",
                       "renovation '%s' has passed its completion inspection",
                       r.id);
    if (end <= r.end)
        return err_set(e, ERR_INVALID, "end",
                       "an extension moves the end later");
    if (end > date_period_end(r.end + 1, h->cfg->ren.extension_months))
        return err_set(e, ERR_RULE, "end",
                       "R-REN-02: an extension is at most %d months at a time",
                       h->cfg->ren.extension_months);
    w = hctx_data_begin(h);
    mo = cw_map_open(w);
    cw_kstr(w, "renovation", r.id);
    cw_kstr(w, "unit", r.unit);
    cw_kdate(w, "from", r.end);
    cw_kdate(w, "end", end);
    cw_kint(w, "end_due", hdl_day_due(h, end, &p, "end_due"));
    kopt(w, a, "reason");
    cw_kdate(w, "date", hdl_today(h));
    cw_map_close(w, mo, 7 + hdl_kprov(w, &p));
    return emit(h, EV_REN_EXTENDED, "renovation:%s", r.id);
}

/* R-REN-04: passes go out once the deposits are in (R-REN-03) and only
 * within the term (R-REN-02). */
int hdl_ren_pass_issue(struct hctx *h, const struct args *a, struct err *e)
{
    char pass[32], d[DATE_STR_MAX];
    struct codec_doc doc;
    struct ren_rec r;
    struct cw *w;
    int rc = need_open_ren(h, a, &r, e);

    if (rc)
        return rc;
    if (r.owner_paid + r.contractor_paid < r.deposit_due)
        return err_set(e, ERR_RULE, "renovation",
                       "R-REN-03: deposits of '%s' not fully paid (%lld of "
                       "%lld fen)",
                       r.id, (long long)(r.owner_paid + r.contractor_paid),
                       (long long)r.deposit_due);
    if (hdl_today(h) > r.end || !strcmp(r.completion, "passed")) {
        date_format(r.end, d);
        return err_set(e, ERR_RULE, "renovation",
                       "R-REN-02: renovation '%s' %s (term ended %s)", r.id,
                       strcmp(r.completion, "passed") ? "is past its term"
                                                      : "is completed",
                       d);
    }
    arg_copy(a, "pass", pass, sizeof(pass));
    if (ren_get_pass(h->txn, h->v, r.id, pass, &doc) == 0) {
        codec_doc_release(&doc);
        return err_set(e, ERR_CONFLICT, "pass",
                       "pass '%s' was already issued for '%s'", pass, r.id);
    }
    w = hctx_data_begin(h);
    cw_map(w, 5);
    cw_kstr(w, "renovation", r.id);
    cw_kstr(w, "unit", r.unit);
    cw_kstr(w, "pass", pass);
    cw_kobj(w, "worker", arg(a, "worker")->o);
    cw_kdate(w, "date", hdl_today(h));
    return emit(h, EV_REN_PASS_ISSUED, "renovation:%s", r.id);
}

int hdl_ren_pass_return(struct hctx *h, const struct args *a, struct err *e)
{
    char pass[32];
    struct codec_doc doc;
    struct ren_rec r;
    bool out;
    struct cw *w;
    int rc = need_open_ren(h, a, &r, e);

    if (rc)
        return rc;
    arg_copy(a, "pass", pass, sizeof(pass));
    if (ren_get_pass(h->txn, h->v, r.id, pass, &doc))
        return err_set(e, ERR_NOT_FOUND, "pass",
                       "pass '%s' was not issued for '%s'", pass, r.id);
    out = codec_get(doc.obj, "returned") &&
          codec_get(doc.obj, "returned")->type == MSGPACK_OBJECT_NIL;
    codec_doc_release(&doc);
    if (!out)
        return err_set(e, ERR_CONFLICT, "pass", "pass '%s' is already returned",
                       pass);
    w = hctx_data_begin(h);
    cw_map(w, 4);
    cw_kstr(w, "renovation", r.id);
    cw_kstr(w, "unit", r.unit);
    cw_kstr(w, "pass", pass);
    cw_kdate(w, "date", hdl_today(h));
    return emit(h, EV_REN_PASS_RETURNED, "renovation:%s", r.id);
}

/* R-REN-05: a violation found gets a rectification notice with a
 * deadline. */
static int emit_violation(struct hctx *h, const struct args *a,
                          const struct ren_rec *r, struct err *e)
{
    char id[32];
    struct hdl_prov p = {0};
    struct cw *w;
    size_t mo;

    if (!arg_has(a, "notice") || !arg_has(a, "deadline"))
        return err_set(e, ERR_INVALID,
                       arg_has(a, "notice") ? "deadline" : "notice",
                       "R-REN-05: a violation gets a rectification notice "
                       "and a deadline");
    if (arg_int(a, "deadline") < hdl_today(h))
        return err_set(e, ERR_INVALID, "deadline", "'deadline' is in the past");
    w = hctx_data_begin(h);
    mo = cw_map_open(w);
    cw_kstr(w, "renovation", r->id);
    cw_kstr(w, "unit", r->unit);
    snprintf(id, sizeof(id), "V%llu",
             (unsigned long long)(h->next_seq + h->nev));
    cw_kstr(w, "violation", id);
    cw_kobj(w, "kind", arg(a, "violation")->o);
    cw_kobj(w, "notice", arg(a, "notice")->o);
    cw_kdate(w, "deadline", (int32_t)arg_int(a, "deadline"));
    cw_kint(
        w, "deadline_due",
        hdl_day_due(h, (int32_t)arg_int(a, "deadline"), &p, "deadline_due"));
    kopt(w, a, "note");
    cw_kdate(w, "date", hdl_today(h));
    cw_map_close(w, mo, 9 + hdl_kprov(w, &p));
    return emit(h, EV_REN_VIOLATION_FOUND, "renovation:%s", r->id);
}

int hdl_ren_inspect(struct hctx *h, const struct args *a, struct err *e)
{
    bool viol = arg_has(a, "violation");
    struct ren_rec r;
    struct cw *w;
    int rc = need_open_ren(h, a, &r, e);

    if (rc)
        return rc;
    if (viol && (!arg_has(a, "notice") || !arg_has(a, "deadline")))
        return emit_violation(h, a, &r, e); /* refuses, names the field */
    w = hctx_data_begin(h);
    cw_map(w, 5);
    cw_kstr(w, "renovation", r.id);
    cw_kstr(w, "unit", r.unit);
    cw_kbool(w, "violation", viol);
    kopt(w, a, "note");
    cw_kdate(w, "date", hdl_today(h));
    if ((rc = emit(h, EV_REN_INSPECTED, "renovation:%s", r.id)))
        return rc;
    return viol ? emit_violation(h, a, &r, e) : 0;
}

int hdl_ren_rectify(struct hctx *h, const struct args *a, struct err *e)
{
    char viol[32];
    struct codec_doc doc;
    struct ren_rec r;
    bool open;
    struct cw *w;
    int rc = need_open_ren(h, a, &r, e);

    if (rc)
        return rc;
    arg_copy(a, "violation", viol, sizeof(viol));
    if (ren_get_violation(h->txn, h->v, r.id, viol, &doc))
        return err_set(e, ERR_NOT_FOUND, "violation",
                       "violation '%s' is not on '%s'", viol, r.id);
    open = codec_get(doc.obj, "rectified") &&
           codec_get(doc.obj, "rectified")->type == MSGPACK_OBJECT_NIL;
    codec_doc_release(&doc);
    if (!open)
        return err_set(e, ERR_CONFLICT, "violation",
                       "violation '%s' is already rectified", viol);
    w = hctx_data_begin(h);
    cw_map(w, 5);
    cw_kstr(w, "renovation", r.id);
    cw_kstr(w, "unit", r.unit);
    cw_kstr(w, "violation", viol);
    kopt(w, a, "note");
    cw_kdate(w, "date", hdl_today(h));
    return emit(h, EV_REN_RECTIFIED, "renovation:%s", r.id);
}

/* R-REN-05: the completion inspection; it cannot pass while a violation
 * is open. A pass sets the first refund day refund_workdays working days
 * later. */
int hdl_ren_complete(struct hctx *h, const struct args *a, struct err *e)
{
    bool passed = !strcmp(arg(a, "result")->s, "passed");
    int32_t today = hdl_today(h);
    struct hdl_prov p = {0};
    struct ren_rec r;
    struct cw *w;
    size_t mo;
    int rc = need_open_ren(h, a, &r, e);

    if (rc)
        return rc;
    if (!strcmp(r.completion, "passed"))
        return err_set(e, ERR_CONFLICT, "renovation",
                       "renovation '%s' has already passed its completion "
                       "inspection",
                       r.id);
    if (passed && r.open_violations > 0)
        return err_set(e, ERR_RULE, "result",
                       "R-REN-05: %lld violation(s) of '%s' still open: no "
                       "acceptance before they are rectified",
                       (long long)r.open_violations, r.id);
    if (!passed && !arg_has(a, "items"))
        return err_set(e, ERR_INVALID, "items",
                       "a failed inspection lists the failed items");
    w = hctx_data_begin(h);
    mo = cw_map_open(w);
    cw_kstr(w, "renovation", r.id);
    cw_kstr(w, "unit", r.unit);
    cw_kstr(w, "result", passed ? "passed" : "failed");
    kopt(w, a, "items");
    if (passed) {
        int32_t from =
            cal_add_workdays(&h->cfg->cal, today, h->cfg->ren.refund_workdays);
        cw_kdate(w, "refund_from", from);
        /* R-GEN-05: counted past the working calendar's coverage */
        if (!cal_covers(&h->cfg->cal, today) || !cal_covers(&h->cfg->cal, from))
            p.key[p.n++] = "refund_from";
    } else {
        cw_knil(w, "refund_from");
    }
    cw_kdate(w, "date", today);
    cw_map_close(w, mo, 6 + hdl_kprov(w, &p));
    return emit(h, EV_REN_COMPLETION_INSPECTED, "renovation:%s", r.id);
}

/* R-REN-05 (and R-REN-04): every condition of the refund, each refusal
 * naming the one that failed. */
static int refund_ok(struct hctx *h, const struct ren_rec *r, struct err *e)
{
    char d[DATE_STR_MAX];
    if (strcmp(r->completion, "passed"))
        return err_set(e, ERR_RULE, "renovation",
                       "R-REN-05: the completion inspection of '%s' has not "
                       "passed",
                       r->id);
    if (hdl_today(h) < r->refund_from) {
        date_format(r->refund_from, d);
        return err_set(e, ERR_RULE, "renovation",
                       "R-REN-05: the deposit comes back from %s, %d working "
                       "days after the completion inspection",
                       d, h->cfg->ren.refund_workdays);
    }
    if (r->passes_out > 0)
        return err_set(e, ERR_RULE, "renovation",
                       "R-REN-05: %lld worker pass(es) not returned (R-REN-04)",
                       (long long)r->passes_out);
    if (r->open_violations > 0)
        return err_set(e, ERR_RULE, "renovation",
                       "R-REN-05: %lld violation(s) still open",
                       (long long)r->open_violations);
    if (r->owner_paid + r->contractor_paid == 0)
        return err_set(e, ERR_CONFLICT, "renovation",
                       "no deposit of '%s' is held", r->id);
    return 0;
}

/* The one refund of a deposit (renovation.refund and unit.move_out): the
 * whole amount held, when every condition holds; else the refusal in e
 * and nothing written. */
static int refund(struct hctx *h, const struct ren_rec *r, struct err *e)
{
    struct cw *w;
    int rc = refund_ok(h, r, e);

    if (rc)
        return rc;
    w = hctx_data_begin(h);
    cw_map(w, 8);
    cw_kstr(w, "renovation", r->id);
    cw_kstr(w, "unit", r->unit);
    cw_kint(w, "amount", r->owner_paid + r->contractor_paid);
    cw_kstr(w, "owner", r->owner);
    cw_kint(w, "owner_amount", r->owner_paid);
    cw_kstr(w, "in_charge", r->in_charge);
    cw_kint(w, "contractor_amount", r->contractor_paid);
    cw_kdate(w, "date", hdl_today(h));
    return emit(h, EV_REN_DEPOSIT_REFUNDED, "renovation:%s", r->id);
}

int hdl_ren_refund(struct hctx *h, const struct args *a, struct err *e)
{
    struct ren_rec r;
    int rc = need_open_ren(h, a, &r, e);

    return rc ? rc : refund(h, &r, e);
}

/* The deposit stays held: who paid what, and why it is not refunded
 * (the R-REN-05 condition that failed, as renovation.refund words it). */
static int withhold(struct hctx *h, const struct ren_rec *r,
                    const struct err *why)
{
    struct cw *w = hctx_data_begin(h);

    cw_map(w, 7);
    cw_kstr(w, "renovation", r->id);
    cw_kstr(w, "unit", r->unit);
    cw_kint(w, "amount", r->owner_paid + r->contractor_paid);
    cw_kint(w, "owner_amount", r->owner_paid);
    cw_kint(w, "contractor_amount", r->contractor_paid);
    cw_kstr(w, "reason", why->msg);
    cw_kdate(w, "date", hdl_today(h));
    return emit(h, EV_REN_DEPOSIT_WITHHELD, "renovation:%s", r->id);
}

int ren_settle_deposit(struct hctx *h, const char *unit, struct err *e)
{
    struct unit_busy b = {unit, ""};
    struct err why = {0};
    struct ren_rec r;
    int rc;

    if (ren_each(h->txn, h->v, find_open, &b) < 0)
        return err_set(e, ERR_UNAVAILABLE, NULL, "renovation lookup failed");
    if (!b.id[0])
        return 0;
    if (ren_get(h->txn, h->v, b.id, &r))
        return err_set(e, ERR_UNAVAILABLE, NULL, "renovation '%s' unreadable",
                       b.id);
    if (r.owner_paid + r.contractor_paid <= 0)
        return 0;
    rc = refund_ok(h, &r, &why);
    if (rc == 0 && !cmd_role_allows(h->op, ROLE_LEADS))
        rc = err_set(&why, ERR_RULE, "renovation",
                     "R-REN-05: a cs_lead or manager refunds the deposit "
                     "(renovation.refund)");
    if (rc == ERR_RULE)
        return withhold(h, &r, &why);
    if (rc) {
        *e = why;
        return rc;
    }
    return refund(h, &r, e);
}

/* ---- timers (actor system) ---- */

/* The renovation of a timer command whose deadline the register still
 * holds at that time: a stale timer is a conflict, written nothing. */
static int need_due(struct hctx *h, const struct args *a, struct ren_rec *r,
                    enum ren_timer t, struct err *e)
{
    int rc = need_ren(h, a, r, e);

    if (rc)
        return rc;
    if (ren_timer_due(r, t) != arg_int(a, "due"))
        return err_set(e, ERR_CONFLICT, "due",
                       "no such deadline of '%s' at that time", r->id);
    return 0;
}

/* R-REN-02: the term ended before the completion inspection passed. */
int hdl_ren_expire_term(struct hctx *h, const struct args *a, struct err *e)
{
    struct ren_rec r;
    struct cw *w;
    int rc = need_due(h, a, &r, REN_T_TERM, e);

    if (rc)
        return rc;
    w = hctx_data_begin(h);
    cw_map(w, 5);
    cw_kstr(w, "renovation", r.id);
    cw_kstr(w, "unit", r.unit);
    cw_kdate(w, "end", r.end);
    cw_kint(w, "due", r.end_due);
    cw_kbool(w, "provisional", r.end_provisional);
    return emit_at(h, EV_REN_TERM_EXPIRED, r.end_due, "renovation:%s", r.id);
}

static int list_out(void *ctx, const msgpack_object *m)
{
    const msgpack_object *ret = codec_get(m, "returned");
    uint32_t *n = ctx;

    if (ret && ret->type == MSGPACK_OBJECT_NIL)
        (*n)++;
    return 0;
}

struct out_ctx {
    struct cw *w;
};

static int write_out(void *ctx, const msgpack_object *m)
{
    const msgpack_object *ret = codec_get(m, "returned");
    struct out_ctx *o = ctx;

    if (ret && ret->type == MSGPACK_OBJECT_NIL)
        cw_obj(o->w, codec_get(m, "pass"));
    return 0;
}

/* R-REN-04: the term ended with worker passes still out; the event names
 * them. */
int hdl_ren_passes_overdue(struct hctx *h, const struct args *a, struct err *e)
{
    struct ren_rec r;
    struct out_ctx o;
    uint32_t n = 0;
    int rc = need_due(h, a, &r, REN_T_PASSES, e);

    if (rc)
        return rc;
    if ((rc = ren_each_pass(h->txn, h->v, r.id, list_out, &n)))
        return err_set(e, ERR_UNAVAILABLE, NULL, "pass lookup failed");
    o.w = hctx_data_begin(h);
    cw_map(o.w, 6);
    cw_kstr(o.w, "renovation", r.id);
    cw_kstr(o.w, "unit", r.unit);
    cw_kdate(o.w, "end", r.end);
    cw_kint(o.w, "due", r.end_due);
    cw_kbool(o.w, "provisional", r.end_provisional);
    cw_str(o.w, "passes");
    cw_array(o.w, n);
    if ((rc = ren_each_pass(h->txn, h->v, r.id, write_out, &o)))
        return err_set(e, ERR_UNAVAILABLE, NULL, "pass lookup failed");
    return emit_at(h, EV_REN_PASSES_OVERDUE, r.end_due, "renovation:%s", r.id);
}

/* R-REN-05: a violation still open when its rectification deadline
 * passed. */
int hdl_ren_violation_overdue(struct hctx *h, const struct args *a,
                              struct err *e)
{
    char viol[32];
    struct codec_doc doc;
    struct ren_rec r;
    int64_t due = 0;
    bool prov;
    struct cw *w;
    int rc = need_ren(h, a, &r, e);

    if (rc)
        return rc;
    arg_copy(a, "violation", viol, sizeof(viol));
    if (ren_get_violation(h->txn, h->v, r.id, viol, &doc))
        return err_set(e, ERR_NOT_FOUND, "violation",
                       "violation '%s' is not on '%s'", viol, r.id);
    due = ren_violation_due(doc.obj);
    prov = ren_violation_provisional(doc.obj);
    if (!due || due != arg_int(a, "due")) {
        codec_doc_release(&doc);
        return err_set(e, ERR_CONFLICT, "due",
                       "no such deadline of '%s' at that time", viol);
    }
    w = hctx_data_begin(h);
    cw_map(w, 6);
    cw_kstr(w, "renovation", r.id);
    cw_kstr(w, "unit", r.unit);
    cw_kstr(w, "violation", viol);
    cw_kobj(w, "deadline", codec_get(doc.obj, "deadline"));
    cw_kint(w, "due", due);
    cw_kbool(w, "provisional", prov);
    codec_doc_release(&doc);
    return emit_at(h, EV_REN_VIOLATION_OVERDUE, due, "renovation:%s", r.id);
}
