/* handlers/complaints.c - the complaint lifecycle (R-CMP-01..10, R-GEN-06):
 * intake, classification, people, dispatch, replies, updates, handling,
 * return visits, closing and reopening; and the two commands deskd's
 * timers run (actor system): escalate and auto-close. Deadlines are worked
 * out here, from the channel, the working calendar and the rules in
 * [complaints], and written into the events. */
#include <string.h>

#include "../projections/complaints.h"
#include "../projections/units.h"
#include "handlers.h"

const char *const cmp_causes[] = {"man", "machine", "material", "method",
                                  "environment", NULL};
const char *const cmp_validity[] = {"valid", "to_improve", "invalid",
                                    "communication", NULL};
const char *const visit_methods[] = {"phone", "visit", "email", "online",
                                     NULL};
const char *const visit_results[] = {"satisfied", "dissatisfied",
                                     "understands", "unreachable", NULL};
const char *const no_visit_reasons[] = {
    "on_spot_satisfied", "anonymous", "unreachable_online", "sensitive",
    "declined", NULL};

static int64_t rule_at(const struct hctx *h, enum cmp_rule r, int64_t from)
{
    return deadline_apply(&h->cfg->cmp.rule[r].after, &h->cfg->cal, from);
}

static int need(struct hctx *h, const struct args *a, struct complaint *c,
                bool open, struct err *e)
{
    char id[CMP_ID_MAX];
    arg_copy(a, "complaint", id, sizeof(id));
    if (complaints_get(h->txn, h->v, id, c))
        return err_set(e, ERR_NOT_FOUND, "complaint",
                       "complaint '%s' does not exist", id);
    if (open && !strcmp(c->state, "closed"))
        return err_set(e, ERR_CONFLICT, "complaint",
                       "complaint '%s' is closed", id);
    return 0;
}

/* An escalation event, naming the rule and who is told (R-CMP-07). */
static int escalate(struct hctx *h, const char *id, enum cmp_rule r,
                    int64_t due, int64_t next_due)
{
    const struct cmp_rule_cfg *rc = &h->cfg->cmp.rule[r];
    struct cw *w = hctx_data_begin(h);
    int off = h->cfg->cal.offset_min;
    bool now_rule = r == RULE_MAJOR || r == RULE_HOT;

    cw_map(w, 4 + (now_rule ? 1 : 0) + (next_due ? 1 : 0));
    cw_kstr(w, "complaint", id);
    cw_kstr(w, "rule", cmp_rule_names[r]);
    cw_kstr(w, "notify", rc->notify);
    cw_kts(w, "due", due, off);
    if (now_rule) /* the notified party's own deadline */
        cw_kts(w, "respond_by", rule_at(h, r, due), off);
    if (next_due)
        cw_kint(w, "next_due", next_due);
    return emit_at(h, EV_COMPLAINT_ESCALATED, due, "complaint:%s", id);
}

static void intake_body(struct hctx *h, const struct args *a, struct cw *w,
                        const char *id, int64_t at, int ch)
{
    static const char *const copied[] = {"unit", "person", "contact",
                                         "wants", "name"};
    size_t mo = cw_map_open(w);
    uint32_t n = 10;
    int off = h->cfg->cal.offset_min;

    cw_kstr(w, "complaint", id);
    cw_kstr(w, "channel", cmp_channel_names[ch]);
    cw_kobj(w, "what", arg(a, "what")->o);
    cw_kbool(w, "anonymous", arg_has(a, "anonymous") && arg_int(a, "anonymous"));
    cw_kbool(w, "emergency", arg_has(a, "emergency") && arg_int(a, "emergency"));
    cw_kint(w, "people", arg_has(a, "people") ? arg_int(a, "people") : 1);
    cw_kint(w, "claim_fen", arg_has(a, "claim_fen") ? arg_int(a, "claim_fen")
                                                    : 0);
    cw_kstr(w, "receiver", h->op->id); /* R-GEN-06: first receiver owns it */
    cw_kint(w, "received_at", at);
    cw_str(w, "deadlines");
    cw_map(w, 4);
    cw_kint(w, "reply", deadline_apply(&h->cfg->cmp.reply[ch], &h->cfg->cal,
                                       at));
    cw_kint(w, "open_10d", rule_at(h, RULE_OPEN_10D, at));
    cw_kint(w, "open_15d", rule_at(h, RULE_OPEN_15D, at));
    cw_kint(w, "update_due", rule_at(h, RULE_UPDATE_DUE, at));
    for (size_t i = 0; i < sizeof(copied) / sizeof(*copied); i++)
        if (arg_has(a, copied[i]))
            cw_kobj(w, copied[i], arg(a, copied[i])->o), n++;
    cw_kts(w, "received", at, off);
    cw_map_close(w, mo, n + 1);
}

