/* projections/renovation.c - read model of renovations (R-REN-01..05).
 * Owns sub-dbs renovations, ren_passes and ren_violations. Reads only the
 * event and its own tables, so a replay reproduces them. */
#include "renovation.h"

#include <string.h>

#include "../core/date.h"

#define RKEY_MAX 96 /* bytes in a pass or violation key */

static int32_t day_of(const msgpack_object *m, const char *key)
{
    const char *s;
    size_t n;
    int32_t d;
    if (codec_get_str(m, key, &s, &n) || date_parse(s, n, &d))
        return DATE_NONE;
    return d;
}

static void kdate_or_nil(struct cw *w, const char *k, int32_t day)
{
    if (day == DATE_NONE)
        cw_knil(w, k);
    else
        cw_kdate(w, k, day);
}

static int parse_rec(const msgpack_object *m, struct ren_rec *r)
{
    memset(r, 0, sizeof(*r));
    codec_copy_str(m, "renovation", r->id, sizeof(r->id));
    codec_copy_str(m, "unit", r->unit, sizeof(r->unit));
    codec_copy_str(m, "owner", r->owner, sizeof(r->owner));
    codec_copy_str(m, "applicant", r->applicant, sizeof(r->applicant));
    codec_copy_str(m, "in_charge", r->in_charge, sizeof(r->in_charge));
    codec_copy_str(m, "contractor", r->contractor, sizeof(r->contractor));
    codec_get_bool(m, "self", &r->self);
    codec_get_bool(m, "waterproof", &r->waterproof);
    r->filed = day_of(m, "filed");
    r->start = day_of(m, "start");
    r->end = day_of(m, "end");
    codec_get_int(m, "deposit_due", &r->deposit_due);
    codec_get_int(m, "owner_paid", &r->owner_paid);
    codec_get_int(m, "contractor_paid", &r->contractor_paid);
    codec_get_int(m, "refunded", &r->refunded);
    codec_get_int(m, "passes_out", &r->passes_out);
    codec_get_int(m, "passes_issued", &r->passes_issued);
    codec_get_int(m, "open_violations", &r->open_violations);
    codec_get_int(m, "violations", &r->violations);
    codec_copy_str(m, "completion", r->completion, sizeof(r->completion));
    r->completed_on = day_of(m, "completed_on");
    r->refund_from = day_of(m, "refund_from");
    codec_get_bool(m, "refund_provisional", &r->refund_provisional);
    r->refunded_on = day_of(m, "refunded_on");
    codec_get_int(m, "end_due", &r->end_due);
    codec_get_bool(m, "end_provisional", &r->end_provisional);
    codec_get_int(m, "term_fired", &r->term_fired);
    codec_get_int(m, "passes_fired", &r->passes_fired);
    return r->end == DATE_NONE ? ERR_UNAVAILABLE : 0;
}

static int write_rec(MDB_txn *txn, const struct views *v,
                     const struct ren_rec *r)
{
    struct cw w;
    int rc;
    cw_init(&w);
    cw_map(&w, 29);
    cw_kstr(&w, "renovation", r->id);
    cw_kstr(&w, "unit", r->unit);
    cw_kstr(&w, "owner", r->owner);
    cw_kstr(&w, "applicant", r->applicant);
    cw_kstr(&w, "in_charge", r->in_charge);
    cw_kstr(&w, "contractor", r->contractor);
    cw_kbool(&w, "self", r->self);
    cw_kbool(&w, "waterproof", r->waterproof);
    cw_kdate(&w, "filed", r->filed);
    cw_kdate(&w, "start", r->start);
    cw_kdate(&w, "end", r->end);
    cw_kint(&w, "deposit_due", r->deposit_due);
    cw_kint(&w, "owner_paid", r->owner_paid);
    cw_kint(&w, "contractor_paid", r->contractor_paid);
    cw_kint(&w, "refunded", r->refunded);
    cw_kint(&w, "passes_out", r->passes_out);
    cw_kint(&w, "passes_issued", r->passes_issued);
    cw_kint(&w, "open_violations", r->open_violations);
    cw_kint(&w, "violations", r->violations);
    cw_kstr(&w, "completion", r->completion);
    kdate_or_nil(&w, "completed_on", r->completed_on);
    kdate_or_nil(&w, "refund_from", r->refund_from);
    cw_kbool(&w, "refund_provisional", r->refund_provisional);
    kdate_or_nil(&w, "refunded_on", r->refunded_on);
    cw_kint(&w, "held", r->owner_paid + r->contractor_paid - r->refunded);
    cw_kint(&w, "end_due", r->end_due);
    cw_kbool(&w, "end_provisional", r->end_provisional);
    cw_kint(&w, "term_fired", r->term_fired);
    cw_kint(&w, "passes_fired", r->passes_fired);
    rc = proj_put(txn, v->dbi[DB_RENOS], r->id, strlen(r->id), &w);
    cw_release(&w);
    return rc;
}

