/* projections/movein.c - read model of move-in checklists (R-MOV-01,
 * R-MOV-02). Owns sub-dbs moveins and movein_days. Reads only the event
 * and its own tables, so a replay reproduces them. Fee and card events
 * count only for a unit whose move-in is open. */
#include "movein.h"

#include <stdio.h>
#include <string.h>

#include "../core/date.h"

#define UNIT_MAX 64 /* bytes in a unit key */

static int log_step(MDB_txn *txn, const struct views *v, const struct event *ev,
                    const char *unit, const char *step)
{
    unsigned char k[12];
    struct cw w;
    int rc;
    proj_key_day(k, ev->recorded_day);
    proj_key_u64(k + 4, ev->seq);
    cw_init(&w);
    cw_map(&w, 3);
    cw_kstr(&w, "unit", unit);
    cw_kstr(&w, "step", step);
    cw_kint(&w, "seq", (int64_t)ev->seq);
    rc = proj_put(txn, v->dbi[DB_MOVEIN_DAYS], k, sizeof(k), &w);
    cw_release(&w);
    return rc;
}

static int apply_started(MDB_txn *txn, const struct views *v,
                         const struct event *ev, const char *unit)
{
    struct cw w;
    int rc;
    cw_init(&w);
    cw_map(&w, 21);
    cw_kstr(&w, "unit", unit);
    cw_kobj(&w, "applicant", codec_get(ev->data, "applicant"));
    cw_kobj(&w, "applicant_type", codec_get(ev->data, "applicant_type"));
    cw_kobj(&w, "documents", codec_get(ev->data, "documents"));
    cw_kdate(&w, "started", ev->recorded_day);
    cw_knil(&w, "agreements");
    cw_knil(&w, "signed");
    cw_knil(&w, "water");
    cw_knil(&w, "electricity");
    cw_knil(&w, "meters_read");
    cw_kstr(&w, "inspection", "");
    cw_knil(&w, "failed_items");
    cw_knil(&w, "fix_by");
    cw_knil(&w, "fix_due");
    cw_knil(&w, "fix_overdue");
    cw_kbool(&w, "fix_provisional", false);
    cw_knil(&w, "fee_start");
    cw_kint(&w, "prepay_due", 0);
    cw_kint(&w, "prepaid", 0);
    cw_kint(&w, "keys", 0);
    cw_kint(&w, "cards", 0);
    rc = proj_put(txn, v->dbi[DB_MOVEINS], unit, strlen(unit), &w);
    cw_release(&w);
    return rc ? rc : log_step(txn, v, ev, unit, "documents");
}

/* Rewrites the named keys of the unit's checklist from the event's data
 * (data key = checklist key). */
static int copy_keys(MDB_txn *txn, const struct views *v,
                     const struct event *ev, const char *unit,
                     const char *const *keys)
{
    int rc = 0;
    for (int i = 0; keys[i] && !rc; i++) {
        const msgpack_object *o = codec_get(ev->data, keys[i]);
        msgpack_object nil = {.type = MSGPACK_OBJECT_NIL};
        rc = proj_update_field(txn, v->dbi[DB_MOVEINS], unit, strlen(unit),
                               keys[i], o ? o : &nil);
    }
    return rc;
}

static int set_int(MDB_txn *txn, const struct views *v, const char *unit,
                   const char *key, int64_t val)
{
    msgpack_object o = {.type = val < 0 ? MSGPACK_OBJECT_NEGATIVE_INTEGER
                                        : MSGPACK_OBJECT_POSITIVE_INTEGER};
    o.via.i64 = val;
    return proj_update_field(txn, v->dbi[DB_MOVEINS], unit, strlen(unit), key,
                             &o);
}

/* Adds n to an integer key of an open checklist. */
static int add_int(MDB_txn *txn, const struct views *v, const char *unit,
                   const struct codec_doc *d, const char *key, int64_t n)
{
    int64_t cur = 0;
    codec_get_int(d->obj, key, &cur);
    return set_int(txn, v, unit, key, cur + n);
}

/* R-MOV-02: the timer "<unit>:fix_by" of a failed inspection's items,
 * armed from its fix_due (with the provisional mark kept beside it);
 * a passed inspection or the report (ev NULL) clears it. */
static int fix_timer(MDB_txn *txn, const struct views *v, uint64_t seq,
                     const char *unit, const struct event *ev)
{
    const char *ids[] = {"unit", unit, NULL};
    char key[UNIT_MAX + 8];
    int64_t due = 0;
    msgpack_object b = {.type = MSGPACK_OBJECT_BOOLEAN};
    int rc;

    snprintf(key, sizeof(key), "%s:fix_by", unit);
    if (ev) {
        codec_get_int(ev->data, "fix_due", &due);
        b.via.boolean = proj_provisional(ev->data, "fix_due");
        if ((rc = proj_update_field(txn, v->dbi[DB_MOVEINS], unit, strlen(unit),
                                    "fix_provisional", &b)))
            return rc;
    }
    return timer_arm(txn, v, seq, key, "movein.fix_overdue", ids, due);
}

