/* handlers/complaint_queries.c - what the desk, its lead and the quality
 * department read about complaints: the open list with deadlines and
 * escalation levels, one complaint with its timeline (R-GEN-07), the daily
 * stock-take (日盘点, R-CMP-06) and the monthly report (R-CMP-11). The
 * stock-take and the report fold history up to their cutoff, so they give
 * the truth as it stood then. */
#include <string.h>

#include "../projections/complaints.h"
#include "handlers.h"

#define TREND_MONTHS_MAX 24
#define OPEN_3D_LIST_MAX 200 /* ids listed in the stock-take */

static const char *const category_names[] = {"",         "房屋管理", "设备管理",
                                             "安全管理", "环境管理", "综合服务",
                                             "业户纠纷", "地产相关", "其它"};
static const char *const level_names[] = {"", "cs_lead", "manager",
                                          "branch_gm"};

/* "HY/3-1201" -> estate "HY", building "3". */
static bool unit_in(const char *unit, const char *estate, const char *bldg)
{
    const char *slash = strchr(unit, '/'), *dash = strrchr(unit, '-');
    size_t el = strlen(estate), bl = strlen(bldg);

    if (el &&
        (!slash || (size_t)(slash - unit) != el || memcmp(unit, estate, el)))
        return false;
    if (bl && (!slash || !dash || dash < slash ||
               (size_t)(dash - slash - 1) != bl || memcmp(slash + 1, bldg, bl)))
        return false;
    return true;
}

/* ---- query.complaints_open ---- */

struct open_ctx {
    struct hctx *h;
    char estate[24], building[24], handler[32];
    int category;
    bool overdue_only;
    bool explain; /* each row says why (explain=true) */
    uint32_t n;
    int rc;
};

static bool reply_overdue(const struct complaint *c, int64_t now)
{
    return !c->first_reply && c->reply_due && c->reply_due <= now &&
           c->state < CS_HANDLED;
}

/* A deadline was missed: the reply, or any deadline rule already
 * escalated while handling is outstanding, or the next one passed. */
static bool overdue(const struct complaint *c, int64_t now)
{
    int rule;
    int64_t next = cmp_next_deadline(c, &rule);

    return reply_overdue(c, now) || (next && next <= now) ||
           (c->state < CS_HANDLED && c->level > 0);
}

/* "provisional": the rules whose pending deadline was computed past the
 * working calendar (R-GEN-05; docs/CALENDAR.md), [] when none. */
static void cmp_kprov(struct cw *w, const struct complaint *c)
{
    uint32_t n = 0;
    size_t at;

    cw_str(w, "provisional");
    at = cw_array_open(w);
    for (int r = 0; r < RULE_COUNT; r++)
        if ((c->prov & (1u << r)) && cmp_timer_due(c, (enum cmp_rule)r)) {
            cw_str(w, cmp_rule_names[r]);
            n++;
        }
    cw_array_close(w, at, n);
}

/* ---- explain=true: why a level, why a deadline ---- */

/* The DOMAIN.md rule a deadline rule implements. */
static const char *deadline_rule_id(int r)
{
    switch (r) {
    case RULE_MISSED_REPLY:
    case RULE_MISSED_RE_REPLY:
        return "R-CMP-04";
    case RULE_UPDATE_DUE:
        return "R-CMP-06";
    case RULE_VISIT_DUE:
        return "R-CMP-08";
    default:
        return "R-CMP-07";
    }
}

/* Where the timeline is walked for one figure. */
struct why_ctx {
    struct why *y;
    int rule;    /* the deadline rule looked for */
    int64_t due; /* its deadline */
    uint64_t seq;
    char type[40];
    int64_t at, from;
    char channel[16];
    int rc;
};

static const char *escalation_rule(const char *rule)
{
    (void)rule;
    return "R-CMP-07";
}

static int escalation_tier(const msgpack_object *d)
{
    int64_t tier = 0;
    codec_get_int(d, "tier", &tier);
    return (int)tier;
}

static const struct why_tiers cmp_tiers = {
    EV_COMPLAINT_ESCALATED,
    escalation_rule,
    escalation_tier,
    level_names,
    3,
    "tier 1 cs_lead (missed_reply, missed_re_reply, update_due, "
    "visit_due), 2 manager (open_10d), 3 branch_gm (open_15d); major and "
    "hot go to quality and raise no tier"};

