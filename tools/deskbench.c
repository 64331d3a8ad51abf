/* tools/deskbench.c - load generator for deskd: N DEALER connections, each
 * keeping K unit.register commands in flight (closed loop: K = 1), driven by
 * one zmq_poll loop in one thread, so that on a small machine the benchmark
 * does not take the CPU the server needs. Measures throughput, per-command
 * latency (send to reply, CLOCK_MONOTONIC) and, when given a directory on a
 * block device, the device's cache flushes per event.
 *
 * Talks the wire contract only (docs: ARCHITECTURE.md); builds frames with
 * struct cw and reads replies with codec_*, never msgpack directly. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* clock_gettime, getopt_long's optarg */
#endif

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "../core/codec.h"
#include "../core/err.h"
#include "curvecli.h"

#define BENCH_CLIENTS_MAX 4096       /* DEALER sockets */
#define BENCH_INFLIGHT_MAX 65536     /* commands in flight per socket */
#define BENCH_REPLY_TIMEOUT_MS 30000 /* silence that means deskd is stuck */
#define BENCH_ID_MAX 64              /* bytes in a command id (contract) */
#define BENCH_ERRMSG_MAX 512         /* bytes of the first failure kept */
#define BENCH_SYS_PATH_MAX 128       /* bytes in a /sys/dev/block path */
/* 1-based field of /sys/dev/block/M:m/stat: flush requests completed */
#define BENCH_FLUSH_FIELD 16
#define NS_PER_SEC INT64_C(1000000000)
#define NS_PER_US INT64_C(1000)

struct opts {
    const char *ep;
    int clients;
    int inflight;
    int64_t total; /* commands; 0 = run for secs */
    double secs;
    bool pipeline;
    bool setup;
    const char *actor;
    const char *setup_actor;
    const char *estate;
    const char *room_prefix;
    const char *dev; /* a path on the block device to watch, or NULL */
    bool read_log;   /* catch-up reader instead of the load */
    bool scatter;    /* rooms and ids out of order (--scatter) */
    /* CURVE (Z85 or files): the load's key (--actor's), the setup's key
     * (--setup-actor's), deskd's public key; NULL = plain */
    const char *key, *setup_key, *server_key;
};

/* One command in flight. */
struct slot {
    bool used;
    uint64_t counter;
    int64_t sent_ns;
};

struct conn {
    void *sock;
    int num;          /* building C<num> */
    uint64_t counter; /* commands sent on this connection */
    int inflight;
    struct slot *slots; /* opts.inflight of them */
};

struct stats {
    int64_t *lat_ns; /* one sample per reply */
    size_t n, cap;
    uint64_t sent, replies, events, failures;
    char first_error[BENCH_ERRMSG_MAX];
};