/* R-CMP-01 intake; major (R-CMP-07) and collective (hot) at once. */
int hdl_complaint_receive(struct hctx *h, const struct args *a,
                          struct err *e)
{
    const struct complaint_settings *cs = &h->cfg->cmp;
    int64_t at = arg_has(a, "received_at") ? arg_int(a, "received_at")
                                           : h->now;
    int ch = (int)arg_int(a, "channel");
    char id[CMP_ID_MAX];
    int rc;

    if (at > h->now)
        return err_set(e, ERR_INVALID, "received_at",
                       "'received_at' is in the future");
    if (arg_has(a, "anonymous") && arg_int(a, "anonymous") &&
        arg_has(a, "name"))
        return err_set(e, ERR_INVALID, "name",
                       "an anonymous complaint carries no name");
    snprintf(id, sizeof(id), "C%llu", (unsigned long long)h->next_seq);
    intake_body(h, a, hctx_data_begin(h), id, at, ch);
    if ((rc = emit(h, EV_COMPLAINT_RECEIVED, "complaint:%s", id)))
        return rc;
    if (arg_has(a, "claim_fen") && arg_int(a, "claim_fen") >=
                                       cs->major_claim_fen &&
        (rc = escalate(h, id, RULE_MAJOR, h->now, 0)))
        return rc;
    if (arg_has(a, "people") && arg_int(a, "people") >= cs->hot_complainants)
        return escalate(h, id, RULE_HOT, h->now, 0);
    return 0;
}

/* R-CMP-02/03: category by final cause, validity; each change is kept. */
int hdl_complaint_classify(struct hctx *h, const struct args *a,
                           struct err *e)
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
    cw_kstr(w, "cause", arg_has(a, "cause") ? arg(a, "cause")->s : "");
    /* R-CMP-03: unclear -> valid */
    cw_kstr(w, "validity",
            arg_has(a, "validity") ? arg(a, "validity")->s : "valid");
    return emit(h, EV_COMPLAINT_CLASSIFIED, "complaint:%s", c.id);
}

/* R-CMP-10: one complaint however many complain; a third person within
 * the window makes it hot (R-CMP-07). */
int hdl_complaint_add_complainant(struct hctx *h, const struct args *a,
                                  struct err *e)
{
    const struct complaint_settings *cs = &h->cfg->cmp;
    struct complaint c;
    struct cw *w;
    int people, rc = need(h, a, &c, true, e);

    if (rc)
        return rc;
    people = c.people + 1;
    w = hctx_data_begin(h);
    cw_map(w, 2 + (arg_has(a, "name") ? 1 : 0) + (arg_has(a, "contact") ? 1 : 0));
    cw_kstr(w, "complaint", c.id);
    cw_kint(w, "people", people);
    if (arg_has(a, "contact"))
        cw_kobj(w, "contact", arg(a, "contact")->o);
    if (arg_has(a, "name"))
        cw_kobj(w, "name", arg(a, "name")->o);
    if ((rc = emit(h, EV_COMPLAINANT_ADDED, "complaint:%s", c.id)))
        return rc;
    if (!c.hot && people >= cs->hot_complainants &&
        h->now - c.received <= (int64_t)cs->hot_window_days * MS_PER_DAY)
        return escalate(h, c.id, RULE_HOT, h->now, 0);
    return 0;
}