/* The value an event of type t (data d) gives the deadline of rule r, in
 * *due: whether it sets one. */
static bool sets_deadline(int r, enum ev_type t, const msgpack_object *d,
                          int64_t *due)
{
    const msgpack_object *dl = codec_get(d, "deadlines");
    const char *key = NULL;

    *due = 0;
    if (t == EV_COMPLAINT_RECEIVED) {
        key = r == RULE_MISSED_REPLY ? "reply"
              : r == RULE_OPEN_10D   ? "open_10d"
              : r == RULE_OPEN_15D   ? "open_15d"
              : r == RULE_UPDATE_DUE ? "update_due"
                                     : NULL;
        return key && dl && !codec_get_int(dl, key, due);
    }
    if (r == RULE_MISSED_RE_REPLY && t == EV_COMPLAINT_REPLIED)
        key = "re_reply_by";
    else if (r == RULE_VISIT_DUE && t == EV_COMPLAINT_HANDLED)
        key = "visit_due";
    else if (r == RULE_UPDATE_DUE &&
             (t == EV_COMPLAINT_REPLIED || t == EV_COMPLAINT_UPDATED ||
              t == EV_COMPLAINT_REOPENED))
        key = "next_update_due";
    else if (r == RULE_UPDATE_DUE && t == EV_COMPLAINT_ESCALATED &&
             codec_obj_is_str(codec_get(d, "rule"),
                              cmp_rule_names[RULE_UPDATE_DUE]))
        key = "next_due";
    return key && !codec_get_int(d, key, due) && *due;
}

/* Remembers the last event that set the deadline shown, and the instant
 * its rule counted from. */
static int find_setter(void *ctx, const msgpack_object *e)
{
    struct why_ctx *x = ctx;
    const msgpack_object *d = codec_get(e, "data");
    const char *type;
    size_t tl;
    int64_t due, seq = 0, rec = 0;
    enum ev_type t;

    if (!d || codec_get_str(e, "type", &type, &tl))
        return 0;
    t = ev_type_parse(type, tl);
    if (!sets_deadline(x->rule, t, d, &due) || due != x->due)
        return 0;
    codec_get_int(e, "seq", &seq);
    codec_get_int(e, "occurred", &x->at);
    codec_get_int(e, "recorded", &rec);
    x->seq = (uint64_t)seq;
    snprintf(x->type, sizeof(x->type), "%.*s", (int)tl, type);
    x->channel[0] = '\0';
    if (t == EV_COMPLAINT_RECEIVED) {
        codec_get_int(d, "received_at", &x->from);
        codec_copy_str(d, "channel", x->channel, sizeof(x->channel));
    } else if (t == EV_COMPLAINT_ESCALATED) { /* the window's boundary */
        x->from = x->at - (cmp_rule_over(RULE_UPDATE_DUE) ? 1 : 0);
    } else {
        x->from = rec; /* the handler counts from when it was recorded */
    }
    return 0;
}

/* The setting a deadline rule was computed with; NULL for the agreed
 * re-reply (not computed). */
static const struct deadline *rule_setting(const struct hctx *h,
                                           const struct why_ctx *x, char *name,
                                           size_t cap)
{
    const struct complaint_settings *cs = &h->cfg->cmp;

    if (x->rule == RULE_MISSED_REPLY) {
        for (int ch = 0; ch < CH_COUNT; ch++)
            if (!strcmp(cmp_channel_names[ch], x->channel)) {
                snprintf(name, cap, "reply.%s", x->channel);
                return &cs->reply[ch];
            }
        return NULL;
    }
    if (x->rule == RULE_MISSED_RE_REPLY)
        return NULL;
    snprintf(name, cap, "escalate.%s", cmp_rule_names[x->rule]);
    return &cs->rule[x->rule].after;
}

