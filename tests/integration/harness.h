/* tests/integration/harness.h - test support for integration tests: runs a
 * real deskd on random ports in a temporary directory, and talks to it the
 * way a desk client does (DEALER, msgpack frames) with commands written as
 * JSON text. Failures are reported on stderr with the reason and returned as
 * -1; nothing here aborts, so the calling test decides what to assert.
 *
 * The calendar's coverage warning (R-GEN-05) is off in the config written
 * here (calendar_warn_days = 0): the shipped calendar ends 2026-12-31 and
 * many tests run in November 2026, where its event would take a seq the
 * test counts on. A test of the warning turns it on with extra_ini.
 *
 * Environment: DESKD_BIN (default build/deskd), DESKD_CALENDAR (default
 * config/holidays.tsv), DESKD_RATES (default config/fees.tsv, the fee
 * schedule every test deskd gets), relative to the working directory;
 * DESKD_KEEP_TMP=1 keeps the temporary directory for a post-mortem. */
#ifndef DESKD_HARNESS_H
#define DESKD_HARNESS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../core/codec.h"
#include "../../core/err.h"

/* Bytes in a path, NUL included: PATH_MAX on Linux, which plain -std=c11
 * does not declare. */
#define H_PATH_MAX 4096
#define H_EP_MAX 256             /* bytes in an endpoint, NUL included */
#define H_START_TIMEOUT_MS 10000 /* wait for deskd to write its endpoints */
#define H_STOP_TIMEOUT_MS 10000  /* wait for exit after SIGTERM */
#define H_RECV_TIMEOUT_MS 10000  /* wait for one reply */

/* How to configure the server. Zeroed fields take the defaults. */
struct h_opts {
    bool real_clock;          /* default: clock = manual */
    const char *manual_start; /* default 2026-03-02T09:00:00+08:00 */
    int map_size_mb;          /* default 1 */
    int batch_max;            /* default 1024 */
    const char *operators;    /* extra "id = role, Name" lines for
                                 [operators] (the standard ones are admin,
                                 clerk1, lead1, mgr1, qa1, bench) */
    const char *extra_ini;    /* appended verbatim at the end; a repeated
                                 [deskd] or [time] key overrides */
    const char *data_dir;     /* default <dir>/var (e.g. on another
                                 filesystem); not removed by cleanup */
};

struct h_server {
    pid_t pid;                 /* 0 when not running */
    char dir[H_PATH_MAX];      /* the temporary directory, owned */
    char data_dir[H_PATH_MAX]; /* <dir>/var */
    char config[H_PATH_MAX];   /* <dir>/deskd.conf */
    char log_path[H_PATH_MAX]; /* <dir>/deskd.log: deskd's stdout+stderr */
    char cmd_ep[H_EP_MAX];     /* as read from <data_dir>/endpoints */
    char pub_ep[H_EP_MAX];
    char http_ep[H_EP_MAX]; /* "127.0.0.1:port" (HTTP), "" when off */
    /* Starts return as soon as the endpoints are known, also while deskd
     * still catches up derived state (endpoints "state catching_up");
     * by default they wait until it is ready. */
    bool early;
};

/* Makes a temporary directory, writes the config and starts deskd; returns
 * once deskd has published its endpoints. o may be NULL. On failure the
 * directory is removed and s->pid is 0. */
int h_server_start_opts(struct h_server *s, const struct h_opts *o);
/* Shorthand: default options plus extra_ini (may be NULL). */
int h_server_start(struct h_server *s, const char *extra_ini);
/* SIGTERM and wait. Returns the exit status (0 for a clean shutdown), 128+N
 * if killed by signal N, -1 if it did not exit in time (then SIGKILLed). */
int h_server_stop(struct h_server *s);
/* SIGKILL and wait, leaving the data dir as a crash would. */
int h_server_kill9(struct h_server *s);
/* Starts deskd again on the same config and data dir (stopping it first
 * with SIGTERM if running). The endpoints may change. */
int h_server_restart(struct h_server *s);
/* Kills deskd if still running and removes the temporary directory. */
void h_server_cleanup(struct h_server *s);
/* Lines of deskd's stderr (its log in the temp dir; every start appends
 * to it) that contain text; -1 if it cannot be read. */
int h_server_log_count(const struct h_server *s, const char *what);
/* Prints the tail of deskd's stderr (its log in the temp dir), for a test
 * that fails in a way only deskd can explain. */
void h_server_show_log(const struct h_server *s);
/* deskd commits the LMDB log after its journal (log_commit_ms) and
 * derived state lazily (derived_commit_ms): waits until the running
 * deskd's log, as a reader from outside the process sees it (deskaudit),
 * holds every event its journal does, and its derived state every event
 * of the log. 0, or -1 after 10 s. */