int ren_get(MDB_txn *txn, const struct views *v, const char *id,
            struct ren_rec *r)
{
    struct codec_doc d;
    int rc = proj_get(txn, v->dbi[DB_RENOS], id, strlen(id), &d);
    if (rc)
        return rc;
    rc = parse_rec(d.obj, r);
    codec_doc_release(&d);
    return rc;
}

/* id \0 sub */
static size_t sub_key(unsigned char *k, const char *id, const char *sub)
{
    size_t a = strlen(id) + 1, b = strlen(sub);
    if (a + b > RKEY_MAX)
        b = RKEY_MAX - a;
    memcpy(k, id, a);
    memcpy(k + a, sub, b);
    return a + b;
}

/* ---- timers ---- */

static const char *const timer_rules[] = {"term", "passes"};
static const char *const timer_cmds[] = {"renovation.expire_term",
                                         "renovation.passes_overdue"};

int64_t ren_timer_due(const struct ren_rec *r, enum ren_timer t)
{
    if (!r->end_due || r->refunded_on != DATE_NONE)
        return 0;
    if (t == REN_T_TERM)
        return r->term_fired == r->end_due || !strcmp(r->completion, "passed")
                   ? 0
                   : r->end_due;
    return r->passes_fired == r->end_due || r->passes_out <= 0 ? 0 : r->end_due;
}

/* Arms (due != 0) or clears the timer key running cmd with {renovation,
 * [violation,] due}. */
static int arm(MDB_txn *txn, const struct views *v, uint64_t seq,
               const char *key, const char *cmd, const char *id,
               const char *viol, int64_t due)
{
    const char *ids[] = {"renovation", id, viol ? "violation" : NULL, viol,
                         NULL};
    return timer_arm(txn, v, seq, key, cmd, ids, due);
}

static int sync_timers(MDB_txn *txn, const struct views *v, uint64_t seq,
                       const struct ren_rec *before, const struct ren_rec *r)
{
    char key[RKEY_MAX];
    int rc;

    for (int t = REN_T_TERM; t <= REN_T_PASSES; t++) {
        int64_t due = ren_timer_due(r, (enum ren_timer)t);
        if (due == ren_timer_due(before, (enum ren_timer)t))
            continue;
        snprintf(key, sizeof(key), "%s:%s", r->id, timer_rules[t]);
        if ((rc = arm(txn, v, seq, key, timer_cmds[t], r->id, NULL, due)))
            return rc;
    }
    return 0;
}

static void set_end_due(struct ren_rec *r, const msgpack_object *d)
{
    r->end_due = 0;
    codec_get_int(d, "end_due", &r->end_due);
    r->end_provisional = proj_provisional(d, "end_due");
}

int64_t ren_violation_due(const msgpack_object *viol)
{
    const msgpack_object *rec = codec_get(viol, "rectified"),
                         *late = codec_get(viol, "overdue");
    int64_t due = 0;

    if ((rec && rec->type != MSGPACK_OBJECT_NIL) ||
        (late && late->type != MSGPACK_OBJECT_NIL))
        return 0;
    codec_get_int(viol, "deadline_due", &due);
    return due;
}

bool ren_violation_provisional(const msgpack_object *viol)
{
    bool p = false;
    codec_get_bool(viol, "provisional", &p);
    return p;
}

static int apply_filed(MDB_txn *txn, const struct views *v,
                       const struct event *ev)
{
    struct ren_rec r, before;
    int rc;

    memset(&before, 0, sizeof(before));
    before.completed_on = before.refund_from = before.refunded_on = DATE_NONE;
    memset(&r, 0, sizeof(r));
    codec_copy_str(ev->data, "renovation", r.id, sizeof(r.id));
    codec_copy_str(ev->data, "unit", r.unit, sizeof(r.unit));
    codec_copy_str(ev->data, "owner", r.owner, sizeof(r.owner));
    codec_copy_str(ev->data, "applicant", r.applicant, sizeof(r.applicant));
    codec_copy_str(ev->data, "in_charge", r.in_charge, sizeof(r.in_charge));
    codec_copy_str(ev->data, "contractor", r.contractor, sizeof(r.contractor));
    codec_get_bool(ev->data, "self", &r.self);
    codec_get_bool(ev->data, "waterproof", &r.waterproof);
    codec_get_int(ev->data, "deposit_due", &r.deposit_due);
    r.filed = day_of(ev->data, "date");
    r.start = day_of(ev->data, "start");
    r.end = day_of(ev->data, "end");
    set_end_due(&r, ev->data);
    r.completed_on = r.refund_from = r.refunded_on = DATE_NONE;
    if ((rc = write_rec(txn, v, &r)))
        return rc;
    return sync_timers(txn, v, ev->seq, &before, &r);
}