/* R-CMP-05: to a handler, with the customer-service lead told. */
int hdl_complaint_dispatch(struct hctx *h, const struct args *a,
                           struct err *e)
{
    struct complaint c;
    struct cw *w;
    char who[CFG_OP_ID_MAX];
    int rc = need(h, a, &c, true, e);
    if (rc)
        return rc;
    arg_copy(a, "handler", who, sizeof(who));
    if (!cfg_operator(h->cfg, who, strlen(who)))
        return err_set(e, ERR_NOT_FOUND, "handler",
                       "operator '%s' is not in the config", who);
    w = hctx_data_begin(h);
    cw_map(w, 4);
    cw_kstr(w, "complaint", c.id);
    cw_kstr(w, "handler", who);
    cw_kstr(w, "notify", "cs_lead");
    cw_kbool(w, "emergency", arg_has(a, "emergency") && arg_int(a, "emergency"));
    return emit(h, EV_COMPLAINT_DISPATCHED, "complaint:%s", c.id);
}

/* R-CMP-04: a reply; if it cannot be solved at once, a re-reply time at
 * most re_reply_max_workdays working days later. */
int hdl_complaint_reply(struct hctx *h, const struct args *a, struct err *e)
{
    const struct config *cfg = h->cfg;
    struct complaint c;
    struct cw *w;
    bool again = arg_has(a, "re_reply_by");
    int rc = need(h, a, &c, true, e);

    if (rc)
        return rc;
    if (again && (arg_int(a, "re_reply_by") <= h->now ||
                  arg_int(a, "re_reply_by") >
                      cal_workdays_deadline(&cfg->cal, h->now,
                                            cfg->cmp.re_reply_max_workdays)))
        return err_set(e, ERR_RULE, "re_reply_by",
                       "R-CMP-04: the agreed re-reply time is at most %d "
                       "working days away",
                       cfg->cmp.re_reply_max_workdays);
    w = hctx_data_begin(h);
    cw_map(w, 3 + (again ? 1 : 0));
    cw_kstr(w, "complaint", c.id);
    cw_kobj(w, "text", arg(a, "text")->o);
    cw_kbool(w, "first", c.first_reply == 0);
    if (again)
        cw_kint(w, "re_reply_by", arg_int(a, "re_reply_by"));
    return emit(h, EV_COMPLAINT_REPLIED, "complaint:%s", c.id);
}

/* R-CMP-06: progress updates to the complainant reset the 3-day clock. */
int hdl_complaint_update(struct hctx *h, const struct args *a, struct err *e)
{
    struct complaint c;
    struct cw *w;
    int rc = need(h, a, &c, true, e);
    if (rc)
        return rc;
    w = hctx_data_begin(h);
    cw_map(w, 3);
    cw_kstr(w, "complaint", c.id);
    cw_kobj(w, "text", arg(a, "text")->o);
    cw_kint(w, "next_update_due", rule_at(h, RULE_UPDATE_DUE, h->now));
    return emit(h, EV_COMPLAINT_UPDATED, "complaint:%s", c.id);
}

/* R-CMP-08: who gets no return visit. */
static const char *no_visit_reason(struct hctx *h, const struct args *a,
                                   const struct complaint *c,
                                   const char *person)
{
    if (arg_has(a, "no_visit_reason"))
        return arg(a, "no_visit_reason")->s;
    if (c->anonymous)
        return "anonymous";
    if (complaints_no_visit(h->txn, h->v, person))
        return "declined";
    return NULL;
}

/* Handling done: a return visit is due within 24 h (R-CMP-08), or, for
 * the no-visit cases, the complaint closes by itself after 7 days without
 * a repeat (R-CMP-09). */
int hdl_complaint_handle(struct hctx *h, const struct args *a, struct err *e)
{
    struct complaint c;
    struct codec_doc d;
    char person[32] = "";
    const char *why;
    struct cw *w;
    int rc = need(h, a, &c, true, e);

    if (rc)
        return rc;
    if (!strcmp(c.state, "handled"))
        return err_set(e, ERR_CONFLICT, "complaint",
                       "complaint '%s' is already handled", c.id);
    if (complaints_get(h->txn, h->v, c.id, &c) == 0 &&
        proj_get(h->txn, h->v->dbi[DB_COMPLAINTS], c.id, strlen(c.id), &d) ==
            0) {
        codec_copy_str(d.obj, "person", person, sizeof(person));
        codec_doc_release(&d);
    }
    why = no_visit_reason(h, a, &c, person);
    w = hctx_data_begin(h);
    cw_map(w, 4 + (why ? 1 : 0));
    cw_kstr(w, "complaint", c.id);
    cw_kobj(w, "summary", arg(a, "summary")->o);
    cw_kbool(w, "no_visit", why != NULL);
    if (why) {
        cw_kstr(w, "no_visit_reason", why);
        cw_kint(w, "auto_close_at",
                h->now + (int64_t)h->cfg->cmp.auto_close_days * MS_PER_DAY);
    } else {
        cw_kint(w, "visit_due", rule_at(h, RULE_VISIT_DUE, h->now));
    }
    return emit(h, EV_COMPLAINT_HANDLED, "complaint:%s", c.id);
}

