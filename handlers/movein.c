/* handlers/movein.c - a unit's move-in at the desk (R-MOV-01, R-MOV-02):
 * the applicant's documents by type, agreements, meter readings, the unit
 * inspection with the owner and the keys, which wait for a passed
 * inspection. Fees and cards are not repeated here: fee.move_in (R-FEE-05),
 * fee.pay and card.issue with move_in are the steps, and the checklist
 * (projections/movein.c) picks up their events. Also the checklist
 * queries. */
#include <string.h>

#include "../projections/movein.h"
#include "../projections/units.h"
#include "handlers.h"

#define MOVEIN_ROWS_MAX 500 /* rows in one list of a reply */

const char *const applicant_types[] = {"household", "company", "agent", NULL};

/* R-MOV-01: what each applicant type brings (seed 000, 入伙手续). */
static const char *const docs_household[] = {
    "handover_notice", "owner_id",  "family_ids", "info_card",
    "photos",          "bank_card", NULL};
static const char *const docs_company[] = {
    "handover_notice", "rep_id_authorisation", "occupant_ids",
    "info_card",       "business_licence",     NULL};
static const char *const docs_agent[] = {"power_of_attorney", "agent_id",
                                         "handover_notice",   "owner_id",
                                         "info_card",         NULL};
/* R-MOV-02: signed at move-in. */
static const char *const agreements_needed[] = {"service_agreement", "covenant",
                                                NULL};

static int need_unit_key(struct hctx *h, const struct args *a, char *unit,
                         struct err *e)
{
    struct codec_doc d;
    arg_copy(a, "unit", unit, UNIT_KEY_MAX);
    if (units_get_unit(h->txn, h->v, unit, &d))
        return err_set(e, ERR_NOT_FOUND, "unit", "unit '%s' is not registered",
                       unit);
    codec_doc_release(&d);
    return 0;
}

/* The unit's open checklist (doc filled: release it). */
static int need_movein(struct hctx *h, const struct args *a, char *unit,
                       struct codec_doc *d, struct err *e)
{
    int rc = need_unit_key(h, a, unit, e);
    if (rc)
        return rc;
    if (movein_get(h->txn, h->v, unit, d))
        return err_set(e, ERR_NOT_FOUND, "unit",
                       "no move-in is open for '%s': movein.start first", unit);
    return 0;
}

int hdl_movein_start(struct hctx *h, const struct args *a, struct err *e)
{
    char unit[UNIT_KEY_MAX], who[PERSON_ID_MAX], owner[PERSON_ID_MAX];
    const char *type = arg(a, "applicant_type")->s, *miss;
    bool agent = !strncmp(type, "agent", 5);
    int32_t since, latest;
    struct codec_doc d;
    struct cw *w;
    int rc = need_unit_key(h, a, unit, e);

    if (rc)
        return rc;
    arg_copy(a, "applicant", who, sizeof(who));
    if (units_get_person(h->txn, h->v, who, &d))
        return err_set(e, ERR_NOT_FOUND, "applicant",
                       "person '%s' is not registered", who);
    codec_doc_release(&d);
    if (movein_get(h->txn, h->v, unit, &d) == 0) {
        codec_doc_release(&d);
        return err_set(e, ERR_CONFLICT, "unit",
                       "a move-in is already open for '%s'", unit);
    }
    if (units_owner_on(h->txn, h->v, unit, hdl_today(h), owner, &since,
                       &latest))
        return err_set(e, ERR_UNAVAILABLE, NULL, "owner lookup failed");
    if (!owner[0] || (!agent && strcmp(owner, who)))
        return err_set(e, ERR_RULE, "applicant",
                       owner[0] ? "R-MOV-01: '%s' is not the owner of '%s': "
                                  "an agent applies with the owner's power "
                                  "of attorney"
                                : "R-MOV-01: '%s' cannot move in: '%s' has "
                                  "no owner on record",
                       who, unit);
    miss = arg_strs_missing(a, "documents",
                            agent                          ? docs_agent
                            : !strncmp(type, "company", 7) ? docs_company
                                                           : docs_household);
    if (miss)
        return err_set(e, ERR_RULE, "documents",
                       "R-MOV-01: a %.*s applicant brings '%s'",
                       (int)arg(a, "applicant_type")->len, type, miss);
    w = hctx_data_begin(h);
    cw_map(w, 6);
    cw_kstr(w, "unit", unit);
    cw_kstr(w, "owner", owner);
    cw_kstr(w, "applicant", who);
    cw_kobj(w, "applicant_type", arg(a, "applicant_type")->o);
    cw_kobj(w, "documents", arg(a, "documents")->o);
    cw_kdate(w, "date", hdl_today(h));
    return emit(h, EV_MOVEIN_STARTED, "movein:%s", unit);
}