struct bench {
    struct opts o;
    void *ctx;
    struct conn *conns;
    zmq_pollitem_t *items;
    struct cw w; /* the frame being built */
    int64_t t0, t_end, deadline;
    int inflight; /* over all connections */
    struct stats st;
    void *setup_sock; /* CURVE: the setup actor's own connection */
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

__attribute__((format(printf, 1, 2))) _Noreturn static void die(const char *fmt,
                                                                ...)
{
    va_list ap;
    fputs("deskbench: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

/* ---- frames ---- */

static void frame_begin(struct cw *w, const char *id, const char *cmd,
                        const char *actor)
{
    cw_reset(w);
    cw_map(w, 4);
    cw_kstr(w, "id", id);
    cw_kstr(w, "cmd", cmd);
    cw_kstr(w, "actor", actor);
    cw_str(w, "body");
}

/* A bijection of 32-bit numbers whose outputs look random (a
 * multiply-xorshift hash): the n-th room of --scatter, distinct for every
 * n below 2^32. */
static uint32_t scatter32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

static void frame_unit(struct bench *b, const struct conn *c, uint64_t n)
{
    char id[BENCH_ID_MAX + 1], s[BENCH_ID_MAX + 1];

    /* in order, consecutive commands touch the same pages of every table
     * keyed by unit or command id; scattered, as desks' would be, they
     * do not */
    uint64_t room = b->o.scatter ? scatter32((uint32_t)n) : n;

    if (b->o.scatter) /* the counter stays last: replies are matched by it */
        snprintf(id, sizeof(id), "b%d-%d-%" PRIu64 "-%" PRIu64, (int)getpid(),
                 c->num, room, n);
    else
        snprintf(id, sizeof(id), "b%d-%d-%" PRIu64, (int)getpid(), c->num, n);
    frame_begin(&b->w, id, "unit.register", b->o.actor);
    cw_map(&b->w, 5);
    cw_kstr(&b->w, "estate", b->o.estate);
    snprintf(s, sizeof(s), "C%d", c->num);
    cw_kstr(&b->w, "building", s);
    snprintf(s, sizeof(s), "%s%" PRIu64, b->o.room_prefix, room);
    cw_kstr(&b->w, "room", s);
    cw_kstr(&b->w, "area", "88.50");
    cw_kstr(&b->w, "type", "residence");
}

/* "code: message (field)" of a failed reply. */
static void describe_error(const msgpack_object *reply, char *buf, size_t cap)
{
    const msgpack_object *er = codec_get(reply, "error");
    char code[32], msg[ERR_MSG_MAX], field[ERR_FIELD_MAX];

    codec_copy_str(er, "code", code, sizeof(code));
    codec_copy_str(er, "message", msg, sizeof(msg));
    codec_copy_str(er, "field", field, sizeof(field));
    snprintf(buf, cap, "%s: %s%s%s%s", er ? code : "no error in reply", msg,
             field[0] ? " (" : "", field, field[0] ? ")" : "");
}

/* ---- setup: synchronous calls on connection 0 ---- */

/* Sends b->w and waits for its reply; ok and conflict (already there from
 * an earlier run) both count as success. */
static void setup_call(struct bench *b, const char *what)
{
    void *sock = b->setup_sock ? b->setup_sock : b->conns[0].sock;
    zmq_msg_t m;
    struct codec_doc d;
    struct err e = {0};
    bool ok = false;
    char why[BENCH_ERRMSG_MAX];

    if (zmq_send(sock, cw_data(&b->w), cw_len(&b->w), 0) < 0)
        die("setup %s: send: %s", what, zmq_strerror(zmq_errno()));
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, sock, 0) < 0)
        die("setup %s: no reply: %s", what, zmq_strerror(zmq_errno()));
    if (codec_doc_parse_trusted(&d, zmq_msg_data(&m), zmq_msg_size(&m), &e))
        die("setup %s: bad reply: %s", what, e.msg);
    codec_get_bool(d.obj, "ok", &ok);
    describe_error(d.obj, why, sizeof(why));
    if (!ok && strncmp(why, "conflict:", strlen("conflict:")))
        die("setup %s: %s", what, why);
    codec_doc_release(&d);
    zmq_msg_close(&m);
}

static void setup(struct bench *b)
{
    char id[BENCH_ID_MAX + 1], what[32];
    int rcvtimeo = BENCH_REPLY_TIMEOUT_MS;

    zmq_setsockopt(b->setup_sock ? b->setup_sock : b->conns[0].sock,
                   ZMQ_RCVTIMEO, &rcvtimeo, sizeof(rcvtimeo));
    snprintf(id, sizeof(id), "b%d-setup-estate", (int)getpid());
    frame_begin(&b->w, id, "estate.register", b->o.setup_actor);
    cw_map(&b->w, 2);
    cw_kstr(&b->w, "code", b->o.estate);
    cw_kstr(&b->w, "name", "Benchmark estate");
    setup_call(b, "estate");
    for (int i = 0; i < b->o.clients; i++) {
        snprintf(id, sizeof(id), "b%d-setup-C%d", (int)getpid(), i);
        snprintf(what, sizeof(what), "building C%d", i);
        frame_begin(&b->w, id, "building.register", b->o.setup_actor);
        cw_map(&b->w, 3);
        cw_kstr(&b->w, "estate", b->o.estate);
        cw_kstr(&b->w, "building", what + strlen("building "));
        cw_kstr(&b->w, "name", what);
        setup_call(b, what);
    }
}

/* ---- the load loop ---- */

static bool want_more(const struct bench *b)
{
    if (b->o.total)
        return b->st.sent < (uint64_t)b->o.total;
    return now_ns() < b->deadline;
}

static void send_one(struct bench *b, struct conn *c)
{
    struct slot *s = c->slots;

    while (s->used)
        s++;
    frame_unit(b, c, ++c->counter);
    s->used = true;
    s->counter = c->counter;
    s->sent_ns = now_ns();
    if (zmq_send(c->sock, cw_data(&b->w), cw_len(&b->w), ZMQ_DONTWAIT) < 0)
        die("send on C%d: %s", c->num, zmq_strerror(zmq_errno()));
    c->inflight++;
    b->inflight++;
    b->st.sent++;
}

static void fill(struct bench *b, struct conn *c)
{
    while (c->inflight < b->o.inflight && want_more(b))
        send_one(b, c);
}

static void record_latency(struct stats *st, int64_t ns)
{
    if (st->n == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 65536;
        st->lat_ns = realloc(st->lat_ns, st->cap * sizeof(*st->lat_ns));
        if (!st->lat_ns)
            die("out of memory for %zu latency samples", st->cap);
    }
    st->lat_ns[st->n++] = ns;
}

/* The slot of the command this reply answers: the counter is the id's last
 * "-"-separated part. */
static struct slot *match_slot(struct bench *b, struct conn *c,
                               const msgpack_object *reply)
{
    char id[BENCH_ID_MAX + 1], why[BENCH_ERRMSG_MAX];
    const char *dash;
    uint64_t n;

    codec_copy_str(reply, "id", id, sizeof(id));
    dash = strrchr(id, '-');
    n = dash ? strtoull(dash + 1, NULL, 10) : 0;
    for (int i = 0; i < b->o.inflight; i++)
        if (c->slots[i].used && c->slots[i].counter == n)
            return &c->slots[i];
    describe_error(reply, why, sizeof(why));
    die("reply with unknown id '%s' on C%d (%s)", id, c->num, why);
}

static void count_reply(struct stats *st, const msgpack_object *reply)
{
    const msgpack_object *ev = codec_get(reply, "events");
    bool ok = false;

    codec_get_bool(reply, "ok", &ok);
    if (ok && ev && ev->type == MSGPACK_OBJECT_ARRAY) {
        st->events += ev->via.array.size;
        return;
    }
    if (st->failures++ == 0)
        describe_error(reply, st->first_error, sizeof(st->first_error));
}

static void on_reply(struct bench *b, struct conn *c, const char *buf,
                     size_t len, int64_t t)
{
    struct codec_doc d;
    struct err e = {0};
    struct slot *s;

    if (codec_doc_parse_trusted(&d, buf, len, &e))
        die("undecodable reply on C%d: %s", c->num, e.msg);
    s = match_slot(b, c, d.obj);
    record_latency(&b->st, t - s->sent_ns);
    s->used = false;
    c->inflight--;
    b->inflight--;
    b->st.replies++;
    count_reply(&b->st, d.obj);
    codec_doc_release(&d);
}

/* Reads every reply waiting on c, then tops its window up again. */
static void drain(struct bench *b, struct conn *c)
{
    zmq_msg_t m;

    zmq_msg_init(&m);
    while (zmq_msg_recv(&m, c->sock, ZMQ_DONTWAIT) >= 0) {
        if (zmq_msg_more(&m))
            die("reply on C%d has more than one frame", c->num);
        b->t_end = now_ns();
        on_reply(b, c, zmq_msg_data(&m), zmq_msg_size(&m), b->t_end);
    }
    if (zmq_errno() != EAGAIN)
        die("recv on C%d: %s", c->num, zmq_strerror(zmq_errno()));
    zmq_msg_close(&m);
    fill(b, c);
}

static void run(struct bench *b)
{
    int rc;

    b->t0 = b->t_end = now_ns();
    b->deadline = b->t0 + (int64_t)(b->o.secs * (double)NS_PER_SEC);
    for (int i = 0; i < b->o.clients; i++)
        fill(b, &b->conns[i]);
    while (b->inflight > 0) {
        rc = zmq_poll(b->items, b->o.clients, BENCH_REPLY_TIMEOUT_MS);
        if (rc < 0 && zmq_errno() != EINTR)
            die("zmq_poll: %s", zmq_strerror(zmq_errno()));
        if (rc == 0)
            die("no reply for %d ms with %d commands in flight",
                BENCH_REPLY_TIMEOUT_MS, b->inflight);
        for (int i = 0; rc > 0 && i < b->o.clients; i++)
            if (b->items[i].revents & ZMQ_POLLIN)
                drain(b, &b->conns[i]);
    }
}

/* ---- connections ---- */

static void open_conns(struct bench *b)
{
    int zero = 0;

    b->ctx = zmq_ctx_new();
    b->conns = calloc((size_t)b->o.clients, sizeof(*b->conns));
    b->items = calloc((size_t)b->o.clients, sizeof(*b->items));
    if (!b->ctx || !b->conns || !b->items)
        die("out of memory for %d connections", b->o.clients);
    for (int i = 0; i < b->o.clients; i++) {
        struct conn *c = &b->conns[i];
        c->num = i;
        c->slots = calloc((size_t)b->o.inflight, sizeof(*c->slots));
        c->sock = zmq_socket(b->ctx, ZMQ_DEALER);
        if (!c->slots || !c->sock)
            die("cannot make connection %d: %s", i, zmq_strerror(errno));
        zmq_setsockopt(c->sock, ZMQ_LINGER, &zero, sizeof(zero));
        zmq_setsockopt(c->sock, ZMQ_SNDHWM, &zero, sizeof(zero));
        zmq_setsockopt(c->sock, ZMQ_RCVHWM, &zero, sizeof(zero));
        if (b->o.server_key && curve_client(c->sock, b->o.key, b->o.server_key))
            die("connection %d: CURVE keys", i);
        if (zmq_connect(c->sock, b->o.ep))
            die("cannot connect to '%s': %s", b->o.ep,
                zmq_strerror(zmq_errno()));
        b->items[i] = (zmq_pollitem_t){c->sock, 0, ZMQ_POLLIN, 0};
    }
    if (b->o.server_key) {
        b->setup_sock = zmq_socket(b->ctx, ZMQ_DEALER);
        zmq_setsockopt(b->setup_sock, ZMQ_LINGER, &zero, sizeof(zero));
        if (!b->setup_sock ||
            curve_client(b->setup_sock, b->o.setup_key, b->o.server_key) ||
            zmq_connect(b->setup_sock, b->o.ep))
            die("setup connection: CURVE keys or connect");
    }
}

static void close_conns(struct bench *b)
{
    if (b->setup_sock)
        zmq_close(b->setup_sock);
    for (int i = 0; i < b->o.clients; i++) {
        zmq_close(b->conns[i].sock);
        free(b->conns[i].slots);
    }
    zmq_ctx_term(b->ctx);
    free(b->conns);
    free(b->items);
}

/* ---- flush statistics ---- */

/* Field BENCH_FLUSH_FIELD of a /sys/dev/block stat file; -1 if the file or
 * the field (kernels before 5.5) is missing. */
static int64_t read_flushes(const char *path)
{
    unsigned long long v = 0;
    int64_t out = -1;
    FILE *f = fopen(path, "r");

    if (!f)
        return -1;
    for (int i = 1; i <= BENCH_FLUSH_FIELD && fscanf(f, "%llu", &v) == 1; i++)
        if (i == BENCH_FLUSH_FIELD)
            out = (int64_t)v;
    fclose(f);
    return out;
}

/* Flushes completed by the block device holding path (a directory on it,
 * or the device node itself); a partition without the counter falls back to
 * its disk. -1 if unknown (tmpfs, overlay, no path given). */
static int64_t device_flushes(const char *path)
{
    char sys[BENCH_SYS_PATH_MAX];
    struct stat st;
    dev_t dev;
    int64_t n;

    if (!path || stat(path, &st))
        return -1;
    dev = S_ISBLK(st.st_mode) ? st.st_rdev : st.st_dev;
    snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/stat", major(dev),
             minor(dev));
    n = read_flushes(sys);
    if (n >= 0)
        return n;
    snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/../stat", major(dev),
             minor(dev));
    return read_flushes(sys);
}

