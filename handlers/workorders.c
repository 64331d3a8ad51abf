/* handlers/workorders.c - work orders and information passing (R-WO-01..04,
 * R-GEN-06): log any message (工作信息记录本), dispatch repairs and
 * housekeeping with the agreed visit time, complete with who pays, return
 * visits by category, written notices to the repairer, referral of what the
 * desk cannot solve, closing; the timer command that escalates missed
 * deadlines (rules in [workorders], same engine as the complaints); the
 * open list and one order's timeline. */
#include <string.h>

#include "../projections/timeline.h"
#include "../projections/units.h"
#include "../projections/workorders.h"
#include "handlers.h"

const char *const wo_kinds[] = {"repair",  "housekeeping", "message",
                                "enquiry", "suggestion",   "other",
                                NULL};
const char *const wo_sources[] = {"resident", "staff", "other", NULL};
const char *const wo_payers[] = {"common", "owner", NULL};
const char *const wo_results[] = {"satisfied", "dissatisfied", NULL};

static bool flag(const struct args *a, const char *name)
{
    return arg_has(a, name) && arg_int(a, name);
}

/* The deadline of rule r from `from`; key is noted in p when the working
 * calendar does not cover it (R-GEN-05). */
static int64_t rule_due(const struct hctx *h, enum wo_rule r, int64_t from,
                        struct hdl_prov *p, const char *key)
{
    return hdl_due(h, &h->cfg->wo.rule[r].after, from, p, key);
}

static int need(struct hctx *h, const struct args *a, struct workorder *w,
                struct err *e)
{
    char id[WO_ID_MAX];
    int rc;

    arg_copy(a, "order", id, sizeof(id));
    rc = workorders_get(h->txn, h->v, id, w);
    if (rc == MDB_NOTFOUND)
        return err_set(e, ERR_NOT_FOUND, "order",
                       "work order '%s' does not exist", id);
    if (rc)
        return err_set(e, ERR_UNAVAILABLE, NULL, "work order lookup failed");
    if (w->state == WS_CLOSED)
        return err_set(e, ERR_CONFLICT, "order", "work order '%s' is closed",
                       id);
    return 0;
}

static int escalate(struct hctx *h, const struct workorder *w, enum wo_rule r,
                    int64_t due, const struct args *a)
{
    struct cw *cw = hctx_data_begin(h);
    bool why = a && arg_has(a, "reason");

    cw_map(cw, 4 + (why ? 1 : 0));
    cw_kstr(cw, "order", w->id);
    cw_kstr(cw, "rule", wo_rule_names[r]);
    cw_kstr(cw, "notify", h->cfg->wo.rule[r].notify);
    cw_kts(cw, "due", due, h->cfg->cal.offset_min);
    if (why)
        cw_kobj(cw, "reason", arg(a, "reason")->o);
    return emit_at(h, EV_WO_ESCALATED, due, "workorder:%s", w->id);
}

static int check_refs(struct hctx *h, const struct args *a, struct err *e)
{
    char key[UNIT_KEY_MAX];
    struct codec_doc d;

    if (arg_has(a, "unit")) {
        arg_copy(a, "unit", key, sizeof(key));
        if (units_get_unit(h->txn, h->v, key, &d))
            return err_set(e, ERR_NOT_FOUND, "unit",
                           "unit '%s' is not registered", key);
        codec_doc_release(&d);
    }
    if (arg_has(a, "person")) {
        arg_copy(a, "person", key, sizeof(key));
        if (units_get_person(h->txn, h->v, key, &d))
            return err_set(e, ERR_NOT_FOUND, "person",
                           "person '%s' is not registered", key);
        codec_doc_release(&d);
    }
    return 0;
}

/* R-WO-01: every message is logged, the same day it reaches the desk (a
 * later logging is recorded as such); the receiver owns it (R-GEN-06). */
