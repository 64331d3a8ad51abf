/* projections/complaints.h - the complaint read models (R-CMP-01..11,
 * R-GEN-06): one record per complaint with its state, people, deadlines and
 * escalations; the open set; a per-complaint timeline; the topic index that
 * finds hot complaints; the "do not visit" wishes.
 *
 * A complaint's state is a pure fold of its events (cmp_fold): the live
 * projection folds each event as it is appended, and the as-of queries
 * (stock-take, monthly report) fold the timeline up to a cutoff, so "the
 * truth on date D" and "the truth now" come from the same code. Deadlines
 * arrive in the events (the handler computed them with the calendar), so
 * replay never depends on today's config. Timers are derived from the
 * state (cmp_timer_due), which is what makes each escalation fire once. */
#ifndef DESKD_PROJ_COMPLAINTS_H
#define DESKD_PROJ_COMPLAINTS_H

#include "../core/config.h"
#include "projections.h"
#include "timeline.h"

#define CMP_ID_MAX 24
#define CMP_ISSUE_MAX 96 /* bytes of "what happened" kept for lists */
#define CMP_TOPIC_MAX 32 /* bytes of a topic key ("HY:lift-3") */
#define CMP_WHO_MAX 16   /* complainants told apart on one record */
#define CMP_WHO_LEN 72   /* bytes of one complainant key, NUL included */

/* States, in lifecycle order. "open" means any state before closed. */
#define CMP_STATES(X)                                                          \
    X(RECEIVED, "received")                                                    \
    X(DISPATCHED, "dispatched")                                                \
    X(REPLIED, "replied")                                                      \
    X(HANDLED, "handled")                                                      \
    X(CLOSED, "closed")

enum cmp_state {
#define X(n, s) CS_##n,
    CMP_STATES(X)
#undef X
};

extern const char *const cmp_state_names[];

struct complaint {
    char id[CMP_ID_MAX];
    char channel[16];
    char unit[64];
    char person[24]; /* registered complainant, "" if none */
    char name[64];   /* complainant; "" when anonymous */
    char topic[CMP_TOPIC_MAX];
    bool anonymous;
    char receiver[32]; /* first receiver, owns it to the end (R-GEN-06) */
    char handler[32];
    enum cmp_state state;
    int category;   /* 1..8 (R-CMP-02), 0 until classified */
    char cause[16]; /* man machine material method environment */
    char validity[16];
    char visit_result[16];
    char no_visit_reason[24];
    char issue[CMP_ISSUE_MAX]; /* what happened, cut at a UTF-8 boundary */
    bool emergency, major, hot, no_visit;
    int people, times, reopen_count, level, escalations, reclassified;
    int missed_updates; /* update_due escalations (R-CMP-06) */
    int nwho;           /* complainants known apart (R-CMP-07, R-CMP-10) */
    char who[CMP_WHO_MAX][CMP_WHO_LEN];
    unsigned fired; /* bit per enum cmp_rule: one-shot rules fired */
    unsigned prov;  /* bit per enum cmp_rule: its deadline was computed
                       past the working calendar (R-GEN-05) */
    int64_t claim_fen;
    int64_t received; /* business time of receipt */
    int64_t recorded; /* when the intake was recorded */
    int64_t updated;  /* recorded_at of the last event folded */
    int64_t first_reply, reply_due, re_reply_due, update_due, open_10d_at,
        open_15d_at, handled, visit_due, visited, auto_close_at, closed;
};

/* Folds one event into c (pure: no I/O). c must be zeroed before the
 * complaint.received event. Events of other types are ignored. */
void cmp_fold(struct complaint *c, enum ev_type t, const msgpack_object *data,
              int64_t recorded_at);

/* Rule r's pending deadline for c (0: none): the boundary instant. */
int64_t cmp_timer_due(const struct complaint *c, enum cmp_rule r);
/* Whether rule r is a "more than" threshold (超过): open_10d (open more
 * than 10 days, R-CMP-07) and update_due (no contact for more than 3 days,
 * R-CMP-06). Its escalation fires once the boundary has passed, 1 ms
 * after it, never at the boundary itself; the others fire at it. */
bool cmp_rule_over(enum cmp_rule r);
/* When the timer for rule r fires: cmp_timer_due, plus 1 ms for a "more
 * than" rule (0: no timer). */
int64_t cmp_timer_fire(const struct complaint *c, enum cmp_rule r);
/* The earliest pending deadline and its rule (0 / -1 when none). */
int64_t cmp_next_deadline(const struct complaint *c, int *rule);
/* Escalation tier of a rule: 1 cs_lead, 2 manager, 3 branch GM, 0 for the
 * quality department's rules (major, hot). */
int cmp_rule_tier(enum cmp_rule r);

int proj_complaints_apply(MDB_txn *txn, const struct views *v,
                          const struct event *ev);
/* 0 and c filled, or MDB_NOTFOUND. */
int complaints_get(MDB_txn *txn, const struct views *v, const char *id,
                   struct complaint *c);
/* Complaint id as it stood at cutoff (ms): 0 and c filled, or
 * MDB_NOTFOUND when it was not yet recorded. */
int complaints_get_as_of(MDB_txn *txn, const struct views *v, const char *id,
                         int64_t cutoff, struct complaint *c);
/* Complaint id as it stood once the event at seq had been applied (the
 * log up to seq, case_get_seq): 0 and c filled, or MDB_NOTFOUND. */
int complaints_get_at_seq(MDB_txn *txn, const struct views *v, const char *id,
                          uint64_t seq, struct complaint *c);
/* fn gets a const struct complaint *. */
typedef case_fn complaints_fn;
/* Open complaints in id order. fn returns >0 to stop, <0 for an error. */
int complaints_each_open(MDB_txn *txn, const struct views *v, complaints_fn fn,
                         void *ctx);
/* Every complaint recorded by cutoff, as it stood at cutoff. */
int complaints_each_as_of(MDB_txn *txn, const struct views *v, int64_t cutoff,
                          complaints_fn fn, void *ctx);
bool complaints_no_visit(MDB_txn *txn, const struct views *v,
                         const char *person);

/* Complaints on one topic received at or after since (ms), in receipt
 * order: fn gets the complaint id, the complainant key and the receipt
 * time, and returns nonzero to stop. */
typedef int (*complaints_topic_fn)(void *ctx, const char *id, const char *who,
                                   int64_t at);
int complaints_each_on_topic(MDB_txn *txn, const struct views *v,
                             const char *topic, int64_t since,
                             complaints_topic_fn fn, void *ctx);

/* The complainant key that tells people apart for R-CMP-07 "different
 * complainants": the person id, else the name, else the contact, else the
 * complaint (an anonymous complainant is someone nobody else is). */
void cmp_complainant_key(const char *person, const char *name,
                         const char *contact, const char *id, char *out,
                         size_t cap);
/* Whether key is one of c's complainants. */
bool cmp_has_who(const struct complaint *c, const char *key);

#endif
