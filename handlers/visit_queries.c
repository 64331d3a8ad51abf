/* handlers/visit_queries.c - what visit planning reads (R-VIS-01..04): a
 * unit's visit log; visits due and overdue as of a date (new owners'
 * first and second visits, vacant units' monthly inspection); the owners
 * of an estate by tenure group with their important-customer tags; the
 * coverage per building per month; the manager's monthly minimum. People
 * who asked not to be visited (R-CMP-08) never appear as due. */
#include <stdlib.h>
#include <string.h>

#include "../projections/complaints.h"
#include "../projections/units.h"
#include "../projections/visits.h"
#include "handlers.h"

#define VISIT_BUILDINGS_MAX 256 /* buildings in one coverage report */
#define TENURE_GROUPS 4
#define MISSED_SHOWN_MONTHS                                                    \
    6 /* a missed first visit stays listed while                               \
         the owner is in the first tenure group */

static const char *const tenure_names[TENURE_GROUPS] = {"lt6", "6_12", "12_24",
                                                        "gt24"};

static int32_t month_first(int32_t day)
{
    int y, m, d;
    date_to_ymd(day, &y, &m, &d);
    return date_from_ymd(y, m, 1);
}

/* Full months from since to day. */
static int months_between(int32_t since, int32_t day)
{
    int y1, m1, d1, y2, m2, d2;
    date_to_ymd(since, &y1, &m1, &d1);
    date_to_ymd(day, &y2, &m2, &d2);
    return (y2 - y1) * 12 + (m2 - m1) - (d2 < d1 ? 1 : 0);
}

/* R-VIS-03: < 6 months, 6-12, 12-24, > 24. */
static int tenure_group(int months)
{
    return months < 6 ? 0 : months < 12 ? 1 : months < 24 ? 2 : 3;
}

static int unit_prefix(const struct args *a, char *prefix, size_t cap)
{
    char estate[32];
    arg_copy(a, "estate", estate, sizeof(estate));
    return snprintf(prefix, cap, "%s/", estate) >= (int)cap;
}

static void kdate_or_nil(struct cw *w, const char *k, int32_t day)
{
    if (day == DATE_NONE)
        cw_knil(w, k);
    else
        cw_kdate(w, k, day);
}

static void kstr_or_nil(struct cw *w, const char *k, const char *s)
{
    if (s[0])
        cw_kstr(w, k, s);
    else
        cw_knil(w, k);
}

struct list_ctx {
    struct hctx *h;
    uint32_t n;
};

static int write_visit(void *ctx, const msgpack_object *v)
{
    struct list_ctx *c = ctx;
    cw_obj(c->h->result, v);
    c->n++;
    return 0;
}

/* A unit's visits in date order. */
int hdl_query_visits(struct hctx *h, const struct args *a, struct err *e)
{
    char unit[UNIT_KEY_MAX];
    struct list_ctx c = {h, 0};
    struct codec_doc d;
    size_t at;

    arg_copy(a, "unit", unit, sizeof(unit));
    if (units_get_unit(h->txn, h->v, unit, &d))
        return err_set(e, ERR_NOT_FOUND, "unit", "unit '%s' is not registered",
                       unit);
    codec_doc_release(&d);
    cw_map(h->result, 2);
    cw_kstr(h->result, "unit", unit);
    cw_str(h->result, "visits");
    at = cw_array_open(h->result);
    if (visits_each_of_unit(h->txn, h->v, unit, write_visit, &c))
        return err_set(e, ERR_UNAVAILABLE, NULL, "visit lookup failed");
    cw_array_close(h->result, at, c.n);
    h->has_result = true;
    return 0;
}

/* The due lists, one walk of the estate's units per list. */
enum due_list { DUE_NEW_OWNER, DUE_SECOND, DUE_VACANT };

struct due_ctx {
    struct hctx *h;
    const struct visit_settings *vs;
    enum due_list list;
    int32_t asof;
    uint32_t n;
    int rc;
};