int hdl_wo_log(struct hctx *h, const struct args *a, struct err *e)
{
    static const char *const copied[] = {"unit", "person", "name", "contact"};
    int64_t at = arg_has(a, "received_at") ? arg_int(a, "received_at") : h->now;
    int off = h->cfg->cal.offset_min;
    char id[WO_ID_MAX];
    struct cw *w;
    size_t mo;
    struct hdl_prov p = {0};
    uint32_t n = 10;
    int rc;

    if (at > h->now)
        return err_set(e, ERR_INVALID, "received_at",
                       "'received_at' is in the future");
    if ((rc = check_refs(h, a, e)))
        return rc;
    snprintf(id, sizeof(id), "W%llu", (unsigned long long)h->next_seq);
    w = hctx_data_begin(h);
    mo = cw_map_open(w);
    cw_kstr(w, "order", id);
    cw_kstr(w, "kind", wo_kinds[arg_int(a, "kind")]);
    cw_kstr(w, "from", wo_sources[arg_has(a, "from") ? arg_int(a, "from") : 0]);
    cw_kobj(w, "text", arg(a, "text")->o);
    cw_kbool(w, "emergency", flag(a, "emergency"));
    cw_kstr(w, "receiver", h->op->id);
    cw_kint(w, "received_at", at);
    cw_kts(w, "received", at, off);
    cw_kbool(w, "same_day", date_of_ts(at, off) == date_of_ts(h->now, off));
    cw_kint(w, "stale_due", rule_due(h, WOR_STALE, at, &p, "stale_due"));
    n += hdl_kprov(w, &p);
    for (size_t i = 0; i < sizeof(copied) / sizeof(*copied); i++)
        if (arg_has(a, copied[i]))
            cw_kobj(w, copied[i], arg(a, copied[i])->o), n++;
    cw_map_close(w, mo, n);
    return emit(h, EV_WO_LOGGED, "workorder:%s", id);
}

/* R-WO-02: a repair or housekeeping job goes out with the visit time told
 * to the resident; an emergency goes at once (and arrears never hold it
 * back: R-FEE-09 — nothing here looks at the fees). */
int hdl_wo_dispatch(struct hctx *h, const struct args *a, struct err *e)
{
    bool urgent = flag(a, "emergency");
    struct workorder w;
    struct cw *cw;
    int rc = need(h, a, &w, e);

    if (rc)
        return rc;
    if (w.state >= WS_COMPLETED)
        return err_set(e, ERR_CONFLICT, "order",
                       "work order '%s' is already completed", w.id);
    urgent |= w.emergency;
    if (wo_needs_visit(&w) && !urgent && !arg_has(a, "visit_at"))
        return err_set(e, ERR_RULE, "visit_at",
                       "R-WO-02: confirm who does it and tell the resident "
                       "the visit time ('visit_at')");
    if (arg_has(a, "visit_at") && arg_int(a, "visit_at") < h->now)
        return err_set(e, ERR_INVALID, "visit_at", "'visit_at' is in the past");
    cw = hctx_data_begin(h);
    cw_map(cw, 3 + arg_has(a, "visit_at") + (urgent ? 1 : 0));
    cw_kstr(cw, "order", w.id);
    cw_kobj(cw, "to", arg(a, "to")->o);
    cw_kbool(cw, "emergency", urgent);
    if (arg_has(a, "visit_at"))
        cw_kint(cw, "visit_at", arg_int(a, "visit_at"));
    if (urgent)
        cw_kstr(cw, "notify", "cs_lead");
    return emit(h, EV_WO_DISPATCHED, "workorder:%s", w.id);
}

/* R-WO-04: the owner's own installation is billed to the owner as a fee. */
static int bill_owner(struct hctx *h, const struct args *a,
                      const struct workorder *w, char bill[24], struct err *e)
{
    char owner[PERSON_ID_MAX];
    int32_t since, latest;
    struct fee_charge c = {0};

    if (!w->unit[0])
        return err_set(e, ERR_RULE, "payer",
                       "R-WO-04: an owner-paid job needs the order's unit");
    if (units_owner_on(h->txn, h->v, w->unit, hdl_today(h), owner, &since,
                       &latest))
        return err_set(e, ERR_UNAVAILABLE, NULL, "owner lookup failed");
    if (!owner[0])
        return err_set(e, ERR_RULE, "payer",
                       "R-WO-04: unit '%s' has no owner to bill", w->unit);
    c.unit = w->unit;
    c.payer = owner;
    c.item = "other";
    c.amount = arg_int(a, "amount");
    c.qty = 1;
    c.day = hdl_today(h);
    c.note = arg(a, "summary")->o;
    c.ref_key = "work_order";
    c.ref_val = w->id;
    return fee_emit_charge(h, &c, bill);
}