/* The settings and calendar behind deadline x->due of rule x->rule. */
static void why_setting(struct hctx *h, struct why_ctx *x, const char *rid)
{
    char name[48], rule[DEADLINE_STR_MAX], now[TS_STR_MAX];
    const struct deadline *d = rule_setting(h, x, name, sizeof(name));
    int64_t again;

    if (!d) {
        why_fact(x->y, "config", rid,
                 "agreed with the complainant, not computed: at most "
                 "re_reply_max_workdays = %d working days away",
                 h->cfg->cmp.re_reply_max_workdays);
        return;
    }
    deadline_format(d, rule);
    why_fact(x->y, "config", rid, "[complaints] %s = %s%s%s", name, rule,
             x->rule == RULE_MISSED_REPLY ? "" : ", ",
             x->rule == RULE_MISSED_REPLY ? ""
                                          : h->cfg->cmp.rule[x->rule].notify);
    why_calendar(x->y, rid, d, x->from, x->due);
    if (cmp_rule_over((enum cmp_rule)x->rule))
        why_fact(x->y, "rule", rid,
                 "a \"more than\" threshold: the escalation fires 1 ms after "
                 "the deadline, never at it");
    if (!h->cal)
        return;
    again = deadline_apply(d, h->cal, x->from);
    if (again != x->due) {
        ts_format(again, h->cfg->cal.offset_min, now);
        why_fact(x->y, "rule", rid,
                 "with today's settings and calendar it would be %s; the "
                 "recorded deadline stands (never recomputed)",
                 now);
    }
}

const char *cmp_timer_rule_id(const char *rule)
{
    if (!strcmp(rule, "auto_close"))
        return "R-CMP-09";
    for (int r = 0; r < RULE_COUNT; r++)
        if (!strcmp(rule, cmp_rule_names[r]))
            return deadline_rule_id(r);
    return "R-CMP-07";
}

int cmp_why_deadline(struct hctx *h, struct cw *w, const struct complaint *c,
                     const char *key, int r, int64_t due)
{
    struct why y;
    struct why_ctx x = {.y = &y, .rule = r, .due = due};
    const char *rid = deadline_rule_id(r);
    char when[TS_STR_MAX], from[TS_STR_MAX];
    int rc;

    why_begin_in(&y, h, w, key);
    rc = timeline_each(h->txn, h->v, c->id, find_setter, &x);
    ts_format(due, h->cfg->cal.offset_min, when);
    if (!rc && x.seq) {
        ts_format(x.from, h->cfg->cal.offset_min, from);
        why_entry(&y, x.seq, x.type, x.at, rid, WHY_NO_FEN,
                  "sets the %s deadline %s, counted from %s%s%s",
                  cmp_rule_names[r], when, from,
                  x.channel[0] ? ", channel " : "", x.channel);
        why_setting(h, &x, rid);
    } else {
        why_fact(&y, "rule", rid, "no event of the complaint sets %s", when);
    }
    if (c->prov & (1u << r))
        why_fact(&y, "calendar", "R-GEN-05",
                 "computed past the working calendar's coverage: "
                 "provisional");
    why_end(&y);
    return rc;
}

/* "why": {"level": the escalations and the tier rule, "reply_due",
 * "next_deadline" (when there is one): the deadline's sources}. */
static int cmp_why(struct hctx *h, const struct complaint *c)
{
    struct cw *w = h->result;
    struct why y;
    int rule, rc;
    int64_t next = cmp_next_deadline(c, &rule);

    cw_str(w, "why");
    cw_map(w, next ? 3 : 2);
    why_begin(&y, h, "level");
    rc = why_escalations(&y, c->id, c->level, &cmp_tiers);
    why_end(&y);
    if (!rc)
        rc = cmp_why_deadline(h, w, c, "reply_due", RULE_MISSED_REPLY,
                              c->reply_due);
    if (!rc && next)
        rc = cmp_why_deadline(h, w, c, "next_deadline", rule, next);
    return rc;
}

static void open_row(struct open_ctx *o, const struct complaint *c)
{
    struct cw *w = o->h->result;
    int off = o->h->cfg->cal.offset_min, rule;
    int64_t next = cmp_next_deadline(c, &rule), now = o->h->now;

    cw_map(w, 24 + (o->explain ? 1 : 0));
    cw_kstr(w, "complaint", c->id);
    cw_kstr(w, "state", cmp_state_names[c->state]);
    cw_kstr(w, "channel", c->channel);
    cw_kstr(w, "unit", c->unit);
    cw_kstr(w, "issue", c->issue);
    cw_kstr(w, "owner", c->receiver); /* R-GEN-06 */
    cw_kstr(w, "handler", c->handler);
    cw_kint(w, "category", c->category);
    cw_kstr(w, "category_name", category_names[c->category]);
    cw_kts(w, "received", c->received, off);
    cw_kint(w, "age_days", (now - c->received) / MS_PER_DAY);
    cw_kts(w, "reply_due", c->reply_due, off);
    if (next)
        cw_kts(w, "next_deadline", next, off);
    else
        cw_knil(w, "next_deadline");
    cw_kstr(w, "next_rule", rule >= 0 ? cmp_rule_names[rule] : "");
    cw_kbool(w, "overdue", overdue(c, now));
    cw_kbool(w, "reply_overdue", reply_overdue(c, now));
    cw_kint(w, "level", c->level);
    cw_kstr(w, "level_name", level_names[c->level]);
    cw_kbool(w, "major", c->major);
    cw_kbool(w, "hot", c->hot);
    cw_kbool(w, "emergency", c->emergency);
    cw_kint(w, "people", c->people);
    cw_kint(w, "reopen_count", c->reopen_count);
    cmp_kprov(w, c);
    if (o->explain && !o->rc)
        o->rc = cmp_why(o->h, c);
}

