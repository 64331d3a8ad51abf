/* handlers/complaints.c - the complaint lifecycle (R-CMP-01..10, R-GEN-06):
 * intake, classification, people, claims, dispatch, replies, updates,
 * handling, return visits, closing and reopening; and the two commands
 * deskd's timers run (actor system): escalate and auto-close. Deadlines
 * are worked out here, from the channel, the working calendar and the
 * rules in [complaints], and written into the events, so a replay never
 * recomputes them with another calendar. The read side is in
 * complaint_queries.c. */
#include <string.h>

#include "../projections/complaints.h"
#include "../projections/units.h"
#include "handlers.h"

const char *const cmp_causes[] = {"man",    "machine",     "material",
                                  "method", "environment", NULL};
const char *const cmp_validity[] = {"valid", "to_improve", "invalid",
                                    "communication", NULL};
const char *const visit_methods[] = {"phone", "visit", "email", "online", NULL};
const char *const visit_results[] = {"satisfied", "dissatisfied", "understands",
                                     "unreachable", NULL};
const char *const no_visit_reasons[] = {"on_spot_satisfied",  "anonymous",
                                        "unreachable_online", "sensitive",
                                        "declined",           NULL};

/* The deadline of rule r from `from`, noting key in p (may be NULL) when
 * the calendar does not cover it (R-GEN-05). */
static int64_t rule_due(const struct hctx *h, enum cmp_rule r, int64_t from,
                        struct hdl_prov *p, const char *key)
{
    return hdl_due(h, &h->cfg->cmp.rule[r].after, from, p, key);
}

/* Writes key: the update-clock deadline from now (R-CMP-06), and the
 * provisional mark when it needs one; returns the entries written. */
static uint32_t knext_update(struct hctx *h, struct cw *w, const char *key)
{
    struct hdl_prov p = {0};

    cw_kint(w, key, rule_due(h, RULE_UPDATE_DUE, h->now, &p, key));
    return 1 + hdl_kprov(w, &p);
}

static bool flag(const struct args *a, const char *name)
{
    return arg_has(a, name) && arg_int(a, name);
}

/* Loads the complaint named by the "complaint" argument; open: refuse a
 * closed one. */
static int need(struct hctx *h, const struct args *a, struct complaint *c,
                bool open, struct err *e)
{
    char id[CMP_ID_MAX];
    int rc;

    arg_copy(a, "complaint", id, sizeof(id));
    rc = complaints_get(h->txn, h->v, id, c);
    if (rc == MDB_NOTFOUND)
        return err_set(e, ERR_NOT_FOUND, "complaint",
                       "complaint '%s' does not exist", id);
    if (rc)
        return err_set(e, ERR_UNAVAILABLE, NULL, "complaint lookup failed");
    if (open && c->state == CS_CLOSED)
        return err_set(e, ERR_CONFLICT, "complaint", "complaint '%s' is closed",
                       id);
    return 0;
}

/* An escalation event, naming the rule, the tier and who is told
 * (R-CMP-07). related: complaints on the same topic (hot), may be NULL. */
static int escalate(struct hctx *h, const char *id, enum cmp_rule r,
                    int64_t due, const struct cw *related)
{
    const struct esc_rule *rc = &h->cfg->cmp.rule[r];
    struct cw *w = hctx_data_begin(h);
    int off = h->cfg->cal.offset_min;
    bool quality = r == RULE_MAJOR || r == RULE_HOT;
    size_t mo = cw_map_open(w);
    struct hdl_prov p = {0};
    uint32_t n = 5;

    cw_kstr(w, "complaint", id);
    cw_kstr(w, "rule", cmp_rule_names[r]);
    cw_kstr(w, "notify", rc->notify);
    cw_kint(w, "tier", cmp_rule_tier(r));
    cw_kts(w, "due", due, off);
    if (quality) { /* the notified party's own deadline */
        cw_kts(w, "respond_by", rule_due(h, r, due, &p, "respond_by"), off);
        n++;
    }
    if (r == RULE_UPDATE_DUE) { /* the next 3-day window */
        cw_kint(w, "next_due", rule_due(h, r, due, &p, "next_due"));
        n++;
    }
    n += hdl_kprov(w, &p);
    if (related) {
        cw_str(w, "related");
        cw_raw(w, cw_data(related), cw_len(related));
        n++;
    }
    cw_map_close(w, mo, n);
    /* a "more than" rule is breached just after its boundary */
    return emit_at(h, EV_COMPLAINT_ESCALATED, due + (cmp_rule_over(r) ? 1 : 0),
                   "complaint:%s", id);
}

