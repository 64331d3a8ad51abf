/* handlers/commands.c - the command table: every command deskd accepts,
 * once. Name, fields with types and limits, the roles allowed, the handler
 * and an example body. The generic front (core/cmd.c, core/args.c), deskctl
 * help and docs/PROTOCOL.md are all driven from here. */
#include "handlers.h"

#define DESK ROLE_ANY_DESK
#define LEADS ROLE_LEADS
#define AREA_MAX 10000000 /* hundredths of m²: 100,000 m² */
#define NAME_MAX_B 64     /* bytes of a person's or place's name */
#define CODE_MAX_B 16     /* bytes of an estate/building/room code */
/* Queries whose figures can say why (handlers/explain.c). */
#define EXPLAIN_FIELD                                                          \
    {                                                                          \
        "explain", FT_BOOL, 0, 0, 0, NULL,                                     \
            "true: list beside each figure the events (by seq) and rule ids "  \
            "that produced it"                                                 \
    }

static const struct field f_estate_register[] = {
    {"code", FT_ID, F_REQ, 1, CODE_MAX_B, NULL, "estate code, e.g. HY"},
    {"name", FT_STR, F_REQ, 1, NAME_MAX_B, NULL, "estate name"},
    {NULL}};

static const struct field f_building_register[] = {
    {"estate", FT_ID, F_REQ, 1, CODE_MAX_B, NULL, "estate code"},
    {"building", FT_ID, F_REQ, 1, CODE_MAX_B, NULL, "building number"},
    {"name", FT_STR, 0, 1, NAME_MAX_B, NULL, "building name"},
    {NULL}};

static const struct field f_unit_register[] = {
    {"estate", FT_ID, F_REQ, 1, CODE_MAX_B, NULL, "estate code"},
    {"building", FT_ID, F_REQ, 1, CODE_MAX_B, NULL, "building number"},
    {"room", FT_ID, F_REQ, 1, CODE_MAX_B, NULL, "room number, e.g. 1201"},
    {"area", FT_DEC2, F_REQ, 1, AREA_MAX, NULL,
     "building area in m², 2 decimals"},
    {"type", FT_ENUM, F_REQ, 0, 0, unit_types, "unit type"},
    {"state", FT_ENUM, 0, 0, 0, unit_states, "initial state (unsold)"},
    {NULL}};

static const struct field f_unit_set_state[] = {
    {"unit", FT_STR, F_REQ, 1, 63, NULL, "unit, e.g. HY/3-1201"},
    {"state", FT_ENUM, F_REQ, 0, 0, unit_states, "new state"},
    {NULL}};

static const struct field f_person_register[] = {
    {"name", FT_STR, F_REQ, 1, NAME_MAX_B, NULL, "name (surname enough)"},
    {"kind", FT_ENUM, F_REQ, 0, 0, person_kinds, "kind of person"},
    {"id_no", FT_ID, 0, 4, 32, NULL, "ID document number"},
    {"phones", FT_STRS, 0, 4, 20, NULL, "phone numbers (at most 4)"},
    {"emergency_name", FT_STR, 0, 1, NAME_MAX_B, NULL, "emergency contact"},
    {"emergency_phone", FT_STR, 0, 1, 20, NULL, "emergency contact phone"},
    {"licence_verified", FT_BOOL, 0, 0, 0, NULL,
     "merchant: business licence verified"},
    {"authorisation", FT_STR, 0, 1, 128, NULL,
     "agent: owner's written authorisation (reference)"},
    {"note", FT_TEXT, 0, 1, 1024, NULL, "free text"},
    {NULL}};

static const struct field f_unit_link[] = {
    {"unit", FT_STR, F_REQ, 1, 63, NULL, "unit"},
    {"person", FT_ID, F_REQ, 1, 23, NULL, "person id, e.g. P17"},
    {"role", FT_ENUM, F_REQ, 0, 0, link_roles, "role at the unit"},
    {"from", FT_DATE, F_REQ, 0, 0, NULL, "first day (lease start)"},
    {"to", FT_DATE, 0, 0, 0, NULL, "last day (lease end; tenants must)"},
    {NULL}};

static const struct field f_unit_unlink[] = {
    {"unit", FT_STR, F_REQ, 1, 63, NULL, "unit"},
    {"person", FT_ID, F_REQ, 1, 23, NULL, "person id"},
    {"role", FT_ENUM, F_REQ, 0, 0, link_roles, "role at the unit"},
    {"to", FT_DATE, F_REQ, 0, 0, NULL, "last day"},
    {NULL}};

static const struct field f_unit_transfer[] = {
    {"unit", FT_STR, F_REQ, 1, 63, NULL, "unit"},
    {"to", FT_ID, F_REQ, 1, 23, NULL, "new owner (person id)"},
    {"effective", FT_DATE, F_REQ, 0, 0, NULL, "effective date"},
    {"title_doc", FT_STR, 0, 1, 64, NULL,
     "new owner's title document; needed when the unit has an owner "
     "(R-MOV-03)"},
    {NULL}};

static const struct field f_query_unit[] = {
    {"unit", FT_STR, F_REQ, 1, 63, NULL, "unit"},
    {"as_of", FT_DATE, 0, 0, 0, NULL, "date (default today)"},
    {NULL}};

static const struct field f_query_person[] = {
    {"person", FT_ID, F_REQ, 1, 23, NULL, "person id"}, {NULL}};

static const struct field f_person_view_full[] = {
    {"person", FT_ID, F_REQ, 1, 23, NULL, "person id"},
    {"reason", FT_STR, F_REQ, 1, 128, NULL, "why the full record is needed"},
    {NULL}};

static const struct field f_query_people[] = {
    {"q", FT_STR, F_REQ, 1, NAME_MAX_B, NULL,
     "part of a name, or a phone's last 4+ digits"},
    {NULL}};

static const struct field f_clock_set[] = {
    {"to", FT_TIME, F_REQ, 0, 0, NULL, "new time (forward only)"}, {NULL}};

static const struct field f_log_read[] = {
    {"from", FT_INT, F_REQ, 1, INT64_MAX, NULL, "first seq"},
    {"limit", FT_INT, 0, 1, 1000, NULL, "events (default 100)"},
    {NULL}};

#define MONEY_MAX 100000000 /* fen in one amount: 1,000,000 yuan */

static const struct field f_fee_bill_run[] = {
    {"estate", FT_ID, F_REQ, 1, CODE_MAX_B, NULL, "estate code"},
    {"period", FT_STR, F_REQ, 7, 7, NULL, "month YYYY-MM"},
    {NULL}};

static const struct field f_fee_charge[] = {
    {"unit", FT_STR, F_REQ, 1, 63, NULL, "unit"},
    {"item", FT_ID, F_REQ, 1, 23, NULL, "fee item from config/fees.tsv"},
    {"quantity", FT_INT, 0, 1, 10000, NULL, "pieces (cards, sheets): 1"},
    {"amount", FT_MONEY, 0, 1, MONEY_MAX, NULL, "fen, for quoted items"},
    {"date", FT_DATE, 0, 0, 0, NULL, "date of the charge (today)"},
    {"payer", FT_ID, 0, 1, 23, NULL, "person paying (the owner)"},
    {"note", FT_TEXT, 0, 1, 512, NULL, "what it was for"},
    {NULL}};

static const struct field f_fee_pay[] = {
    {"unit", FT_STR, F_REQ, 1, 63, NULL, "unit"},
    {"amount", FT_MONEY, F_REQ, 1, MONEY_MAX, NULL, "fen received"},
    {"method", FT_ENUM, F_REQ, 0, 0, pay_methods, "how it was paid"},
    {"book", FT_ID, F_REQ, 1, 31, NULL, "receipt book"},
    {"bills", FT_STRS, 0, 64, 23, NULL, "bills to settle (oldest first)"},
    {"prepay_excess", FT_BOOL, 0, 0, 0, NULL,
     "put any excess to prepayment (else refused)"},
    {"date", FT_DATE, 0, 0, 0, NULL, "business date, e.g. of a debit (today)"},
    {"payer", FT_ID, 0, 1, 23, NULL, "person paying (the owner)"},
    {NULL}};

static const struct field f_fee_void_payment[] = {
    {"payment", FT_ID, F_REQ, 1, 23, NULL, "payment id, e.g. Y42"},
    {"reason", FT_STR, F_REQ, 1, 128, NULL, "why it is voided"},
    {NULL}};

static const struct field f_fee_move_in[] = {
    {"unit", FT_STR, F_REQ, 1, 63, NULL, "unit"},
    {"date", FT_DATE, F_REQ, 0, 0, NULL, "move-in date"},
    {"monthly", FT_BOOL, 0, 0, 0, NULL, "owner pays monthly, no prepayment"},
    {NULL}};

static const struct field f_fee_extension[] = {
    {"unit", FT_STR, F_REQ, 1, 63, NULL, "unit"},
    {"until", FT_DATE, F_REQ, 0, 0, NULL, "last day of the extension"},
    {"reason", FT_STR, F_REQ, 1, 128, NULL, "the hardship"},
    {NULL}};

static const struct field f_fee_notice[] = {
    {"unit", FT_STR, F_REQ, 1, 63, NULL, "unit"},
    {"stage", FT_ENUM, F_REQ, 0, 0, chase_stages, "which notice"},
    {"deadline", FT_DATE, 0, 0, 0, NULL, "pay-by date (second notice)"},
    {NULL}};