static int open_each(void *ctx, const void *rec)
{
    const struct complaint *c = rec;
    struct open_ctx *o = ctx;

    if (!unit_in(c->unit, o->estate, o->building) ||
        (o->category && c->category != o->category) ||
        (o->handler[0] && strcmp(c->handler, o->handler)) ||
        (o->overdue_only && !overdue(c, o->h->now)))
        return 0;
    open_row(o, c);
    o->n++;
    return 0;
}

int hdl_query_complaints_open(struct hctx *h, const struct args *a,
                              struct err *e)
{
    struct open_ctx o = {.h = h};
    struct cw *w = h->result;
    size_t at;
    int rc;

    if (arg_has(a, "building") && !arg_has(a, "estate"))
        return err_set(e, ERR_INVALID, "building", "'building' needs 'estate'");
    if (arg_has(a, "estate"))
        arg_copy(a, "estate", o.estate, sizeof(o.estate));
    if (arg_has(a, "building"))
        arg_copy(a, "building", o.building, sizeof(o.building));
    if (arg_has(a, "handler"))
        arg_copy(a, "handler", o.handler, sizeof(o.handler));
    o.category = arg_has(a, "category") ? (int)arg_int(a, "category") : 0;
    o.overdue_only = arg_has(a, "overdue") && arg_int(a, "overdue");
    o.explain = hdl_explain(a);
    cw_map(w, 3);
    cw_kts(w, "now", h->now, h->cfg->cal.offset_min);
    cw_str(w, "items");
    at = cw_array_open(w);
    rc = complaints_each_open(h->txn, h->v, open_each, &o);
    rc = rc ? rc : o.rc;
    cw_array_close(w, at, o.n);
    cw_kint(w, "count", o.n);
    h->has_result = true;
    return rc ? err_set(e, ERR_UNAVAILABLE, NULL, "open complaints: %s",
                        mdb_strerror(rc))
              : 0;
}

/* ---- query.complaint: the record and its timeline ---- */

int hdl_query_complaint(struct hctx *h, const struct args *a, struct err *e)
{
    struct open_ctx o = {.h = h, .explain = hdl_explain(a)};
    char id[CMP_ID_MAX];
    struct complaint c;
    int rc;

    arg_copy(a, "complaint", id, sizeof(id));
    if (complaints_get(h->txn, h->v, id, &c))
        return err_set(e, ERR_NOT_FOUND, "complaint",
                       "complaint '%s' does not exist", id);
    cw_map(h->result, 8);
    cw_str(h->result, "complaint");
    open_row(&o, &c);
    if (o.rc)
        return err_set(e, ERR_UNAVAILABLE, NULL, "explanation: %s",
                       mdb_strerror(o.rc));
    cw_kstr(h->result, "validity", c.validity);
    cw_kstr(h->result, "cause", c.cause);
    cw_kint(h->result, "times", c.times);
    cw_kint(h->result, "escalations", c.escalations);
    cw_kstr(h->result, "visit_result", c.visit_result);
    cw_kstr(h->result, "no_visit_reason", c.no_visit_reason);
    cw_str(h->result, "timeline");
    rc = hdl_timeline(h, id);
    h->has_result = true;
    return rc ? err_set(e, ERR_UNAVAILABLE, NULL, "timeline: %s",
                        mdb_strerror(rc))
              : 0;
}

/* ---- query.stocktake (日盘点) ---- */

