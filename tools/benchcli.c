/* tools/benchcli.c - the benchmarks' pipelined desk client. */
#include "benchcli.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define REPLY_MAX (4 << 20) /* bytes of one reply (large query answers) */

static char reply_buf[REPLY_MAX];

double bench_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int bench_open(struct bench_cli *c, const char *name, const char *endpoint)
{
    int linger = 0;

    memset(c, 0, sizeof(*c));
    c->name = name;
    c->ctx = zmq_ctx_new();
    c->sock = c->ctx ? zmq_socket(c->ctx, ZMQ_DEALER) : NULL;
    if (!c->sock)
        return -1;
    zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof(linger));
    return zmq_connect(c->sock, endpoint);
}

void bench_close(struct bench_cli *c)
{
    if (c->sock)
        zmq_close(c->sock);
    if (c->ctx)
        zmq_ctx_term(c->ctx);
}

static void recv_one(struct bench_cli *c)
{
    struct codec_doc d;
    bool ok = false;
    int n = zmq_recv(c->sock, reply_buf, sizeof(reply_buf), 0);

    c->inflight--;
    if (n <= 0 || n > (int)sizeof(reply_buf) ||
        codec_doc_parse(&d, reply_buf, (size_t)n, NULL)) {
        c->failures++;
        return;
    }
    codec_get_bool(d.obj, "ok", &ok);
    if (c->on_reply)
        c->on_reply(c, d.obj);
    if (!ok && c->failures++ == 0) {
        char msg[256];
        codec_copy_str(codec_get(d.obj, "error"), "message", msg, sizeof(msg));
        fprintf(stderr, "%s: refused: %s\n", c->name, msg);
    }
    codec_doc_release(&d);
}

void bench_send_id(struct bench_cli *c, const char *given, const char *cmd,
                   const char *actor, struct cw *body)
{
    struct cw w;
    char id[48];

    while (c->inflight >= BENCH_WINDOW)
        recv_one(c);
    if (given)
        snprintf(id, sizeof(id), "%s", given);
    else
        snprintf(id, sizeof(id), "%.8s%d-%ld", c->name, (int)getpid(),
                 ++c->next_id);
    cw_init(&w);
    cw_map(&w, 4);
    cw_kstr(&w, "id", id);
    cw_kstr(&w, "cmd", cmd);
    cw_kstr(&w, "actor", actor);
    cw_str(&w, "body");
    cw_raw(&w, cw_data(body), cw_len(body));
    zmq_send(c->sock, cw_data(&w), cw_len(&w), 0);
    c->inflight++;
    cw_release(&w);
    cw_reset(body);
}

void bench_send(struct bench_cli *c, const char *cmd, const char *actor,
                struct cw *body)
{
    bench_send_id(c, NULL, cmd, actor, body);
}

void bench_drain(struct bench_cli *c)
{
    while (c->inflight > 0)
        recv_one(c);
}

double bench_timed(struct bench_cli *c, const char *cmd, const char *actor,
                   struct cw *body)
{
    double t0;

    bench_drain(c);
    t0 = bench_now_ms();
    bench_send(c, cmd, actor, body);
    bench_drain(c);
    return bench_now_ms() - t0;
}