/* ---- report ---- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile, p in thousandths, of sorted samples; in us. */
static int64_t pct_us(const struct stats *st, size_t permille)
{
    size_t rank = (st->n * permille + 999) / 1000;

    if (st->n == 0)
        return -1;
    return st->lat_ns[rank ? rank - 1 : 0] / NS_PER_US;
}

static void report(struct bench *b, int64_t flushes)
{
    struct stats *st = &b->st;
    double secs = (double)(b->t_end - b->t0) / (double)NS_PER_SEC;
    double rate = secs > 0 ? (double)st->events / secs : 0;
    double fpe =
        flushes >= 0 && st->events ? (double)flushes / (double)st->events : -1;

    qsort(st->lat_ns, st->n, sizeof(*st->lat_ns), cmp_i64);
    printf("clients=%d mode=%s inflight=%d cmds=%" PRIu64 " events=%" PRIu64
           " failures=%" PRIu64 " secs=%.3f rate=%.0f p50_us=%" PRId64
           " p99_us=%" PRId64 " p999_us=%" PRId64 " flushes=%" PRId64
           " flush_per_ev=%.3f\n",
           b->o.clients, b->o.pipeline ? "pipeline" : "closed", b->o.inflight,
           st->replies, st->events, st->failures, secs, rate, pct_us(st, 500),
           pct_us(st, 990), pct_us(st, 999), flushes, fpe);
    if (st->failures)
        fprintf(stderr,
                "deskbench: %" PRIu64 " of %" PRIu64
                " commands failed; first: %s\n",
                st->failures, st->replies, st->first_error);
}