/* ---- hot complaints (R-CMP-07): distinct complainants on one topic ---- */

#define HOT_SCAN_MAX 256 /* complaints on one topic looked at */

/* The complaints on a topic near a new one: when each was received and by
 * whom. */
struct hot_ctx {
    char who[HOT_SCAN_MAX][CMP_WHO_LEN];
    char id[HOT_SCAN_MAX][CMP_ID_MAX];
    int64_t at[HOT_SCAN_MAX];
    int n;
    int64_t until; /* the scan stops past this receipt time */
};

static int hot_add(void *ctx, const char *id, const char *who, int64_t at)
{
    struct hot_ctx *hc = ctx;

    if (at > hc->until || hc->n >= HOT_SCAN_MAX)
        return 1;
    snprintf(hc->who[hc->n], CMP_WHO_LEN, "%s", who);
    snprintf(hc->id[hc->n], CMP_ID_MAX, "%s", id);
    hc->at[hc->n++] = at;
    return 0;
}

/* Different complainants among the complaints received in [lo, lo + w],
 * counting entries 0..n-1. */
static int hot_distinct(const struct hot_ctx *hc, int n, int64_t lo, int64_t w)
{
    int count = 0;

    for (int i = 0; i < n; i++) {
        bool seen = false;
        if (hc->at[i] < lo || hc->at[i] > lo + w)
            continue;
        for (int j = 0; j < i && !seen; j++)
            seen = hc->at[j] >= lo && hc->at[j] <= lo + w &&
                   !strcmp(hc->who[j], hc->who[i]);
        count += !seen;
    }
    return count;
}

/* The most different complainants in one window of w that holds the
 * complaint received at `at` (entries 0..n-1 considered). */
static int hot_best(const struct hot_ctx *hc, int n, int64_t at, int64_t w)
{
    int best = hot_distinct(hc, n, at - w, w);

    for (int i = 0; i < hc->n; i++) /* windows starting at a receipt */
        if (hc->at[i] >= at - w && hc->at[i] <= at) {
            int k = hot_distinct(hc, n, hc->at[i], w);
            best = k > best ? k : best;
        }
    return best;
}

/* R-CMP-07: the intake of id on topic makes it hot when, with this one,
 * some window of hot_window_days holding it has enough different
 * complainants, and had not without it. A letter entered late counts only
 * the complaints within a month of its receipt, not the weeks after. */
static int topic_hot(struct hctx *h, const char *id, const char *topic,
                     const char *who, int64_t at)
{
    const struct complaint_settings *cs = &h->cfg->cmp;
    int64_t w = (int64_t)cs->hot_window_days * MS_PER_DAY;
    struct hot_ctx *hc = calloc(1, sizeof(*hc));
    struct cw related;
    int before, after, rc;

    if (!hc)
        return ERR_UNAVAILABLE;
    hc->until = at + w;
    rc = complaints_each_on_topic(h->txn, h->v, topic, at - w, hot_add, hc);
    before = hot_best(hc, hc->n, at, w);
    if (rc == 0 && hc->n < HOT_SCAN_MAX)
        hot_add(hc, id, who, at);
    after = hot_best(hc, hc->n, at, w);
    if (rc == 0 && before < cs->hot_complainants &&
        after >= cs->hot_complainants) {
        uint32_t n = 0;
        cw_init(&related);
        for (int i = 0; i < hc->n; i++)
            n += hc->at[i] >= at - w && hc->at[i] <= at + w;
        cw_array(&related, n);
        for (int i = 0; i < hc->n; i++)
            if (hc->at[i] >= at - w && hc->at[i] <= at + w)
                cw_str(&related, hc->id[i]);
        rc = escalate(h, id, RULE_HOT, h->now, &related);
        cw_release(&related);
    }
    free(hc);
    return rc;
}

/* ---- intake ---- */

/* The key of the complainant the arguments name (R-CMP-07: different
 * complainants are told apart by it). */