/* Done: who pays (R-WO-04) and, for repairs and housekeeping, the return
 * visit deadline by category (R-WO-03: safety 2 days, leaks 3, others 7). */
int hdl_wo_complete(struct hctx *h, const struct args *a, struct err *e)
{
    bool owner = arg_has(a, "payer") && arg_int(a, "payer") == 1;
    char bill[24] = "";
    struct workorder w;
    struct cw *cw;
    struct hdl_prov p = {0};
    size_t mo;
    int cat = arg_has(a, "category") ? (int)arg_int(a, "category") : WOC_OTHER;
    int rc = need(h, a, &w, e);

    if (rc)
        return rc;
    if (w.state >= WS_COMPLETED)
        return err_set(e, ERR_CONFLICT, "order",
                       "work order '%s' is already completed", w.id);
    if (wo_needs_visit(&w) && w.state != WS_DISPATCHED)
        return err_set(e, ERR_CONFLICT, "order",
                       "work order '%s' was never dispatched", w.id);
    if (wo_needs_visit(&w) && !arg_has(a, "category"))
        return err_set(e, ERR_INVALID, "category",
                       "'category' (safety, leak, other) sets the return "
                       "visit (R-WO-03)");
    if (owner != arg_has(a, "amount"))
        return err_set(e, ERR_INVALID, "amount",
                       owner ? "an owner-paid job needs 'amount'"
                             : "'amount' is only for owner-paid jobs");
    if (owner && (rc = bill_owner(h, a, &w, bill, e)))
        return rc;
    cw = hctx_data_begin(h);
    mo = cw_map_open(cw);
    cw_kstr(cw, "order", w.id);
    cw_kobj(cw, "summary", arg(a, "summary")->o);
    cw_kstr(cw, "category", wo_category_names[cat]);
    cw_kstr(cw, "payer", owner ? "owner" : "common");
    cw_kint(cw, "visit_due",
            wo_needs_visit(&w)
                ? hdl_due(h, &h->cfg->wo.visit[cat], h->now, &p, "visit_due")
                : 0);
    cw_kbool(cw, "visit", wo_needs_visit(&w));
    if (owner) {
        cw_kint(cw, "amount", arg_int(a, "amount"));
        cw_kstr(cw, "bill", bill);
    }
    cw_map_close(cw, mo, 6 + (owner ? 2 : 0) + hdl_kprov(cw, &p));
    return emit(h, EV_WO_COMPLETED, "workorder:%s", w.id);
}

/* R-WO-03: the return visit. A problem found means a written notice to the
 * repairer within 24 h; dissatisfied reopens the order. */
