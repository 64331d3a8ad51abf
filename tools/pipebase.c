/* tools/pipebase.c - the pipelined row's baseline for `make bench`: one
 * DEALER keeping K requests in flight against a baseline server of
 * ../shared/baselines (the ZeroMQ echo, or ZeroMQ+LMDB with NOMETASYNC and
 * held replies), as deskbench --pipeline K does against deskd. Each
 * request is the baselines' event: a msgpack map of 4 string keys
 * (stream, version, type, data) of 200 bytes in all. Counts replies for
 * SECONDS and prints one line: rate=EVENTS_PER_S events=N secs=S.
 *
 *   pipebase ENDPOINT [INFLIGHT=1000] [SECONDS=10]
 *
 * Builds its frames with struct cw, as deskbench does; its clock is the
 * bench tools' (benchcli). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

#include "../core/codec.h"
#include "benchcli.h"

#define EVENT_BYTES 200 /* the baselines' event size */
#define REPLY_MAX 256   /* an ack: 8 bytes, or 1 for a refusal */
#define INFLIGHT_MAX 65536
#define TIMEOUT_MS 30000 /* silence that means the server is stuck */

/* One event of EVENT_BYTES: the data's padding makes up the rest. */
static void event(struct cw *w, uint64_t version)
{
    static const char pad[EVENT_BYTES];
    size_t head;
    cw_reset(w);
    cw_map(w, 4);
    cw_kstr(w, "stream", "client-01");
    cw_str(w, "version");
    cw_uint(w, version);
    cw_kstr(w, "type", "ItemAdded");
    cw_str(w, "data");
    head = cw_len(w) + 2; /* a bin8 header */
    cw_bin(w, pad, EVENT_BYTES > head ? EVENT_BYTES - head : 0);
}

int main(int argc, char **argv)
{
    long inflight = argc > 2 ? atol(argv[2]) : 1000;
    double secs = argc > 3 ? atof(argv[3]) : 10, t0, end;
    int zero = 0, timeout = TIMEOUT_MS;
    uint64_t version = 0;
    long got = 0;
    char reply[REPLY_MAX];
    struct cw w;
    void *ctx, *s;

    if (argc < 2 || inflight < 1 || inflight > INFLIGHT_MAX || secs <= 0) {
        fprintf(stderr, "usage: pipebase ENDPOINT [INFLIGHT=1000] "
                        "[SECONDS=10]\n");
        return 2;
    }
    ctx = zmq_ctx_new();
    s = zmq_socket(ctx, ZMQ_DEALER);
    zmq_setsockopt(s, ZMQ_SNDHWM, &zero, sizeof(zero));
    zmq_setsockopt(s, ZMQ_RCVHWM, &zero, sizeof(zero));
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
    if (zmq_connect(s, argv[1])) {
        fprintf(stderr, "pipebase: connect %s: %s\n", argv[1],
                zmq_strerror(zmq_errno()));
        return 1;
    }
    cw_init(&w);
    t0 = bench_now_ms() / 1e3;
    end = t0 + secs;
    for (long i = 0; i < inflight; i++) {
        event(&w, ++version);
        zmq_send(s, cw_data(&w), cw_len(&w), 0);
    }
    while (bench_now_ms() / 1e3 < end) {
        if (zmq_recv(s, reply, sizeof(reply), 0) < 0) {
            fprintf(stderr, "pipebase: no reply: %s\n",
                    zmq_strerror(zmq_errno()));
            return 1;
        }
        got++;
        event(&w, ++version);
        zmq_send(s, cw_data(&w), cw_len(&w), 0);
    }
    secs = bench_now_ms() / 1e3 - t0;
    printf("rate=%.0f events=%ld secs=%.3f\n", (double)got / secs, got, secs);
    cw_release(&w);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return 0;
}