static const struct field f_fee_waive[] = {
    {"bill", FT_ID, F_REQ, 1, 23, NULL, "bill id, e.g. B17"},
    {"amount", FT_MONEY, 0, 1, MONEY_MAX, NULL, "fen (all it owes)"},
    {"reason", FT_STR, F_REQ, 1, 128, NULL, "why"},
    {NULL}};

static const struct field f_fee_assess_late[] = {
    {"estate", FT_ID, F_REQ, 1, CODE_MAX_B, NULL, "estate code"},
    {"date", FT_DATE, 0, 0, 0, NULL, "assess up to this day (today)"},
    {NULL}};

static const struct field f_query_overdue[] = {
    {"estate", FT_ID, 0, 1, CODE_MAX_B, NULL, "estate code"},
    {"building", FT_ID, 0, 1, CODE_MAX_B, NULL, "building (with estate)"},
    {"as_of", FT_DATE, 0, 0, 0, NULL, "the list as it stood that day"},
    EXPLAIN_FIELD,
    {NULL}};

static const struct field f_query_statement[] = {
    {"unit", FT_STR, F_REQ, 1, 63, NULL, "unit"},
    {"as_of", FT_DATE, 0, 0, 0, NULL, "the account as it stood that day"},
    {NULL}};

static const struct field f_query_receipts[] = {
    {"book", FT_ID, F_REQ, 1, 31, NULL, "receipt book"}, {NULL}};

static const struct field f_query_takings[] = {
    {"date", FT_DATE, 0, 0, 0, NULL, "day (today)"},
    {"desk", FT_STR, 0, 1, 32, NULL, "one desk only"},
    {NULL}};

/* ---- complaints (R-CMP-01..11, R-GEN-06) ---- */
#define CMP_REF                                                                \
    {                                                                          \
        "complaint", FT_ID, F_REQ, 1, 23, NULL, "complaint id, e.g. C42"       \
    }
#define TEXT_MAX_B 2000 /* bytes of a free-text account */

static const struct field f_complaint_receive[] = {
    {"channel", FT_ENUM, F_REQ, 0, 0, cmp_channel_names,
     "how it came in (R-CMP-01)"},
    {"what", FT_TEXT, F_REQ, 1, TEXT_MAX_B, NULL, "what happened"},
    {"wants", FT_TEXT, 0, 1, TEXT_MAX_B, NULL, "what the complainant wants"},
    {"unit", FT_STR, 0, 1, 63, NULL, "unit concerned (optional)"},
    {"person", FT_ID, 0, 1, 23, NULL, "registered complainant (optional)"},
    {"name", FT_STR, 0, 1, NAME_MAX_B, NULL, "complainant (surname enough)"},
    {"contact", FT_STR, 0, 1, 64, NULL, "how to reach the complainant"},
    {"anonymous", FT_BOOL, 0, 0, 0, NULL, "no name given (allowed)"},
    {"emergency", FT_BOOL, 0, 0, 0, NULL,
     "danger to people or property, outage (R-CMP-05)"},
    {"people", FT_INT, 0, 1, 10000, NULL, "complainants together (1)"},
    {"claim_fen", FT_MONEY, 0, 1, MONEY_MAX, NULL,
     "compensation claimed (R-CMP-07 major)"},
    {"received_at", FT_TIME, 0, 0, 0, NULL,
     "when it reached us (now), e.g. a letter's arrival"},
    {"topic", FT_ID, 0, 1, 31, NULL,
     "issue key shared by complaints about one thing (hot detection)"},
    {NULL}};

static const struct field f_complaint_classify[] = {
    CMP_REF,
    {"category", FT_INT, F_REQ, 1, 8, NULL,
     "final cause 1-8 (R-CMP-02): 1 building .. 8 other"},
    {"cause", FT_ENUM, 0, 0, 0, cmp_causes, "man/machine/material/..."},
    {"validity", FT_ENUM, 0, 0, 0, cmp_validity, "R-CMP-03 (unclear: valid)"},
    {NULL}};

static const struct field f_complaint_add_complainant[] = {
    CMP_REF,
    {"name", FT_STR, 0, 1, NAME_MAX_B, NULL, "another complainant"},
    {"person", FT_ID, 0, 1, 23, NULL, "registered person"},
    {"contact", FT_STR, 0, 1, 64, NULL, "contact"},
    {"repeat", FT_BOOL, 0, 0, 0, NULL,
     "someone already counted complains again"},
    {NULL}};

static const struct field f_complaint_claim[] = {
    CMP_REF,
    {"claim_fen", FT_MONEY, F_REQ, 1, MONEY_MAX, NULL, "amount claimed"},
    {NULL}};

static const struct field f_complaint_dispatch[] = {
    CMP_REF,
    {"handler", FT_ID, F_REQ, 1, 31, NULL, "operator who handles it"},
    {"emergency", FT_BOOL, 0, 0, 0, NULL, "dispatch as an emergency"},
    {NULL}};

static const struct field f_complaint_reply[] = {
    CMP_REF,
    {"text", FT_TEXT, F_REQ, 1, TEXT_MAX_B, NULL, "what was said"},
    {"re_reply_by", FT_TIME, 0, 0, 0, NULL,
     "agreed time of the next reply (<= 3 working days, R-CMP-04)"},
    {NULL}};

static const struct field f_complaint_update[] = {
    CMP_REF,
    {"text", FT_TEXT, F_REQ, 1, TEXT_MAX_B, NULL, "progress told"},
    {NULL}};

static const struct field f_complaint_handle[] = {
    CMP_REF,
    {"summary", FT_TEXT, F_REQ, 1, TEXT_MAX_B, NULL, "what was done"},
    {"no_visit_reason", FT_ENUM, 0, 0, 0, no_visit_reasons,
     "no return visit (R-CMP-08)"},
    {NULL}};

static const struct field f_complaint_visit[] = {
    CMP_REF,
    {"method", FT_ENUM, F_REQ, 0, 0, visit_methods, "how"},
    {"result", FT_ENUM, F_REQ, 0, 0, visit_results, "what they said"},
    {"note", FT_TEXT, 0, 1, TEXT_MAX_B, NULL, "notes"},
    {NULL}};

static const struct field f_complaint_close[] = {
    CMP_REF, {"note", FT_TEXT, 0, 1, TEXT_MAX_B, NULL, "checked by"}, {NULL}};

static const struct field f_complaint_reopen[] = {
    CMP_REF, {"reason", FT_STR, F_REQ, 1, 128, NULL, "why"}, {NULL}};

static const struct field f_person_no_visit[] = {
    {"person", FT_ID, F_REQ, 1, 23, NULL, "person id"},
    {"reason", FT_STR, F_REQ, 1, 128, NULL, "what they said"},
    {NULL}};

static const struct field f_complaint_escalate[] = {
    CMP_REF,
    {"rule", FT_ENUM, F_REQ, 0, 0, cmp_rule_names, "escalation rule"},
    {"due", FT_INT, F_REQ, 1, INT64_MAX, NULL, "deadline (ms)"},
    {NULL}};

static const struct field f_complaint_auto_close[] = {
    CMP_REF,
    {"rule", FT_STR, 0, 1, 31, NULL, "auto_close"},
    {"due", FT_INT, F_REQ, 1, INT64_MAX, NULL, "closing time (ms)"},
    {NULL}};

static const struct field f_query_complaints_open[] = {
    {"estate", FT_ID, 0, 1, CODE_MAX_B, NULL, "estate code"},
    {"building", FT_ID, 0, 1, CODE_MAX_B, NULL, "building (with estate)"},
    {"category", FT_INT, 0, 1, 8, NULL, "category 1-8"},
    {"handler", FT_ID, 0, 1, 31, NULL, "handler"},
    {"overdue", FT_BOOL, 0, 0, 0, NULL, "only those past a deadline"},
    EXPLAIN_FIELD,
    {NULL}};

static const struct field f_query_complaint[] = {
    CMP_REF, EXPLAIN_FIELD, {NULL}};

static const struct field f_query_stocktake[] = {
    {"date", FT_DATE, 0, 0, 0, NULL, "day (today)"}, {NULL}};

static const struct field f_query_complaint_report[] = {
    {"month", FT_STR, F_REQ, 7, 7, NULL, "month YYYY-MM"},
    {"months", FT_INT, 0, 1, 24, NULL, "months of trend (6)"},
    {"as_of", FT_TIME, 0, 0, 0, NULL,
     "what was known then (default: the month's end, or now)"},
    {NULL}};

#define CARD_NO_MAX 31 /* bytes in a card number */

static const struct field f_card_issue[] = {
    {"card", FT_ID, F_REQ, 1, CARD_NO_MAX, NULL, "card number (printed on it)"},
    {"kind", FT_ENUM, F_REQ, 0, 0, card_kinds, "access or parking card"},
    {"unit", FT_STR, F_REQ, 1, 63, NULL, "unit (parking: the space)"},
    {"holder", FT_ID, F_REQ, 1, 23, NULL, "person holding it"},
    {"move_in", FT_BOOL, 0, 0, 0, NULL,
     "issued at move-in: free while the unit has free cards left"},
    {"approval", FT_STR, 0, 1, 63, NULL,
     "department head's approval (merchant, staff)"},
    {"docs", FT_STRS, 0, 8, 24, NULL,
     "documents checked: id, lease, driving_licence, vehicle_licence"},
    {"months", FT_INT, 0, 1, 24, NULL, "parking: months paid (1)"},
    {"book", FT_ID, 0, 1, 31, NULL, "receipt book, when the card is paid"},
    {"method", FT_ENUM, 0, 0, 0, pay_methods, "how it is paid"},
    {NULL}};