static int apply_step(MDB_txn *txn, const struct views *v,
                      const struct event *ev, const char *unit,
                      const struct codec_doc *d)
{
    static const char *const signed_k[] = {"agreements", "signed", NULL};
    static const char *const meters_k[] = {"water", "electricity",
                                           "meters_read", NULL};
    static const char *const insp_k[] = {"inspection", "failed_items", "fix_by",
                                         "fix_due",    "fix_overdue",  NULL};
    static const char *const fee_k[] = {"prepay_due", NULL};
    static const char *const keys_k[] = {"keys", NULL};
    const char *step;
    int64_t n = 0;
    int rc;

    switch (ev->type) {
    case EV_MOVEIN_AGREEMENTS_SIGNED:
        rc = copy_keys(txn, v, ev, unit, signed_k), step = "agreements";
        break;
    case EV_MOVEIN_METERS_READ:
        rc = copy_keys(txn, v, ev, unit, meters_k), step = "meters";
        break;
    case EV_MOVEIN_INSPECTED:
        rc = copy_keys(txn, v, ev, unit, insp_k), step = "inspection";
        if (!rc)
            rc = fix_timer(txn, v, ev->seq, unit, ev);
        break;
    case EV_MOVEIN_FIX_OVERDUE: /* reported: not a step */
        if ((rc = proj_update_field(txn, v->dbi[DB_MOVEINS], unit, strlen(unit),
                                    "fix_overdue", codec_get(ev->data, "due"))))
            return rc;
        return fix_timer(txn, v, ev->seq, unit, NULL);
    case EV_MOVEIN_KEYS_HANDED:
        rc = copy_keys(txn, v, ev, unit, keys_k), step = "keys";
        break;
    case EV_FEE_START_SET: /* fee.move_in (R-FEE-05) */
        rc = copy_keys(txn, v, ev, unit, fee_k), step = "fees";
        if (!rc)
            rc = proj_update_field(txn, v->dbi[DB_MOVEINS], unit, strlen(unit),
                                   "fee_start", codec_get(ev->data, "start"));
        break;
    case EV_FEE_PAID:
        codec_get_int(ev->data, "prepaid", &n);
        if (n <= 0 ||
            codec_get(d->obj, "fee_start")->type == MSGPACK_OBJECT_NIL)
            return 0;
        rc = add_int(txn, v, unit, d, "prepaid", n), step = "prepayment";
        break;
    case EV_CARD_ISSUED:
        if (!codec_obj_is_str(codec_get(ev->data, "free"), "move_in"))
            return 0;
        rc = add_int(txn, v, unit, d, "cards", 1), step = "cards";
        break;
    default:
        return 0;
    }
    return rc ? rc : log_step(txn, v, ev, unit, step);
}

/* R-MOV-04: a move-out closes the unit's checklist (its fix timer with
 * it), so the next occupant's move-in starts afresh; the day's steps keep
 * the record. */
static int apply_moved_out(MDB_txn *txn, const struct views *v,
                           const struct event *ev, const char *unit)
{
    MDB_val k = {strlen(unit), (void *)unit};
    int rc = mdb_del(txn, v->dbi[DB_MOVEINS], &k, NULL);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc || (rc = fix_timer(txn, v, ev->seq, unit, NULL)))
        return rc;
    return log_step(txn, v, ev, unit, "moved_out");
}

int proj_movein_apply(MDB_txn *txn, const struct views *v,
                      const struct event *ev)
{
    char unit[UNIT_MAX];
    struct codec_doc d;
    int rc;

    switch (ev->type) {
    case EV_MOVEIN_STARTED:
    case EV_MOVEIN_AGREEMENTS_SIGNED:
    case EV_MOVEIN_METERS_READ:
    case EV_MOVEIN_INSPECTED:
    case EV_MOVEIN_KEYS_HANDED:
    case EV_MOVEIN_FIX_OVERDUE:
    case EV_FEE_START_SET:
    case EV_FEE_PAID:
    case EV_CARD_ISSUED:
    case EV_UNIT_MOVED_OUT:
        break;
    default:
        return 0;
    }
    codec_copy_str(ev->data, "unit", unit, sizeof(unit));
    if (ev->type == EV_MOVEIN_STARTED)
        return apply_started(txn, v, ev, unit);
    if (ev->type == EV_UNIT_MOVED_OUT)
        return apply_moved_out(txn, v, ev, unit);
    if ((rc = movein_get(txn, v, unit, &d)))
        return rc == MDB_NOTFOUND ? 0 : rc;
    rc = apply_step(txn, v, ev, unit, &d);
    codec_doc_release(&d);
    return rc;
}

int movein_get(MDB_txn *txn, const struct views *v, const char *unit,
               struct codec_doc *doc)
{
    return proj_get(txn, v->dbi[DB_MOVEINS], unit, strlen(unit), doc);
}

int movein_each(MDB_txn *txn, const struct views *v, proj_each_fn fn, void *ctx)
{
    return proj_each(txn, v->dbi[DB_MOVEINS], "", 0, fn, ctx);
}

int movein_each_step(MDB_txn *txn, const struct views *v, int32_t day,
                     proj_each_fn fn, void *ctx)
{
    unsigned char k[4];
    proj_key_day(k, day);
    return proj_each(txn, v->dbi[DB_MOVEIN_DAYS], k, sizeof(k), fn, ctx);
}