int hdl_movein_sign(struct hctx *h, const struct args *a, struct err *e)
{
    char unit[UNIT_KEY_MAX];
    const char *miss;
    struct codec_doc d;
    struct cw *w;
    int rc = need_movein(h, a, unit, &d, e);

    if (rc)
        return rc;
    codec_doc_release(&d);
    if ((miss = arg_strs_missing(a, "agreements", agreements_needed)))
        return err_set(e, ERR_RULE, "agreements",
                       "R-MOV-02: agreement '%s' is not signed", miss);
    w = hctx_data_begin(h);
    cw_map(w, 3);
    cw_kstr(w, "unit", unit);
    cw_kobj(w, "agreements", arg(a, "agreements")->o);
    cw_kdate(w, "signed", hdl_today(h));
    return emit(h, EV_MOVEIN_AGREEMENTS_SIGNED, "movein:%s", unit);
}

int hdl_movein_meters(struct hctx *h, const struct args *a, struct err *e)
{
    char unit[UNIT_KEY_MAX], buf[CMD_DEC2_STR];
    struct codec_doc d;
    struct cw *w;
    int rc = need_movein(h, a, unit, &d, e);

    if (rc)
        return rc;
    codec_doc_release(&d);
    w = hctx_data_begin(h);
    cw_map(w, 4);
    cw_kstr(w, "unit", unit);
    cmd_dec2_format(arg_int(a, "water"), buf);
    cw_kstr(w, "water", buf);
    cmd_dec2_format(arg_int(a, "electricity"), buf);
    cw_kstr(w, "electricity", buf);
    cw_kdate(w, "meters_read", hdl_today(h));
    return emit(h, EV_MOVEIN_METERS_READ, "movein:%s", unit);
}

static bool inspection_passed(const struct codec_doc *d)
{
    return codec_obj_is_str(codec_get(d->obj, "inspection"), "passed");
}

/* R-MOV-02: failed items get a deadline; a passed inspection stands. */
int hdl_movein_inspect(struct hctx *h, const struct args *a, struct err *e)
{
    bool passed = !strcmp(arg(a, "result")->s, "passed");
    char unit[UNIT_KEY_MAX];
    struct hdl_prov p = {0};
    struct codec_doc d;
    struct cw *w;
    size_t mo;
    bool done;
    int rc = need_movein(h, a, unit, &d, e);

    if (rc)
        return rc;
    done = inspection_passed(&d);
    codec_doc_release(&d);
    if (done)
        return err_set(e, ERR_CONFLICT, "unit",
                       "the inspection of '%s' has already passed", unit);
    if (!passed && (!arg_has(a, "items") || !arg_has(a, "deadline")))
        return err_set(e, ERR_INVALID,
                       arg_has(a, "items") ? "deadline" : "items",
                       "R-MOV-02: failed items are listed with a deadline");
    if (!passed && arg_int(a, "deadline") < hdl_today(h))
        return err_set(e, ERR_INVALID, "deadline", "'deadline' is in the past");
    w = hctx_data_begin(h);
    mo = cw_map_open(w);
    cw_kstr(w, "unit", unit);
    cw_kstr(w, "inspection", passed ? "passed" : "failed");
    if (passed) {
        cw_knil(w, "failed_items");
        cw_knil(w, "fix_by");
        cw_knil(w, "fix_due");
    } else {
        cw_kobj(w, "failed_items", arg(a, "items")->o);
        cw_kdate(w, "fix_by", (int32_t)arg_int(a, "deadline"));
        /* when the items count as not fixed in time (timer) */
        cw_kint(w, "fix_due",
                hdl_day_due(h, (int32_t)arg_int(a, "deadline"), &p, "fix_due"));
    }
    cw_kdate(w, "date", hdl_today(h));
    cw_map_close(w, mo, 6 + hdl_kprov(w, &p));
    return emit(h, EV_MOVEIN_INSPECTED, "movein:%s", unit);
}

