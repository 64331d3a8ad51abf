/* tools/benchcli.h - the pipelined desk client the benchmark tools share:
 * one DEALER, up to BENCH_WINDOW commands in flight, replies counted and
 * the first refusal printed. Not for tests (they use the harness). */
#ifndef DESKD_BENCHCLI_H
#define DESKD_BENCHCLI_H

#include "../core/codec.h"

#define BENCH_WINDOW 256 /* commands in flight */

struct bench_cli {
    void *ctx, *sock;
    long next_id, inflight, failures;
    const char *name; /* prefix of messages and command ids */
    /* called with every decoded reply, may be NULL */
    void (*on_reply)(struct bench_cli *c, const msgpack_object *reply);
    void *user;
};

int bench_open(struct bench_cli *c, const char *name, const char *endpoint);
void bench_close(struct bench_cli *c);
/* Sends {id, cmd, actor, body}; body is a msgpack map, reset afterwards.
 * id NULL makes a fresh one. Waits for a reply when the window is full. */
void bench_send_id(struct bench_cli *c, const char *id, const char *cmd,
                   const char *actor, struct cw *body);
void bench_send(struct bench_cli *c, const char *cmd, const char *actor,
                struct cw *body);
/* Waits for every reply. */
void bench_drain(struct bench_cli *c);
/* One command alone, ms from send to reply. */
double bench_timed(struct bench_cli *c, const char *cmd, const char *actor,
                   struct cw *body);
double bench_now_ms(void);

#endif