static void complainant_of(const struct args *a, const char *id,
                           char out[CMP_WHO_LEN])
{
    char person[PERSON_ID_MAX] = "", name[64] = "", contact[65] = "";

    if (arg_has(a, "person"))
        arg_copy(a, "person", person, sizeof(person));
    if (arg_has(a, "name"))
        arg_copy(a, "name", name, sizeof(name));
    if (arg_has(a, "contact"))
        arg_copy(a, "contact", contact, sizeof(contact));
    cmp_complainant_key(person, name, contact, id, out, CMP_WHO_LEN);
}

static void intake_body(struct hctx *h, const struct args *a, struct cw *w,
                        const char *id, int64_t at, int ch, const char *who)
{
    static const char *const copied[] = {"unit",  "person", "contact",
                                         "wants", "name",   "topic"};
    size_t mo = cw_map_open(w);
    struct hdl_prov p = {0};
    uint32_t n = 12;
    int off = h->cfg->cal.offset_min;

    cw_kstr(w, "complaint", id);
    cw_kstr(w, "who", who);
    cw_kstr(w, "channel", cmp_channel_names[ch]);
    cw_kobj(w, "what", arg(a, "what")->o);
    cw_kbool(w, "anonymous", flag(a, "anonymous"));
    cw_kbool(w, "emergency", flag(a, "emergency"));
    cw_kint(w, "people", arg_has(a, "people") ? arg_int(a, "people") : 1);
    cw_kint(w, "claim_fen",
            arg_has(a, "claim_fen") ? arg_int(a, "claim_fen") : 0);
    cw_kstr(w, "receiver", h->op->id); /* R-GEN-06: first receiver owns it */
    cw_kint(w, "received_at", at);
    cw_kts(w, "received", at, off);
    cw_str(w, "deadlines");
    cw_map(w, 4);
    cw_kint(w, "reply", hdl_due(h, &h->cfg->cmp.reply[ch], at, &p, "reply"));
    cw_kint(w, "open_10d", rule_due(h, RULE_OPEN_10D, at, &p, "open_10d"));
    cw_kint(w, "open_15d", rule_due(h, RULE_OPEN_15D, at, &p, "open_15d"));
    cw_kint(w, "update_due",
            rule_due(h, RULE_UPDATE_DUE, at, &p, "update_due"));
    n += hdl_kprov(w, &p); /* R-GEN-05: computed past the calendar */
    for (size_t i = 0; i < sizeof(copied) / sizeof(*copied); i++)
        if (arg_has(a, copied[i]))
            cw_kobj(w, copied[i], arg(a, copied[i])->o), n++;
    cw_map_close(w, mo, n);
}

static int intake_check(struct hctx *h, const struct args *a, int64_t at,
                        struct err *e)
{
    char key[UNIT_KEY_MAX];
    struct codec_doc d;