int hdl_wo_visit(struct hctx *h, const struct args *a, struct err *e)
{
    bool bad = arg_int(a, "result") == 1, problem = arg_has(a, "problem");
    struct workorder w;
    struct cw *cw;
    struct hdl_prov p = {0};
    size_t mo;
    int rc = need(h, a, &w, e);

    if (rc)
        return rc;
    if (w.state != WS_COMPLETED || !wo_needs_visit(&w))
        return err_set(e, ERR_RULE, "order",
                       "R-WO-03: return visits follow a completed repair or "
                       "housekeeping job");
    cw = hctx_data_begin(h);
    mo = cw_map_open(cw);
    cw_kstr(cw, "order", w.id);
    cw_kstr(cw, "result", wo_results[arg_int(a, "result")]);
    if (problem) {
        cw_kobj(cw, "problem", arg(a, "problem")->o);
        cw_kint(cw, "notice_due",
                rule_due(h, WOR_NOTICE_DUE, h->now, &p, "notice_due"));
    }
    cw_map_close(cw, mo, 2 + (problem ? 2 : 0) + hdl_kprov(cw, &p));
    if ((rc = emit(h, EV_WO_VISITED, "workorder:%s", w.id)) || !bad)
        return rc;
    p.n = 0;
    cw = hctx_data_begin(h);
    mo = cw_map_open(cw);
    cw_kstr(cw, "order", w.id);
    cw_kint(cw, "count", w.reopen_count + 1);
    cw_kstr(cw, "reason", "dissatisfied at the return visit");
    cw_kint(cw, "stale_due", rule_due(h, WOR_STALE, h->now, &p, "stale_due"));
    cw_map_close(cw, mo, 4 + hdl_kprov(cw, &p));
    return emit(h, EV_WO_REOPENED, "workorder:%s", w.id);
}

/* R-WO-03: the written notice to the repairer. */
int hdl_wo_notice(struct hctx *h, const struct args *a, struct err *e)
{
    struct workorder w;
    struct cw *cw;
    int rc = need(h, a, &w, e);

    if (rc)
        return rc;
    if (!w.notice_due || w.notice_sent)
        return err_set(e, ERR_CONFLICT, "order",
                       "no notice is waiting for work order '%s'", w.id);
    cw = hctx_data_begin(h);
    cw_map(cw, 2);
    cw_kstr(cw, "order", w.id);
    cw_kobj(cw, "ref", arg(a, "ref")->o);
    return emit(h, EV_WO_NOTICE_SENT, "workorder:%s", w.id);
}

/* R-WO-01: what the desk cannot solve goes to the customer-service lead
 * and the department head, at once. */
int hdl_wo_refer(struct hctx *h, const struct args *a, struct err *e)
{
    struct workorder w;
    int rc = need(h, a, &w, e);

    if (rc)
        return rc;
    if (w.fired & (1u << WOR_UNSOLVED))
        return err_set(e, ERR_CONFLICT, "order",
                       "work order '%s' is already referred", w.id);
    return escalate(h, &w, WOR_UNSOLVED, h->now, a);
}

/* Closed when done: repairs and housekeeping after a satisfied return
 * visit (R-WO-03), the rest once passed on (R-WO-01: followed until
 * closed). */
int hdl_wo_close(struct hctx *h, const struct args *a, struct err *e)
{
    struct workorder w;
    struct cw *cw;
    int rc = need(h, a, &w, e);

    if (rc)
        return rc;
    if (wo_needs_visit(&w) &&
        (w.state != WS_COMPLETED || strcmp(w.visit_result, "satisfied")))
        return err_set(e, ERR_RULE, "order",
                       "R-WO-03: a repair closes after a satisfied return "
                       "visit");
    cw = hctx_data_begin(h);
    cw_map(cw, 2);
    cw_kstr(cw, "order", w.id);
    cw_kstr(cw, "by", h->op->id);
    return emit(h, EV_WO_CLOSED, "workorder:%s", w.id);
}

/* Run by a timer (actor system). */
int hdl_wo_escalate(struct hctx *h, const struct args *a, struct err *e)
{
    enum wo_rule r = (enum wo_rule)arg_int(a, "rule");
    int64_t due = arg_int(a, "due");
    struct workorder w;
    int rc = need(h, a, &w, e);

    if (rc)
        return rc;
    if (wo_timer_due(&w, r) != due)
        return err_set(e, ERR_CONFLICT, "due",
                       "no %s deadline at that time for '%s'", wo_rule_names[r],
                       w.id);
    return escalate(h, &w, r, due, NULL);
}

/* ---- queries ---- */

struct wo_list {
    struct hctx *h;
    char unit_prefix[64]; /* "estate/building-" */
    const char *kind;
    bool overdue;
    bool explain; /* each row says why (explain=true) */
    uint32_t n;
    int rc;
};