/* ---- options ---- */

static void usage(FILE *f)
{
    fputs(
        "usage: deskbench -e ENDPOINT [-c CLIENTS] [-n TOTAL | -t SECONDS]"
        " [--pipeline INFLIGHT]\n"
        "                 [--actor ID] [--setup-actor ID] [--dev PATH]"
        " [--setup | --no-setup]\n"
        "                 [--estate CODE] [--room-prefix PREFIX] [--scatter]\n"
        "  -e, --endpoint   deskd command endpoint (tcp://127.0.0.1:7700)\n"
        "  -c, --clients    DEALER connections, one command in flight each"
        " (16)\n"
        "  -n, --total      stop after this many commands\n"
        "  -t, --time       run this many seconds (10) when -n is not given\n"
        "  --pipeline K     one connection (unless -c) with K in flight\n"
        "  --actor ID       operator sending unit.register (bench)\n"
        "  --setup-actor ID operator for the setup commands, a cs_lead,\n"
        "                   manager or admin (admin)\n"
        "  --dev PATH       a path on deskd's data device: report flushes\n"
        "  --setup          register the estate and buildings C0.. (default)"
        "\n"
        "  --no-setup       skip that (they exist already)\n"
        "  --estate CODE    estate code (BENCH)\n"
        "  --room-prefix P  rooms are P<counter> (default <pid base 36>-, so\n"
        "                   runs on one data dir do not collide; '' for\n"
        "                   plain numbers; at most 16 bytes in all)\n"
        "  --scatter        rooms (and command ids) in scrambled order, so\n"
        "                   that consecutive commands do not share pages\n"
        "  --read-log       instead: read the whole log with log.read, 1000\n"
        "                   events a call, as a subscriber catching up does\n"
        "  --key K --setup-key K --server-key K\n"
        "                   CURVE (deskd in [security] mode = curve): the\n"
        "                   actor's and the setup actor's secret keys and\n"
        "                   deskd's public key, Z85 or files\n"
        "Prints one line of key=value; exits 1 if any command failed.\n",
        f);
}

