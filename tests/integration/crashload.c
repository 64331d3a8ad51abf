/* tests/integration/crashload.c - load and checks for crash tests (see
 * crashload.h). */
#include "crashload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#define ID_LEN 24
#define RESEND_RECENT 32  /* acknowledged ids of the last run resent */
#define RESEND_ANY 32     /* and acknowledged ids from any run */
#define RESEND_WINDOW 256 /* resends in flight in cl_resend_all */

static struct {
    int64_t *seq; /* seq of the acknowledging reply, 0 when not acked */
    size_t n, cap;
    size_t run_start; /* first id of the last run */
    long carry[CL_DESKS];
} led;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cl_init(size_t max_ids)
{
    memset(&led, 0, sizeof(led));
    led.seq = calloc(max_ids, sizeof(*led.seq));
    led.cap = max_ids;
    for (int d = 0; d < CL_DESKS; d++)
        led.carry[d] = -1;
    return led.seq ? 0 : -1;
}

void cl_free(void)
{
    free(led.seq);
    led.seq = NULL;
}

size_t cl_sent(void)
{
    return led.n;
}

size_t cl_acked(void)
{
    size_t a = 0;
    for (size_t i = 0; i < led.n; i++)
        a += led.seq[i] > 0;
    return a;
}

/* Command i is always the same unit in the same building, so a resend
 * with the same id is byte-for-byte the same command. */
static int send_unit(void *sock, long i, int flags)
{
    struct cw w;
    char building[16], room[24], id[ID_LEN];
    int rc;

    snprintf(building, sizeof(building), "C%ld", i % CL_DESKS);
    snprintf(room, sizeof(room), "x%ld", i);
    snprintf(id, sizeof(id), "k%ld", i);
    cw_init(&w);
    cw_map(&w, 4);
    cw_kstr(&w, "id", id);
    cw_kstr(&w, "cmd", "unit.register");
    cw_kstr(&w, "actor", "bench");
    cw_str(&w, "body");
    cw_map(&w, 5);
    cw_kstr(&w, "estate", "CR");
    cw_kstr(&w, "building", building);
    cw_kstr(&w, "room", room);
    cw_kstr(&w, "area", "88.50");
    cw_kstr(&w, "type", "residence");
    rc = zmq_send(sock, cw_data(&w), cw_len(&w), flags);
    cw_release(&w);
    return rc < 0 ? -1 : 0;
}

/* The ledger index encoded in an id "k<index>", -1 for another id. */
static long id_index(const char *s, size_t n)
{
    char buf[ID_LEN], *end;
    long i;
    if (n < 2 || n >= sizeof(buf) || s[0] != 'k')
        return -1;
    memcpy(buf, s + 1, n - 1);
    buf[n - 1] = '\0';
    i = strtol(buf, &end, 10);
    return *end || i < 0 || (size_t)i >= led.n ? -1 : i;
}

static void on_reply(const char *frame, size_t len)
{
    struct codec_doc d;
    const char *id;
    size_t n;
    bool ok = false;
    int64_t seq = 0;
    long i;
    if (codec_doc_parse(&d, frame, len, NULL))
        return;
    if (!codec_get_str(d.obj, "id", &id, &n) &&
        !codec_get_bool(d.obj, "ok", &ok) && ok &&
        !codec_get_int(d.obj, "seq", &seq) && seq > 0 &&
        (i = id_index(id, n)) >= 0)
        led.seq[i] = seq;
    codec_doc_release(&d);
}

/* The ledger grows with the run: `make torture`'s default 200 kills sent
 * more than the 400,000 ids it was first sized for. */
static long next_command(void)
{
    if (led.n == led.cap) {
        int64_t *more = realloc(led.seq, 2 * led.cap * sizeof(*led.seq));
        if (!more)
            return -1;
        memset(more + led.cap, 0, led.cap * sizeof(*more));
        led.seq = more;
        led.cap *= 2;
    }
    return (long)led.n++;
}