/* Run by a timer (actor system), R-MOV-02: the failed items of the last
 * inspection not fixed (no new inspection) by their deadline are
 * reported, once; a stale timer is a conflict. */
int hdl_movein_fix_overdue(struct hctx *h, const struct args *a, struct err *e)
{
    char unit[UNIT_KEY_MAX];
    int64_t due = 0, fired = 0;
    bool prov = false;
    struct codec_doc d;
    struct cw *w;
    int rc = need_movein(h, a, unit, &d, e);

    if (rc)
        return rc;
    codec_get_int(d.obj, "fix_due", &due);
    codec_get_int(d.obj, "fix_overdue", &fired);
    codec_get_bool(d.obj, "fix_provisional", &prov);
    if (!codec_obj_is_str(codec_get(d.obj, "inspection"), "failed") || !due ||
        fired == due || due != arg_int(a, "due")) {
        codec_doc_release(&d);
        return err_set(e, ERR_CONFLICT, "due",
                       "no failed items of '%s' due at that time", unit);
    }
    w = hctx_data_begin(h);
    cw_map(w, 5);
    cw_kstr(w, "unit", unit);
    cw_kobj(w, "failed_items", codec_get(d.obj, "failed_items"));
    cw_kobj(w, "fix_by", codec_get(d.obj, "fix_by"));
    cw_kint(w, "due", due);
    cw_kbool(w, "provisional", prov);
    codec_doc_release(&d);
    return emit_at(h, EV_MOVEIN_FIX_OVERDUE, due, "movein:%s", unit);
}

/* R-MOV-02: keys only after the inspection passes. */
int hdl_movein_keys(struct hctx *h, const struct args *a, struct err *e)
{
    char unit[UNIT_KEY_MAX];
    int64_t keys = 0;
    struct codec_doc d;
    struct cw *w;
    bool passed;
    int rc = need_movein(h, a, unit, &d, e);

    if (rc)
        return rc;
    passed = inspection_passed(&d);
    codec_get_int(d.obj, "keys", &keys);
    codec_doc_release(&d);
    if (!passed)
        return err_set(e, ERR_RULE, "unit",
                       "R-MOV-02: keys of '%s' are handed over only after the "
                       "unit inspection passes",
                       unit);
    if (keys > 0)
        return err_set(e, ERR_CONFLICT, "unit",
                       "the keys of '%s' were already handed over", unit);
    w = hctx_data_begin(h);
    cw_map(w, 3);
    cw_kstr(w, "unit", unit);
    cw_kint(w, "keys", arg_int(a, "keys"));
    cw_kdate(w, "date", hdl_today(h));
    return emit(h, EV_MOVEIN_KEYS_HANDED, "movein:%s", unit);
}

/* ---- queries ---- */

static bool is_nil(const msgpack_object *m, const char *k)
{
    const msgpack_object *o = codec_get(m, k);
    return !o || o->type == MSGPACK_OBJECT_NIL;
}

static int64_t int_of(const msgpack_object *m, const char *k)
{
    int64_t v = 0;
    codec_get_int(m, k, &v);
    return v;
}

/* The derived steps of a checklist: writes {steps: {..}, done, complete}. */
static void write_progress(struct cw *w, const msgpack_object *m)
{
    bool s[7] = {true,
                 !is_nil(m, "signed"),
                 !is_nil(m, "meters_read"),
                 codec_obj_is_str(codec_get(m, "inspection"), "passed"),
                 !is_nil(m, "fee_start") &&
                     int_of(m, "prepaid") >= int_of(m, "prepay_due"),
                 int_of(m, "keys") > 0,
                 int_of(m, "cards") > 0};
    static const char *const names[7] = {"documents",  "agreements", "meters",
                                         "inspection", "fees",       "keys",
                                         "cards"};
    int done = 0;
    cw_str(w, "steps");
    cw_map(w, 7);
    for (int i = 0; i < 7; i++) {
        cw_kbool(w, names[i], s[i]);
        done += s[i];
    }
    cw_kint(w, "done", done);
    cw_kbool(w, "complete", done == 7);
}

/* why: {fix_due: the failed inspection that set the fix-by day
 * (R-MOV-02) and when it passes} when the checklist has one. */
