/* handlers/handlers.h - every command handler (one file per desk domain)
 * and the small helpers they share. A handler reads state through the
 * projections' read functions inside h->txn, decides, and either returns an
 * error or emits events with emit(); it never writes to LMDB. */
#ifndef DESKD_HANDLERS_H
#define DESKD_HANDLERS_H

#include "../core/cmd.h"
#include "../core/date.h"
#include "../core/mask.h"
#include "../projections/projections.h"
#include "events.h"

/* Emits an event of type t whose data the handler wrote to the cw returned
 * by hctx_data_begin(). */
#define emit(h, t, ...) hctx_emit((h), ev_type_name(t), 0, __VA_ARGS__)
#define emit_at(h, t, occurred, ...)                                           \
    hctx_emit((h), ev_type_name(t), (occurred), __VA_ARGS__)

/* Writes to h->result the timeline of case id (a complaint, a work
 * order): an array of {seq, type, actor, recorded_at, occurred_at, data},
 * personal data masked (R-GEN-02). 0 or an MDB_* error. */
int hdl_timeline(struct hctx *h, const char *id);

/* Deadlines of one event that the working calendar does not cover
 * (R-GEN-05): their keys, written as "provisional": [keys] when any. */
#define HDL_PROV_MAX 8
struct hdl_prov {
    const char *key[HDL_PROV_MAX];
    int n;
};
/* The deadline of rule d from `from`; key is noted in p (may be NULL) when
 * it is provisional (deadline_provisional). */
int64_t hdl_due(const struct hctx *h, const struct deadline *d, int64_t from,
                struct hdl_prov *p, const char *key);
/* When a deadline given as a day (a renovation's last day, a rectify-by
 * date) counts as missed: the desk's opening on the first working day
 * after it, so the desk hears of it when it can act and never before the
 * day is over. key is noted in p (may be NULL) when day or that working
 * day lies outside the calendar's coverage (R-GEN-05). */
int64_t hdl_day_due(const struct hctx *h, int32_t day, struct hdl_prov *p,
                    const char *key);
/* Writes "provisional": [keys] to the open map w when p holds any key;
 * returns the entries written (0 or 1). */
uint32_t hdl_kprov(struct cw *w, const struct hdl_prov *p);

/* Writes key: num/den as a whole percent, rounded half up (2/3 -> 67,
 * 1/8 -> 13), or nil when den is 0 (no data, not 100 %). The one rate rule
 * of every report (docs/COMPLAINTS.md, R-CMP-11). */
void hdl_kpercent(struct cw *w, const char *key, uint64_t num, uint64_t den);

/* ---- explanations (explain.c; docs/FEES.md, docs/COMPLAINTS.md) ----
 * A query given explain=true writes, beside a figure, the list of what
 * produced it: entries {seq, type, at, rule, what} and "fen" when the
 * entry adds to (or takes from) an amount. seq and at are nil in a fact no
 * event carries (type "rule", "config" or "calendar"). */
#define WHY_NO_FEN INT64_MIN /* the entry moves no amount */
struct why {
    struct hctx *h;
    struct cw *w; /* where the list is written (h->result by default) */
    size_t at;    /* the open array in w */
    uint32_t n;
};
/* Whether the query was given explain=true (its table entry has the
 * field). */
bool hdl_explain(const struct args *a);
/* Writes key to the open map h->result and opens its entry list. */
void why_begin(struct why *y, struct hctx *h, const char *key);
/* The same into w, a part of the result encoded apart (a list whose
 * length is known only at its end, like the handover sheet's). */