static const struct field f_card_renew[] = {
    {"card", FT_ID, F_REQ, 1, CARD_NO_MAX, NULL, "card number"},
    {"months", FT_INT, 0, 1, 24, NULL, "parking: months paid (1)"},
    {"book", FT_ID, 0, 1, 31, NULL, "receipt book, when paid"},
    {"method", FT_ENUM, 0, 0, 0, pay_methods, "how it is paid"},
    {NULL}};

static const struct field f_card_report_lost[] = {
    {"card", FT_ID, F_REQ, 1, CARD_NO_MAX, NULL, "card number"},
    {"new_card", FT_ID, 0, 1, CARD_NO_MAX, NULL, "replacement (paid)"},
    {"book", FT_ID, 0, 1, 31, NULL, "receipt book for the replacement"},
    {"method", FT_ENUM, 0, 0, 0, pay_methods, "how it is paid"},
    {NULL}};

static const struct field f_card_report_damaged[] = {
    {"card", FT_ID, F_REQ, 1, CARD_NO_MAX, NULL, "card number"},
    {"new_card", FT_ID, F_REQ, 1, CARD_NO_MAX, NULL, "replacement"},
    {"holder_fault", FT_BOOL, 0, 0, 0, NULL, "broken by the holder (paid)"},
    {"book", FT_ID, 0, 1, 31, NULL, "receipt book, when paid"},
    {"method", FT_ENUM, 0, 0, 0, pay_methods, "how it is paid"},
    {NULL}};

static const struct field f_card_return[] = {
    {"card", FT_ID, F_REQ, 1, CARD_NO_MAX, NULL, "card number"},
    {"reason", FT_STR, 0, 1, 128, NULL, "why (moved out, lease ended)"},
    {NULL}};

static const struct field f_card_format_reissue[] = {
    {"card", FT_ID, F_REQ, 1, CARD_NO_MAX, NULL, "staff card number"},
    {"holder", FT_ID, F_REQ, 1, 23, NULL, "the new member of staff"},
    {"approval", FT_STR, F_REQ, 1, 63, NULL, "department head's approval"},
    {NULL}};

static const struct field f_card_swipe[] = {
    {"card", FT_ID, F_REQ, 1, CARD_NO_MAX, NULL, "card number"},
    {"unit", FT_STR, F_REQ, 1, 63, NULL,
     "unit, or a building/estate prefix ending in '-' or '/'"},
    {NULL}};

static const struct field f_query_card_check[] = {
    {"card", FT_ID, F_REQ, 1, CARD_NO_MAX, NULL, "card number"},
    {"unit", FT_STR, F_REQ, 1, 63, NULL,
     "unit, or a building/estate prefix ending in '-' or '/'"},
    {"date", FT_DATE, 0, 0, 0, NULL, "day (today)"},
    {NULL}};

static const struct field f_query_card_expiry[] = {
    {"days", FT_INT, 0, 1, 3660, NULL, "expiring within N days (setting)"},
    {"as_of", FT_DATE, 0, 0, 0, NULL, "the schedule as it stood that day"},
    {"estate", FT_ID, 0, 1, CODE_MAX_B, NULL, "estate code"},
    {"building", FT_ID, 0, 1, CODE_MAX_B, NULL, "building (with estate)"},
    {"unit", FT_STR, 0, 1, 63, NULL, "one unit"},
    {"holder", FT_ID, 0, 1, 23, NULL, "one holder"},
    EXPLAIN_FIELD,
    {NULL}};

static const struct field f_query_cards[] = {
    {"unit", FT_STR, 0, 1, 63, NULL, "cards of a unit"},
    {"holder", FT_ID, 0, 1, 23, NULL, "or cards of a holder"},
    {NULL}};

static const struct field f_query_card_quarters[] = {
    {"estate", FT_ID, F_REQ, 1, CODE_MAX_B, NULL, "estate code"},
    {"year", FT_INT, 0, 1900, 2199, NULL, "one year (all)"},
    {NULL}};

static const struct field f_query_cards_past_lease[] = {
    {"estate", FT_ID, 0, 1, CODE_MAX_B, NULL, "estate code"}, {NULL}};

/* ---- work orders (R-WO-01..04) ---- */
#define WO_REF                                                                 \
    {                                                                          \
        "order", FT_ID, F_REQ, 1, 23, NULL, "work order id, e.g. W42"          \
    }

static const struct field f_wo_log[] = {
    {"kind", FT_ENUM, F_REQ, 0, 0, wo_kinds, "what it is"},
    {"text", FT_TEXT, F_REQ, 1, TEXT_MAX_B, NULL, "the message"},
    {"from", FT_ENUM, 0, 0, 0, wo_sources, "who passed it (resident)"},
    {"unit", FT_STR, 0, 1, 63, NULL, "unit concerned"},
    {"person", FT_ID, 0, 1, 23, NULL, "registered person"},
    {"name", FT_STR, 0, 1, NAME_MAX_B, NULL, "who (surname enough)"},
    {"contact", FT_STR, 0, 1, 64, NULL, "how to reach them"},
    {"emergency", FT_BOOL, 0, 0, 0, NULL, "danger, outage: dispatch at once"},
    {"received_at", FT_TIME, 0, 0, 0, NULL, "when it reached the desk (now)"},
    {NULL}};

static const struct field f_wo_dispatch[] = {
    WO_REF,
    {"to", FT_STR, F_REQ, 1, 63, NULL, "who does it (team, worker)"},
    {"visit_at", FT_TIME, 0, 0, 0, NULL,
     "visit time told to the resident (R-WO-02)"},
    {"emergency", FT_BOOL, 0, 0, 0, NULL, "dispatched as an emergency"},
    {NULL}};

static const struct field f_wo_complete[] = {
    WO_REF,
    {"summary", FT_TEXT, F_REQ, 1, TEXT_MAX_B, NULL, "what was done"},
    {"category", FT_ENUM, 0, 0, 0, wo_category_names,
     "safety / leak / other: return visit in 2 / 3 / 7 days (R-WO-03)"},
    {"payer", FT_ENUM, 0, 0, 0, wo_payers,
     "common parts or the owner (R-WO-04), default common"},
    {"amount", FT_MONEY, 0, 1, MONEY_MAX, NULL, "fen billed to the owner"},
    {NULL}};

static const struct field f_wo_visit[] = {
    WO_REF,
    {"result", FT_ENUM, F_REQ, 0, 0, wo_results, "what the resident said"},
    {"problem", FT_TEXT, 0, 1, TEXT_MAX_B, NULL,
     "problem found: notice to the repairer within 24 h"},
    {NULL}};

static const struct field f_wo_notice[] = {
    WO_REF, {"ref", FT_STR, F_REQ, 1, 64, NULL, "notice number"}, {NULL}};

static const struct field f_wo_refer[] = {
    WO_REF,
    {"reason", FT_STR, F_REQ, 1, 128, NULL, "why the desk cannot"},
    {NULL}};

static const struct field f_wo_close[] = {WO_REF, {NULL}};

static const struct field f_wo_escalate[] = {
    WO_REF,
    {"rule", FT_ENUM, F_REQ, 0, 0, wo_rule_names, "escalation rule"},
    {"due", FT_INT, F_REQ, 1, INT64_MAX, NULL, "deadline (ms)"},
    {NULL}};

static const struct field f_query_work_orders[] = {
    {"estate", FT_ID, 0, 1, CODE_MAX_B, NULL, "estate code"},
    {"building", FT_ID, 0, 1, CODE_MAX_B, NULL, "building (with estate)"},
    {"kind", FT_ENUM, 0, 0, 0, wo_kinds, "one kind"},
    {"overdue", FT_BOOL, 0, 0, 0, NULL, "only those past a deadline"},
    EXPLAIN_FIELD,
    {NULL}};

static const struct field f_query_work_order[] = {
    WO_REF, EXPLAIN_FIELD, {NULL}};
#define PASS_REF                                                               \
    {                                                                          \
        "pass", FT_ID, F_REQ, 1, 23, NULL, "pass id, e.g. R120"                \
    }

static const struct field f_release_request[] = {
    {"unit", FT_STR, F_REQ, 1, 63, NULL, "unit the goods leave"},
    {"applicant", FT_ID, F_REQ, 1, 23, NULL, "registered person applying"},
    {"items", FT_ANY, F_REQ, 0, 0, NULL,
     "item categories and quantities: {\"sofa\":1,\"boxes\":12} (R-REL-01)"},
    {"date", FT_DATE, 0, 0, 0, NULL, "day the goods leave (today or later)"},
    {"vehicle", FT_STR, 0, 1, 20, NULL, "vehicle plate"},
    {"verified_by", FT_ENUM, 0, 0, 0, pass_checks,
     "family: how the owner was checked; agent: owner_phoned (R-REL-02)"},
    {"note", FT_TEXT, 0, 1, 512, NULL, "free text"},
    {NULL}};

static const struct field f_release_confirm[] = {
    PASS_REF,
    {"by", FT_ENUM, F_REQ, 0, 0, pass_confirmers,
     "owner; emergency_contact when the owner cannot be reached; police "
     "when neither (R-REL-03)"},
    {"police_ref", FT_STR, 0, 1, 64, NULL,
     "police-witnessed record reference (by=police)"},
    {"note", FT_TEXT, 0, 1, 512, NULL, "free text"},
    {NULL}};

static const struct field f_release_gate_check[] = {
    PASS_REF, {"gate", FT_STR, 0, 1, 32, NULL, "gate name"}, {NULL}};

static const struct field f_release_expire[] = {
    PASS_REF,
    {"due", FT_INT, F_REQ, 1, INT64_MAX, NULL, "deadline (ms)"},
    {NULL}};

