/* projections/whatif.h - "what if the policy had been different": the
 * log of a data dir replayed into a scratch directory under a changed
 * config, re-making the decisions that config drives, and the same
 * figures counted on the real log and on the replay (deskaudit whatif).
 *
 * Re-made from --from on: every timer-driven system command (complaint
 * escalations and auto-closes, work-order escalations) is dropped from the
 * log and fired again by the scratch pipeline when its timer falls due
 * under the new rules; the deadlines a complaint's intake wrote
 * (deadlines.reply, open_10d, open_15d, update_due) are worked out again
 * from its receipt time; each late-fee run (fee.assess_late) is run again
 * through the pipeline, same estate, day, operator and time. Every other
 * event is taken from the log as recorded. Read-only on data_dir. */
#ifndef DESKD_WHATIF_H
#define DESKD_WHATIF_H

#include <stdint.h>

#include "../core/config.h"
#include "../core/err.h"
#include "../core/progress.h"

/* The figures of one side, for events that happened (occurred_at) from
 * from_ms to to_ms. */
struct whatif_side {
    int64_t late_fee_fen;             /* late fees charged */
    uint64_t late_fee_bills;          /* late-fee assessments */
    uint64_t escalations[RULE_COUNT]; /* complaint escalations per rule */
    uint64_t wo_escalations;          /* work-order escalations */
    uint64_t complaints_escalated;    /* complaints with any escalation */
    uint64_t events;                  /* events of the window */
    /* what was overdue at the end of the --to day, by age (R-FEE-06
     * buckets: 1-30, 31-60, 61-90, >90 days), fen */
    int64_t overdue_fen[4];
    int64_t overdue_total;
};

struct whatif_report {
    struct whatif_side real, sim;
    uint64_t copied;        /* events taken from the log as recorded */
    uint64_t dropped;       /* timer-driven system events left to the timers */
    uint64_t rewritten;     /* complaint intakes with deadlines worked again */
    uint64_t reruns;        /* late-fee runs run again */
    uint64_t rerun_refused; /* of which charged nothing (or refused) */
    uint64_t timers;        /* timers fired in the replay */
};

/* Replays data_dir's log (events recorded up to to_ms) under cfg in a
 * scratch directory (removed afterwards) and fills r. cfg is the changed
 * config; the operators of the log's commands must be in it. */
int whatif_run(const char *data_dir, const struct config *cfg, int64_t from_ms,
               int64_t to_ms, struct whatif_report *r, struct progress *p,
               struct err *e);

/* The settings whatif re-decides: complaints.escalate.open_10d|open_15d|
 * update_due, complaints.reply.<channel>, fees.late_fee.<item>. Others
 * (valid for deskd) are ERR_INVALID here: their decisions are recorded in
 * desk events that the replay takes as they are. */
int whatif_setting_ok(const char *setting, struct err *e);

#endif