int h_derived_settled(const struct h_server *s);

/* A desk client: its own ZeroMQ context and one DEALER. */
struct h_client {
    void *ctx;
    void *sock;
};

int h_client_open(struct h_client *c, const char *endpoint);
/* CURVE (deskd with [security] mode = curve): server = deskd's public key,
 * secret = this client's secret key, both Z85 (40 chars). */
struct h_keys {
    const char *server;
    const char *secret;
};
int h_client_open_keys(struct h_client *c, const char *endpoint,
                       const struct h_keys *k);
void h_client_close(struct h_client *c);

#define H_CODE_MAX 32 /* bytes in an error code, NUL included */
#define H_ID_MAX 65   /* bytes in a command id (1..64), NUL included */

/* A decoded reply. The convenience fields are copied out; doc and the JSON
 * view point into memory the reply owns, valid until h_reply_release(). */
struct h_reply {
    char *frame; /* the raw bytes received */
    size_t len;
    struct codec_doc doc;
    bool parsed;
    bool ok;
    int64_t seq;               /* -1 when absent */
    size_t nevents;            /* entries in "events" */
    char id[H_ID_MAX];         /* "" when absent */
    char code[H_CODE_MAX];     /* error.code, "" on success */
    char field[ERR_FIELD_MAX]; /* error.field */
    char message[ERR_MSG_MAX]; /* error.message */
    json_t *json;              /* cache for h_reply_json() */
    char *text;                /* cache for h_reply_text() */
};

/* Sends one frame as is (malformed input tests). */
int h_send_raw(struct h_client *c, const void *buf, size_t len);
/* Receives one reply into r (r need not be initialised; release it after).
 * -1 on timeout or a reply that is not msgpack (r->frame still holds it). */
int h_recv(struct h_client *c, struct h_reply *r);
/* Converts the JSON envelope to msgpack, sends it and waits for the reply.
 * Returns 0 when a reply arrived, whether ok or not: check r->ok. Release r
 * afterwards in every case (a failed call leaves it safe to release). */
int h_call(struct h_client *c, const char *json_envelope, struct h_reply *r);
int h_callf(struct h_client *c, struct h_reply *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Parses a reply frame received some other way (multi-frame tests). */
int h_reply_from(struct h_reply *r, const void *buf, size_t len);
/* Sends raw bytes and waits for the reply. */
int h_call_raw(struct h_client *c, const void *buf, size_t len,
               struct h_reply *r);
/* Sends command name as actor with a body given as printf-formatted JSON
 * text; the command id is made unique per process. Same return as h_call. */
int h_cmdf(struct h_client *c, struct h_reply *r, const char *actor,
           const char *name, const char *body_fmt, ...)
    __attribute__((format(printf, 5, 6)));
void h_reply_release(struct h_reply *r);

/* The whole reply as JSON (bin values as hex). Borrowed: owned by r. */
json_t *h_reply_json(struct h_reply *r);
/* The reply as compact JSON text, for assertion messages. Owned by r. */
const char *h_reply_text(struct h_reply *r);

/* Looks up a dotted path: "result.unit.area", "events.0.data.unit" (a
 * number indexes an array). Borrowed reference or NULL. */
json_t *h_json_path(json_t *root, const char *path);
/* Path lookups in a reply; NULL / def when absent or of another type. */
json_t *h_reply_get(struct h_reply *r, const char *path);
const char *h_reply_str(struct h_reply *r, const char *path);
int64_t h_reply_int(struct h_reply *r, const char *path, int64_t def);

/* Event log through log.read. The callback gets each event as JSON
 * (borrowed, valid during the call) and returns nonzero to stop early.
 * h_log_all returns the number of events visited, or -1 on an error reply
 * or a gap in seq. Reads as operator "admin" (in the default config). */
typedef int (*h_event_fn)(json_t *event, void *arg);
int64_t h_log_all(struct h_client *c, h_event_fn fn, void *arg);
int64_t h_log_count(struct h_client *c);

/* An event subscriber (SUB). topic "" subscribes to everything. PUB drops
 * what is sent before the subscription reaches deskd: open it, then give it
 * a moment (~100 ms) before the commands whose events the test expects. */
struct h_sub {
    void *ctx;
    void *sock;
};

int h_sub_open(struct h_sub *s, const char *endpoint, const char *topic);
int h_sub_open_keys(struct h_sub *s, const char *endpoint, const char *topic,
                    const struct h_keys *k);
void h_sub_close(struct h_sub *s);
/* Receives one event: topic copied into topic[cap], the event as a new JSON
 * reference in *event (caller decrefs). -1 on timeout. */
int h_sub_recv(struct h_sub *s, char *topic, size_t cap, json_t **event,
               int timeout_ms);

#endif