static const struct field f_query_pass[] = {PASS_REF, EXPLAIN_FIELD, {NULL}};

static const struct field f_query_passes[] = {
    {"date", FT_DATE, 0, 0, 0, NULL, "day (default today)"},
    {"unit_prefix", FT_STR, 0, 1, 63, NULL,
     "\"HY/\" an estate, \"HY/3-\" a building"},
    {NULL}};

static const struct field f_query_pass_pending[] = {
    {"unit_prefix", FT_STR, 0, 1, 63, NULL,
     "\"HY/\" an estate, \"HY/3-\" a building"},
    {NULL}};

static const struct field f_visit_record[] = {
    {"unit", FT_STR, F_REQ, 1, 63, NULL, "unit visited"},
    {"kind", FT_ENUM, F_REQ, 0, 0, visit_kinds, "kind of visit"},
    {"completion", FT_ENUM, F_REQ, 0, 0, visit_completions,
     "how far the actions got (R-VIS-02)"},
    {"actions", FT_TEXT, F_REQ, 1, 1024, NULL, "what was done or promised"},
    {"person", FT_ID, 0, 1, 23, NULL, "person visited (not for vacant units)"},
    {"needs", FT_TEXT, 0, 1, 1024, NULL, "the household's needs (R-VIS-02)"},
    {"satisfaction", FT_ENUM, 0, 0, 0, visit_satisfactions,
     "the household's satisfaction (R-VIS-02)"},
    {"visitor", FT_ID, 0, 1, 31, NULL, "operator who visited (default: actor)"},
    {"date", FT_DATE, 0, 0, 0, NULL, "day of the visit (default today)"},
    {"note", FT_TEXT, 0, 1, 512, NULL, "free text"},
    {NULL}};

static const struct field f_person_set_important[] = {
    {"person", FT_ID, F_REQ, 1, 23, NULL, "person id"},
    {"tag", FT_ENUM, F_REQ, 0, 0, important_tags,
     "important-customer group, or none (R-VIS-03)"},
    {NULL}};

static const struct field f_query_visits[] = {
    {"unit", FT_STR, F_REQ, 1, 63, NULL, "unit"}, {NULL}};

static const struct field f_query_visits_due[] = {
    {"estate", FT_ID, F_REQ, 1, 16, NULL, "estate code"},
    {"as_of", FT_DATE, 0, 0, 0, NULL, "date (default today)"},
    {NULL}};

static const struct field f_query_visit_coverage[] = {
    {"estate", FT_ID, F_REQ, 1, 16, NULL, "estate code"},
    {"month", FT_STR, F_REQ, 7, 7, NULL, "YYYY-MM"},
    {NULL}};

static const struct field f_query_visit_managers[] = {
    {"month", FT_STR, F_REQ, 7, 7, NULL, "YYYY-MM"}, {NULL}};
#define REN_NO_MAX 23 /* bytes in a renovation id */

static const struct field f_ren_file[] = {
    {"unit", FT_STR, F_REQ, 1, 63, NULL, "unit"},
    {"applicant", FT_ID, F_REQ, 1, 23, NULL, "person filing (owner or not)"},
    {"self", FT_BOOL, 0, 0, 0, NULL,
     "the owner renovates himself: no contractor, one deposit"},
    {"contractor", FT_STR, 0, 1, 63, NULL, "contractor's name"},
    {"in_charge", FT_ID, 0, 1, 23, NULL,
     "contractor's person in charge (person id)"},
    {"items", FT_STRS, F_REQ, 32, 64, NULL, "renovation items"},
    {"documents", FT_STRS, F_REQ, 8, 24, NULL,
     "documents shown: licence, qualification, drawings, worker_list"},
    {"consent", FT_STR, 0, 1, 63, NULL,
     "owner's written consent (reference), when the applicant is not the "
     "owner"},
    {"waterproof", FT_BOOL, 0, 0, 0, NULL, "breaks the waterproof layer"},
    {"pledge", FT_STR, 0, 1, 63, NULL, "owner's pledge (reference)"},
    {"start", FT_DATE, F_REQ, 0, 0, NULL, "first day of work"},
    {"end", FT_DATE, F_REQ, 0, 0, NULL, "last day of work"},
    {NULL}};

static const struct field f_ren_pay_deposit[] = {
    {"renovation", FT_ID, F_REQ, 1, REN_NO_MAX, NULL, "renovation id"},
    {"party", FT_ENUM, F_REQ, 0, 0, ren_parties, "whose deposit"},
    {"book", FT_ID, F_REQ, 1, 31, NULL, "receipt book"},
    {"method", FT_ENUM, F_REQ, 0, 0, pay_methods, "how it is paid"},
    {NULL}};

static const struct field f_ren_extend[] = {
    {"renovation", FT_ID, F_REQ, 1, REN_NO_MAX, NULL, "renovation id"},
    {"end", FT_DATE, F_REQ, 0, 0, NULL, "new last day"},
    {"reason", FT_STR, 0, 1, 128, NULL, "why"},
    {NULL}};

static const struct field f_ren_pass_issue[] = {
    {"renovation", FT_ID, F_REQ, 1, REN_NO_MAX, NULL, "renovation id"},
    {"pass", FT_ID, F_REQ, 1, 31, NULL, "pass number"},
    {"worker", FT_STR, F_REQ, 1, NAME_MAX_B, NULL, "worker's name"},
    {NULL}};

static const struct field f_ren_pass_return[] = {
    {"renovation", FT_ID, F_REQ, 1, REN_NO_MAX, NULL, "renovation id"},
    {"pass", FT_ID, F_REQ, 1, 31, NULL, "pass number"},
    {NULL}};

static const struct field f_ren_inspect[] = {
    {"renovation", FT_ID, F_REQ, 1, REN_NO_MAX, NULL, "renovation id"},
    {"violation", FT_ENUM, 0, 0, 0, ren_violation_kinds,
     "violation found, if any"},
    {"notice", FT_STR, 0, 1, 63, NULL, "rectification notice (reference)"},
    {"deadline", FT_DATE, 0, 0, 0, NULL, "rectify by"},
    {"note", FT_STR, 0, 1, 256, NULL, "what was seen"},
    {NULL}};

static const struct field f_ren_rectify[] = {
    {"renovation", FT_ID, F_REQ, 1, REN_NO_MAX, NULL, "renovation id"},
    {"violation", FT_ID, F_REQ, 1, 31, NULL, "violation id"},
    {"note", FT_STR, 0, 1, 256, NULL, "how"},
    {NULL}};

static const struct field f_ren_complete[] = {
    {"renovation", FT_ID, F_REQ, 1, REN_NO_MAX, NULL, "renovation id"},
    {"result", FT_ENUM, F_REQ, 0, 0, inspection_results, "passed or failed"},
    {"items", FT_STRS, 0, 32, 64, NULL, "failed items"},
    {NULL}};

/* Timer commands (actor system): the deadline they fire for, checked
 * against the register so a stale timer is a conflict. */
static const struct field f_ren_deadline[] = {
    {"renovation", FT_ID, F_REQ, 1, REN_NO_MAX, NULL, "renovation id"},
    {"due", FT_INT, F_REQ, 1, INT64_MAX, NULL, "deadline (ms)"},
    {NULL}};

static const struct field f_ren_violation_overdue[] = {
    {"renovation", FT_ID, F_REQ, 1, REN_NO_MAX, NULL, "renovation id"},
    {"violation", FT_ID, F_REQ, 1, 31, NULL, "violation id"},
    {"due", FT_INT, F_REQ, 1, INT64_MAX, NULL, "deadline (ms)"},
    {NULL}};

static const struct field f_ren_refund[] = {
    {"renovation", FT_ID, F_REQ, 1, REN_NO_MAX, NULL, "renovation id"}, {NULL}};

static const struct field f_query_renovations[] = {
    {"unit", FT_STR, 0, 1, 63, NULL, "units starting with this (estate/)"},
    {"as_of", FT_DATE, 0, 0, 0, NULL, "day to judge overdue and due (today)"},
    EXPLAIN_FIELD,
    {NULL}};

static const struct field f_query_renovation[] = {
    {"renovation", FT_ID, F_REQ, 1, REN_NO_MAX, NULL, "renovation id"}, {NULL}};

static const struct field f_movein_start[] = {
    {"unit", FT_STR, F_REQ, 1, 63, NULL, "unit"},
    {"applicant", FT_ID, F_REQ, 1, 23, NULL, "person moving in or acting"},
    {"applicant_type", FT_ENUM, F_REQ, 0, 0, applicant_types,
     "household, company or agent"},
    {"documents", FT_STRS, F_REQ, 16, 24, NULL,
     "documents shown (see docs/RENOVATION.md)"},
    {NULL}};

static const struct field f_movein_sign[] = {
    {"unit", FT_STR, F_REQ, 1, 63, NULL, "unit"},
    {"agreements", FT_STRS, F_REQ, 8, 32, NULL,
     "signed: service_agreement, covenant"},
    {NULL}};

static const struct field f_movein_meters[] = {
    {"unit", FT_STR, F_REQ, 1, 63, NULL, "unit"},
    {"water", FT_DEC2, F_REQ, 0, 100000000, NULL, "water meter, m³"},
    {"electricity", FT_DEC2, F_REQ, 0, 100000000, NULL,
     "electricity meter, kWh"},
    {NULL}};

static const struct field f_movein_fix_overdue[] = {
    {"unit", FT_STR, F_REQ, 1, 63, NULL, "unit"},
    {"due", FT_INT, F_REQ, 1, INT64_MAX, NULL, "deadline (ms)"},
    {NULL}};