/* R-CMP-08/09: the return visit; dissatisfied reopens (with a count). */
int hdl_complaint_visit(struct hctx *h, const struct args *a, struct err *e)
{
    struct complaint c;
    const char *result = arg(a, "result")->s;
    struct cw *w;
    int rc = need(h, a, &c, true, e);

    if (rc)
        return rc;
    if (strcmp(c.state, "handled"))
        return err_set(e, ERR_RULE, "complaint",
                       "R-CMP-08: the return visit comes after handling");
    w = hctx_data_begin(h);
    cw_map(w, 3);
    cw_kstr(w, "complaint", c.id);
    cw_kobj(w, "method", arg(a, "method")->o);
    cw_kstr(w, "result", result);
    if ((rc = emit(h, EV_COMPLAINT_VISITED, "complaint:%s", c.id)))
        return rc;
    if (strcmp(result, "dissatisfied"))
        return 0;
    w = hctx_data_begin(h);
    cw_map(w, 3);
    cw_kstr(w, "complaint", c.id);
    cw_kint(w, "count", c.reopen_count + 1);
    cw_kint(w, "next_update_due", rule_at(h, RULE_UPDATE_DUE, h->now));
    return emit(h, EV_COMPLAINT_REOPENED, "complaint:%s", c.id);
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
    ok = !strcmp(c.state, "handled") &&
         (!strcmp(c.visit_result, "satisfied") ||
          (!strcmp(c.visit_result, "understands") &&
           !strcmp(c.validity, "to_improve")));
    if (!ok)
        return err_set(e, ERR_RULE, "complaint",
                       "R-CMP-09: closing needs a satisfied return visit%s",
                       c.no_visit ? "; this one closes by itself 7 days "
                                    "after handling"
                                  : "");
    w = hctx_data_begin(h);
    cw_map(w, 3);
    cw_kstr(w, "complaint", c.id);
    cw_kstr(w, "by", h->op->id);
    cw_kbool(w, "auto", false);
    return emit(h, EV_COMPLAINT_CLOSED, "complaint:%s", c.id);
}

/* R-CMP-08: a person who asked not to be visited. */
int hdl_person_no_visit(struct hctx *h, const struct args *a, struct err *e)
{
    char person[32];
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

static int rule_index(const char *s, size_t n)
{
    for (int i = 0; i < RULE_COUNT; i++)
        if (strlen(cmp_rule_names[i]) == n && !memcmp(cmp_rule_names[i], s, n))
            return i;
    return -1;
}

/* Run by a timer (actor system): the rule's deadline passed. */
int hdl_complaint_escalate(struct hctx *h, const struct args *a,
                           struct err *e)
{
    struct complaint c;
    int64_t due = arg_int(a, "due");
    int r = rule_index(arg(a, "rule")->s, arg(a, "rule")->len);
    int rc = need(h, a, &c, true, e);

    if (rc)
        return rc;
    if (r < 0)
        return err_set(e, ERR_INVALID, "rule", "unknown escalation rule");
    return escalate(h, c.id, (enum cmp_rule)r, due,
                    r == RULE_UPDATE_DUE ? rule_at(h, RULE_UPDATE_DUE, due)
                                         : 0);
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
    if (strcmp(c.state, "handled") || !c.no_visit)
        return err_set(e, ERR_CONFLICT, "complaint",
                       "complaint '%s' is not waiting to close", c.id);
    w = hctx_data_begin(h);
    cw_map(w, 3);
    cw_kstr(w, "complaint", c.id);
    cw_kstr(w, "by", "system");
    cw_kbool(w, "auto", true);
    return emit_at(h, EV_COMPLAINT_CLOSED, arg_int(a, "due"),
                   "complaint:%s", c.id);
}