/* R-VIS-04: vacant units not yet inspected in the as-of month. */
static void due_vacant(struct due_ctx *c, const char *unit)
{
    struct visit_mark m;
    int32_t last = DATE_NONE;
    struct cw *w = c->h->result;

    if (visits_mark(c->h->txn, c->h->v, unit, "", "vacant_inspection", &m) == 0)
        last = m.last;
    if (last != DATE_NONE && last >= month_first(c->asof))
        return;
    cw_map(w, 3);
    cw_kstr(w, "unit", unit);
    kdate_or_nil(w, "last_done", last);
    cw_kstr(w, "state",
            last != DATE_NONE &&
                    last >= date_add_months(month_first(c->asof), -1)
                ? "due"
                : "overdue");
    c->n++;
}

static void write_due(struct due_ctx *c, const char *unit, const char *owner,
                      int32_t from, int32_t due, int32_t limit,
                      const char *state)
{
    char tag[32];
    struct cw *w = c->h->result;

    visits_important(c->h->txn, c->h->v, owner, tag, sizeof(tag));
    cw_map(w, 7);
    cw_kstr(w, "unit", unit);
    cw_kstr(w, "person", owner);
    cw_kdate(w, c->list == DUE_NEW_OWNER ? "moved_in" : "first_visit", from);
    cw_kdate(w, "due", due);
    kdate_or_nil(w, "limit", limit);
    cw_kstr(w, "state", state);
    kstr_or_nil(w, "important", tag);
    c->n++;
}

/* R-VIS-01: the first visit within new_owner_months of the ownership's
 * start, at most new_owner_max_months. */
static void due_new_owner(struct due_ctx *c, const char *unit,
                          const char *owner, int32_t since)
{
    struct visit_mark m;
    int32_t due = date_add_months(since, c->vs->new_owner_months),
            limit = date_add_months(since, c->vs->new_owner_max_months);
    const char *state = c->asof <= due     ? "due"
                        : c->asof <= limit ? "overdue"
                                           : "missed";

    if (c->asof < since ||
        visits_mark(c->h->txn, c->h->v, unit, owner, "new_owner", &m) == 0 ||
        c->asof > date_add_months(since, MISSED_SHOWN_MONTHS))
        return;
    write_due(c, unit, owner, since, due, limit, state);
}

/* R-VIS-01: the second visit about second_after_months after the first,
 * listed second_window_days before, overdue that many days after. */
static void due_second(struct due_ctx *c, const char *unit, const char *owner)
{
    struct visit_mark first, m;
    int32_t due;

    if (visits_mark(c->h->txn, c->h->v, unit, owner, "new_owner", &first) ||
        visits_mark(c->h->txn, c->h->v, unit, owner, "second", &m) == 0)
        return;
    due = date_add_months(first.first, c->vs->second_after_months);
    if (c->asof < due - c->vs->second_window_days)
        return;
    write_due(c, unit, owner, first.first, due, DATE_NONE,
              c->asof > due + c->vs->second_window_days ? "overdue" : "due");
}

static int due_unit(void *ctx, const msgpack_object *u)
{
    struct due_ctx *c = ctx;
    char unit[UNIT_KEY_MAX], state[16], owner[PERSON_ID_MAX];
    int32_t since, latest;

    codec_copy_str(u, "unit", unit, sizeof(unit));
    codec_copy_str(u, "state", state, sizeof(state));
    if (!strcmp(state, "vacant")) {
        if (c->list == DUE_VACANT)
            due_vacant(c, unit);
        return 0;
    }
    if (c->list == DUE_VACANT)
        return 0;
    if ((c->rc = units_owner_on(c->h->txn, c->h->v, unit, c->asof, owner,
                                &since, &latest)))
        return -1;
    if (!owner[0] || complaints_no_visit(c->h->txn, c->h->v, owner))
        return 0;
    if (c->list == DUE_NEW_OWNER)
        due_new_owner(c, unit, owner, since);
    else
        due_second(c, unit, owner);
    return 0;
}