static const struct field f_movein_inspect[] = {
    {"unit", FT_STR, F_REQ, 1, 63, NULL, "unit"},
    {"result", FT_ENUM, F_REQ, 0, 0, inspection_results, "passed or failed"},
    {"items", FT_STRS, 0, 32, 64, NULL, "failed items"},
    {"deadline", FT_DATE, 0, 0, 0, NULL, "failed items fixed by"},
    {NULL}};

static const struct field f_movein_keys[] = {
    {"unit", FT_STR, F_REQ, 1, 63, NULL, "unit"},
    {"keys", FT_INT, F_REQ, 1, 100, NULL, "keys handed over"},
    {NULL}};

static const struct field f_query_movein[] = {
    {"unit", FT_STR, F_REQ, 1, 63, NULL, "unit"}, EXPLAIN_FIELD, {NULL}};

static const struct field f_query_moveins[] = {
    {"date", FT_DATE, 0, 0, 0, NULL, "day (today)"},
    {"unit", FT_STR, 0, 1, 63, NULL, "units starting with this (estate/)"},
    {NULL}};

static const struct field f_keys_reloaded[] = {
    {"keys", FT_INT, F_REQ, 0, CFG_KEYS_MAX, NULL, "keys listed now"},
    {"added", FT_INT, F_REQ, 0, CFG_KEYS_MAX, NULL, "keys new since"},
    {"removed", FT_INT, F_REQ, 0, CFG_KEYS_MAX, NULL, "keys revoked"},
    {NULL}};

static const struct field f_query_calendar[] = {{NULL}};

static const struct field f_calendar_coverage_ending[] = {
    {"covered_until", FT_DATE, F_REQ, 0, 0, NULL, "last day covered"},
    {"warn_days", FT_INT, F_REQ, 0, 366, NULL, "the warning's lead, days"},
    {NULL}};

static const struct field f_calendar_reloaded[] = {
    {"file", FT_STR, F_REQ, 1, 4095, NULL, "the calendar file"},
    {"hash", FT_ID, F_REQ, 64, 64, NULL, "BLAKE2b-256 of the file, hex"},
    {"covered_from", FT_DATE, F_REQ, 0, 0, NULL, "first day covered"},
    {"covered_until", FT_DATE, F_REQ, 0, 0, NULL, "last day covered"},
    {"special_days", FT_INT, F_REQ, 0, CAL_DAYS_MAX, NULL,
     "holidays and make-up working days listed"},
    {"previous_hash", FT_STR, F_REQ, 0, 64, NULL, "hash of the file before"},
    {"previous_until", FT_DATE, 0, 0, 0, NULL, "coverage end before"},
    {NULL}};

static const struct field f_unit_move_out[] = {
    {"unit", FT_STR, F_REQ, 1, 63, NULL, "unit"},
    {"person", FT_ID, 0, 1, 23, NULL, "who moves out (their link ends today)"},
    {"role", FT_ENUM, 0, 0, 0, link_roles, "their role at the unit"},
    {"water", FT_DEC2, F_REQ, 0, 100000000, NULL, "final water meter, m³"},
    {"electricity", FT_DEC2, F_REQ, 0, 100000000, NULL,
     "final electricity meter, kWh"},
    {"keys_returned", FT_INT, F_REQ, 0, 100, NULL, "keys handed back"},
    {"waive_reason", FT_STR, 0, 1, 256, NULL,
     "arrears waived and why (cs_lead, manager)"},
    {NULL}};

/* Shift handover (docs/HANDOVER.md). */
static const struct field f_query_handover[] = {
    {"from", FT_TIME, F_REQ, 0, 0, NULL, "start of the shift"},
    {"to", FT_TIME, F_REQ, 0, 0, NULL, "end of the shift (not included)"},
    {"next_to", FT_TIME, 0, 0, 0, NULL,
     "end of the next shift, for its deadlines (default: to + the shift's "
     "length)"},
    {"desk", FT_STR, 0, 1, 32, NULL, "one desk only (default every desk)"},
    EXPLAIN_FIELD,
    {NULL}};

static const struct field f_shift_handover[] = {
    {"from", FT_TIME, F_REQ, 0, 0, NULL, "start of the shift"},
    {"to", FT_TIME, F_REQ, 0, 0, NULL, "end of the shift (not included)"},
    {"next_to", FT_TIME, 0, 0, 0, NULL,
     "end of the next shift, for its deadlines (default: to + the shift's "
     "length)"},
    {"incoming", FT_ID, F_REQ, 1, 31, NULL, "the clerk taking over"},
    {"cash_counted", FT_MONEY, F_REQ, 0, MONEY_MAX, NULL,
     "cash in the drawer, counted, in fen"},
    {"desk", FT_STR, 0, 1, 32, NULL, "desk handed over (the sender's)"},
    {"note", FT_TEXT, 0, 1, 512, NULL, "what the next shift should know"},
    {NULL}};

static const struct field f_shift_handover_ack[] = {
    {"handover", FT_INT, F_REQ, 1, INT64_MAX, NULL,
     "seq of the shift.handed_over event"},
    {"cash_counted", FT_MONEY, 0, 0, MONEY_MAX, NULL,
     "cash counted again by the incoming clerk, in fen"},
    {"note", FT_TEXT, 0, 1, 512, NULL, "remarks on taking over"},
    {NULL}};