static long num_arg(const char *name, const char *v, long lo, long hi)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < lo || n > hi) {
        fprintf(stderr, "deskbench: %s '%s' is not in %ld..%ld\n", name, v, lo,
                hi);
        usage(stderr);
        exit(2);
    }
    return n;
}

enum {
    OPT_PIPELINE = 256,
    OPT_ACTOR,
    OPT_SETUP_ACTOR,
    OPT_DEV,
    OPT_SETUP,
    OPT_NO_SETUP,
    OPT_ESTATE,
    OPT_ROOM_PREFIX,
    OPT_SCATTER,
    OPT_READ_LOG,
    OPT_KEY,
    OPT_SETUP_KEY,
    OPT_SERVER_KEY
};

static const struct option long_opts[] = {
    {"endpoint", required_argument, NULL, 'e'},
    {"clients", required_argument, NULL, 'c'},
    {"total", required_argument, NULL, 'n'},
    {"time", required_argument, NULL, 't'},
    {"help", no_argument, NULL, 'h'},
    {"pipeline", required_argument, NULL, OPT_PIPELINE},
    {"actor", required_argument, NULL, OPT_ACTOR},
    {"setup-actor", required_argument, NULL, OPT_SETUP_ACTOR},
    {"dev", required_argument, NULL, OPT_DEV},
    {"setup", no_argument, NULL, OPT_SETUP},
    {"no-setup", no_argument, NULL, OPT_NO_SETUP},
    {"estate", required_argument, NULL, OPT_ESTATE},
    {"room-prefix", required_argument, NULL, OPT_ROOM_PREFIX},
    {"scatter", no_argument, NULL, OPT_SCATTER},
    {"read-log", no_argument, NULL, OPT_READ_LOG},
    {"key", required_argument, NULL, OPT_KEY},
    {"setup-key", required_argument, NULL, OPT_SETUP_KEY},
    {"server-key", required_argument, NULL, OPT_SERVER_KEY},
    {NULL, 0, NULL, 0},
};