/* R-VIS-01, R-VIS-04: visits due and overdue as of a date. */
int hdl_query_visits_due(struct hctx *h, const struct args *a, struct err *e)
{
    static const char *const names[] = {"new_owner", "second", "vacant"};
    char prefix[40];
    struct due_ctx c = {h, &h->cfg->visits, DUE_NEW_OWNER, 0, 0, 0};
    struct cw *w = h->result;

    if (unit_prefix(a, prefix, sizeof(prefix)))
        return err_set(e, ERR_INVALID, "estate", "estate code too long");
    c.asof = arg_has(a, "as_of") ? (int32_t)arg_int(a, "as_of") : hdl_today(h);
    cw_map(w, 4);
    cw_kdate(w, "as_of", c.asof);
    for (int l = DUE_NEW_OWNER; l <= DUE_VACANT; l++) {
        size_t at;
        c.list = (enum due_list)l;
        c.n = 0;
        cw_str(w, names[l]);
        at = cw_array_open(w);
        if (units_each_unit(h->txn, h->v, prefix, due_unit, &c) || c.rc)
            return err_set(e, ERR_UNAVAILABLE, NULL, "unit walk failed");
        cw_array_close(w, at, c.n);
    }
    h->has_result = true;
    return 0;
}

struct plan_ctx {
    struct hctx *h;
    int32_t asof;
    uint32_t n;
    int64_t groups[TENURE_GROUPS];
    int64_t important;
    int rc;
};

static int plan_unit(void *ctx, const msgpack_object *u)
{
    struct plan_ctx *c = ctx;
    char unit[UNIT_KEY_MAX], owner[PERSON_ID_MAX], tag[32];
    int32_t since, latest;
    struct visit_mark m;
    struct cw *w = c->h->result;
    int months, g;

    codec_copy_str(u, "unit", unit, sizeof(unit));
    if ((c->rc = units_owner_on(c->h->txn, c->h->v, unit, c->asof, owner,
                                &since, &latest)))
        return -1;
    if (!owner[0] || complaints_no_visit(c->h->txn, c->h->v, owner))
        return 0;
    visits_important(c->h->txn, c->h->v, owner, tag, sizeof(tag));
    months = months_between(since, c->asof);
    g = tenure_group(months);
    c->groups[g]++;
    c->important += tag[0] != '\0';
    cw_map(w, 7);
    cw_kstr(w, "unit", unit);
    cw_kstr(w, "person", owner);
    cw_kdate(w, "since", since);
    cw_kint(w, "tenure_months", months);
    cw_kstr(w, "tenure_group", tenure_names[g]);
    kstr_or_nil(w, "important", tag);
    kdate_or_nil(
        w, "last_visit",
        visits_mark(c->h->txn, c->h->v, unit, owner, VISIT_KIND_ANY, &m)
            ? DATE_NONE
            : m.last);
    c->n++;
    return 0;
}

/* R-VIS-03: the owners to plan visits for, by tenure group, important
 * customers marked; those who asked not to be visited left out. */
int hdl_query_visit_plan(struct hctx *h, const struct args *a, struct err *e)
{
    char prefix[40];
    struct plan_ctx c = {.h = h};
    struct cw *w = h->result;
    size_t at;

    if (unit_prefix(a, prefix, sizeof(prefix)))
        return err_set(e, ERR_INVALID, "estate", "estate code too long");
    c.asof = arg_has(a, "as_of") ? (int32_t)arg_int(a, "as_of") : hdl_today(h);
    cw_map(w, 4);
    cw_kdate(w, "as_of", c.asof);
    cw_str(w, "owners");
    at = cw_array_open(w);
    if (units_each_unit(h->txn, h->v, prefix, plan_unit, &c) || c.rc)
        return err_set(e, ERR_UNAVAILABLE, NULL, "unit walk failed");
    cw_array_close(w, at, c.n);
    cw_str(w, "groups");
    cw_map(w, TENURE_GROUPS);
    for (int g = 0; g < TENURE_GROUPS; g++)
        cw_kint(w, tenure_names[g], c.groups[g]);
    cw_kint(w, "important", c.important);
    h->has_result = true;
    return 0;
}

struct building_cov {
    char building[32];
    int64_t visited, occupied;
};

struct cov_ctx {
    struct hctx *h;
    int32_t first, last;
    struct building_cov b[VISIT_BUILDINGS_MAX];
    int nb;
    int rc;
};