static int put_sub(MDB_txn *txn, const struct views *v, enum proj_db db,
                   const char *id, const char *sub, const struct cw *w)
{
    unsigned char k[RKEY_MAX];
    return proj_put(txn, v->dbi[db], k, sub_key(k, id, sub), w);
}

static int apply_pass(MDB_txn *txn, const struct views *v,
                      const struct event *ev, struct ren_rec *r)
{
    char pass[48];
    struct codec_doc d;
    struct cw w;
    int rc;

    codec_copy_str(ev->data, "pass", pass, sizeof(pass));
    cw_init(&w);
    if (ev->type == EV_REN_PASS_ISSUED) {
        cw_map(&w, 4);
        cw_kstr(&w, "pass", pass);
        cw_kobj(&w, "worker", codec_get(ev->data, "worker"));
        cw_kobj(&w, "issued", codec_get(ev->data, "date"));
        cw_knil(&w, "returned");
        r->passes_out++;
        r->passes_issued++;
        rc = put_sub(txn, v, DB_REN_PASSES, r->id, pass, &w);
    } else {
        rc = ren_get_pass(txn, v, r->id, pass, &d);
        if (rc == 0) {
            cw_map(&w, 4);
            cw_kstr(&w, "pass", pass);
            cw_kobj(&w, "worker", codec_get(d.obj, "worker"));
            cw_kobj(&w, "issued", codec_get(d.obj, "issued"));
            cw_kobj(&w, "returned", codec_get(ev->data, "date"));
            codec_doc_release(&d);
            r->passes_out--;
            rc = put_sub(txn, v, DB_REN_PASSES, r->id, pass, &w);
        }
    }
    cw_release(&w);
    return rc;
}

static void kobj_or_nil(struct cw *w, const char *k, const msgpack_object *o)
{
    if (o)
        cw_kobj(w, k, o);
    else
        cw_knil(w, k);
}

/* A violation found, rectified or reported overdue (R-REN-05); its
 * rectification timer is armed while it is open and not yet reported. */
static int apply_violation(MDB_txn *txn, const struct views *v,
                           const struct event *ev, struct ren_rec *r)
{
    static const char *const keys[] = {"violation", "kind",      "notice",
                                       "deadline",  "note",      "deadline_due",
                                       "found",     "rectified", "overdue"};
    const size_t nk = sizeof(keys) / sizeof(*keys);
    char viol[32], tkey[RKEY_MAX];
    struct codec_doc d;
    struct cw w;
    int64_t due = 0;
    int rc = 0;

    codec_copy_str(ev->data, "violation", viol, sizeof(viol));
    cw_init(&w);
    cw_map(&w, (uint32_t)nk + 1);
    if (ev->type == EV_REN_VIOLATION_FOUND) {
        for (size_t i = 0; i < 6; i++)
            kobj_or_nil(&w, keys[i], codec_get(ev->data, keys[i]));
        cw_kobj(&w, "found", codec_get(ev->data, "date"));
        cw_knil(&w, "rectified");
        cw_knil(&w, "overdue");
        cw_kbool(&w, "provisional", proj_provisional(ev->data, "deadline_due"));
        codec_get_int(ev->data, "deadline_due", &due);
        r->open_violations++;
        r->violations++;
    } else if ((rc = ren_get_violation(txn, v, r->id, viol, &d)) == 0) {
        const char *set =
            ev->type == EV_REN_RECTIFIED ? "rectified" : "overdue";
        for (size_t i = 0; i < nk; i++)
            kobj_or_nil(&w, keys[i],
                        strcmp(keys[i], set)
                            ? codec_get(d.obj, keys[i])
                            : codec_get(ev->data, ev->type == EV_REN_RECTIFIED
                                                      ? "date"
                                                      : "due"));
        cw_kbool(&w, "provisional", ren_violation_provisional(d.obj));
        codec_doc_release(&d);
        if (ev->type == EV_REN_RECTIFIED)
            r->open_violations--;
    }
    if (rc == 0)
        rc = put_sub(txn, v, DB_REN_VIOLS, r->id, viol, &w);
    cw_release(&w);
    snprintf(tkey, sizeof(tkey), "%s/%s:deadline", r->id, viol);
    if (rc == 0)
        rc = arm(txn, v, ev->seq, tkey, "renovation.violation_overdue", r->id,
                 viol, due);
    return rc;
}

/* Every event after the filing updates the record (and maybe a pass or
 * a violation). */
