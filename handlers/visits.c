/* handlers/visits.c - customer visits (走访, R-VIS-01..04): the visit log
 * (who visited whom, kind, needs, actions, completion, satisfaction), the
 * important-customer tags used for planning, and the checks a visit must
 * pass: the "do not visit" wish (R-CMP-08), a new owner's first and second
 * visit (R-VIS-01), the manager's own visits (R-VIS-02), the monthly
 * inspection of vacant units (R-VIS-04). The due lists and reports are in
 * visit_queries.c. */
#include <string.h>

#include "../projections/complaints.h"
#include "../projections/units.h"
#include "../projections/visits.h"
#include "handlers.h"

const char *const visit_kinds[] = {"new_owner", "second",  "manager",
                                   "important", "routine", "vacant_inspection",
                                   NULL};
const char *const visit_completions[] = {"done", "in_progress", "not_done",
                                         NULL};
const char *const visit_satisfactions[] = {"satisfied", "fairly_satisfied",
                                           "neutral", "dissatisfied", NULL};
const char *const important_tags[] = {"none",
                                      "owners_committee",
                                      "media_government",
                                      "key_complainant",
                                      "large_merchant",
                                      "school",
                                      NULL};

/* What a visit is decided on. */
struct visit_facts {
    char unit[UNIT_KEY_MAX], person[PERSON_ID_MAX], owner[PERSON_ID_MAX];
    char role[16], tag[32], state[16], visitor[CFG_OP_ID_MAX];
    const char *kind;
    unsigned visitor_role;
    int32_t day;
};

static int check_unit(struct hctx *h, const struct args *a,
                      struct visit_facts *f, struct err *e)
{
    const struct operator* op;
    struct codec_doc d;

    arg_copy(a, "unit", f->unit, sizeof(f->unit));
    if (units_get_unit(h->txn, h->v, f->unit, &d))
        return err_set(e, ERR_NOT_FOUND, "unit", "unit '%s' is not registered",
                       f->unit);
    codec_copy_str(d.obj, "state", f->state, sizeof(f->state));
    codec_doc_release(&d);
    f->day = arg_has(a, "date") ? (int32_t)arg_int(a, "date") : hdl_today(h);
    if (f->day > hdl_today(h))
        return err_set(e, ERR_INVALID, "date",
                       "a visit is recorded once made: the date is not in "
                       "the future");
    if (arg_has(a, "visitor"))
        arg_copy(a, "visitor", f->visitor, sizeof(f->visitor));
    else
        snprintf(f->visitor, sizeof(f->visitor), "%s", h->op->id);
    op = cfg_operator(h->cfg, f->visitor, strlen(f->visitor));
    if (!op)
        return err_set(e, ERR_NOT_FOUND, "visitor",
                       "operator '%s' is not in the configuration", f->visitor);
    f->visitor_role = op->role;
    return 0;
}

/* R-VIS-04: a vacant unit's monthly cleaning and inspection. */
static int check_vacant(const struct args *a, const struct visit_facts *f,
                        struct err *e)
{
    if (strcmp(f->state, "vacant"))
        return err_set(e, ERR_RULE, "kind",
                       "R-VIS-04: unit '%s' is %s, not vacant", f->unit,
                       f->state);
    if (arg_has(a, "person"))
        return err_set(e, ERR_INVALID, "person",
                       "a vacant inspection visits the unit, not a person");
    return 0;
}

/* R-VIS-01: the first visit is to the owner of the day, once; the second
 * follows a recorded first. */
static int check_sequence(struct hctx *h, const struct visit_facts *f,
                          struct err *e)
{
    struct visit_mark m;
    bool first = !strcmp(f->kind, "new_owner");

    if (first && strcmp(f->role, "owner"))
        return err_set(e, ERR_RULE, "person",
                       "R-VIS-01: '%s' is not the owner of '%s' on that day",
                       f->person, f->unit);
    if (visits_mark(h->txn, h->v, f->unit, f->person, f->kind, &m) == 0)
        return err_set(e, ERR_CONFLICT, "kind",
                       "the %s visit to '%s' at '%s' is already recorded",
                       f->kind, f->person, f->unit);
    if (first)
        return 0;
    if (visits_mark(h->txn, h->v, f->unit, f->person, "new_owner", &m) ||
        m.first >= f->day)
        return err_set(e, ERR_RULE, "kind",
                       "R-VIS-01: a second visit follows a recorded "
                       "new-owner visit");
    return 0;
}

static int check_household(struct hctx *h, const struct args *a,
                           struct visit_facts *f, struct err *e)
{
    struct codec_doc d;