static bool wo_overdue(const struct workorder *w, int64_t now)
{
    for (int r = 0; r < WOR_COUNT; r++) {
        int64_t d = wo_timer_due(w, (enum wo_rule)r);
        if (d && d <= now)
            return true;
    }
    return w->level > 0 && w->state < WS_CLOSED;
}

/* "provisional": the rules whose pending deadline was computed past the
 * working calendar (R-GEN-05), [] when none. */
static void wo_kprov(struct cw *cw, const struct workorder *w)
{
    uint32_t n = 0;
    size_t at;

    cw_str(cw, "provisional");
    at = cw_array_open(cw);
    for (int r = 0; r < WOR_COUNT; r++)
        if ((w->prov & (1u << r)) && wo_timer_due(w, (enum wo_rule)r)) {
            cw_str(cw, wo_rule_names[r]);
            n++;
        }
    cw_array_close(cw, at, n);
}

/* ---- explain=true: why a level ---- */

static const char *const wo_level_names[] = {"", "cs_lead",
                                             "cs_lead, dept_head"};

/* R-WO-01: followed until closed (stale), what the desk cannot solve goes
 * to the lead and the department head (unsolved); R-WO-03: the return
 * visit and the notice to the repairer. */
const char *wo_rule_id(const char *rule)
{
    return !strcmp(rule, "visit_due") || !strcmp(rule, "notice_due")
               ? "R-WO-03"
               : "R-WO-01";
}

static int wo_tier(const msgpack_object *d)
{
    return codec_obj_is_str(codec_get(d, "rule"), wo_rule_names[WOR_UNSOLVED])
               ? 2
               : 1;
}

static const struct why_tiers wo_tiers = {
    EV_WO_ESCALATED,
    wo_rule_id,
    wo_tier,
    wo_level_names,
    2,
    "tier 1 cs_lead (stale, visit_due, notice_due), 2 cs_lead and "
    "dept_head (unsolved)"};

/* "why": {"level": the escalations and the tier rule}. */
static int wo_why(struct hctx *h, const struct workorder *w)
{
    struct why y;
    int rc;

    cw_str(h->result, "why");
    cw_map(h->result, 1);
    why_begin(&y, h, "level");
    rc = why_escalations(&y, w->id, w->level, &wo_tiers);
    why_end(&y);
    return rc;
}

/* The row of w; explain adds "why". 0 or an MDB_* error. */
static int wo_row(struct hctx *h, const struct workorder *w, bool explain)
{
    struct cw *cw = h->result;
    int off = h->cfg->cal.offset_min;

    cw_map(cw, 18 + (explain ? 1 : 0));
    cw_kstr(cw, "order", w->id);
    cw_kstr(cw, "kind", w->kind);
    cw_kstr(cw, "state", wo_state_names[w->state]);
    cw_kstr(cw, "unit", w->unit);
    cw_kstr(cw, "issue", w->issue);
    cw_kstr(cw, "owner", w->receiver);
    cw_kstr(cw, "assignee", w->assignee);
    cw_kts(cw, "received", w->received, off);
    cw_kbool(cw, "same_day", w->same_day);
    cw_kbool(cw, "emergency", w->emergency);
    cw_kstr(cw, "category", w->category);
    cw_kstr(cw, "payer", w->payer);
    cw_kint(cw, "level", w->level);
    cw_kbool(cw, "overdue", wo_overdue(w, h->now));
    cw_kint(cw, "reopen_count", w->reopen_count);
    if (w->visit_due)
        cw_kts(cw, "visit_due", w->visit_due, off);
    else
        cw_knil(cw, "visit_due");
    cw_kstr(cw, "visit_result", w->visit_result);
    wo_kprov(cw, w);
    return explain ? wo_why(h, w) : 0;
}

static int list_each(void *ctx, const void *rec)
{
    const struct workorder *w = rec;
    struct wo_list *l = ctx;
    size_t pl = strlen(l->unit_prefix);

    if ((pl && strncmp(w->unit, l->unit_prefix, pl)) ||
        (l->kind && strcmp(w->kind, l->kind)) ||
        (l->overdue && !wo_overdue(w, l->h->now)))
        return 0;
    if (!l->rc)
        l->rc = wo_row(l->h, w, l->explain);
    l->n++;
    return 0;
}