struct stock_ctx {
    int64_t start, end; /* the day, [start, end) */
    int off;
    uint32_t received, handled, closed, open, open_3d;
    struct cw ids;
    uint32_t nids;
};

static bool on_day(int64_t t, const struct stock_ctx *s)
{
    return t >= s->start && t < s->end;
}

static int stock_each(void *ctx, const void *rec)
{
    const struct complaint *c = rec;
    struct stock_ctx *s = ctx;

    s->received += on_day(c->recorded, s); /* taken in that day */
    s->handled += on_day(c->handled, s);
    s->closed += on_day(c->closed, s);
    if (c->state == CS_CLOSED)
        return 0;
    s->open++;
    if (s->end - c->received >= 3 * MS_PER_DAY) {
        s->open_3d++;
        if (s->nids < OPEN_3D_LIST_MAX) {
            cw_str(&s->ids, c->id);
            s->nids++;
        }
    }
    return 0;
}

int hdl_query_stocktake(struct hctx *h, const struct args *a, struct err *e)
{
    int32_t day =
        arg_has(a, "date") ? (int32_t)arg_int(a, "date") : hdl_today(h);
    struct stock_ctx s = {.off = h->cfg->cal.offset_min};
    struct cw *w = h->result;
    int rc;

    s.start = ts_of_date(day, 0, s.off);
    s.end = ts_of_date(day + 1, 0, s.off);
    cw_init(&s.ids);
    rc = complaints_each_as_of(h->txn, h->v, s.end - 1, stock_each, &s);
    cw_map(w, 8);
    cw_kdate(w, "date", day);
    cw_kint(w, "received", s.received);
    cw_kint(w, "handled", s.handled);
    cw_kint(w, "closed", s.closed);
    cw_kint(w, "open", s.open);
    cw_kint(w, "open_3d", s.open_3d);
    cw_str(w, "open_3d_ids");
    cw_array(w, s.nids);
    cw_raw(w, cw_data(&s.ids), cw_len(&s.ids));
    cw_release(&s.ids);
    cw_str(w, "work_orders"); /* shared with the work orders (R-WO-01) */
    if (rc == 0)
        rc = wo_stocktake(h, s.start, s.end, w);
    else
        cw_nil(w);
    h->has_result = true;
    return rc ? err_set(e, ERR_UNAVAILABLE, NULL, "stock-take: %s",
                        mdb_strerror(rc))
              : 0;
}

/* ---- query.complaint_report (R-CMP-11) ---- */

struct kpi {
    uint32_t num, den;
};

struct report_ctx {
    int64_t start, end; /* the month */
    int64_t month_start[TREND_MONTHS_MAX + 1];
    int months;
    int off;
    int64_t asof;
    uint32_t received, closed, open_at_end, major, hot, reopened;
    uint32_t by_cat[9], by_cause[6], by_validity[5], trend[TREND_MONTHS_MAX];
    struct kpi recorded, replied, followed, visited;
};

static int index_of(const char *const *names, const char *s)
{
    for (int i = 0; names[i]; i++)
        if (!strcmp(names[i], s))
            return i;
    return -1;
}

static void report_kpis(struct report_ctx *r, const struct complaint *c)
{
    int off = r->off;

    r->recorded.den++;
    r->recorded.num +=
        date_of_ts(c->recorded, off) == date_of_ts(c->received, off);
    if (c->first_reply || c->reply_due <= r->asof) {
        r->replied.den++;
        r->replied.num += c->first_reply && c->first_reply <= c->reply_due;
    }
    r->followed.den++;
    r->followed.num += c->missed_updates == 0;
    if (c->visit_due) {
        r->visited.den++;
        r->visited.num += c->visited && c->visited <= c->visit_due;
    }
}

static int report_each(void *ctx, const void *rec)
{
    const struct complaint *c = rec;
    struct report_ctx *r = ctx;
    int i;

    for (i = 0; i < r->months; i++)
        if (c->received >= r->month_start[i] &&
            c->received < r->month_start[i + 1])
            r->trend[i]++;
    if (c->state != CS_CLOSED)
        r->open_at_end++;
    if (c->closed >= r->start && c->closed < r->end)
        r->closed++;
    if (c->received < r->start || c->received >= r->end)
        return 0;
    r->received++;
    r->by_cat[c->category >= 0 && c->category <= 8 ? c->category : 0]++;
    r->by_cause[(i = index_of(cmp_causes, c->cause)) >= 0 ? i + 1 : 0]++;
    r->by_validity[(i = index_of(cmp_validity, c->validity)) >= 0 ? i + 1
                                                                  : 0]++;
    r->major += c->major;
    r->hot += c->hot;
    r->reopened += c->reopen_count > 0;
    report_kpis(r, c);
    return 0;
}