/* Applies one option; clients_set notes an explicit -c. */
static void apply_opt(struct opts *o, int ch, const char *v, bool *clients_set)
{
    switch (ch) {
    case 'e':
        o->ep = v;
        break;
    case 'c':
        o->clients = (int)num_arg("-c", v, 1, BENCH_CLIENTS_MAX);
        *clients_set = true;
        break;
    case 'n':
        o->total = num_arg("-n", v, 1, INT32_MAX);
        break;
    case 't':
        o->secs = (double)num_arg("-t", v, 1, 86400);
        break;
    case OPT_PIPELINE:
        o->inflight = (int)num_arg("--pipeline", v, 1, BENCH_INFLIGHT_MAX);
        o->pipeline = true;
        break;
    case OPT_ACTOR:
        o->actor = v;
        break;
    case OPT_SETUP_ACTOR:
        o->setup_actor = v;
        break;
    case OPT_DEV:
        o->dev = v;
        break;
    case OPT_SETUP:
        o->setup = true;
        break;
    case OPT_NO_SETUP:
        o->setup = false;
        break;
    case OPT_ESTATE:
        o->estate = v;
        break;
    case OPT_ROOM_PREFIX:
        o->room_prefix = v;
        break;
    case OPT_SCATTER:
        o->scatter = true;
        break;
    case OPT_READ_LOG:
        o->read_log = true;
        break;
    case OPT_KEY:
        o->key = v;
        break;
    case OPT_SETUP_KEY:
        o->setup_key = v;
        break;
    case OPT_SERVER_KEY:
        o->server_key = v;
        break;
    case 'h':
        usage(stdout);
        exit(0);
    default:
        usage(stderr);
        exit(2);
    }
}

/* "<pid in base 36>-": rooms are codes of at most 16 bytes, and runs
 * against one data dir must not register the same unit twice. */
static const char *default_room_prefix(void)
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    static char prefix[16];
    char tmp[16];
    unsigned long pid = (unsigned long)getpid();
    size_t n = 0, i = 0;

    do
        tmp[n++] = digits[pid % 36];
    while ((pid /= 36) && n < sizeof(tmp));
    while (n)
        prefix[i++] = tmp[--n];
    prefix[i++] = '-';
    prefix[i] = '\0';
    return prefix;
}