    if (!arg_has(a, "person"))
        return err_set(e, ERR_INVALID, "person",
                       "a %s visit names the person visited", f->kind);
    if (!arg_has(a, "needs") || !arg_has(a, "satisfaction"))
        return err_set(e, ERR_RULE,
                       arg_has(a, "needs") ? "satisfaction" : "needs",
                       "R-VIS-02: a visit records the household's needs, "
                       "actions, completion and satisfaction");
    arg_copy(a, "person", f->person, sizeof(f->person));
    if (units_get_person(h->txn, h->v, f->person, &d))
        return err_set(e, ERR_NOT_FOUND, "person",
                       "person '%s' is not registered", f->person);
    codec_doc_release(&d);
    if (complaints_no_visit(h->txn, h->v, f->person))
        return err_set(e, ERR_RULE, "person",
                       "R-CMP-08: '%s' asked not to be visited (R-VIS)",
                       f->person);
    if (unit_relation_on(h, f->unit, f->person, f->day, f->role, f->owner,
                         NULL) ||
        visits_important(h->txn, h->v, f->person, f->tag, sizeof(f->tag)))
        return err_set(e, ERR_UNAVAILABLE, NULL, "person lookup failed");
    if (!f->role[0])
        return err_set(e, ERR_INVALID, "person",
                       "'%s' is not related to '%s' on that day", f->person,
                       f->unit);
    if (!strcmp(f->kind, "manager") && f->visitor_role != ROLE_MANAGER)
        return err_set(e, ERR_RULE, "visitor",
                       "R-VIS-02: a manager visit is made by the office "
                       "manager ('%s' is not one)",
                       f->visitor);
    if (!strcmp(f->kind, "important") && !f->tag[0])
        return err_set(e, ERR_RULE, "person",
                       "R-VIS-03: '%s' is not tagged as an important "
                       "customer",
                       f->person);
    if (!strcmp(f->kind, "new_owner") || !strcmp(f->kind, "second"))
        return check_sequence(h, f, e);
    return 0;
}

static void copy_opt(struct cw *w, const struct args *a, const char *k,
                     uint32_t *n)
{
    if (!arg_has(a, k))
        return;
    cw_kobj(w, k, arg(a, k)->o);
    (*n)++;
}

int hdl_visit_record(struct hctx *h, const struct args *a, struct err *e)
{
    struct visit_facts f = {0};
    char id[VISIT_ID_MAX];
    struct cw *w;
    size_t at;
    uint32_t n = 6;
    int rc = check_unit(h, a, &f, e);

    if (rc)
        return rc;
    f.kind = arg(a, "kind")->s;
    rc = !strcmp(f.kind, "vacant_inspection") ? check_vacant(a, &f, e)
                                              : check_household(h, a, &f, e);
    if (rc)
        return rc;
    snprintf(id, sizeof(id), "V%llu", (unsigned long long)h->next_seq);
    w = hctx_data_begin(h);
    at = cw_map_open(w);
    cw_kstr(w, "visit", id);
    cw_kstr(w, "unit", f.unit);
    cw_kstr(w, "visitor", f.visitor);
    cw_kdate(w, "date", f.day);
    cw_kstr(w, "kind", f.kind);
    cw_kobj(w, "completion", arg(a, "completion")->o);
    if (f.person[0])
        cw_kstr(w, "person", f.person), cw_kstr(w, "relation", f.role), n += 2;
    if (f.tag[0])
        cw_kstr(w, "important", f.tag), n++;
    copy_opt(w, a, "needs", &n);
    copy_opt(w, a, "actions", &n);
    copy_opt(w, a, "satisfaction", &n);
    copy_opt(w, a, "note", &n);
    cw_map_close(w, at, n);
    return emit(h, EV_VISIT_RECORDED, "unit:%s", f.unit);
}

/* R-VIS-03: tag (or untag, "none") an important customer. */
int hdl_person_set_important(struct hctx *h, const struct args *a,
                             struct err *e)
{
    char person[PERSON_ID_MAX], tag[32];
    const char *to = arg(a, "tag")->s;
    struct codec_doc d;
    struct cw *w;

    arg_copy(a, "person", person, sizeof(person));
    if (units_get_person(h->txn, h->v, person, &d))
        return err_set(e, ERR_NOT_FOUND, "person",
                       "person '%s' is not registered", person);
    codec_doc_release(&d);
    if (visits_important(h->txn, h->v, person, tag, sizeof(tag)))
        return err_set(e, ERR_UNAVAILABLE, NULL, "tag lookup failed");
    if (!strcmp(tag[0] ? tag : "none", to))
        return err_set(e, ERR_INVALID, "tag", "'%s' is already tagged %s",
                       person, to);
    w = hctx_data_begin(h);
    cw_map(w, 2);
    cw_kstr(w, "person", person);
    cw_kstr(w, "tag", to);
    return emit(h, EV_IMPORTANT_SET, "person:%s", person);
}