    if (at > h->now)
        return err_set(e, ERR_INVALID, "received_at",
                       "'received_at' is in the future");
    if (flag(a, "anonymous") && (arg_has(a, "name") || arg_has(a, "person")))
        return err_set(e, ERR_INVALID, arg_has(a, "name") ? "name" : "person",
                       "an anonymous complaint carries no name or person");
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

/* R-CMP-01 intake. Deadlines from the channel (R-CMP-04, R-CMP-06,
 * R-CMP-07); a claim at the threshold is major, a collective complaint or
 * a topic reaching enough complainants is hot (R-CMP-07). */
int hdl_complaint_receive(struct hctx *h, const struct args *a, struct err *e)
{
    const struct complaint_settings *cs = &h->cfg->cmp;
    int64_t at = arg_has(a, "received_at") ? arg_int(a, "received_at") : h->now;
    char id[CMP_ID_MAX], topic[CMP_TOPIC_MAX], who[CMP_WHO_LEN];
    int rc;

    if ((rc = intake_check(h, a, at, e)))
        return rc;
    snprintf(id, sizeof(id), "C%llu", (unsigned long long)h->next_seq);
    complainant_of(a, id, who);
    intake_body(h, a, hctx_data_begin(h), id, at, (int)arg_int(a, "channel"),
                who);
    if ((rc = emit(h, EV_COMPLAINT_RECEIVED, "complaint:%s", id)))
        return rc;
    if (arg_has(a, "claim_fen") &&
        arg_int(a, "claim_fen") >= cs->major_claim_fen &&
        (rc = escalate(h, id, RULE_MAJOR, h->now, NULL)))
        return rc;
    if (arg_has(a, "people") && arg_int(a, "people") >= cs->hot_complainants)
        return escalate(h, id, RULE_HOT, h->now, NULL);
    if (!arg_has(a, "topic"))
        return 0;
    arg_copy(a, "topic", topic, sizeof(topic));
    return topic_hot(h, id, topic, who, at);
}

/* R-CMP-02/03: category by final cause, validity (unclear -> valid). A
 * correction is a new event; the timeline keeps every one. */
int hdl_complaint_classify(struct hctx *h, const struct args *a, struct err *e)
{
    struct complaint c;
    struct cw *w;
    int rc = need(h, a, &c, false, e);

    if (rc)
        return rc;
    w = hctx_data_begin(h);
    cw_map(w, 4);
    cw_kstr(w, "complaint", c.id);
    cw_kint(w, "category", arg_int(a, "category"));
    cw_kstr(w, "cause",
            arg_has(a, "cause") ? cmp_causes[arg_int(a, "cause")] : "");
    cw_kstr(w, "validity",
            arg_has(a, "validity") ? cmp_validity[arg_int(a, "validity")]
                                   : "valid");
    return emit(h, EV_COMPLAINT_CLASSIFIED, "complaint:%s", c.id);
}

static int reopen(struct hctx *h, const struct complaint *c, const char *reason)
{
    struct cw *w = hctx_data_begin(h);
    size_t mo = cw_map_open(w);
    uint32_t n = 3;

    cw_kstr(w, "complaint", c->id);
    cw_kint(w, "count", c->reopen_count + 1);
    cw_kstr(w, "reason", reason);
    n += knext_update(h, w, "next_update_due");
    cw_map_close(w, mo, n);
    return emit(h, EV_COMPLAINT_REOPENED, "complaint:%s", c->id);
}

/* R-CMP-10: one complaint however many complain; counts people and times.
 * A third person within the window makes it hot (R-CMP-07); a repeat after
 * handling reopens it (R-CMP-09: it was not resolved). */
int hdl_complaint_add_complainant(struct hctx *h, const struct args *a,
                                  struct err *e)
{
    const struct complaint_settings *cs = &h->cfg->cmp;
    bool again = flag(a, "repeat");
    char who[CMP_WHO_LEN] = "";
    struct complaint c;
    struct cw *w;
    int people, rc = need(h, a, &c, true, e);