void why_begin_in(struct why *y, struct hctx *h, struct cw *w, const char *key);
void why_end(struct why *y);
/* An entry of event seq, its type and business time (at) given. */
void why_entry(struct why *y, uint64_t seq, const char *type, int64_t at,
               const char *rule, int64_t fen, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
/* An entry of event seq, its type and business time read from the log.
 * 0, or MDB_NOTFOUND / an MDB_* error (nothing written). */
int why_event(struct why *y, uint64_t seq, const char *rule, int64_t fen,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A fact no event carries: a setting ("config"), the working calendar
 * ("calendar"), how the rule derives the figure ("rule"). */
void why_fact(struct why *y, const char *kind, const char *rule,
              const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The calendar facts a deadline of rule d from `from` to due rests on:
 * desk hours, and the working and rest days between the two days (on the
 * writer only: h->cal; see struct hctx). */
void why_calendar(struct why *y, const char *rule, const struct deadline *d,
                  int64_t from, int64_t due);
/* The last event of stream (e.g. "renovation:R12") of type (EV_UNKNOWN:
 * any) whose data[key] is str (a string) or, with str NULL, the integer
 * num: the event that set the figure (*seq, 0 when none). 0 or an
 * error. */
int why_find_set(struct hctx *h, const char *stream, enum ev_type type,
                 const char *key, const char *str, int64_t num, uint64_t *seq);
/* The same, writing the entry of the event found with rule and what;
 * when none is, a fact says so. 0 or an error. */
int why_set_by(struct why *y, const char *stream, enum ev_type type,
               const char *key, const char *str, int64_t num, const char *rule,
               const char *fmt, ...) __attribute__((format(printf, 8, 9)));
/* The calendar fact of a deadline given as a day (hdl_day_due): it passes
 * at the next working day's opening (due), and the days not worked before
 * it (on the writer only, like why_calendar). */
void why_day_due(struct why *y, const char *rule, int32_t day, int64_t due);
/* How a kind of case escalates: its escalation event, the rule id of an
 * escalation by rule name ("" for the level rule itself), the tier an
 * escalation event's data gives, the names of tiers 1..top and the scale
 * in words. */
struct why_tiers {
    enum ev_type escalated;
    const char *(*rule_id)(const char *rule);
    int (*tier)(const msgpack_object *data);
    const char *const *names;
    int top;
    const char *scale;
};
/* Every escalation event in the timeline of case id, then the rule that
 * makes level the highest tier. 0 or an MDB_* error. */
int why_escalations(struct why *y, const char *id, int level,
                    const struct why_tiers *t);
/* The rule id of a complaint's timer rule by name ("missed_reply":
 * R-CMP-04, "auto_close": R-CMP-09, ...; complaint_queries.c) and of a
 * work order's ("stale": R-WO-01, "visit_due": R-WO-03; workorders.c). */
const char *cmp_timer_rule_id(const char *rule);
const char *wo_rule_id(const char *rule);
/* Writes to w key: [the event of complaint c that set deadline due of
 * rule r, the setting and the calendar facts it was computed with]
 * (complaint_queries.c). 0 or an MDB_* error. */
struct complaint;
int cmp_why_deadline(struct hctx *h, struct cw *w, const struct complaint *c,
                     const char *key, int r, int64_t due);
/* Event seq as logged: *ev points into doc (release it). 0, MDB_NOTFOUND
 * or an error. */
int hdl_event_get(struct hctx *h, uint64_t seq, struct codec_doc *doc,
                  struct event *ev);

/* Today's local date per the server clock. */
int32_t hdl_today(const struct hctx *h);

/* Masking of personal data (R-GEN-02): core/mask.h. */

/* units.c */
int hdl_estate_register(struct hctx *h, const struct args *a, struct err *e);
int hdl_building_register(struct hctx *h, const struct args *a, struct err *e);
int hdl_unit_register(struct hctx *h, const struct args *a, struct err *e);
int hdl_unit_set_state(struct hctx *h, const struct args *a, struct err *e);
int hdl_unit_link(struct hctx *h, const struct args *a, struct err *e);
int hdl_unit_unlink(struct hctx *h, const struct args *a, struct err *e);
int hdl_unit_transfer(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_unit(struct hctx *h, const struct args *a, struct err *e);
/* How person stands to unit on day: "owner" (the owner that day), else the
 * role of a link covering the day (family before tenant, merchant, agent,
 * staff), else "". The day's owner (or "") goes to owner; the latest end
 * of the person's tenant links (DATE_NONE if none) to *lease_end when not
 * NULL. Used by cards, goods release and visits. */
int unit_relation_on(struct hctx *h, const char *unit, const char *person,
                     int32_t day, char role[16], char owner[24],
                     int32_t *lease_end);

/* people.c */
int hdl_person_register(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_person(struct hctx *h, const struct args *a, struct err *e);
int hdl_person_view_full(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_people(struct hctx *h, const struct args *a, struct err *e);

/* fees.c, payments.c, fee_queries.c (R-FEE-01..10) */
int hdl_fee_bill_run(struct hctx *h, const struct args *a, struct err *e);
int hdl_fee_charge(struct hctx *h, const struct args *a, struct err *e);
int hdl_fee_move_in(struct hctx *h, const struct args *a, struct err *e);
int hdl_fee_extension(struct hctx *h, const struct args *a, struct err *e);
int hdl_fee_notice(struct hctx *h, const struct args *a, struct err *e);
int hdl_fee_waive(struct hctx *h, const struct args *a, struct err *e);
int hdl_fee_assess_late(struct hctx *h, const struct args *a, struct err *e);
int hdl_fee_pay(struct hctx *h, const struct args *a, struct err *e);
int hdl_fee_void_payment(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_overdue(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_statement(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_receipts(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_takings(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_large_debtors(struct hctx *h, const struct args *a,
                            struct err *e);
/* Shared by fee handlers. */
int fee_period_parse(const char *s, size_t n, int32_t *first);
int fee_unit_area(const msgpack_object *unit, int64_t *area_c);
int fee_charge_payer(struct hctx *h, const struct args *a, const char *unit,
                     int32_t day, char payer[24], struct err *e);
/* R-FEE-10: what the unit's bills with this payer still owe now. */
int fee_owed_by(struct hctx *h, const char *unit, const char *payer,
                int64_t *owed);

/* complaints.c, complaint_queries.c (R-CMP-01..11, R-GEN-06) */
int hdl_complaint_receive(struct hctx *h, const struct args *a, struct err *e);
int hdl_complaint_classify(struct hctx *h, const struct args *a, struct err *e);
int hdl_complaint_add_complainant(struct hctx *h, const struct args *a,
                                  struct err *e);
int hdl_complaint_claim(struct hctx *h, const struct args *a, struct err *e);
int hdl_complaint_dispatch(struct hctx *h, const struct args *a, struct err *e);
int hdl_complaint_reply(struct hctx *h, const struct args *a, struct err *e);
int hdl_complaint_update(struct hctx *h, const struct args *a, struct err *e);
int hdl_complaint_handle(struct hctx *h, const struct args *a, struct err *e);
int hdl_complaint_visit(struct hctx *h, const struct args *a, struct err *e);
int hdl_complaint_close(struct hctx *h, const struct args *a, struct err *e);
int hdl_complaint_reopen(struct hctx *h, const struct args *a, struct err *e);
int hdl_person_no_visit(struct hctx *h, const struct args *a, struct err *e);
int hdl_complaint_escalate(struct hctx *h, const struct args *a, struct err *e);
int hdl_complaint_auto_close(struct hctx *h, const struct args *a,
                             struct err *e);
int hdl_query_complaints_open(struct hctx *h, const struct args *a,
                              struct err *e);
int hdl_query_complaint(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_stocktake(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_complaint_report(struct hctx *h, const struct args *a,
                               struct err *e);
/* A one-off bill (fee.billed) for item; ref_key/ref_val, when set, name
 * what it is for ("card", "IC0012"). The bill id goes to bill. */
struct fee_charge {
    const char *unit, *payer, *item;
    int64_t amount, qty;
    int32_t day;
    const msgpack_object *note; /* or NULL */
    const char *ref_key, *ref_val;
};
int fee_emit_charge(struct hctx *h, const struct fee_charge *c, char bill[24]);
/* Takes payment today for one bill just emitted in the same command: a
 * fee.paid settling it and the next receipt of book (R-FEE-04); ref_key /
 * ref_val are written on the payment and the receipt, so the receipt
 * names what was paid for (R-CARD-02: the card number). */
struct fee_take {
    const char *unit, *payer, *method, *book, *bill;
    int64_t amount;
    const char *ref_key, *ref_val;
};
int fee_take_payment(struct hctx *h, const struct fee_take *t, struct err *e);

/* workorders.c (R-WO-01..04) */
int hdl_wo_log(struct hctx *h, const struct args *a, struct err *e);
int hdl_wo_dispatch(struct hctx *h, const struct args *a, struct err *e);
int hdl_wo_complete(struct hctx *h, const struct args *a, struct err *e);
int hdl_wo_visit(struct hctx *h, const struct args *a, struct err *e);
int hdl_wo_notice(struct hctx *h, const struct args *a, struct err *e);
int hdl_wo_refer(struct hctx *h, const struct args *a, struct err *e);
int hdl_wo_close(struct hctx *h, const struct args *a, struct err *e);
int hdl_wo_escalate(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_work_orders(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_work_order(struct hctx *h, const struct args *a, struct err *e);
/* The work-order part of the daily stock-take for [start, end), as it
 * stood at its end: a map written to out. */
int wo_stocktake(struct hctx *h, int64_t start, int64_t end, struct cw *out);
extern const char *const wo_kinds[];
extern const char *const wo_sources[];
extern const char *const wo_payers[];
extern const char *const wo_results[];

/* system.c */
int hdl_clock_set(struct hctx *h, const struct args *a, struct err *e);
int hdl_log_read(struct hctx *h, const struct args *a, struct err *e);

/* handover.c (docs/HANDOVER.md) */
int hdl_query_handover(struct hctx *h, const struct args *a, struct err *e);
int hdl_shift_handover(struct hctx *h, const struct args *a, struct err *e);
int hdl_shift_handover_ack(struct hctx *h, const struct args *a, struct err *e);

/* cards.c, card_queries.c (R-CARD-01..05) */
int hdl_card_issue(struct hctx *h, const struct args *a, struct err *e);
int hdl_card_renew(struct hctx *h, const struct args *a, struct err *e);
int hdl_card_report_lost(struct hctx *h, const struct args *a, struct err *e);
int hdl_card_report_damaged(struct hctx *h, const struct args *a,
                            struct err *e);
int hdl_card_return(struct hctx *h, const struct args *a, struct err *e);
int hdl_card_format_reissue(struct hctx *h, const struct args *a,
                            struct err *e);
int hdl_card_swipe(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_card_check(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_card_expiry(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_cards(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_card_quarters(struct hctx *h, const struct args *a,
                            struct err *e);
int hdl_query_cards_past_lease(struct hctx *h, const struct args *a,
                               struct err *e);
/* NULL when card r (NULL: unknown card) opens unit on day, else why not;
 * the reason may be written into buf. Shared by the swipe and the check. */
struct card_rec;
const char *card_verdict(const struct card_rec *r, const char *unit,
                         int32_t day, char *buf, size_t cap);

/* release.c, release_queries.c (R-REL-01..04) */
int hdl_release_request(struct hctx *h, const struct args *a, struct err *e);
int hdl_release_confirm(struct hctx *h, const struct args *a, struct err *e);
int hdl_release_gate_check(struct hctx *h, const struct args *a, struct err *e);
int hdl_release_expire(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_pass(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_passes(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_pass_pending(struct hctx *h, const struct args *a, struct err *e);

/* visits.c, visit_queries.c (R-VIS-01..04) */
int hdl_visit_record(struct hctx *h, const struct args *a, struct err *e);
int hdl_person_set_important(struct hctx *h, const struct args *a,
                             struct err *e);
int hdl_query_visits(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_visits_due(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_visit_plan(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_visit_coverage(struct hctx *h, const struct args *a,
                             struct err *e);
int hdl_query_visit_managers(struct hctx *h, const struct args *a,
                             struct err *e);
/* Whether the list argument field holds s; the first of the NULL-ended
 * need that it lacks (NULL: none). A missing field lacks everything. */
bool arg_strs_has(const struct args *a, const char *field, const char *s);
const char *arg_strs_missing(const struct args *a, const char *field,
                             const char *const *need);

/* renovation.c, renovation_queries.c (R-REN-01..05) */
int hdl_ren_file(struct hctx *h, const struct args *a, struct err *e);
int hdl_ren_pay_deposit(struct hctx *h, const struct args *a, struct err *e);
int hdl_ren_extend(struct hctx *h, const struct args *a, struct err *e);
int hdl_ren_pass_issue(struct hctx *h, const struct args *a, struct err *e);
int hdl_ren_pass_return(struct hctx *h, const struct args *a, struct err *e);
int hdl_ren_inspect(struct hctx *h, const struct args *a, struct err *e);
int hdl_ren_rectify(struct hctx *h, const struct args *a, struct err *e);
int hdl_ren_complete(struct hctx *h, const struct args *a, struct err *e);
int hdl_ren_refund(struct hctx *h, const struct args *a, struct err *e);
/* R-MOV-04 with R-REN-05: at move-out, the deposit still held for the
 * unit's open renovation is refunded when renovation.refund would refund
 * it (the same code), else recorded as withheld with the condition that
 * failed (renovation.deposit_withheld; it stays held for a later
 * renovation.refund). 0 and nothing written when no deposit is held. */
int ren_settle_deposit(struct hctx *h, const char *unit, struct err *e);
int hdl_ren_expire_term(struct hctx *h, const struct args *a, struct err *e);
int hdl_ren_passes_overdue(struct hctx *h, const struct args *a, struct err *e);
int hdl_ren_violation_overdue(struct hctx *h, const struct args *a,
                              struct err *e);
int hdl_query_renovations(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_renovation(struct hctx *h, const struct args *a, struct err *e);

/* movein.c (R-MOV-01..03) */
int hdl_movein_start(struct hctx *h, const struct args *a, struct err *e);
int hdl_movein_sign(struct hctx *h, const struct args *a, struct err *e);
int hdl_movein_meters(struct hctx *h, const struct args *a, struct err *e);
int hdl_movein_inspect(struct hctx *h, const struct args *a, struct err *e);
int hdl_movein_fix_overdue(struct hctx *h, const struct args *a, struct err *e);
int hdl_movein_keys(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_movein(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_moveins(struct hctx *h, const struct args *a, struct err *e);
/* moveout.c (R-MOV-04) */
int hdl_unit_move_out(struct hctx *h, const struct args *a, struct err *e);
int hdl_security_keys_reloaded(struct hctx *h, const struct args *a,
                               struct err *e);

/* calendar.c (R-GEN-05) */
int hdl_query_calendar(struct hctx *h, const struct args *a, struct err *e);
int hdl_calendar_coverage_ending(struct hctx *h, const struct args *a,
                                 struct err *e);
int hdl_calendar_reloaded(struct hctx *h, const struct args *a, struct err *e);

/* Enum choices shared by the table and the handlers. */
extern const char *const unit_types[];
extern const char *const unit_states[];
extern const char *const person_kinds[];
extern const char *const link_roles[];
extern const char *const pay_methods[];
extern const char *const chase_stages[];
extern const char *const cmp_causes[];
extern const char *const cmp_validity[];
extern const char *const visit_methods[];
extern const char *const visit_results[];
extern const char *const no_visit_reasons[];
extern const char *const card_kinds[];
extern const char *const pass_checks[];
extern const char *const pass_confirmers[];
extern const char *const visit_kinds[];
extern const char *const visit_completions[];
extern const char *const visit_satisfactions[];
extern const char *const important_tags[];
extern const char *const ren_parties[];
extern const char *const ren_violation_kinds[];
extern const char *const inspection_results[];
extern const char *const applicant_types[];

#endif
