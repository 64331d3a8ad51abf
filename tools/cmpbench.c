/* tools/cmpbench.c - the complaint side of `make bench`: N open complaints
 * (default 100,000), then the open list, then the clock moved past every
 * reply deadline so that the escalation engine finds and fires N due
 * escalations. Needs a deskd with clock = manual starting on a working
 * day's morning. One DEALER, pipelined setup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchcli.h"

#define POLL_US 20000 /* between looks at the log while timers fire */

static struct bench_cli cli;
static int64_t last_seq, got_events;

/* Keeps the seq of the last reply and whether a log.read found events. */
static void on_reply(struct bench_cli *c, const msgpack_object *r)
{
    const msgpack_object *res = codec_get(r, "result"), *evs;
    int64_t seq = 0;
    (void)c;
    if (!codec_get_int(r, "seq", &seq) && seq > last_seq)
        last_seq = seq;
    evs = res ? codec_get(res, "events") : NULL;
    got_events = evs && evs->type == MSGPACK_OBJECT_ARRAY
                     ? (int64_t)evs->via.array.size
                     : 0;
}

static void receive_all(int n, struct cw *b)
{
    for (int i = 0; i < n; i++) {
        char what[48], topic[24];
        snprintf(what, sizeof(what), "bench complaint %d", i);
        snprintf(topic, sizeof(topic), "t%d", i % 5000);
        cw_map(b, 4), cw_kstr(b, "channel", "phone");
        cw_kstr(b, "what", what), cw_kstr(b, "name", "Bench");
        cw_kstr(b, "topic", topic);
        bench_send(&cli, "complaint.receive", "bench", b);
    }
    bench_drain(&cli);
}

/* Moves the clock and waits until the log holds `expect` more events. */
static double fire(const char *to, int64_t expect, struct cw *b)
{
    double t0 = bench_now_ms();
    int64_t target;

    cw_map(b, 1), cw_kstr(b, "to", to);
    bench_timed(&cli, "clock.set", "admin", b);
    target = last_seq + expect;
    for (; expect > 0;) {
        cw_map(b, 2), cw_kint(b, "from", target), cw_kint(b, "limit", 1);
        bench_timed(&cli, "log.read", "admin", b);
        if (got_events)
            break;
        usleep(POLL_US);
    }
    return bench_now_ms() - t0;
}

int main(int argc, char **argv)
{
    const char *ep = "tcp://127.0.0.1:7700";
    int n = 100000, opt;
    double t_setup, t_open, t_fire, t_idle;
    struct cw b;

    while ((opt = getopt(argc, argv, "e:n:")) != -1) {
        if (opt == 'e')
            ep = optarg;
        else if (opt == 'n')
            n = atoi(optarg);
        else {
            fprintf(stderr, "usage: cmpbench -e EP [-n COMPLAINTS]\n");
            return 2;
        }
    }
    if (bench_open(&cli, "cmpbench", ep)) {
        fprintf(stderr, "cmpbench: cannot connect to %s\n", ep);
        return 1;
    }
    cli.on_reply = on_reply;
    cw_init(&b);
    t_setup = bench_now_ms();
    receive_all(n, &b);
    t_setup = bench_now_ms() - t_setup;
    cw_map(&b, 1), cw_kbool(&b, "overdue", true);
    t_open = bench_timed(&cli, "query.complaints_open", "bench", &b);
    /* nothing due yet: one look at the timer table */
    t_idle = fire("2026-03-02T17:00:00+08:00", 0, &b);
    /* every phone complaint's same-day reply deadline (18:00) passes */
    t_fire = fire("2026-03-02T19:00:00+08:00", n, &b);
    printf("complaints=%d receive_per_s=%.0f open_list_ms=%.1f "
           "clock_set_idle_ms=%.1f escalations=%d fire_ms=%.0f "
           "escalations_per_s=%.0f failures=%ld\n",
           n, n / (t_setup / 1e3), t_open, t_idle, n, t_fire,
           n / (t_fire / 1e3), cli.failures);
    cw_release(&b);
    bench_close(&cli);
    return cli.failures ? 1 : 0;
}