const struct cmd_spec cmd_table[] = {
    {"estate.register", "Register an estate (R-GEN-01)", LEADS, 0,
     f_estate_register, hdl_estate_register,
     "{\"code\":\"HY\",\"name\":\"华苑小区\"}"},
    {"building.register", "Register a building of an estate (R-GEN-01)", LEADS,
     0, f_building_register, hdl_building_register,
     "{\"estate\":\"HY\",\"building\":\"3\"}"},
    {"unit.register", "Register a unit: area, type, state (R-GEN-01)", DESK, 0,
     f_unit_register, hdl_unit_register,
     "{\"estate\":\"HY\",\"building\":\"3\",\"room\":\"1201\","
     "\"area\":\"120.50\",\"type\":\"residence\"}"},
    {"unit.set_state", "Change a unit's state (R-GEN-01)", DESK, 0,
     f_unit_set_state, hdl_unit_set_state,
     "{\"unit\":\"HY/3-1201\",\"state\":\"occupied\"}"},
    {"person.register",
     "Register a person; the reply's event carries the new id (R-GEN-02)", DESK,
     0, f_person_register, hdl_person_register,
     "{\"name\":\"王芳\",\"kind\":\"owner\",\"id_no\":\"440301199001011234\","
     "\"phones\":[\"13812345678\"]}"},
    {"unit.link", "Link a person to a unit with a role and dates (R-GEN-02)",
     DESK, 0, f_unit_link, hdl_unit_link,
     "{\"unit\":\"HY/3-1201\",\"person\":\"P5\",\"role\":\"tenant\","
     "\"from\":\"2026-03-01\",\"to\":\"2027-02-28\"}"},
    {"unit.unlink", "End a person's link to a unit (R-GEN-02)", DESK, 0,
     f_unit_unlink, hdl_unit_unlink,
     "{\"unit\":\"HY/3-1201\",\"person\":\"P5\",\"role\":\"tenant\","
     "\"to\":\"2026-09-30\"}"},
    {"unit.transfer",
     "Transfer ownership with an effective date; history is kept; old "
     "owner's fees settled, finance notified (R-GEN-03, R-FEE-10, R-MOV-03)",
     LEADS, 0, f_unit_transfer, hdl_unit_transfer,
     "{\"unit\":\"HY/3-1201\",\"to\":\"P4\",\"effective\":\"2026-04-15\"}"},
    {"query.unit",
     "Unit card: the unit, its owner and occupants on a date "
     "(R-GEN-03)",
     DESK, CMD_QUERY, f_query_unit, hdl_query_unit,
     "{\"unit\":\"HY/3-1201\",\"as_of\":\"2026-04-15\"}"},
    {"query.person", "A person with ID and phones masked (R-GEN-02)", DESK,
     CMD_QUERY, f_query_person, hdl_query_person, "{\"person\":\"P4\"}"},
    {"person.view_full",
     "A person's full record; the view is recorded (R-GEN-02)", LEADS,
     CMD_QUERY, f_person_view_full, hdl_person_view_full,
     "{\"person\":\"P4\",\"reason\":\"owner asked to verify ID\"}"},
    {"query.people", "Find people by name or phone tail, masked (R-GEN-02)",
     DESK, CMD_QUERY, f_query_people, hdl_query_people, "{\"q\":\"王\"}"},
    {"fee.bill_run",
     "Bill every unit of an estate for a month from the schedule (R-FEE-02)",
     LEADS, 0, f_fee_bill_run, hdl_fee_bill_run,
     "{\"estate\":\"HY\",\"period\":\"2026-03\"}"},
    {"fee.charge", "A one-off charge: card, copies, housekeeping (R-FEE-01)",
     DESK, 0, f_fee_charge, hdl_fee_charge,
     "{\"unit\":\"HY/3-1201\",\"item\":\"copy_a4\",\"quantity\":10}"},
    {"fee.pay",
     "Take a payment: settles bills, issues the next receipt of the book "
     "(R-FEE-03, R-FEE-04)",
     DESK, 0, f_fee_pay, hdl_fee_pay,
     "{\"unit\":\"HY/3-1201\",\"amount\":30125,\"method\":\"cash\","
     "\"book\":\"A01\"}"},
    {"fee.void_payment",
     "Void a wrong payment and its receipt; the record stays (R-FEE-04)", LEADS,
     0, f_fee_void_payment, hdl_fee_void_payment,
     "{\"payment\":\"Y42\",\"reason\":\"wrong unit\"}"},
    {"fee.move_in",
     "Set the fee start from the move-in date; reply gives the prepayment "
     "due (R-FEE-05)",
     DESK, 0, f_fee_move_in, hdl_fee_move_in,
     "{\"unit\":\"HY/3-1201\",\"date\":\"2026-03-10\"}"},
    {"fee.extension", "Grant a hardship extension (R-FEE-06)",
     ROLE_MANAGER | ROLE_ADMIN, 0, f_fee_extension, hdl_fee_extension,
     "{\"unit\":\"HY/3-1201\",\"until\":\"2026-06-30\","
     "\"reason\":\"hospital stay\"}"},
    {"fee.notice", "Record an arrears notice delivered (R-FEE-06)", DESK, 0,
     f_fee_notice, hdl_fee_notice,
     "{\"unit\":\"HY/3-1201\",\"stage\":\"second\","
     "\"deadline\":\"2026-06-15\"}"},
    {"fee.waive", "Waive what a bill owes, with reason (R-FEE-08)",
     ROLE_MANAGER | ROLE_ADMIN, 0, f_fee_waive, hdl_fee_waive,
     "{\"bill\":\"B17\",\"reason\":\"first late payment\"}"},
    {"fee.assess_late",
     "Assess late fees where a policy is configured; every run is recorded "
     "(fee.late_fee_run), also one that charges nothing (R-FEE-08)",
     LEADS, 0, f_fee_assess_late, hdl_fee_assess_late, "{\"estate\":\"HY\"}"},
    {"query.overdue",
     "Overdue list: amount, oldest due, days, bucket, stage, extension; as "
     "of any date (R-FEE-06, R-FEE-07)",
     DESK, CMD_QUERY, f_query_overdue, hdl_query_overdue,
     "{\"estate\":\"HY\",\"as_of\":\"2026-03-31\"}"},
    {"query.large_debtors",
     "Units owing at least large_debtor_fen, for manager visits (R-FEE-06)",
     DESK, CMD_QUERY, f_query_overdue, hdl_query_large_debtors,
     "{\"estate\":\"HY\"}"},
    {"query.statement",
     "A unit's account with running balance, as of any date (R-FEE-07)", DESK,
     CMD_QUERY, f_query_statement, hdl_query_statement,
     "{\"unit\":\"HY/3-1201\"}"},
    {"query.receipts",
     "A receipt book: every number in order, voided ones marked (R-FEE-04)",
     DESK, CMD_QUERY, f_query_receipts, hdl_query_receipts,
     "{\"book\":\"A01\"}"},
    {"query.takings", "Money taken per desk and method on a day", DESK,
     CMD_QUERY, f_query_takings, hdl_query_takings,
     "{\"date\":\"2026-03-15\"}"},
    {"clock.set", "Move a manual clock forward (tests and drills only)",
     ROLE_ADMIN | ROLE_MANAGER, 0, f_clock_set, hdl_clock_set,
     "{\"to\":\"2026-10-08T09:00:00+08:00\"}"},
    {"log.read", "Read events from a seq (catch-up after a gap)", DESK,
     CMD_QUERY, f_log_read, hdl_log_read, "{\"from\":1,\"limit\":100}"},
    {"complaint.receive",
     "Take a complaint: channel, complainant, what happened (R-CMP-01, "
     "R-GEN-06)",
     DESK, 0, f_complaint_receive, hdl_complaint_receive,
     "{\"channel\":\"phone\",\"unit\":\"HY/3-1201\",\"name\":\"王\","
     "\"contact\":\"13812345678\",\"what\":\"3号楼电梯停运\","
     "\"wants\":\"尽快修复\"}"},
    {"complaint.classify",
     "Category by final cause and validity; corrections kept (R-CMP-02/03)",
     DESK, 0, f_complaint_classify, hdl_complaint_classify,
     "{\"complaint\":\"C42\",\"category\":2,\"cause\":\"machine\"}"},
    {"complaint.add_complainant",
     "Another person (or the same again) on one complaint (R-CMP-10)", DESK, 0,
     f_complaint_add_complainant, hdl_complaint_add_complainant,
     "{\"complaint\":\"C42\",\"name\":\"李\"}"},
    {"complaint.claim", "Record a compensation claim (R-CMP-07 major)", DESK, 0,
     f_complaint_claim, hdl_complaint_claim,
     "{\"complaint\":\"C42\",\"claim_fen\":150000}"},
    {"complaint.dispatch",
     "Hand to a handler; the lead is told, the receiver keeps it (R-CMP-05)",
     DESK, 0, f_complaint_dispatch, hdl_complaint_dispatch,
     "{\"complaint\":\"C42\",\"handler\":\"lin\"}"},
    {"complaint.reply",
     "Reply to the complainant, with an agreed re-reply time (R-CMP-04)", DESK,
     0, f_complaint_reply, hdl_complaint_reply,
     "{\"complaint\":\"C42\",\"text\":\"已派维修\"}"},
    {"complaint.update", "Tell the complainant how it goes (R-CMP-06)", DESK, 0,
     f_complaint_update, hdl_complaint_update,
     "{\"complaint\":\"C42\",\"text\":\"配件已到\"}"},
    {"complaint.handle",
     "Handling done: return visit due, or auto-close (R-CMP-08/09)", DESK, 0,
     f_complaint_handle, hdl_complaint_handle,
     "{\"complaint\":\"C42\",\"summary\":\"电梯已修复\"}"},
    {"complaint.visit",
     "Return visit and its result; dissatisfied reopens (R-CMP-08/09)", DESK, 0,
     f_complaint_visit, hdl_complaint_visit,
     "{\"complaint\":\"C42\",\"method\":\"phone\",\"result\":\"satisfied\"}"},
    {"complaint.close",
     "Close after a satisfied return visit, checked by a manager (R-CMP-09)",
     ROLE_MANAGER | ROLE_ADMIN, 0, f_complaint_close, hdl_complaint_close,
     "{\"complaint\":\"C42\"}"},
    {"complaint.reopen", "Reopen a handled or closed complaint (R-CMP-09)",
     DESK, 0, f_complaint_reopen, hdl_complaint_reopen,
     "{\"complaint\":\"C42\",\"reason\":\"再次漏水\"}"},
    {"person.no_visit", "Record a wish not to be visited (R-CMP-08)", DESK, 0,
     f_person_no_visit, hdl_person_no_visit,
     "{\"person\":\"P4\",\"reason\":\"不希望回访\"}"},
    {"complaint.escalate",
     "A deadline passed: escalate by its rule (timers only, R-CMP-07)",
     ROLE_SYSTEM, CMD_SYSTEM, f_complaint_escalate, hdl_complaint_escalate,
     "{\"complaint\":\"C42\",\"rule\":\"open_10d\",\"due\":1772500000000}"},
    {"complaint.auto_close",
     "Close a no-visit complaint 7 days after handling (timers only, "
     "R-CMP-09)",
     ROLE_SYSTEM, CMD_SYSTEM, f_complaint_auto_close, hdl_complaint_auto_close,
     "{\"complaint\":\"C42\",\"due\":1772500000000}"},
    {"query.complaints_open",
     "Open complaints with deadlines and escalation levels (R-CMP-06/07)", DESK,
     CMD_QUERY, f_query_complaints_open, hdl_query_complaints_open,
     "{\"estate\":\"HY\",\"overdue\":true}"},
    {"query.complaint", "One complaint and its timeline (R-GEN-07)", DESK,
     CMD_QUERY, f_query_complaint, hdl_query_complaint,
     "{\"complaint\":\"C42\"}"},
    {"query.stocktake", "Daily stock-take of complaints (R-CMP-06)", DESK,
     CMD_QUERY, f_query_stocktake, hdl_query_stocktake,
     "{\"date\":\"2026-10-09\"}"},
    {"query.complaint_report",
     "Monthly report: categories, causes, trend, KPIs (R-CMP-11)", DESK,
     CMD_QUERY, f_query_complaint_report, hdl_query_complaint_report,
     "{\"month\":\"2026-10\"}"},
    {"card.issue",
     "Issue an access or parking card; validity by holder type, fee with a "
     "receipt naming the card (R-CARD-01..03)",
     DESK, 0, f_card_issue, hdl_card_issue,
     "{\"card\":\"IC0001\",\"kind\":\"access\",\"unit\":\"HY/3-1201\","
     "\"holder\":\"P5\",\"move_in\":true}"},
    {"card.renew",
     "Extend a card: another term (access, free) or more paid months "
     "(parking) (R-CARD-01, R-CARD-03)",
     DESK, 0, f_card_renew, hdl_card_renew,
     "{\"card\":\"PK0007\",\"months\":3,\"book\":\"A01\","
     "\"method\":\"cash\"}"},
    {"card.report_lost",
     "Report a card lost: revoked at once and for good; optional paid "
     "replacement (R-CARD-04, R-CARD-02)",
     DESK, 0, f_card_report_lost, hdl_card_report_lost,
     "{\"card\":\"IC0001\",\"new_card\":\"IC0102\",\"book\":\"A01\","
     "\"method\":\"cash\"}"},
    {"card.report_damaged",
     "Replace a damaged card: free within a month of issue unless the "
     "holder broke it (R-CARD-02)",
     DESK, 0, f_card_report_damaged, hdl_card_report_damaged,
     "{\"card\":\"IC0001\",\"new_card\":\"IC0103\"}"},
    {"card.return", "A card handed back (moved out, lease ended)", DESK, 0,
     f_card_return, hdl_card_return,
     "{\"card\":\"IC0001\",\"reason\":\"moved out\"}"},
    {"card.format_reissue",
     "Format a staff card and issue it to another member of staff "
     "(R-CARD-01)",
     LEADS, 0, f_card_format_reissue, hdl_card_format_reissue,
     "{\"card\":\"ST0003\",\"holder\":\"P9\",\"approval\":\"HR-2026-17\"}"},
    {"card.swipe",
     "A reader's swipe, logged: granted, or refused with the reason "
     "(R-CARD-04)",
     DESK, 0, f_card_swipe, hdl_card_swipe,
     "{\"card\":\"IC0001\",\"unit\":\"HY/3-\"}"},
    {"query.card_check",
     "Is card X valid for unit Y on a day? Records nothing (R-CARD-04)", DESK,
     CMD_QUERY, f_query_card_check, hdl_query_card_check,
     "{\"card\":\"IC0001\",\"unit\":\"HY/3-1201\"}"},
    {"query.card_expiry",
     "Cards expiring within N days, holder contact masked; as of any date "
     "(R-CARD-05)",
     DESK, CMD_QUERY, f_query_card_expiry, hdl_query_card_expiry,
     "{\"estate\":\"HY\",\"days\":30,\"as_of\":\"2026-05-01\"}"},
    {"query.cards", "Cards of a unit or a holder, with full history", DESK,
     CMD_QUERY, f_query_cards, hdl_query_cards, "{\"unit\":\"HY/3-1201\"}"},
    {"query.card_quarters",
     "Quarterly card reconciliation (IC卡季度整理表) of an estate (R-CARD-05)",
     DESK, CMD_QUERY, f_query_card_quarters, hdl_query_card_quarters,
     "{\"estate\":\"HY\",\"year\":2026}"},
    {"query.cards_past_lease",
     "Tenant cards valid past the lease end (lease shortened) (R-CARD-01)",
     DESK, CMD_QUERY, f_query_cards_past_lease, hdl_query_cards_past_lease,
     "{\"estate\":\"HY\"}"},
    {"workorder.log",
     "Log a message, repair or housekeeping request (工作信息记录本, "
     "R-WO-01)",
     DESK, 0, f_wo_log, hdl_wo_log,
     "{\"kind\":\"repair\",\"unit\":\"HY/3-1201\",\"name\":\"王\","
     "\"text\":\"厨房水龙头漏水\"}"},
    {"workorder.dispatch",
     "Send to who does it, with the visit time told (R-WO-02)", DESK, 0,
     f_wo_dispatch, hdl_wo_dispatch,
     "{\"order\":\"W42\",\"to\":\"工程部 张师傅\",\"visit_at\":"
     "\"2026-11-24T10:00:00+08:00\"}"},
    {"workorder.complete",
     "Done: who pays, return visit by category (R-WO-03/04)", DESK, 0,
     f_wo_complete, hdl_wo_complete,
     "{\"order\":\"W42\",\"summary\":\"更换阀芯\",\"category\":\"leak\"}"},
    {"workorder.visit",
     "Return visit; a problem means a notice, dissatisfied reopens "
     "(R-WO-03)",
     DESK, 0, f_wo_visit, hdl_wo_visit,
     "{\"order\":\"W42\",\"result\":\"satisfied\"}"},
    {"workorder.notice", "Written notice to the repairer sent (R-WO-03)", DESK,
     0, f_wo_notice, hdl_wo_notice,
     "{\"order\":\"W42\",\"ref\":\"ZG-2026-031\"}"},
    {"workorder.refer",
     "The desk cannot solve it: to the cs lead and department head "
     "(R-WO-01)",
     DESK, 0, f_wo_refer, hdl_wo_refer,
     "{\"order\":\"W42\",\"reason\":\"需开发商处理\"}"},
    {"workorder.close", "Close a work order (R-WO-01/03)", DESK, 0, f_wo_close,
     hdl_wo_close, "{\"order\":\"W42\"}"},
    {"workorder.escalate",
     "A deadline passed: escalate by its rule (timers only)", ROLE_SYSTEM,
     CMD_SYSTEM, f_wo_escalate, hdl_wo_escalate,
     "{\"order\":\"W42\",\"rule\":\"stale\",\"due\":1772500000000}"},
    {"query.work_orders", "Open work orders with deadlines (R-WO-01)", DESK,
     CMD_QUERY, f_query_work_orders, hdl_query_work_orders,
     "{\"estate\":\"HY\",\"overdue\":true}"},
    {"query.work_order", "One work order and its timeline (R-GEN-07)", DESK,
     CMD_QUERY, f_query_work_order, hdl_query_work_order,
     "{\"order\":\"W42\"}"},
    {"release.request",
     "Goods-release pass: items and quantities for a unit's applicant; "
     "identity by relation; tenants' passes wait for the owner "
     "(R-REL-01..03)",
     DESK, 0, f_release_request, hdl_release_request,
     "{\"unit\":\"HY/3-1201\",\"applicant\":\"P5\",\"items\":{\"sofa\":1,"
     "\"boxes\":12},\"date\":\"2026-03-05\",\"vehicle\":\"粤B12345\"}"},
    {"release.confirm",
     "Confirm a tenant's pass: the owner, else the emergency contact, else a "
     "police-witnessed record (R-REL-03)",
     DESK, 0, f_release_confirm, hdl_release_confirm,
     "{\"pass\":\"R120\",\"by\":\"owner\"}"},
    {"release.gate_check",
     "The gate checks and collects a pass: valid once, on its date; "
     "records the use (R-REL-04)",
     DESK, 0, f_release_gate_check, hdl_release_gate_check,
     "{\"pass\":\"R120\",\"gate\":\"north\"}"},
    {"release.expire",
     "A pass not used by the end of its date: reported expired (timers "
     "only, R-REL-04)",
     ROLE_SYSTEM, CMD_SYSTEM, f_release_expire, hdl_release_expire,
     "{\"pass\":\"R88\",\"due\":1775608200000}"},
    {"query.pass", "One goods-release pass with its state", DESK, CMD_QUERY,
     f_query_pass, hdl_query_pass, "{\"pass\":\"R120\"}"},
    {"query.passes",
     "Goods-release passes of a day with their state (R-REL-04)", DESK,
     CMD_QUERY, f_query_passes, hdl_query_passes,
     "{\"date\":\"2026-03-05\",\"unit_prefix\":\"HY/\"}"},
    {"query.pass_pending",
     "Tenants' passes waiting for a confirmation (R-REL-03)", DESK, CMD_QUERY,
     f_query_pass_pending, hdl_query_pass_pending, "{\"unit_prefix\":\"HY/\"}"},
    {"visit.record",
     "Record a customer visit: kind, needs, actions, completion, "
     "satisfaction; respects the do-not-visit wish (R-VIS-01..04, R-CMP-08)",
     DESK, 0, f_visit_record, hdl_visit_record,
     "{\"unit\":\"HY/3-1201\",\"person\":\"P5\",\"kind\":\"new_owner\","
     "\"needs\":\"门禁卡不够\",\"actions\":\"已登记补卡\","
     "\"completion\":\"done\",\"satisfaction\":\"satisfied\"}"},
    {"person.set_important",
     "Tag a person as an important customer, or untag (none) (R-VIS-03)", LEADS,
     0, f_person_set_important, hdl_person_set_important,
     "{\"person\":\"P5\",\"tag\":\"owners_committee\"}"},
    {"query.visits", "A unit's visits in date order", DESK, CMD_QUERY,
     f_query_visits, hdl_query_visits, "{\"unit\":\"HY/3-1201\"}"},
    {"query.visits_due",
     "Visits due and overdue as of a date: new owners' first and second "
     "visits, vacant units' monthly inspection (R-VIS-01, R-VIS-04)",
     DESK, CMD_QUERY, f_query_visits_due, hdl_query_visits_due,
     "{\"estate\":\"HY\",\"as_of\":\"2026-05-01\"}"},
    {"query.visit_plan",
     "Owners by tenure group with important-customer tags and last visit "
     "(R-VIS-03)",
     DESK, CMD_QUERY, f_query_visits_due, hdl_query_visit_plan,
     "{\"estate\":\"HY\"}"},
    {"query.visit_coverage",
     "Visited units over occupied units per building in a month (R-VIS-02)",
     DESK, CMD_QUERY, f_query_visit_coverage, hdl_query_visit_coverage,
     "{\"estate\":\"HY\",\"month\":\"2026-04\"}"},
    {"query.visit_managers",
     "Managers' household visits in a month against the minimum; every "
     "visitor's totals (R-VIS-02)",
     DESK, CMD_QUERY, f_query_visit_managers, hdl_query_visit_managers,
     "{\"month\":\"2026-04\"}"},
    {"renovation.file",
     "File a renovation: documents, consent, pledge, term (R-REN-01, "
     "R-REN-02)",
     DESK, 0, f_ren_file, hdl_ren_file,
     "{\"unit\":\"HY/3-1201\",\"applicant\":\"P4\",\"contractor\":"
     "\"恒达装饰\",\"in_charge\":\"P7\",\"items\":[\"floor\",\"kitchen\"],"
     "\"documents\":[\"licence\",\"qualification\",\"drawings\","
     "\"worker_list\"],\"start\":\"2026-04-01\",\"end\":\"2026-06-30\"}"},
    {"renovation.pay_deposit",
     "Take the owner's or the contractor's deposit with a receipt "
     "(R-REN-03)",
     DESK, 0, f_ren_pay_deposit, hdl_ren_pay_deposit,
     "{\"renovation\":\"RN120\",\"party\":\"owner\",\"book\":\"A01\","
     "\"method\":\"cash\"}"},
    {"renovation.extend",
     "Extend the term, at most 3 months at a time "
     "(R-REN-02)",
     DESK, 0, f_ren_extend, hdl_ren_extend,
     "{\"renovation\":\"RN120\",\"end\":\"2026-08-31\"}"},
    {"renovation.pass_issue",
     "Issue a worker's temporary pass; deposits paid, within the term "
     "(R-REN-04)",
     DESK, 0, f_ren_pass_issue, hdl_ren_pass_issue,
     "{\"renovation\":\"RN120\",\"pass\":\"W001\",\"worker\":\"张三\"}"},
    {"renovation.pass_return", "A worker's pass handed back (R-REN-04)", DESK,
     0, f_ren_pass_return, hdl_ren_pass_return,
     "{\"renovation\":\"RN120\",\"pass\":\"W001\"}"},
    {"renovation.inspect",
     "Record an inspection; a violation gets a rectification notice and "
     "deadline (R-REN-05)",
     DESK, 0, f_ren_inspect, hdl_ren_inspect,
     "{\"renovation\":\"RN120\",\"violation\":\"facade\",\"notice\":"
     "\"ZG-2026-03\",\"deadline\":\"2026-05-10\"}"},
    {"renovation.rectify", "A violation rectified (R-REN-05)", DESK, 0,
     f_ren_rectify, hdl_ren_rectify,
     "{\"renovation\":\"RN120\",\"violation\":\"V130\"}"},
    {"renovation.complete",
     "Completion inspection: passed (no open violation) or failed "
     "(R-REN-05)",
     DESK, 0, f_ren_complete, hdl_ren_complete,
     "{\"renovation\":\"RN120\",\"result\":\"passed\"}"},
    {"renovation.refund",
     "Refund the deposits: passed, 7 working days on, passes back, no open "
     "violation (R-REN-05)",
     LEADS, 0, f_ren_refund, hdl_ren_refund, "{\"renovation\":\"RN120\"}"},
    {"renovation.expire_term",
     "The term's end passed before the completion inspection passed "
     "(timers only, R-REN-02)",
     ROLE_SYSTEM, CMD_SYSTEM, f_ren_deadline, hdl_ren_expire_term,
     "{\"renovation\":\"RN120\",\"due\":1782865800000}"},
    {"renovation.passes_overdue",
     "The term's end passed with worker passes not returned (timers "
     "only, R-REN-04)",
     ROLE_SYSTEM, CMD_SYSTEM, f_ren_deadline, hdl_ren_passes_overdue,
     "{\"renovation\":\"RN120\",\"due\":1782865800000}"},
    {"renovation.violation_overdue",
     "A violation's rectification deadline passed with it open (timers "
     "only, R-REN-05)",
     ROLE_SYSTEM, CMD_SYSTEM, f_ren_violation_overdue,
     hdl_ren_violation_overdue,
     "{\"renovation\":\"RN120\",\"violation\":\"V130\",\"due\":"
     "1778459400000}"},
    {"query.renovations",
     "Active and overdue renovations, deposits held, refunds due, "
     "violations past deadline",
     DESK, CMD_QUERY, f_query_renovations, hdl_query_renovations,
     "{\"unit\":\"HY/\",\"as_of\":\"2026-07-01\"}"},
    {"query.renovation", "One renovation with its passes and violations", DESK,
     CMD_QUERY, f_query_renovation, hdl_query_renovation,
     "{\"renovation\":\"RN120\"}"},
    {"movein.start",
     "Open a unit's move-in: applicant type and its documents (R-MOV-01)", DESK,
     0, f_movein_start, hdl_movein_start,
     "{\"unit\":\"HY/3-1201\",\"applicant\":\"P4\",\"applicant_type\":"
     "\"household\",\"documents\":[\"handover_notice\",\"owner_id\","
     "\"family_ids\",\"info_card\",\"photos\",\"bank_card\"]}"},
    {"movein.sign", "Agreements signed at move-in (R-MOV-02)", DESK, 0,
     f_movein_sign, hdl_movein_sign,
     "{\"unit\":\"HY/3-1201\",\"agreements\":[\"service_agreement\","
     "\"covenant\"]}"},
    {"movein.meters", "Water and electricity readings at move-in (R-MOV-02)",
     DESK, 0, f_movein_meters, hdl_movein_meters,
     "{\"unit\":\"HY/3-1201\",\"water\":\"12.50\",\"electricity\":"
     "\"230.00\"}"},
    {"movein.inspect",
     "Unit inspection with the owner: passed, or failed items with a "
     "deadline (R-MOV-02)",
     DESK, 0, f_movein_inspect, hdl_movein_inspect,
     "{\"unit\":\"HY/3-1201\",\"result\":\"failed\",\"items\":"
     "[\"window seal\"],\"deadline\":\"2026-04-20\"}"},
    {"movein.fix_overdue",
     "A failed inspection's items not fixed by their deadline (timers only, "
     "R-MOV-02)",
     ROLE_SYSTEM, CMD_SYSTEM, f_movein_fix_overdue, hdl_movein_fix_overdue,
     "{\"unit\":\"HY/3-1201\",\"due\":1776731400000}"},
    {"movein.keys",
     "Hand over the keys: only after the inspection passes "
     "(R-MOV-02)",
     DESK, 0, f_movein_keys, hdl_movein_keys,
     "{\"unit\":\"HY/3-1201\",\"keys\":3}"},
    {"query.movein", "A unit's move-in checklist (R-MOV-02)", DESK, CMD_QUERY,
     f_query_movein, hdl_query_movein, "{\"unit\":\"HY/3-1201\"}"},
    {"query.moveins",
     "Move-in progress: every open checklist, and the steps done on a day",
     DESK, CMD_QUERY, f_query_moveins, hdl_query_moveins,
     "{\"date\":\"2026-04-15\"}"},
    {"security.keys_reloaded",
     "SIGHUP reloaded the desks' CURVE keys: counts (deskd only)", ROLE_SYSTEM,
     CMD_SYSTEM, f_keys_reloaded, hdl_security_keys_reloaded,
     "{\"keys\":12,\"added\":1,\"removed\":2}"},
    {"query.calendar",
     "The working calendar's coverage: covered_from, covered_until, "
     "days_left, warning (R-GEN-05)",
     DESK, CMD_QUERY, f_query_calendar, hdl_query_calendar, "{}"},
    {"calendar.coverage_ending",
     "The working calendar ends within calendar_warn_days (timers only; "
     "R-GEN-05)",
     ROLE_SYSTEM, CMD_SYSTEM, f_calendar_coverage_ending,
     hdl_calendar_coverage_ending,
     "{\"covered_until\":\"2026-12-31\",\"warn_days\":60}"},
    {"calendar.reloaded",
     "SIGHUP loaded a new calendar file: coverage and hash (deskd only; "
     "R-GEN-05)",
     ROLE_SYSTEM, CMD_SYSTEM, f_calendar_reloaded, hdl_calendar_reloaded,
     "{\"file\":\"/etc/deskd/holidays.tsv\",\"hash\":\"1f9c"
     "0a5e7b3d2c4f6e8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f\","
     "\"covered_from\":\"2024-01-01\",\"covered_until\":\"2027-12-31\","
     "\"special_days\":150,\"previous_hash\":\"77d0"
     "b2a4c6e8f0a1b3c5d7e9f1a2b4c6d8e0f2a3b5c7d9e1f3a4b6c8d0e2f4a5b6\","
     "\"previous_until\":\"2026-12-31\"}"},
    {"unit.move_out",
     "Move-out: final meters, fees settled or waived by a lead, cards and "
     "keys returned; the link ends and the unit becomes vacant; a renovation "
     "deposit still held is refunded or withheld with the reason (R-MOV-04, "
     "R-REN-05)",
     DESK, 0, f_unit_move_out, hdl_unit_move_out,
     "{\"unit\":\"HY/3-1201\",\"person\":\"P5\",\"role\":\"tenant\","
     "\"water\":\"131.20\",\"electricity\":\"4120.00\",\"keys_returned\":"
     "3}"},
    {"query.handover",
     "Shift handover sheet (交接班) from the events of a shift: open "
     "complaints, escalations, deadlines fired and due next shift, money by "
     "method in fen, cards, keys, release passes, return visits waiting "
     "(R-GEN-04, R-WO-03)",
     DESK, CMD_QUERY, f_query_handover, hdl_query_handover,
     "{\"desk\":\"front-1\",\"from\":\"2026-10-09T08:00:00+08:00\","
     "\"to\":\"2026-10-09T16:00:00+08:00\"}"},
    {"shift.handover",
     "Hand a shift over: the sheet's totals and the cash counted, any "
     "difference recorded as it is (R-GEN-04)",
     DESK, 0, f_shift_handover, hdl_shift_handover,
     "{\"from\":\"2026-10-09T08:00:00+08:00\",\"to\":"
     "\"2026-10-09T16:00:00+08:00\",\"incoming\":\"wang\","
     "\"cash_counted\":125000}"},
    {"shift.handover_ack",
     "The incoming clerk takes the shift over; a count of their own is "
     "recorded beside the outgoing one (R-GEN-04)",
     DESK, 0, f_shift_handover_ack, hdl_shift_handover_ack,
     "{\"handover\":1024,\"cash_counted\":125000}"},
};

const size_t cmd_table_len = sizeof(cmd_table) / sizeof(cmd_table[0]);
