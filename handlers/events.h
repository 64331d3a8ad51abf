/* handlers/events.h - every event type deskd writes. One list yields the
 * enum and the wire names; projections switch on the enum, never on
 * strings. Add new types at the end of their domain's block. */
#ifndef DESKD_EVENTS_H
#define DESKD_EVENTS_H

#include <stddef.h>

#define EVENT_TYPES(X)                                                         \
    X(CLOCK_ADVANCED, "clock.advanced")                                        \
    X(ESTATE_REGISTERED, "estate.registered")                                  \
    X(BUILDING_REGISTERED, "building.registered")                              \
    X(UNIT_REGISTERED, "unit.registered")                                      \
    X(UNIT_STATE_CHANGED, "unit.state_changed")                                \
    X(PERSON_REGISTERED, "person.registered")                                  \
    X(PERSON_LINKED, "unit.person_linked")                                     \
    X(PERSON_UNLINKED, "unit.person_unlinked")                                 \
    X(OWNERSHIP_TRANSFERRED, "unit.ownership_transferred")                     \
    X(PERSON_DATA_VIEWED, "person.data_viewed")                                \
    X(FEE_BILLED, "fee.billed")                                                \
    X(FEE_PAID, "fee.paid")                                                    \
    X(RECEIPT_ISSUED, "receipt.issued")                                        \
    X(PAYMENT_VOIDED, "fee.payment_voided")                                    \
    X(PREPAY_APPLIED, "fee.prepayment_applied")                                \
    X(FEE_START_SET, "fee.start_set")                                          \
    X(EXTENSION_GRANTED, "fee.extension_granted")                              \
    X(NOTICE_DELIVERED, "fee.notice_delivered")                                \
    X(LATE_FEE_ASSESSED, "fee.late_fee_assessed")                              \
    X(FEE_WAIVED, "fee.waived")                                                \
    X(COMPLAINT_RECEIVED, "complaint.received")                                \
    X(COMPLAINT_CLASSIFIED, "complaint.classified")                            \
    X(COMPLAINANT_ADDED, "complaint.complainant_added")                        \
    X(COMPLAINT_DISPATCHED, "complaint.dispatched")                            \
    X(COMPLAINT_REPLIED, "complaint.replied")                                  \
    X(COMPLAINT_UPDATED, "complaint.updated")                                  \
    X(COMPLAINT_HANDLED, "complaint.handled")                                  \
    X(COMPLAINT_VISITED, "complaint.visited")                                  \
    X(COMPLAINT_REOPENED, "complaint.reopened")                                \
    X(COMPLAINT_CLOSED, "complaint.closed")                                    \
    X(COMPLAINT_ESCALATED, "complaint.escalated")                              \
    X(NO_VISIT_REQUESTED, "person.no_visit_requested")                         \
    X(COMPLAINT_CLAIMED, "complaint.claimed")                                  \
    X(CARD_ISSUED, "card.issued")                                              \
    X(CARD_RENEWED, "card.renewed")                                            \
    X(CARD_LOST, "card.reported_lost")                                         \
    X(CARD_DAMAGED, "card.reported_damaged")                                   \
    X(CARD_RETURNED, "card.returned")                                          \
    X(CARD_FORMATTED, "card.formatted")                                        \
    X(CARD_SWIPED, "card.swiped")                                              \
    X(WO_LOGGED, "workorder.logged")                                           \
    X(WO_DISPATCHED, "workorder.dispatched")                                   \
    X(WO_COMPLETED, "workorder.completed")                                     \
    X(WO_VISITED, "workorder.visited")                                         \
    X(WO_NOTICE_SENT, "workorder.notice_sent")                                 \
    X(WO_REOPENED, "workorder.reopened")                                       \
    X(WO_CLOSED, "workorder.closed")                                           \
    X(WO_ESCALATED, "workorder.escalated")                                     \
    X(PASS_REQUESTED, "release.requested")                                     \
    X(PASS_CONFIRMED, "release.confirmed")                                     \
    X(PASS_USED, "release.used")                                               \
    X(PASS_EXPIRED, "release.expired")                                         \
    X(VISIT_RECORDED, "visit.recorded")                                        \
    X(IMPORTANT_SET, "person.important_set")                                   \
    X(REN_FILED, "renovation.filed")                                           \
    X(REN_DEPOSIT_TAKEN, "renovation.deposit_taken")                           \
    X(REN_EXTENDED, "renovation.extended")                                     \
    X(REN_PASS_ISSUED, "renovation.pass_issued")                               \
    X(REN_PASS_RETURNED, "renovation.pass_returned")                           \
    X(REN_INSPECTED, "renovation.inspected")                                   \
    X(REN_VIOLATION_FOUND, "renovation.violation_found")                       \
    X(REN_RECTIFIED, "renovation.rectified")                                   \
    X(REN_COMPLETION_INSPECTED, "renovation.completion_inspected")             \
    X(REN_DEPOSIT_REFUNDED, "renovation.deposit_refunded")                     \
    X(REN_TERM_EXPIRED, "renovation.term_expired")                             \
    X(REN_PASSES_OVERDUE, "renovation.passes_overdue")                         \
    X(REN_VIOLATION_OVERDUE, "renovation.violation_overdue")                   \
    X(MOVEIN_STARTED, "movein.started")                                        \
    X(MOVEIN_AGREEMENTS_SIGNED, "movein.agreements_signed")                    \
    X(MOVEIN_METERS_READ, "movein.meters_read")                                \
    X(MOVEIN_INSPECTED, "movein.inspected")                                    \
    X(MOVEIN_KEYS_HANDED, "movein.keys_handed")                                \
    X(MOVEIN_FIX_OVERDUE, "movein.fix_overdue")                                \
    X(FINANCE_NOTIFIED, "unit.finance_notified")                               \
    X(KEYS_RELOADED, "security.keys_reloaded")                                 \
    X(CALENDAR_COVERAGE_ENDING, "calendar.coverage_ending")                    \
    X(CALENDAR_RELOADED, "calendar.reloaded")                                  \
    X(UNIT_MOVED_OUT, "unit.moved_out")                                        \
    X(SHIFT_HANDED_OVER, "shift.handed_over")                                  \
    X(SHIFT_HANDOVER_ACKED, "shift.handover_acknowledged")                     \
    X(REN_DEPOSIT_WITHHELD, "renovation.deposit_withheld")                     \
    X(LATE_FEE_RUN, "fee.late_fee_run")

enum ev_type {
    EV_UNKNOWN = 0,
#define X(n, s) EV_##n,
    EVENT_TYPES(X)
#undef X
        EV_COUNT
};

const char *ev_type_name(enum ev_type t);
/* EV_UNKNOWN when the name is not in the list. */
enum ev_type ev_type_parse(const char *s, size_t len);

#endif