static void kv_kpi(struct cw *w, const char *k, struct kpi p)
{
    cw_str(w, k);
    cw_map(w, 3);
    cw_kint(w, "num", p.num);
    cw_kint(w, "den", p.den);
    hdl_kpercent(w, "percent", p.num, p.den);
}

static void report_write(struct cw *w, const struct report_ctx *r,
                         int32_t first)
{
    char month[8], day[DATE_STR_MAX];

    cw_str(w, "by_category");
    cw_array(w, 9);
    for (int i = 0; i < 9; i++) {
        cw_map(w, 3);
        cw_kint(w, "category", i);
        cw_kstr(w, "name", i ? category_names[i] : "未分类");
        cw_kint(w, "count", r->by_cat[i]);
    }
    cw_str(w, "by_cause");
    cw_map(w, 6);
    cw_kint(w, "unknown", r->by_cause[0]);
    for (int i = 0; cmp_causes[i]; i++)
        cw_kint(w, cmp_causes[i], r->by_cause[i + 1]);
    cw_str(w, "by_validity");
    cw_map(w, 5);
    cw_kint(w, "unknown", r->by_validity[0]);
    for (int i = 0; cmp_validity[i]; i++)
        cw_kint(w, cmp_validity[i], r->by_validity[i + 1]);
    cw_str(w, "trend");
    cw_array(w, (uint32_t)r->months);
    for (int i = 0; i < r->months; i++) {
        date_format(date_add_months(first, i - r->months + 1), day);
        snprintf(month, sizeof(month), "%.7s", day);
        cw_map(w, 2);
        cw_kstr(w, "month", month);
        cw_kint(w, "received", r->trend[i]);
    }
    cw_str(w, "kpi");
    cw_map(w, 4);
    kv_kpi(w, "recorded_same_day", r->recorded);
    kv_kpi(w, "replied_in_time", r->replied);
    kv_kpi(w, "followed_up", r->followed);
    kv_kpi(w, "visits_in_time", r->visited);
}

int hdl_query_complaint_report(struct hctx *h, const struct args *a,
                               struct err *e)
{
    struct report_ctx *r = calloc(1, sizeof(*r));
    int64_t asof = arg_has(a, "as_of") ? arg_int(a, "as_of") : h->now;
    struct cw *w = h->result;
    int32_t first;
    int rc;

    if (!r)
        return err_set(e, ERR_UNAVAILABLE, NULL, "out of memory");
    if (fee_period_parse(arg(a, "month")->s, arg(a, "month")->len, &first)) {
        free(r);
        return err_set(e, ERR_INVALID, "month", "month must be YYYY-MM");
    }
    r->off = h->cfg->cal.offset_min;
    r->months = arg_has(a, "months") ? (int)arg_int(a, "months") : 6;
    for (int i = 0; i <= r->months; i++)
        r->month_start[i] =
            ts_of_date(date_add_months(first, i - r->months + 1), 0, r->off);
    r->start = ts_of_date(first, 0, r->off);
    r->end = ts_of_date(date_add_months(first, 1), 0, r->off);
    if (!arg_has(a, "as_of") && asof > r->end - 1)
        asof = r->end - 1; /* default: the month as it stood at its end */
    r->asof = asof;
    rc = complaints_each_as_of(h->txn, h->v, asof, report_each, r);
    cw_map(w, 13);
    cw_kstrn(w, "month", arg(a, "month")->s, arg(a, "month")->len);
    cw_kts(w, "as_of", asof, r->off);
    cw_kint(w, "received", r->received);
    cw_kint(w, "closed", r->closed);
    cw_kint(w, "open", r->open_at_end);
    cw_kint(w, "major", r->major);
    cw_kint(w, "hot", r->hot);
    cw_kint(w, "reopened", r->reopened);
    report_write(w, r, first);
    free(r);
    h->has_result = true;
    return rc ? err_set(e, ERR_UNAVAILABLE, NULL, "report: %s",
                        mdb_strerror(rc))
              : 0;
}
