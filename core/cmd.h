/* core/cmd.h - the command table's types and the generic front that every
 * command passes before its handler: envelope decoding, field validation
 * from the table entry, role check. Handlers receive validated struct args
 * and a struct hctx through which they read state and emit events; they
 * never write to LMDB themselves. */
#ifndef DESKD_CMD_H
#define DESKD_CMD_H

#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "codec.h"
#include "config.h"
#include "err.h"
#include "log.h"

#define CMD_FIELDS_MAX 24   /* fields in one command body */
#define CMD_NAME_MAX 48     /* bytes in a command name */
#define CMD_DESK_MAX 32     /* bytes in a desk name */
#define CMD_LIST_MAX 64     /* items in a list field unless the table says */
#define LOG_READ_LIMIT 1000 /* events in one log.read reply */
#define LOG_READ_BYTES (4 * 1024 * 1024) /* bytes of events in one reply */

/* Field types. Money is integer fen; dec2 is a decimal with at most two
 * places (m² of area) carried as an integer of hundredths; dates are
 * "YYYY-MM-DD" (carried as a day number), times ISO 8601 (ms). */
#define FIELD_TYPES(X)                                                         \
    X(ID, "id")           /* [A-Za-z0-9_.-], 1..max bytes: codes, rooms */     \
    X(STR, "string")      /* one line of UTF-8, min..max bytes */              \
    X(TEXT, "text")       /* UTF-8 with newlines, min..max bytes */            \
    X(INT, "integer")     /* min..max */                                       \
    X(MONEY, "fen")       /* integer fen, min..max */                          \
    X(DEC2, "decimal(2)") /* number or "123.45", in hundredths, min..max */    \
    X(DATE, "date")                                                            \
    X(TIME, "time")                                                            \
    X(ENUM, "enum")                                                            \
    X(BOOL, "bool")                                                            \
    X(STRS, "list of strings") /* each 1..max bytes, at most min items */      \
    X(ANY, "map")              /* a map checked by the handler */

enum ftype {
#define X(n, s) FT_##n,
    FIELD_TYPES(X)
#undef X
};

#define F_REQ 1u /* must be present */

struct field {
    const char *name;
    enum ftype type;
    unsigned flags;
    int64_t min, max;           /* see enum ftype */
    const char *const *choices; /* FT_ENUM: NULL-terminated */
    const char *help;
};

struct args;
struct hctx;
typedef int (*cmd_fn)(struct hctx *h, const struct args *a, struct err *e);

#define CMD_QUERY 1u  /* reads only: no events, not deduplicated */
#define CMD_SYSTEM 2u /* envelope actor may be "system" (never from a desk) */

struct cmd_spec {
    const char *name;
    const char *help;
    unsigned roles; /* enum role bits allowed */
    unsigned flags;
    const struct field *fields; /* terminated by {NULL} */
    cmd_fn run;
    const char *example; /* body as JSON, for docs and deskctl */
};

/* The table (handlers/commands.c) and lookup. */
extern const struct cmd_spec cmd_table[];
extern const size_t cmd_table_len;
const struct cmd_spec *cmd_find(const char *name, size_t len);

/* The event types the handlers emit (handlers/events.c, from its
 * EVENT_TYPES list), for what must know them without knowing the domain:
 * the log's schema check, /api/meta. */
extern const char *const cmd_event_types[];
extern const size_t cmd_event_types_len;
bool cmd_event_type_known(const char *s, size_t len);

struct argv {
    bool set;
    int64_t i;     /* INT, MONEY, DEC2, DATE, TIME, ENUM, BOOL */
    const char *s; /* ID, STR, TEXT, ENUM (not NUL-terminated) */
    size_t len;
    const msgpack_object *o; /* the raw value */
};

struct args {
    const struct cmd_spec *spec;
    struct argv v[CMD_FIELDS_MAX];
};

