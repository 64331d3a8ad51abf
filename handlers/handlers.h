/* handlers/handlers.h - every command handler (one file per desk domain)
 * and the small helpers they share. A handler reads state through the
 * projections' read functions inside h->txn, decides, and either returns an
 * error or emits events with emit(); it never writes to LMDB. */
#ifndef DESKD_HANDLERS_H
#define DESKD_HANDLERS_H

#include "../core/cmd.h"
#include "../core/date.h"
#include "../projections/projections.h"
#include "events.h"

/* Emits an event of type t whose data the handler wrote to the cw returned
 * by hctx_data_begin(). */
#define emit(h, t, ...) hctx_emit((h), ev_type_name(t), 0, __VA_ARGS__)
#define emit_at(h, t, occurred, ...)                                           \
    hctx_emit((h), ev_type_name(t), (occurred), __VA_ARGS__)

/* Today's local date per the server clock. */
int32_t hdl_today(const struct hctx *h);

/* Masks personal data for lists and dashboards (R-GEN-02):
 * phone 13812345678 -> 138****5678, ID 440301199001011234 ->
 * 4403**********1234. Output is NUL-terminated in out (cap bytes). */
void mask_phone(const char *s, size_t n, char *out, size_t cap);
void mask_id(const char *s, size_t n, char *out, size_t cap);

/* units.c */
int hdl_estate_register(struct hctx *h, const struct args *a, struct err *e);
int hdl_building_register(struct hctx *h, const struct args *a, struct err *e);
int hdl_unit_register(struct hctx *h, const struct args *a, struct err *e);
int hdl_unit_set_state(struct hctx *h, const struct args *a, struct err *e);
int hdl_unit_link(struct hctx *h, const struct args *a, struct err *e);
int hdl_unit_unlink(struct hctx *h, const struct args *a, struct err *e);
int hdl_unit_transfer(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_unit(struct hctx *h, const struct args *a, struct err *e);

/* people.c */
int hdl_person_register(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_person(struct hctx *h, const struct args *a, struct err *e);
int hdl_person_view_full(struct hctx *h, const struct args *a, struct err *e);
int hdl_query_people(struct hctx *h, const struct args *a, struct err *e);

/* system.c */
int hdl_clock_set(struct hctx *h, const struct args *a, struct err *e);
int hdl_log_read(struct hctx *h, const struct args *a, struct err *e);

/* Enum choices shared by the table and the handlers. */
extern const char *const unit_types[];
extern const char *const unit_states[];
extern const char *const person_kinds[];
extern const char *const link_roles[];

#endif
