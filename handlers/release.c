/* handlers/release.c - goods-release passes (物资放行, R-REL-01..04): the
 * desk writes a pass for a unit's applicant (items and quantities, date,
 * vehicle), checked by the applicant's relation to the unit on that date;
 * a tenant's pass waits for the owner's confirmation (or the emergency
 * contact's, or a police-witnessed record); the gate checks and collects
 * it once, on its date. The gate check is a command: the "used" event it
 * appends is what makes a second use visible. */
#include <string.h>

#include "../projections/fees.h"
#include "../projections/release.h"
#include "../projections/units.h"
#include "handlers.h"

#define PASS_ITEMS_MAX 32    /* item categories on one pass */
#define PASS_CATEGORY_MAX 32 /* bytes in a category name */
#define PASS_QTY_MAX 100000  /* pieces of one category */

const char *const pass_checks[] = {"owner_record", "owner_phoned", NULL};
const char *const pass_confirmers[] = {"owner", "emergency_contact", "police",
                                       NULL};

/* R-REL-01: items is a map category -> quantity. */
static int check_items(const msgpack_object *m, struct err *e)
{
    if (m->via.map.size == 0)
        return err_set(e, ERR_RULE, "items",
                       "R-REL-01: a pass lists at least one item category");
    if (m->via.map.size > PASS_ITEMS_MAX)
        return err_set(e, ERR_INVALID, "items",
                       "at most %d item categories on a pass", PASS_ITEMS_MAX);
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        const msgpack_object *k = &m->via.map.ptr[i].key;
        int64_t q;
        if (k->type != MSGPACK_OBJECT_STR || k->via.str.size == 0 ||
            k->via.str.size > PASS_CATEGORY_MAX ||
            !cmd_utf8_ok((const unsigned char *)k->via.str.ptr, k->via.str.size,
                         false))
            return err_set(e, ERR_INVALID, "items",
                           "item category must be 1..%d bytes of text",
                           PASS_CATEGORY_MAX);
        if (codec_obj_int(&m->via.map.ptr[i].val, &q) || q < 1 ||
            q > PASS_QTY_MAX)
            return err_set(e, ERR_INVALID, "items",
                           "quantity of '%.*s' must be 1..%d",
                           (int)k->via.str.size, k->via.str.ptr, PASS_QTY_MAX);
    }
    return 0;
}

struct arrears_ctx {
    const char *payer; /* NULL: every payer */
    int32_t before;
    int64_t owed;
};

static int add_arrears(void *ctx, const struct bill *b)
{
    struct arrears_ctx *c = ctx;
    if (b->due < c->before && (!c->payer || !strcmp(b->payer, c->payer)))
        c->owed += b->amount - b->settled;
    return 0;
}

/* Arrears: what the unit's bills (only payer's, when given) fallen due
 * before today still owe now. */
static int unit_arrears(struct hctx *h, const char *unit, const char *payer,
                        int64_t *owed)
{
    struct arrears_ctx c = {payer, hdl_today(h), 0};
    int rc = fees_each_unit_bill(h->txn, h->v, unit, true, add_arrears, &c);
    *owed = c.owed;
    return rc;
}

/* R-REL-02: who may apply and what each must show. authorisation gets the
 * agent's authorisation reference. */
static int check_identity(const struct args *a, const char *role,
                          const msgpack_object *person, char *authorisation,
                          size_t cap, struct err *e)
{
    bool checked = arg_has(a, "verified_by");
    const char *how = checked ? arg(a, "verified_by")->s : "";

    authorisation[0] = '\0';
    if (!role[0] || !strcmp(role, "staff"))
        return err_set(e, ERR_RULE, "applicant",
                       "R-REL-02: the applicant is neither the owner nor "
                       "family, tenant or agent of the unit on that date");
    if (!strcmp(role, "family") && !checked)
        return err_set(e, ERR_RULE, "verified_by",
                       "R-REL-02: family: check the owner's record or phone "
                       "the owner, and say which ('verified_by')");
    if (strcmp(role, "agent"))
        return 0;
    if (!codec_copy_str(person, "authorisation", authorisation, cap))
        return err_set(e, ERR_RULE, "applicant",
                       "R-REL-02: the agent has no written authorisation "
                       "from the owner on record");
    if (strcmp(how, "owner_phoned"))
        return err_set(e, ERR_RULE, "verified_by",
                       "R-REL-02: an agent's pass needs a phone check with "
                       "the owner (verified_by=owner_phoned)");
    return 0;
}

/* The facts a pass is decided on. */
struct pass_facts {
    char unit[UNIT_KEY_MAX], applicant[PERSON_ID_MAX], owner[PERSON_ID_MAX];
    char role[16], authorisation[128];
    int32_t day;
    int64_t arrears;
    bool tenant;
};

static int pass_facts(struct hctx *h, const struct args *a,
                      struct pass_facts *p, struct err *e)
{
    struct codec_doc d;
    int rc;