static int movein_why(struct hctx *h, const char *unit, const msgpack_object *m)
{
    char stream[UNIT_KEY_MAX + 8], day[DATE_STR_MAX] = "", when[TS_STR_MAX];
    int64_t due = 0;
    int32_t d;
    const char *s;
    size_t n;
    struct why y;
    int rc;

    codec_get_int(m, "fix_due", &due);
    cw_str(h->result, "why");
    cw_map(h->result, due ? 1 : 0);
    if (!due)
        return 0;
    snprintf(stream, sizeof(stream), "movein:%s", unit);
    codec_copy_str(m, "fix_by", day, sizeof(day));
    ts_format(due, h->cfg->cal.offset_min, when);
    why_begin(&y, h, "fix_due");
    rc = why_set_by(&y, stream, EV_MOVEIN_INSPECTED, "fix_due", NULL, due,
                    "R-MOV-02",
                    "the inspection failed: the items are to be fixed by %s, "
                    "overdue at %s",
                    day, when);
    if (!codec_get_str(m, "fix_by", &s, &n) && !date_parse(s, n, &d))
        why_day_due(&y, "R-MOV-02", d, due);
    why_end(&y);
    return rc;
}

int hdl_query_movein(struct hctx *h, const struct args *a, struct err *e)
{
    char unit[UNIT_KEY_MAX];
    struct codec_doc d;
    struct cw *w = h->result;
    int rc = need_movein(h, a, unit, &d, e);

    if (rc)
        return rc;
    cw_map(w, 4 + (hdl_explain(a) ? 1 : 0));
    cw_str(w, "checklist");
    cw_obj(w, d.obj);
    write_progress(w, d.obj);
    rc = hdl_explain(a) ? movein_why(h, unit, d.obj) : 0;
    codec_doc_release(&d);
    if (rc)
        return err_set(e, ERR_UNAVAILABLE, NULL, "move-in lookup failed");
    h->has_result = true;
    return 0;
}

struct mi_ctx {
    struct cw *w;
    const char *prefix;
    uint32_t n;
};

static bool mi_scope(const struct mi_ctx *c, const msgpack_object *m)
{
    const char *s;
    size_t n, pl = strlen(c->prefix);
    return !codec_get_str(m, "unit", &s, &n) && n >= pl &&
           !memcmp(s, c->prefix, pl);
}

static int mi_row(void *ctx, const msgpack_object *m)
{
    struct mi_ctx *c = ctx;
    if (!mi_scope(c, m) || c->n >= MOVEIN_ROWS_MAX)
        return 0;
    c->n++;
    cw_map(c->w, 6);
    cw_kobj(c->w, "unit", codec_get(m, "unit"));
    cw_kobj(c->w, "started", codec_get(m, "started"));
    cw_kobj(c->w, "inspection", codec_get(m, "inspection"));
    write_progress(c->w, m);
    return 0;
}

static int mi_step(void *ctx, const msgpack_object *m)
{
    struct mi_ctx *c = ctx;
    if (!mi_scope(c, m) || c->n >= MOVEIN_ROWS_MAX)
        return 0;
    c->n++;
    cw_obj(c->w, m);
    return 0;
}

/* Per unit: every checklist and how far it is; per day: the steps done
 * on the day. */
int hdl_query_moveins(struct hctx *h, const struct args *a, struct err *e)
{
    char prefix[UNIT_KEY_MAX] = "";
    int32_t day =
        arg_has(a, "date") ? (int32_t)arg_int(a, "date") : hdl_today(h);
    struct mi_ctx c = {h->result, prefix, 0};
    size_t at;
    int rc;

    if (arg_has(a, "unit"))
        arg_copy(a, "unit", prefix, sizeof(prefix));
    cw_map(h->result, 3);
    cw_kdate(h->result, "date", day);
    cw_str(h->result, "units");
    at = cw_array_open(h->result);
    rc = movein_each(h->txn, h->v, mi_row, &c);
    cw_array_close(h->result, at, c.n);
    c.n = 0;
    cw_str(h->result, "steps");
    at = cw_array_open(h->result);
    rc = rc ? rc : movein_each_step(h->txn, h->v, day, mi_step, &c);
    cw_array_close(h->result, at, c.n);
    if (rc)
        return err_set(e, ERR_UNAVAILABLE, NULL, "move-in lookup failed");
    h->has_result = true;
    return 0;
}