int hdl_query_work_orders(struct hctx *h, const struct args *a, struct err *e)
{
    struct wo_list l = {.h = h};
    char estate[24] = "", bldg[24] = "";
    size_t at;
    int rc;

    if (arg_has(a, "building") && !arg_has(a, "estate"))
        return err_set(e, ERR_INVALID, "building", "'building' needs 'estate'");
    if (arg_has(a, "estate"))
        arg_copy(a, "estate", estate, sizeof(estate));
    if (arg_has(a, "building"))
        arg_copy(a, "building", bldg, sizeof(bldg));
    if (estate[0] &&
        snprintf(l.unit_prefix, sizeof(l.unit_prefix), "%s/%s%s", estate, bldg,
                 bldg[0] ? "-" : "") >= (int)sizeof(l.unit_prefix))
        return err_set(e, ERR_INVALID, "building", "estate/building too long");
    l.kind = arg_has(a, "kind") ? wo_kinds[arg_int(a, "kind")] : NULL;
    l.overdue = flag(a, "overdue");
    l.explain = hdl_explain(a);
    cw_map(h->result, 2);
    cw_str(h->result, "items");
    at = cw_array_open(h->result);
    rc = workorders_each_open(h->txn, h->v, list_each, &l);
    rc = rc ? rc : l.rc;
    cw_array_close(h->result, at, l.n);
    cw_kint(h->result, "count", l.n);
    h->has_result = true;
    return rc ? err_set(e, ERR_UNAVAILABLE, NULL, "work orders: %s",
                        mdb_strerror(rc))
              : 0;
}

int hdl_query_work_order(struct hctx *h, const struct args *a, struct err *e)
{
    char id[WO_ID_MAX];
    struct workorder w;
    int rc;

    arg_copy(a, "order", id, sizeof(id));
    if (workorders_get(h->txn, h->v, id, &w))
        return err_set(e, ERR_NOT_FOUND, "order",
                       "work order '%s' does not exist", id);
    cw_map(h->result, 2);
    cw_str(h->result, "order");
    rc = wo_row(h, &w, hdl_explain(a));
    cw_str(h->result, "timeline");
    rc = rc ? rc : hdl_timeline(h, id);
    h->has_result = true;
    return rc ? err_set(e, ERR_UNAVAILABLE, NULL, "timeline: %s",
                        mdb_strerror(rc))
              : 0;
}

/* ---- the daily stock-take's work-order part (R-WO-01, R-CMP-06) ---- */

struct wo_stock {
    int64_t start, end;
    uint32_t received, completed, closed, open, open_3d, late;
};

static int stock_each(void *ctx, const void *rec)
{
    const struct workorder *w = rec;
    struct wo_stock *s = ctx;
    /* intake counts on the day the desk logged it: as it stood that day,
     * a message logged later was not yet known */
    bool today = w->recorded >= s->start && w->recorded < s->end;

    s->received += today;
    s->late += today && !w->same_day;
    s->completed += w->completed >= s->start && w->completed < s->end;
    s->closed += w->closed >= s->start && w->closed < s->end;
    if (w->state == WS_CLOSED)
        return 0;
    s->open++;
    s->open_3d += s->end - w->received >= 3 * MS_PER_DAY;
    return 0;
}

int wo_stocktake(struct hctx *h, int64_t start, int64_t end, struct cw *out)
{
    struct wo_stock s = {.start = start, .end = end};
    int rc = workorders_each_as_of(h->txn, h->v, end - 1, stock_each, &s);

    cw_map(out, 6);
    cw_kint(out, "received", s.received);
    cw_kint(out, "logged_late", s.late);
    cw_kint(out, "completed", s.completed);
    cw_kint(out, "closed", s.closed);
    cw_kint(out, "open", s.open);
    cw_kint(out, "open_3d", s.open_3d);
    return rc;
}