int cl_write_then(const struct h_server *s, int64_t run_ms,
                  void (*crash)(void *), void *arg)
{
    void *ctx = zmq_ctx_new();
    void *sock[CL_DESKS];
    long pending[CL_DESKS];
    zmq_pollitem_t it[CL_DESKS];
    int64_t crash_at = now_ms() + run_ms;
    static char buf[1 << 16];
    int rc = 0;

    led.run_start = led.n;
    for (int d = 0; d < CL_DESKS; d++) {
        int linger = 0;
        sock[d] = zmq_socket(ctx, ZMQ_DEALER);
        zmq_setsockopt(sock[d], ZMQ_LINGER, &linger, sizeof(linger));
        zmq_connect(sock[d], s->cmd_ep);
        it[d] = (zmq_pollitem_t){sock[d], 0, ZMQ_POLLIN, 0};
        pending[d] = led.carry[d] >= 0 && !led.seq[led.carry[d]]
                         ? led.carry[d]
                         : next_command();
        if (pending[d] < 0)
            rc = -1;
        else
            send_unit(sock[d], pending[d], ZMQ_DONTWAIT);
    }
    while (rc == 0 && now_ms() < crash_at) {
        if (zmq_poll(it, CL_DESKS, 5) <= 0)
            continue;
        for (int d = 0; d < CL_DESKS; d++) {
            int n;
            if (!(it[d].revents & ZMQ_POLLIN))
                continue;
            n = zmq_recv(sock[d], buf, sizeof(buf), ZMQ_DONTWAIT);
            if (n <= 0 || n > (int)sizeof(buf))
                continue;
            on_reply(buf, (size_t)n);
            if ((pending[d] = next_command()) < 0) {
                rc = -1;
                break;
            }
            send_unit(sock[d], pending[d], ZMQ_DONTWAIT);
        }
    }
    crash(arg);
    memcpy(led.carry, pending, sizeof(led.carry));
    for (int d = 0; d < CL_DESKS; d++)
        zmq_close(sock[d]);
    zmq_ctx_term(ctx);
    if (rc)
        fprintf(stderr, "crashload: no memory for more than %zu commands\n",
                led.cap);
    return rc;
}

long cl_resend_carried(const struct h_server *s)
{
    struct h_client c;
    struct h_reply r;
    long ok = 0;

    if (h_client_open(&c, s->cmd_ep))
        return -1;
    for (int d = 0; d < CL_DESKS; d++) {
        long i = led.carry[d];
        if (i < 0 || led.seq[i])
            continue;
        if (send_unit(c.sock, i, 0) || h_recv(&c, &r)) {
            h_client_close(&c);
            return -1;
        }
        on_reply(r.frame, r.len);
        ok += led.seq[i] > 0;
        h_reply_release(&r);
    }
    h_client_close(&c);
    return ok;
}

int cl_setup_estate(const struct h_server *s)
{
    struct h_client c;
    struct h_reply r;
    int rc;

    if (h_client_open(&c, s->cmd_ep))
        return -1;
    rc = h_call(&c,
                "{\"id\":\"e\",\"cmd\":\"estate.register\",\"actor\":"
                "\"admin\",\"body\":{\"code\":\"CR\",\"name\":\"Crash\"}}",
                &r);
    rc = rc || !r.ok ? -1 : 0;
    h_reply_release(&r);
    for (int d = 0; d < CL_DESKS && rc == 0; d++) {
        rc = h_callf(&c, &r,
                     "{\"id\":\"b%d\",\"cmd\":\"building.register\",\"actor\":"
                     "\"admin\",\"body\":{\"estate\":\"CR\",\"building\":"
                     "\"C%d\"}}",
                     d, d);
        rc = rc || !r.ok ? -1 : 0;
        h_reply_release(&r);
    }
    h_client_close(&c);
    return rc;
}

struct count_ctx {
    unsigned short *seen;
    long dup;
};

static int count_event(json_t *ev, void *arg)
{
    struct count_ctx *c = arg;
    const char *id = json_string_value(json_object_get(ev, "cmd_id"));
    long i = id ? id_index(id, strlen(id)) : -1;
    if (i >= 0 && c->seen[i]++)
        c->dup++;
    return 0;
}