    arg_copy(a, "unit", p->unit, sizeof(p->unit));
    if (units_get_unit(h->txn, h->v, p->unit, &d))
        return err_set(e, ERR_NOT_FOUND, "unit", "unit '%s' is not registered",
                       p->unit);
    codec_doc_release(&d);
    p->day = arg_has(a, "date") ? (int32_t)arg_int(a, "date") : hdl_today(h);
    if (p->day < hdl_today(h))
        return err_set(e, ERR_INVALID, "date",
                       "a pass is for today or a later day");
    if ((rc = check_items(arg(a, "items")->o, e)))
        return rc;
    arg_copy(a, "applicant", p->applicant, sizeof(p->applicant));
    if (units_get_person(h->txn, h->v, p->applicant, &d))
        return err_set(e, ERR_NOT_FOUND, "applicant",
                       "person '%s' is not registered", p->applicant);
    rc = unit_relation_on(h, p->unit, p->applicant, p->day, p->role, p->owner,
                          NULL);
    if (!rc)
        rc = check_identity(a, p->role, d.obj, p->authorisation,
                            sizeof(p->authorisation), e);
    else
        rc = err_set(e, ERR_UNAVAILABLE, NULL, "relation lookup failed");
    codec_doc_release(&d);
    if (rc)
        return rc;
    /* R-REL-03: merchants occupy a shop on a lease like tenants. */
    p->tenant = !strcmp(p->role, "tenant") || !strcmp(p->role, "merchant");
    if (p->tenant || !strcmp(p->role, "owner"))
        if (unit_arrears(h, p->unit, p->tenant ? NULL : p->owner, &p->arrears))
            return err_set(e, ERR_UNAVAILABLE, NULL, "arrears lookup failed");
    return 0;
}

static void copy_opt(struct cw *w, const struct args *a, const char *k)
{
    if (arg_has(a, k))
        cw_kobj(w, k, arg(a, k)->o);
}

/* R-REL-01..03: a pass, issued at once or (tenants) pending the owner's
 * confirmation; arrears recorded for tenants, an owner in arrears
 * reminded. */
int hdl_release_request(struct hctx *h, const struct args *a, struct err *e)
{
    struct pass_facts p = {0};
    char id[PASS_ID_MAX];
    bool remind;
    struct cw *w;
    struct hdl_prov pv = {0};
    size_t at;
    uint32_t n = 9;
    int rc = pass_facts(h, a, &p, e);

    if (rc)
        return rc;
    remind = !p.tenant && p.arrears > 0;
    snprintf(id, sizeof(id), "R%llu", (unsigned long long)h->next_seq);
    w = hctx_data_begin(h);
    at = cw_map_open(w);
    cw_kstr(w, "pass", id);
    cw_kstr(w, "unit", p.unit);
    cw_kstr(w, "applicant", p.applicant);
    cw_kstr(w, "relation", p.role);
    cw_kdate(w, "date", p.day);
    /* when an unused pass is reported expired (timer) */
    cw_kint(w, "expires_due", hdl_day_due(h, p.day, &pv, "expires_due"));
    cw_kobj(w, "items", arg(a, "items")->o);
    cw_kstr(w, "state", p.tenant ? "pending" : "issued");
    cw_kint(w, "arrears", p.arrears);
    if (p.owner[0])
        cw_kstr(w, "owner", p.owner);
    else
        cw_knil(w, "owner");
    n += arg_has(a, "vehicle") + arg_has(a, "verified_by") + arg_has(a, "note");
    copy_opt(w, a, "vehicle");
    copy_opt(w, a, "verified_by");
    copy_opt(w, a, "note");
    if (p.authorisation[0])
        cw_kstr(w, "authorisation", p.authorisation), n++;
    if (remind)
        cw_kstr(w, "reminder",
                "R-REL-03: the owner has fees in arrears; remind, do not "
                "refuse"),
            n++;
    cw_map_close(w, at, n + 1 + hdl_kprov(w, &pv));
    return emit(h, EV_PASS_REQUESTED, "pass:%s", id);
}

static int need_pass(struct hctx *h, const struct args *a, char *id,
                     struct codec_doc *d, char state[16], struct err *e)
{
    arg_copy(a, "pass", id, PASS_ID_MAX);
    if (release_get(h->txn, h->v, id, d))
        return err_set(e, ERR_NOT_FOUND, "pass", "pass '%s' does not exist",
                       id);
    codec_copy_str(d->obj, "state", state, 16);
    return 0;
}

/* R-REL-03: who confirms a tenant's pass, and what that confirmation
 * carries (the emergency contact's name, the police record reference). */
static int check_confirmer(struct hctx *h, const struct args *a,
                           const char *owner, char *contact, size_t cap,
                           struct err *e)
{
    const char *by = arg(a, "by")->s;
    struct codec_doc d;

