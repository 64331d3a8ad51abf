/* projections/projections.h - the read models. Every sub-db a projection
 * owns is listed once in PROJ_DBS (its owner in the comment); every
 * projection is one entry in the table in projections.c. A projection's
 * apply() is called for every event, in seq order, inside the write txn
 * that appends the event; it reads only the event and its own tables, so
 * replaying the log reproduces its tables byte for byte. */
#ifndef DESKD_PROJECTIONS_H
#define DESKD_PROJECTIONS_H

#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>

#include "../core/codec.h"
#include "../core/derived.h"
#include "../core/err.h"
#include "../handlers/events.h"

#define PROJ_DBS(X)                                                            \
    X(ESTATES, "estates")       /* units.c */                                  \
    X(BUILDINGS, "buildings")   /* units.c */                                  \
    X(UNITS, "units")           /* units.c */                                  \
    X(PEOPLE, "people")         /* units.c */                                  \
    X(LINKS, "unit_links")      /* units.c: unit \0 person \0 role \0 from */  \
    X(OWNERS, "unit_owners")    /* units.c: unit \0 effective day \0 seq */    \
    X(BILLS, "bills")           /* fees.c: bill -> bill */                     \
    X(UNIT_BILLS, "unit_bills") /* fees.c: unit \0 due \0 bill */              \
    X(OPEN_BILLS, "open_bills") /* fees.c: same, outstanding > 0 */            \
    X(ALLOCS, "bill_allocs")    /* fees.c: bill \0 seq -> settlement line */   \
    X(PAYMENTS, "payments")     /* fees.c: payment -> payment */               \
    X(RECEIPTS, "receipts")     /* fees.c: book \0 number */                   \
    X(PREPAY, "prepayments")    /* fees.c: unit -> balance */                  \
    X(LEDGER, "fee_ledger")     /* fees.c: unit \0 seq -> statement line */    \
    X(TAKINGS, "takings")       /* fees.c: day \0 desk \0 method */            \
    X(CHASE, "fee_chase")       /* fees.c: unit \0 seq -> start/ext/notice */  \
    X(TIMERS, "timers")         /* timers.c: due \0 key -> {cmd, body} */      \
    X(TIMER_KEYS, "timer_keys") /* timers.c: key -> due, seq armed */          \
    X(TIMER_LOG, "timer_log")   /* timers.c: due seq key -> armed, cleared */  \
    X(COMPLAINTS, "complaints") /* complaints.c: id -> record */               \
    X(OPEN_CMP, "open_complaints") /* complaints.c: id -> nil, while open */   \
    X(CASE_LOG, "case_log")        /* timeline.c: case id \0 seq -> entry */   \
    X(NO_VISIT, "no_visit")        /* complaints.c: person -> reason */        \
    X(CMP_TOPICS,                                                              \
      "complaint_topics")   /* complaints.c: topic \0 at id -> who */          \
    X(CARDS, "cards")       /* cards.c: card -> current record */              \
    X(CARD_LOG, "card_log") /* cards.c: card \0 seq -> history entry */        \
    X(CARD_PERIODS, "card_periods")   /* cards.c: until card \0 seq */         \
    X(UNIT_CARDS, "unit_cards")       /* cards.c: unit \0 card -> nil */       \
    X(HOLDER_CARDS, "holder_cards")   /* cards.c: holder \0 card -> nil */     \
    X(CARD_QUARTERS, "card_quarters") /* card_quarters.c: estate \0 quarter */ \
    X(WORK_ORDERS, "work_orders")     /* workorders.c: id -> record */         \
    X(OPEN_WO, "open_work_orders") /* workorders.c: id -> nil, while open */   \
    X(PASSES, "passes")            /* release.c: pass -> record */             \
    X(DAY_PASSES, "day_passes")    /* release.c: day pass -> nil */            \
    X(PENDING_PASSES, "pending_passes") /* release.c: pass -> nil */           \
    X(VISITS, "visits")                 /* visits.c: visit -> record */        \
    X(UNIT_VISITS, "unit_visits") /* visits.c: unit \0 day seq -> summary */   \
    X(VISIT_MARKS, "visit_marks") /* visits.c: unit \0 person \0 kind */       \
    X(VISITOR_MONTHS, "visitor_months") /* visits.c: month operator -> n */    \
    X(IMPORTANT, "important_people")    /* visits.c: person -> tag */          \
    X(RENOS, "renovations")             /* renovation.c: id -> record */       \
    X(REN_PASSES, "ren_passes")         /* renovation.c: id \0 pass -> pass */ \
    X(REN_VIOLS, "ren_violations")      /* renovation.c: id \0 violation */    \
    X(MOVEINS, "moveins")               /* movein.c: unit -> checklist */      \
    X(MOVEIN_DAYS, "movein_days")       /* movein.c: day \0 seq -> step */

enum proj_db {
#define X(n, s) DB_##n,
    PROJ_DBS(X)
#undef X
        DB_COUNT
};

extern const char *const proj_db_names[DB_COUNT];

/* Handles of every projection sub-db in one environment. */
struct views {
    MDB_dbi dbi[DB_COUNT];
};

/* Opens (creating when create) every projection sub-db. */
int views_open(MDB_txn *txn, struct views *v, bool create, struct err *e);

/* An event as projections see it (points into a decoded body). */
struct event {
    uint64_t seq;
    enum ev_type type;
    const char *stream;
    size_t stream_len;
    uint64_t version;
    int64_t recorded_at;  /* ms */
    int64_t occurred_at;  /* ms; = recorded_at when the body has none */
    int32_t recorded_day; /* local date of recorded_at (its first 10 chars) */
    const char *actor;
    size_t actor_len;
    const char *desk; /* "" when the command named no desk */
    size_t desk_len;
    const msgpack_object *data;
};