    if (rc)
        return rc;
    if (arg_has(a, "name") || arg_has(a, "person") || arg_has(a, "contact")) {
        complainant_of(a, c.id, who);
        again |= cmp_has_who(&c, who); /* someone already counted */
    } else if (!again) {
        return err_set(e, ERR_INVALID, "name",
                       "a new complainant needs a name, person or contact");
    }
    people = c.people + (again ? 0 : 1);
    w = hctx_data_begin(h);
    cw_map(w, 4 + (who[0] ? 1 : 0) + arg_has(a, "name") +
                  arg_has(a, "contact") + arg_has(a, "person"));
    cw_kstr(w, "complaint", c.id);
    cw_kint(w, "people", people);
    cw_kint(w, "times", c.times + 1);
    cw_kbool(w, "repeat", again);
    if (who[0])
        cw_kstr(w, "who", who);
    if (arg_has(a, "contact"))
        cw_kobj(w, "contact", arg(a, "contact")->o);
    if (arg_has(a, "name"))
        cw_kobj(w, "name", arg(a, "name")->o);
    if (arg_has(a, "person"))
        cw_kobj(w, "person", arg(a, "person")->o);
    if ((rc = emit(h, EV_COMPLAINANT_ADDED, "complaint:%s", c.id)))
        return rc;
    if (c.state == CS_HANDLED &&
        (rc = reopen(h, &c, again ? "repeat complaint" : "new complainant")))
        return rc;
    if (!again && !c.hot && people >= cs->hot_complainants &&
        h->now - c.received <= (int64_t)cs->hot_window_days * MS_PER_DAY)
        return escalate(h, c.id, RULE_HOT, h->now, NULL);
    return 0;
}

/* R-CMP-07: a compensation claim; at the threshold the complaint is major
 * and goes to the quality department at once. */
int hdl_complaint_claim(struct hctx *h, const struct args *a, struct err *e)
{
    struct complaint c;
    struct cw *w;
    int rc = need(h, a, &c, true, e);

    if (rc)
        return rc;
    w = hctx_data_begin(h);
    cw_map(w, 2);
    cw_kstr(w, "complaint", c.id);
    cw_kint(w, "claim_fen", arg_int(a, "claim_fen"));
    if ((rc = emit(h, EV_COMPLAINT_CLAIMED, "complaint:%s", c.id)))
        return rc;
    if (!c.major && arg_int(a, "claim_fen") >= h->cfg->cmp.major_claim_fen)
        return escalate(h, c.id, RULE_MAJOR, h->now, NULL);
    return 0;
}

/* R-CMP-05: to a handler, with the customer-service lead told. The
 * receiver stays the owner (R-GEN-06). */
int hdl_complaint_dispatch(struct hctx *h, const struct args *a, struct err *e)
{
    struct complaint c;
    struct cw *w;
    char who[CFG_OP_ID_MAX];
    int rc = need(h, a, &c, true, e);

    if (rc)
        return rc;
    if (c.state >= CS_HANDLED)
        return err_set(e, ERR_CONFLICT, "complaint",
                       "complaint '%s' is already handled", c.id);
    arg_copy(a, "handler", who, sizeof(who));
    if (!cfg_operator(h->cfg, who, strlen(who)))
        return err_set(e, ERR_NOT_FOUND, "handler",
                       "operator '%s' is not in the config", who);
    w = hctx_data_begin(h);
    cw_map(w, 5);
    cw_kstr(w, "complaint", c.id);
    cw_kstr(w, "handler", who);
    cw_kstr(w, "owner", c.receiver);
    cw_kstr(w, "notify", "cs_lead");
    cw_kbool(w, "emergency", flag(a, "emergency") || c.emergency);
    return emit(h, EV_COMPLAINT_DISPATCHED, "complaint:%s", c.id);
}

/* R-CMP-04: a reply; if it cannot be solved at once, a re-reply time at
 * most re_reply_max_workdays working days later. Talking to the
 * complainant also restarts the 3-day update clock (R-CMP-06). */
int hdl_complaint_reply(struct hctx *h, const struct args *a, struct err *e)
{
    const struct config *cfg = h->cfg;
    bool again = arg_has(a, "re_reply_by");
    struct complaint c;
    struct cw *w;
    size_t mo;
    uint32_t n;
    int rc = need(h, a, &c, true, e);

    if (rc)
        return rc;
    if (c.state >= CS_HANDLED)
        return err_set(e, ERR_CONFLICT, "complaint",
                       "complaint '%s' is already handled", c.id);
    if (again && (arg_int(a, "re_reply_by") <= h->now ||
                  arg_int(a, "re_reply_by") >
                      cal_workdays_deadline(&cfg->cal, h->now,
                                            cfg->cmp.re_reply_max_workdays)))
        return err_set(e, ERR_RULE, "re_reply_by",
                       "R-CMP-04: the agreed re-reply time must be later "
                       "today or within %d working days",
                       cfg->cmp.re_reply_max_workdays);
    w = hctx_data_begin(h);
    mo = cw_map_open(w);
    cw_kstr(w, "complaint", c.id);
    cw_kobj(w, "text", arg(a, "text")->o);
    cw_kbool(w, "first", c.first_reply == 0);
    n = 3 + knext_update(h, w, "next_update_due");
    if (again) {
        cw_kint(w, "re_reply_by", arg_int(a, "re_reply_by"));
        n++;
    }
    cw_map_close(w, mo, n);
    return emit(h, EV_COMPLAINT_REPLIED, "complaint:%s", c.id);
}

/* R-CMP-06: a progress update to the complainant restarts the 3-day
 * clock. */
int hdl_complaint_update(struct hctx *h, const struct args *a, struct err *e)
{
    struct complaint c;
    struct cw *w;
    size_t mo;
    int rc = need(h, a, &c, true, e);

    if (rc)
        return rc;
    w = hctx_data_begin(h);
    mo = cw_map_open(w);
    cw_kstr(w, "complaint", c.id);
    cw_kobj(w, "text", arg(a, "text")->o);
    cw_map_close(w, mo, 2 + knext_update(h, w, "next_update_due"));
    return emit(h, EV_COMPLAINT_UPDATED, "complaint:%s", c.id);
}

/* R-CMP-08: who gets no return visit, and why. */
static const char *no_visit_reason(struct hctx *h, const struct args *a,
                                   const struct complaint *c)
{
    if (arg_has(a, "no_visit_reason"))
        return no_visit_reasons[arg_int(a, "no_visit_reason")];
    if (c->anonymous)
        return "anonymous";
    if (complaints_no_visit(h->txn, h->v, c->person))
        return "declined";
    return NULL;
}

/* Handling done: a return visit is due within 24 h (R-CMP-08), or, for
 * the no-visit cases, the complaint closes by itself after 7 days without
 * a repeat (R-CMP-09). */
int hdl_complaint_handle(struct hctx *h, const struct args *a, struct err *e)
{
    const char *why;
    struct complaint c;
    struct hdl_prov p = {0};
    struct cw *w;
    size_t mo;
    int rc = need(h, a, &c, true, e);

    if (rc)
        return rc;
    if (c.state == CS_HANDLED)
        return err_set(e, ERR_CONFLICT, "complaint",
                       "complaint '%s' is already handled", c.id);
    why = no_visit_reason(h, a, &c);
    w = hctx_data_begin(h);
    mo = cw_map_open(w);
    cw_kstr(w, "complaint", c.id);
    cw_kobj(w, "summary", arg(a, "summary")->o);
    cw_kbool(w, "no_visit", why != NULL);
    if (why) {
        cw_kstr(w, "no_visit_reason", why);
        cw_kint(w, "auto_close_at",
                h->now + (int64_t)h->cfg->cmp.auto_close_days * MS_PER_DAY);
    } else {
        cw_kint(w, "visit_due",
                rule_due(h, RULE_VISIT_DUE, h->now, &p, "visit_due"));
    }
    cw_map_close(w, mo, (why ? 5 : 4) + hdl_kprov(w, &p));
    return emit(h, EV_COMPLAINT_HANDLED, "complaint:%s", c.id);
}

/* R-CMP-09: an unreachable complainant's complaint closes 7 days after
 * handling, but never before the visit that found them unreachable: a
 * close dated earlier would rewrite what was open on the days between. */
static int64_t unreachable_close(const struct hctx *h,
                                 const struct complaint *c)
{
    int64_t at = c->handled + (int64_t)h->cfg->cmp.auto_close_days * MS_PER_DAY;
    return at > h->now ? at : h->now;
}

/* R-CMP-08/09: the return visit. Dissatisfied reopens it with a count;
 * unreachable turns it into a no-visit case that closes by itself. */
int hdl_complaint_visit(struct hctx *h, const struct args *a, struct err *e)
{
    const char *result = visit_results[arg_int(a, "result")];
    bool unreachable = !strcmp(result, "unreachable");
    struct complaint c;
    struct cw *w;
    int rc = need(h, a, &c, true, e);

    if (rc)
        return rc;
    if (c.state != CS_HANDLED)
        return err_set(e, ERR_RULE, "complaint",
                       "R-CMP-08: the return visit comes after handling");
    if (c.no_visit)
        return err_set(e, ERR_RULE, "complaint",
                       "R-CMP-08: no return visit for this complaint (%s)",
                       c.no_visit_reason);
    w = hctx_data_begin(h);
    cw_map(w, 3 + arg_has(a, "note") + (unreachable ? 1 : 0));
    cw_kstr(w, "complaint", c.id);
    cw_kstr(w, "method", visit_methods[arg_int(a, "method")]);
    cw_kstr(w, "result", result);
    if (arg_has(a, "note"))
        cw_kobj(w, "note", arg(a, "note")->o);
    if (unreachable)
        cw_kint(w, "auto_close_at", unreachable_close(h, &c));
    if ((rc = emit(h, EV_COMPLAINT_VISITED, "complaint:%s", c.id)))
        return rc;
    if (strcmp(result, "dissatisfied"))
        return 0;
    return reopen(h, &c, "dissatisfied at the return visit");
}

/* R-CMP-09: a manager closes after a satisfied return visit ("understands"
 * for to-improve complaints); no-visit cases close by themselves. */
int hdl_complaint_close(struct hctx *h, const struct args *a, struct err *e)
{
    struct complaint c;
    struct cw *w;
    bool ok;
    int rc = need(h, a, &c, true, e);

    if (rc)
        return rc;
    ok = c.state == CS_HANDLED && (!strcmp(c.visit_result, "satisfied") ||
                                   (!strcmp(c.visit_result, "understands") &&
                                    !strcmp(c.validity, "to_improve")));
    if (!ok)
        return err_set(e, ERR_RULE, "complaint",
                       "R-CMP-09: closing needs a satisfied return visit%s",
                       c.no_visit ? "; this one closes by itself 7 days "
                                    "after handling"
                                  : "");
    w = hctx_data_begin(h);
    cw_map(w, 3 + arg_has(a, "note"));
    cw_kstr(w, "complaint", c.id);
    cw_kstr(w, "by", h->op->id);
    cw_kbool(w, "auto", false);
    if (arg_has(a, "note"))
        cw_kobj(w, "note", arg(a, "note")->o);
    return emit(h, EV_COMPLAINT_CLOSED, "complaint:%s", c.id);
}

/* R-CMP-09: handled or closed, it comes back (a repeat, a finding). */
int hdl_complaint_reopen(struct hctx *h, const struct args *a, struct err *e)
{
    struct complaint c;
    char reason[160];
    int rc = need(h, a, &c, false, e);

    if (rc)
        return rc;
    if (c.state < CS_HANDLED)
        return err_set(e, ERR_CONFLICT, "complaint",
                       "complaint '%s' is still being handled", c.id);
    arg_copy(a, "reason", reason, sizeof(reason));
    return reopen(h, &c, reason);
}

/* R-CMP-08: a person who asked not to be visited. */
int hdl_person_no_visit(struct hctx *h, const struct args *a, struct err *e)
{
    char person[PERSON_ID_MAX];
    struct codec_doc d;
    struct cw *w;

    arg_copy(a, "person", person, sizeof(person));
    if (units_get_person(h->txn, h->v, person, &d))
        return err_set(e, ERR_NOT_FOUND, "person",
                       "person '%s' is not registered", person);
    codec_doc_release(&d);
    w = hctx_data_begin(h);
    cw_map(w, 2);
    cw_kstr(w, "person", person);
    cw_kobj(w, "reason", arg(a, "reason")->o);
    return emit(h, EV_NO_VISIT_REQUESTED, "person:%s", person);
}

/* Run by a timer (actor system): the rule's deadline passed. A timer that
 * no longer matches the complaint is refused, so nothing fires twice. */
int hdl_complaint_escalate(struct hctx *h, const struct args *a, struct err *e)
{
    int64_t due = arg_int(a, "due");
    enum cmp_rule r = (enum cmp_rule)arg_int(a, "rule");
    struct complaint c;
    int rc = need(h, a, &c, true, e);

    if (rc)
        return rc;
    /* a "more than" rule's timer fires 1 ms past its boundary (timers
     * set before that rule, at the boundary itself, are still honoured) */
    if (!cmp_timer_due(&c, r) ||
        (cmp_timer_fire(&c, r) != due && cmp_timer_due(&c, r) != due))
        return err_set(e, ERR_CONFLICT, "due",
                       "no %s deadline at that time for '%s'",
                       cmp_rule_names[r], c.id);
    return escalate(h, c.id, r, cmp_timer_due(&c, r), NULL);
}

/* Run by a timer: 7 days after handling with no visit and no repeat. */
int hdl_complaint_auto_close(struct hctx *h, const struct args *a,
                             struct err *e)
{
    struct complaint c;
    struct cw *w;
    int rc = need(h, a, &c, true, e);

    if (rc)
        return rc;
    if (c.state != CS_HANDLED || !c.no_visit ||
        c.auto_close_at != arg_int(a, "due"))
        return err_set(e, ERR_CONFLICT, "complaint",
                       "complaint '%s' is not waiting to close", c.id);
    w = hctx_data_begin(h);
    cw_map(w, 4);
    cw_kstr(w, "complaint", c.id);
    cw_kstr(w, "by", "system");
    cw_kbool(w, "auto", true);
    cw_kstr(w, "reason", c.no_visit_reason);
    return emit_at(h, EV_COMPLAINT_CLOSED, arg_int(a, "due"), "complaint:%s",
                   c.id);
}