    contact[0] = '\0';
    if (!strcmp(by, "police"))
        return arg_has(a, "police_ref")
                   ? 0
                   : err_set(e, ERR_RULE, "police_ref",
                             "R-REL-03: a police-witnessed record needs its "
                             "reference ('police_ref')");
    if (!owner[0])
        return err_set(e, ERR_RULE, "by",
                       "R-REL-03: the unit had no owner on the pass date; "
                       "only a police-witnessed record can confirm");
    if (!strcmp(by, "owner"))
        return 0;
    if (units_get_person(h->txn, h->v, owner, &d))
        return err_set(e, ERR_UNAVAILABLE, NULL, "owner lookup failed");
    if (!codec_copy_str(d.obj, "emergency_name", contact, cap))
        codec_copy_str(d.obj, "emergency_phone", contact, cap);
    codec_doc_release(&d);
    if (!contact[0])
        return err_set(e, ERR_RULE, "by",
                       "R-REL-03: owner '%s' has no emergency contact on "
                       "record",
                       owner);
    return 0;
}

int hdl_release_confirm(struct hctx *h, const struct args *a, struct err *e)
{
    char id[PASS_ID_MAX], state[16], owner[PERSON_ID_MAX], contact[64];
    struct codec_doc d;
    struct cw *w;
    size_t at;
    uint32_t n = 3;
    int rc = need_pass(h, a, id, &d, state, e);

    if (rc)
        return rc;
    codec_copy_str(d.obj, "owner", owner, sizeof(owner));
    codec_doc_release(&d);
    if (strcmp(state, "pending"))
        return err_set(e, ERR_CONFLICT, "pass",
                       "pass '%s' is %s: nothing to confirm", id, state);
    if ((rc = check_confirmer(h, a, owner, contact, sizeof(contact), e)))
        return rc;
    w = hctx_data_begin(h);
    at = cw_map_open(w);
    cw_kstr(w, "pass", id);
    cw_kstr(w, "by", arg(a, "by")->s);
    cw_kdate(w, "on", hdl_today(h));
    if (contact[0])
        cw_kstr(w, "contact", contact), n++;
    n += arg_has(a, "police_ref") + arg_has(a, "note");
    copy_opt(w, a, "police_ref");
    copy_opt(w, a, "note");
    cw_map_close(w, at, n);
    return emit(h, EV_PASS_CONFIRMED, "pass:%s", id);
}

/* R-REL-04: the gate collects the pass; valid once, on its date. A refusal
 * writes nothing; the reason is in the error message. */
int hdl_release_gate_check(struct hctx *h, const struct args *a, struct err *e)
{
    char id[PASS_ID_MAX], state[16], date[DATE_STR_MAX], used[DATE_STR_MAX];
    const msgpack_object *use;
    int32_t day = DATE_NONE;
    struct codec_doc d;
    struct cw *w;
    int rc = need_pass(h, a, id, &d, state, e);

    if (rc)
        return rc;
    codec_copy_str(d.obj, "date", date, sizeof(date));
    date_parse(date, strlen(date), &day);
    use = codec_get(d.obj, "use");
    used[0] = '\0';
    if (use)
        codec_copy_str(use, "on", used, sizeof(used));
    codec_doc_release(&d);
    if (!strcmp(state, "pending"))
        return err_set(e, ERR_RULE, "pass",
                       "R-REL-03: pass '%s' is not confirmed by the owner yet",
                       id);
    if (!strcmp(state, "used"))
        return err_set(e, ERR_RULE, "pass",
                       "R-REL-04: pass '%s' was already used on %s", id, used);
    if (day != hdl_today(h))
        return err_set(e, ERR_RULE, "pass",
                       "R-REL-04: pass '%s' is valid only on %s", id, date);
    w = hctx_data_begin(h);
    cw_map(w, 3 + arg_has(a, "gate"));
    cw_kstr(w, "pass", id);
    cw_kdate(w, "on", day);
    cw_kstr(w, "checked_by", h->op->id);
    if (arg_has(a, "gate"))
        cw_kobj(w, "gate", arg(a, "gate")->o);
    return emit(h, EV_PASS_USED, "pass:%s", id);
}

/* Run by a timer (actor system): a pass neither used nor already reported
 * when its day is over (R-REL-04: valid only on its date) is reported
 * expired, once; a stale timer is a conflict. */
int hdl_release_expire(struct hctx *h, const struct args *a, struct err *e)
{
    char id[PASS_ID_MAX], state[16];
    int64_t due = 0;
    struct codec_doc d;
    struct cw *w;
    int rc = need_pass(h, a, id, &d, state, e);

    if (rc)
        return rc;
    codec_get_int(d.obj, "expires_due", &due);
    if ((strcmp(state, "issued") && strcmp(state, "pending")) || !due ||
        due != arg_int(a, "due")) {
        codec_doc_release(&d);
        return err_set(e, ERR_CONFLICT, "due",
                       "pass '%s' is %s: nothing expires at that time", id,
                       state);
    }
    w = hctx_data_begin(h);
    cw_map(w, 6);
    cw_kstr(w, "pass", id);
    cw_kobj(w, "unit", codec_get(d.obj, "unit"));
    cw_kobj(w, "date", codec_get(d.obj, "date"));
    cw_kstr(w, "was", state);
    cw_kint(w, "due", due);
    cw_kbool(w, "provisional", proj_provisional(d.obj, "expires_due"));
    codec_doc_release(&d);
    return emit_at(h, EV_PASS_EXPIRED, due, "pass:%s", id);
}