/* deskd --verify / --rebuild on the data dir, beside the running server. */
static int audit(const struct h_server *s, const char *flag)
{
    char cmd[3 * H_PATH_MAX];
    const char *bin = getenv("DESKD_BIN") ? getenv("DESKD_BIN") : "build/deskd";
    snprintf(cmd, sizeof(cmd), "%s -c %s %s > /dev/null", bin, s->config, flag);
    return system(cmd);
}

/* Sends acknowledged id i again: the reply must be the first one, marked
 * duplicate. */
static bool resend_is_duplicate(struct h_client *c, long i)
{
    struct h_reply r;
    bool good = false;
    if (send_unit(c->sock, i, 0) == 0 && h_recv(c, &r) == 0)
        good = r.ok && r.seq == led.seq[i] &&
               json_is_true(h_reply_get(&r, "duplicate"));
    if (!good)
        fprintf(stderr, "crashload: resent k%ld (seq %lld): %s\n", i,
                (long long)led.seq[i], h_reply_text(&r));
    h_reply_release(&r);
    return good;
}

static void check_resends(struct h_client *c, struct cl_result *r)
{
    long recent = 0;
    for (size_t i = led.n; i-- > led.run_start && recent < RESEND_RECENT;)
        if (led.seq[i]) {
            recent++;
            r->resent++;
            r->resend_bad += !resend_is_duplicate(c, (long)i);
        }
    for (int k = 0; k < RESEND_ANY && led.n; k++) {
        long i = rand() % (long)led.n;
        if (!led.seq[i])
            continue;
        r->resent++;
        r->resend_bad += !resend_is_duplicate(c, i);
    }
}

/* The reply to a resend: ok, duplicate, the first reply's seq. Returns the
 * ledger index it answers, or -1 for a reply to no resent id. */
static long resend_reply(struct h_reply *r, long *bad)
{
    long i = id_index(r->id, strlen(r->id));
    if (i < 0 || !led.seq[i])
        return -1;
    if (!r->ok || r->seq != led.seq[i] ||
        !json_is_true(h_reply_get(r, "duplicate"))) {
        if (*bad < 5)
            fprintf(stderr, "crashload: resent k%ld (seq %lld): %s\n", i,
                    (long long)led.seq[i], h_reply_text(r));
        (*bad)++;
    }
    return i;
}

long cl_resend_all(const struct h_server *s, long *bad)
{
    struct h_client c;
    struct h_reply r;
    long sent = 0, answered = 0;
    size_t next = 0;

    *bad = 0;
    memset(&r, 0, sizeof(r));
    if (h_client_open(&c, s->cmd_ep))
        return -1;
    for (;;) {
        while (next < led.n && sent - answered < RESEND_WINDOW) {
            if (led.seq[next]) {
                if (send_unit(c.sock, (long)next, 0))
                    goto out_fail;
                sent++;
            }
            next++;
        }
        if (answered == sent)
            break;
        if (h_recv(&c, &r))
            goto out_fail;
        if (resend_reply(&r, bad) >= 0)
            answered++;
        h_reply_release(&r);
    }
    h_client_close(&c);
    return sent;

out_fail:
    h_reply_release(&r);
    h_client_close(&c);
    return -1;
}

int cl_check(const struct h_server *s, struct cl_result *r)
{
    struct h_client c;
    struct count_ctx cc = {calloc(led.n + 1, sizeof(unsigned short)), 0};

    memset(r, 0, sizeof(*r));
    r->events = -1;
    if (!cc.seen)
        return -1;
    if (h_client_open(&c, s->cmd_ep) == 0) {
        r->events = h_log_all(&c, count_event, &cc);
        if (r->events >= 0)
            check_resends(&c, r);
        h_client_close(&c);
    }
    for (size_t i = 0; i < led.n; i++)
        if (led.seq[i] && !cc.seen[i])
            r->lost++;
    r->dup = cc.dup;
    free(cc.seen);
    r->verify = audit(s, "--verify");
    r->rebuild = audit(s, "--rebuild");
    return r->events > 0 && !r->lost && !r->dup && !r->resend_bad &&
                   !r->verify && !r->rebuild
               ? 0
               : -1;
}