static int cov_unit(void *ctx, const msgpack_object *u)
{
    struct cov_ctx *c = ctx;
    char unit[UNIT_KEY_MAX], building[32], state[16];
    int64_t n;
    int i;

    codec_copy_str(u, "unit", unit, sizeof(unit));
    codec_copy_str(u, "building", building, sizeof(building));
    codec_copy_str(u, "state", state, sizeof(state));
    for (i = 0; i < c->nb && strcmp(c->b[i].building, building); i++)
        ;
    if (i == c->nb) {
        if (c->nb == VISIT_BUILDINGS_MAX)
            return 0;
        snprintf(c->b[c->nb++].building, sizeof(c->b[0].building), "%s",
                 building);
    }
    if ((c->rc = visits_count_unit(c->h->txn, c->h->v, unit, c->first, c->last,
                                   &n)))
        return -1;
    c->b[i].visited += n > 0;
    c->b[i].occupied += !strcmp(state, "occupied") || !strcmp(state, "rented");
    return 0;
}

/* Coverage per building in a month: units with a household visit over
 * units occupied (state occupied or rented, as the register holds now). */
int hdl_query_visit_coverage(struct hctx *h, const struct args *a,
                             struct err *e)
{
    char prefix[40];
    struct cov_ctx *c;
    struct cw *w = h->result;
    int32_t first;

    if (unit_prefix(a, prefix, sizeof(prefix)))
        return err_set(e, ERR_INVALID, "estate", "estate code too long");
    if (fee_period_parse(arg(a, "month")->s, arg(a, "month")->len, &first))
        return err_set(e, ERR_INVALID, "month", "month is YYYY-MM");
    if (!(c = calloc(1, sizeof(*c))))
        return err_set(e, ERR_UNAVAILABLE, NULL, "out of memory");
    *c = (struct cov_ctx){
        .h = h, .first = first, .last = date_add_months(first, 1) - 1};
    if (units_each_unit(h->txn, h->v, prefix, cov_unit, c) || c->rc) {
        free(c);
        return err_set(e, ERR_UNAVAILABLE, NULL, "unit walk failed");
    }
    cw_map(w, 2);
    cw_kstrn(w, "month", arg(a, "month")->s, arg(a, "month")->len);
    cw_str(w, "buildings");
    cw_array(w, (uint32_t)c->nb);
    for (int i = 0; i < c->nb; i++) {
        cw_map(w, 4);
        cw_kstr(w, "building", c->b[i].building);
        cw_kint(w, "visited", c->b[i].visited);
        cw_kint(w, "occupied", c->b[i].occupied);
        hdl_kpercent(w, "percent", (uint64_t)c->b[i].visited,
                     (uint64_t)c->b[i].occupied);
    }
    free(c);
    h->has_result = true;
    return 0;
}

/* R-VIS-02: each manager's household visits in the month against the
 * minimum, and every visitor's totals (staff targets). */
int hdl_query_visit_managers(struct hctx *h, const struct args *a,
                             struct err *e)
{
    int min = h->cfg->visits.manager_min_monthly;
    struct list_ctx c = {h, 0};
    struct cw *w = h->result;
    uint32_t nm = 0;
    int32_t first;
    size_t at;

    if (fee_period_parse(arg(a, "month")->s, arg(a, "month")->len, &first))
        return err_set(e, ERR_INVALID, "month", "month is YYYY-MM");
    cw_map(w, 4);
    cw_kstrn(w, "month", arg(a, "month")->s, arg(a, "month")->len);
    cw_kint(w, "minimum", min);
    cw_str(w, "managers");
    at = cw_array_open(w);
    for (int i = 0; i < h->cfg->nops; i++) {
        const struct operator* op = & h->cfg->ops[i];
        int64_t n;
        if (op->role != ROLE_MANAGER)
            continue;
        if (visits_visitor_month(h->txn, h->v, first, op->id, &n))
            return err_set(e, ERR_UNAVAILABLE, NULL, "visit lookup failed");
        cw_map(w, 4);
        cw_kstr(w, "operator", op->id);
        cw_kstr(w, "name", op->name);
        cw_kint(w, "households", n);
        cw_kbool(w, "short", n < min);
        nm++;
    }
    cw_array_close(w, at, nm);
    cw_str(w, "visitors");
    at = cw_array_open(w);
    if (visits_each_visitor_month(h->txn, h->v, first, write_visit, &c))
        return err_set(e, ERR_UNAVAILABLE, NULL, "visit lookup failed");
    cw_array_close(w, at, c.n);
    h->has_result = true;
    return 0;
}