static void parse_opts(struct opts *o, int argc, char **argv)
{
    bool clients_set = false;
    int ch;

    *o = (struct opts){.clients = 16,
                       .inflight = 1,
                       .secs = 10,
                       .setup = true,
                       .actor = "bench",
                       .setup_actor = "admin",
                       .estate = "BENCH",
                       .room_prefix = default_room_prefix()};
    while ((ch = getopt_long(argc, argv, "e:c:n:t:h", long_opts, NULL)) != -1)
        apply_opt(o, ch, optarg, &clients_set);
    if (!o->ep || optind != argc) {
        usage(stderr);
        exit(2);
    }
    if (o->pipeline && !clients_set)
        o->clients = 1;
    if (o->server_key && !o->key) {
        fprintf(stderr, "deskbench: --server-key needs --key\n");
        exit(2);
    }
    if (!o->setup_key)
        o->setup_key = o->key;
}

/* ---- catch-up reader ---- */

/* log.read from 1 to the end, LOG_PAGE events a call, one call at a time;
 * checks that seq runs 1, 2, 3... */
#define LOG_PAGE 1000
static int read_log(const struct opts *o)
{
    void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_DEALER);
    int timeout = BENCH_REPLY_TIMEOUT_MS, zero = 0;
    struct cw w;
    uint64_t next = 1, calls = 0, bytes = 0;
    int64_t t0 = now_ns(), t1;

    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
    if (o->server_key && curve_client(s, o->setup_key, o->server_key))
        die("CURVE keys");
    if (zmq_connect(s, o->ep))
        die("connect %s: %s", o->ep, zmq_strerror(zmq_errno()));
    cw_init(&w);
    for (;;) {
        char id[BENCH_ID_MAX + 1];
        const msgpack_object *evs;
        struct codec_doc d;
        struct err e = {0};
        zmq_msg_t m;
        uint32_t n;

        snprintf(id, sizeof(id), "r%d-%" PRIu64, (int)getpid(), calls++);
        frame_begin(&w, id, "log.read", o->setup_actor);
        cw_map(&w, 2);
        cw_kint(&w, "from", (int64_t)next);
        cw_kint(&w, "limit", LOG_PAGE);
        if (zmq_send(s, cw_data(&w), cw_len(&w), 0) < 0)
            die("send: %s", zmq_strerror(zmq_errno()));
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, s, 0) < 0)
            die("log.read: no reply: %s", zmq_strerror(zmq_errno()));
        bytes += zmq_msg_size(&m);
        if (codec_doc_parse_trusted(&d, zmq_msg_data(&m), zmq_msg_size(&m), &e))
            die("log.read: bad reply: %s", e.msg);
        evs = codec_get(codec_get(d.obj, "result"), "events");
        if (!evs || evs->type != MSGPACK_OBJECT_ARRAY)
            die("log.read refused (operator '%s')", o->setup_actor);
        n = evs->via.array.size;
        for (uint32_t i = 0; i < n; i++) {
            int64_t seq;
            if (codec_get_int(&evs->via.array.ptr[i], "seq", &seq) ||
                (uint64_t)seq != next)
                die("log.read: expected seq %" PRIu64, next);
            next++;
        }
        codec_doc_release(&d);
        zmq_msg_close(&m);
        if (n == 0)
            break;
    }
    t1 = now_ns();
    printf("mode=read_log events=%" PRIu64 " calls=%" PRIu64 " bytes=%" PRIu64
           " secs=%.3f rate=%.0f\n",
           next - 1, calls, bytes, (double)(t1 - t0) / NS_PER_SEC,
           (double)(next - 1) * NS_PER_SEC / (double)(t1 - t0 ? t1 - t0 : 1));
    cw_release(&w);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return 0;
}

int main(int argc, char **argv)
{
    struct bench b = {0};
    int64_t f0, f1;

    parse_opts(&b.o, argc, argv);
    if (b.o.read_log)
        return read_log(&b.o);
    cw_init(&b.w);
    open_conns(&b);
    if (b.o.setup)
        setup(&b);
    f0 = device_flushes(b.o.dev);
    run(&b);
    f1 = device_flushes(b.o.dev);
    report(&b, f0 >= 0 && f1 >= 0 ? f1 - f0 : -1);
    close_conns(&b);
    cw_release(&b.w);
    free(b.st.lat_ns);
    return b.st.failures ? 1 : 0;
}