static int apply_update(MDB_txn *txn, const struct views *v,
                        const struct event *ev)
{
    char id[REN_ID_MAX], party[16], res[8];
    struct ren_rec r, before;
    int64_t n = 0;
    int rc;

    codec_copy_str(ev->data, "renovation", id, sizeof(id));
    if ((rc = ren_get(txn, v, id, &r)))
        return rc == MDB_NOTFOUND ? 0 : rc;
    before = r;
    switch (ev->type) {
    case EV_REN_DEPOSIT_TAKEN:
        codec_copy_str(ev->data, "party", party, sizeof(party));
        codec_get_int(ev->data, "amount", &n);
        *(strcmp(party, "contractor") ? &r.owner_paid : &r.contractor_paid) +=
            n;
        break;
    case EV_REN_EXTENDED:
        r.end = day_of(ev->data, "end");
        set_end_due(&r, ev->data);
        break;
    case EV_REN_TERM_EXPIRED:
        codec_get_int(ev->data, "due", &r.term_fired);
        break;
    case EV_REN_PASSES_OVERDUE:
        codec_get_int(ev->data, "due", &r.passes_fired);
        break;
    case EV_REN_PASS_ISSUED:
    case EV_REN_PASS_RETURNED:
        rc = apply_pass(txn, v, ev, &r);
        break;
    case EV_REN_VIOLATION_FOUND:
    case EV_REN_RECTIFIED:
    case EV_REN_VIOLATION_OVERDUE:
        rc = apply_violation(txn, v, ev, &r);
        break;
    case EV_REN_COMPLETION_INSPECTED:
        codec_copy_str(ev->data, "result", res, sizeof(res));
        snprintf(r.completion, sizeof(r.completion), "%s", res);
        r.completed_on =
            strcmp(res, "passed") ? DATE_NONE : day_of(ev->data, "date");
        r.refund_from = day_of(ev->data, "refund_from");
        r.refund_provisional = proj_provisional(ev->data, "refund_from");
        break;
    case EV_REN_DEPOSIT_REFUNDED:
        codec_get_int(ev->data, "amount", &n);
        r.refunded += n;
        r.refunded_on = day_of(ev->data, "date");
        break;
    default:
        return 0;
    }
    if (rc || (rc = write_rec(txn, v, &r)))
        return rc;
    return sync_timers(txn, v, ev->seq, &before, &r);
}

int proj_renovation_apply(MDB_txn *txn, const struct views *v,
                          const struct event *ev)
{
    switch (ev->type) {
    case EV_REN_FILED:
        return apply_filed(txn, v, ev);
    case EV_REN_DEPOSIT_TAKEN:
    case EV_REN_EXTENDED:
    case EV_REN_PASS_ISSUED:
    case EV_REN_PASS_RETURNED:
    case EV_REN_VIOLATION_FOUND:
    case EV_REN_RECTIFIED:
    case EV_REN_COMPLETION_INSPECTED:
    case EV_REN_DEPOSIT_REFUNDED:
    case EV_REN_TERM_EXPIRED:
    case EV_REN_PASSES_OVERDUE:
    case EV_REN_VIOLATION_OVERDUE:
        return apply_update(txn, v, ev);
    default:
        return 0;
    }
}

/* ---- reads ---- */

struct each_ctx {
    ren_fn fn;
    void *ctx;
};

static int each_rec(void *ctx, const msgpack_object *m)
{
    struct each_ctx *c = ctx;
    struct ren_rec r;
    if (parse_rec(m, &r))
        return 0;
    return c->fn(c->ctx, &r);
}

int ren_each(MDB_txn *txn, const struct views *v, ren_fn fn, void *ctx)
{
    struct each_ctx c = {fn, ctx};
    return proj_each(txn, v->dbi[DB_RENOS], "", 0, each_rec, &c);
}

static int each_sub(MDB_txn *txn, MDB_dbi dbi, const char *id, proj_each_fn fn,
                    void *ctx)
{
    unsigned char k[RKEY_MAX];
    return proj_each(txn, dbi, k, sub_key(k, id, ""), fn, ctx);
}

int ren_each_pass(MDB_txn *txn, const struct views *v, const char *id,
                  proj_each_fn fn, void *ctx)
{
    return each_sub(txn, v->dbi[DB_REN_PASSES], id, fn, ctx);
}

int ren_each_violation(MDB_txn *txn, const struct views *v, const char *id,
                       proj_each_fn fn, void *ctx)
{
    return each_sub(txn, v->dbi[DB_REN_VIOLS], id, fn, ctx);
}

int ren_get_pass(MDB_txn *txn, const struct views *v, const char *id,
                 const char *pass, struct codec_doc *doc)
{
    unsigned char k[RKEY_MAX];
    return proj_get(txn, v->dbi[DB_REN_PASSES], k, sub_key(k, id, pass), doc);
}

int ren_get_violation(MDB_txn *txn, const struct views *v, const char *id,
                      const char *viol, struct codec_doc *doc)
{
    unsigned char k[RKEY_MAX];
    return proj_get(txn, v->dbi[DB_REN_VIOLS], k, sub_key(k, id, viol), doc);
}