/* The decoded envelope of one command frame. */
struct envelope {
    struct codec_doc doc;
    const char *id;
    size_t id_len;
    const char *cmd;
    size_t cmd_len;
    const char *actor;
    size_t actor_len;
    char desk[CMD_DESK_MAX + 1];
    const msgpack_object *body;   /* a map, or NULL when absent */
    const msgpack_object *expect; /* a map, or NULL */
};

/* At least one character of s (valid UTF-8) is not a space of any width. */
bool cmd_has_visible(const unsigned char *s, size_t n);

/* Parses and checks the envelope. ERR_BAD_REQUEST for anything malformed;
 * e->field names the envelope key. On error env->id may still be set (so the
 * reply can carry it) and the doc must still be released. */
int cmd_envelope_parse(struct envelope *env, const char *frame, size_t len,
                       struct err *e);
void cmd_envelope_release(struct envelope *env);

/* Validates env->body against spec into a. ERR_INVALID naming the field. */
int cmd_args_parse(const struct cmd_spec *spec, const msgpack_object *body,
                   int offset_min, struct args *a, struct err *e);
/* The one role test: whether op's role is among roles (enum role bits).
 * The table's check below uses it, and so do the few rules whose allowed
 * roles depend on the data (R-CARD-01: staff cards by a lead only). */
bool cmd_role_allows(const struct operator* op, unsigned roles);
/* Role check: ERR_FORBIDDEN unless op's role is allowed. */
int cmd_authorise(const struct cmd_spec *spec, const struct operator* op,
                  struct err *e);

#define CMD_DEC2_STR 24 /* "-92233720368547758.08" + NUL */
/* Hundredths as a decimal string: 12050 -> "120.50". */
void cmd_dec2_format(int64_t v, char buf[CMD_DEC2_STR]);

/* UTF-8 check shared with the field validator. */
bool cmd_utf8_ok(const unsigned char *s, size_t n, bool multiline);

/* Accessors by field name (the name must be in the spec: asserted). */
const struct argv *arg(const struct args *a, const char *name);
bool arg_has(const struct args *a, const char *name);
int64_t arg_int(const struct args *a, const char *name);
/* Copies a string argument into buf (NUL-terminated). */
void arg_copy(const struct args *a, const char *name, char *buf, size_t cap);

/* ---- handler context ---- */

struct views; /* projections/projections.h */

struct hevent {
    const char *type;
    char stream[LOG_STREAM_MAX + 1];
    size_t stream_len;
    int64_t occurred_at;
    size_t off, len; /* data in hctx.data */
};

struct hctx {
    MDB_txn *txn;  /* derived state: projections, streams, command ids */
    MDB_txn *ltxn; /* the log (events), for the handlers that read it */
    const struct views *v;
    struct log *log;
    const struct config *cfg;
    /* cfg->cal where its days may be read: the writer's thread. NULL on
     * the HTTP thread, where a calendar reload replaces them. */
    const struct calendar *cal;
    struct clock *clk;
    int64_t now; /* recorded_at of this command's events */
    const struct operator* op;
    const char *desk;
    uint64_t next_seq; /* the seq the first emitted event will get */
    struct cw *result; /* queries: write exactly one value */
    bool has_result;
    struct cw data;    /* event data, concatenated */
    size_t data_start; /* where the event being built begins */
    struct hevent *ev;
    size_t nev, cap;
};

void hctx_init(struct hctx *h);
void hctx_release(struct hctx *h);
/* Forget emitted events (before the next command). */
void hctx_reset(struct hctx *h);

/* Emits an event: the data is whatever the handler wrote to h->data since
 * hctx_data_begin(). stream is printf-formatted. Returns 0 or
 * ERR_UNAVAILABLE (out of memory) / ERR_INVALID (stream too long). */
struct cw *hctx_data_begin(struct hctx *h);
int hctx_emit(struct hctx *h, const char *type, int64_t occurred_at,
              const char *stream_fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