/* Reads a decoded body into ev (pointing into o). ERR_UNAVAILABLE if a
 * mandatory key is missing. */
int event_from(struct event *ev, const msgpack_object *o, struct err *e);
/* Decodes a stored body into ev (pointing into doc). ERR_UNAVAILABLE if a
 * mandatory key is missing. Unknown types get EV_UNKNOWN (projections
 * ignore them). */
int event_parse(struct event *ev, struct codec_doc *doc, const char *body,
                size_t len, struct err *e);

/* Applies ev to every projection. 0, an MDB_* error or ERR_*. */
int proj_apply(MDB_txn *txn, const struct views *v, const struct event *ev);

/* The same for a stored event body: a log_derive_fn (core/log.h) with
 * views (a const struct views *) as its context, for catching up and
 * replaying derived state from the log. */
int proj_derive(void *views, MDB_txn *dtxn, uint64_t seq,
                const msgpack_object *body);

struct projection {
    const char *name;
    int (*apply)(MDB_txn *txn, const struct views *v, const struct event *ev);
};

/* Calls fn(ctx, value) for every record whose key starts with prefix (all
 * records when plen is 0), in key order. fn returns >0 to stop early, <0
 * for an error (returned). Records that do not decode are skipped. */
typedef int (*proj_each_fn)(void *ctx, const msgpack_object *value);
int proj_each(MDB_txn *txn, MDB_dbi dbi, const void *prefix, size_t plen,
              proj_each_fn fn, void *ctx);

/* Big-endian key parts that sort in numeric order (days biased so that
 * negative days sort first). */
void proj_key_day(unsigned char *p, int32_t day);
int32_t proj_key_get_day(const unsigned char *p);
void proj_key_u64(unsigned char *p, uint64_t v);
/* R-GEN-05: whether event data d lists key under "provisional" (a
 * deadline worked out past the working calendar's coverage). */
bool proj_provisional(const msgpack_object *d, const char *key);
/* Sets bit in *mask when d marks key provisional, clears it otherwise:
 * a deadline set again without the mark is no longer provisional. */
void proj_prov_set(unsigned *mask, unsigned bit, const msgpack_object *d,
                   const char *key);
uint64_t proj_key_get_u64(const unsigned char *p);

/* Timers (projections/timers.c): "at due, deskd runs system command cmd
 * with body". Projections set and clear them while applying events, so
 * they survive restarts and replay rebuilds them; the server fires due ones
 * through the normal pipeline (actor "system"), and the fired command's
 * events clear them. key names the timer ("C12:missed_reply"). seq is the
 * event being applied: timer_log remembers which event armed and which
 * cleared each timer. */
int timer_set(MDB_txn *txn, const struct views *v, uint64_t seq, int64_t due,
              const char *key, const char *cmd, const struct cw *body);
int timer_clear(MDB_txn *txn, const struct views *v, uint64_t seq,
                const char *key);
/* The timer "<id>:<rule>" of a case, at due, running cmd with body
 * {id_key: id, rule, due}; due 0 clears it. Complaints and work orders
 * derive their timers from their records with this. */
int timer_move(MDB_txn *txn, const struct views *v, uint64_t seq,
               const char *id_key, const char *id, const char *rule,
               const char *cmd, int64_t due);
/* The timer key at due running cmd with body {ids[0]: ids[1], ...,
 * due}: ids are key/value string pairs ending with NULL (the record the
 * deadline belongs to); due 0 clears it. The register's own deadlines
 * (renovation, release pass, move-in) are armed with this. */
int timer_arm(MDB_txn *txn, const struct views *v, uint64_t seq,
              const char *key, const char *cmd, const char *const *ids,
              int64_t due);
/* Clears every timer whose key starts with prefix ("C12:"). */
int timer_clear_prefix(MDB_txn *txn, const struct views *v, uint64_t seq,
                       const char *prefix);
/* Calls fn(ctx, due, armed, entry) for every timer that was live once the
 * event at seq as_of had been applied (armed at or before it, not cleared
 * by then) and is due in [from, to), by due time; armed is the seq of the
 * event that armed it, entry is {key, cmd, body, cleared} and valid during
 * the call. fn returns >0 to stop, <0 for an error (returned). */
typedef int (*timer_live_fn)(void *ctx, int64_t due, uint64_t armed,
                             const msgpack_object *entry);
int timer_each_live(MDB_txn *txn, const struct views *v, int64_t from,
                    int64_t to, uint64_t as_of, timer_live_fn fn, void *ctx);
/* The earliest timer: 0 and t filled (release t->doc), or MDB_NOTFOUND. */
int timer_first_after(MDB_txn *txn, const struct views *v, int64_t after_due,
                      const char *after_key, struct timer *t);

/* Rewrites one key of the map stored under key (adds it if absent). */
int proj_update_field(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
                      const char *field, const msgpack_object *val);

/* Helpers for projections: put/get a msgpack value under a key. */
int proj_put(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
             const struct cw *val);
/* 0 and doc filled (release it), MDB_NOTFOUND, or ERR_UNAVAILABLE. With
 * doc NULL, whether the key is there, nothing decoded. */
int proj_get(MDB_txn *txn, MDB_dbi dbi, const void *key, size_t klen,
             struct codec_doc *doc);

#endif
