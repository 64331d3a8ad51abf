/* tools/feebench.c - the money side of `make bench`: an estate of N units
 * (default 10,000) billed monthly for M months (default 24) with most bills
 * paid, timing each billing run and the overdue-list query, live and as of
 * a past date. One DEALER, pipelined setup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "../core/codec.h"

#define WINDOW 256 /* commands in flight during setup */

static void *sock;
static long next_id, inflight, failures;
static char (*persons)[24]; /* owner of unit i, from the replies */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Replies to "own-<i>" person.register commands name unit i's owner. */
static void remember_person(const msgpack_object *reply)
{
    const msgpack_object *evs = codec_get(reply, "events");
    char id[32];
    codec_copy_str(reply, "id", id, sizeof(id));
    if (strncmp(id, "own-", 4) || !evs || evs->type != MSGPACK_OBJECT_ARRAY ||
        !evs->via.array.size)
        return;
    codec_copy_str(codec_get(&evs->via.array.ptr[0], "data"), "person",
                   persons[atoi(id + 4)], sizeof(persons[0]));
}

static void recv_one(void)
{
    char buf[1 << 16];
    struct codec_doc d;
    bool ok = false;
    int n = zmq_recv(sock, buf, sizeof(buf), 0);
    inflight--;
    if (n > 0 && n <= (int)sizeof(buf) &&
        !codec_doc_parse(&d, buf, (size_t)n, NULL)) {
        codec_get_bool(d.obj, "ok", &ok);
        remember_person(d.obj);
        if (!ok && failures++ == 0) {
            char msg[256];
            codec_copy_str(codec_get(d.obj, "error"), "message", msg,
                           sizeof(msg));
            fprintf(stderr, "feebench: refused: %s\n", msg);
        }
        codec_doc_release(&d);
    }
}

/* Sends {id, cmd, actor, body} where body is already a msgpack map; id
 * NULL makes a fresh one. */
static void send_id(const char *given, const char *cmd, const char *actor,
                    struct cw *body)
{
    struct cw w;
    char id[32];
    while (inflight >= WINDOW)
        recv_one();
    if (given)
        snprintf(id, sizeof(id), "%s", given);
    else
        snprintf(id, sizeof(id), "fb%d-%ld", (int)getpid(), ++next_id);
    cw_init(&w);
    cw_map(&w, 4);
    cw_kstr(&w, "id", id);
    cw_kstr(&w, "cmd", cmd);
    cw_kstr(&w, "actor", actor);
    cw_str(&w, "body");
    cw_raw(&w, cw_data(body), cw_len(body));
    zmq_send(sock, cw_data(&w), cw_len(&w), 0);
    inflight++;
    cw_release(&w);
    cw_reset(body);
}

static void send_cmd(const char *cmd, const char *actor, struct cw *body)
{
    send_id(NULL, cmd, actor, body);
}

static void drain(void)
{
    while (inflight > 0)
        recv_one();
}

/* One command alone, timed from send to reply. */
static double timed(const char *cmd, const char *actor, struct cw *body)
{
    double t0;
    drain();
    t0 = now_ms();
    send_cmd(cmd, actor, body);
    drain();
    return now_ms() - t0;
}

static void setup(int units, struct cw *b)
{
    cw_map(b, 2), cw_kstr(b, "code", "FBN"), cw_kstr(b, "name", "Bench");
    send_cmd("estate.register", "admin", b);
    for (int i = 0; i < (units + 999) / 1000; i++) {
        char bld[16];
        snprintf(bld, sizeof(bld), "%d", i % 1000000);
        cw_map(b, 2), cw_kstr(b, "estate", "FBN"), cw_kstr(b, "building", bld);
        send_cmd("building.register", "admin", b);
    }
    drain();
    for (int i = 0; i < units; i++) {
        char bld[16], room[16];
        snprintf(bld, sizeof(bld), "%d", i / 1000);
        snprintf(room, sizeof(room), "%d", i % 1000);
        cw_map(b, 5), cw_kstr(b, "estate", "FBN"), cw_kstr(b, "building", bld);
        cw_kstr(b, "room", room), cw_kstr(b, "area", "95.40");
        cw_kstr(b, "type", "residence");
        send_cmd("unit.register", "bench", b);
        cw_map(b, 2), cw_kstr(b, "name", "Owner"), cw_kstr(b, "kind", "owner");
        {
            char id[32];
            snprintf(id, sizeof(id), "own-%d", i);
            send_id(id, "person.register", "bench", b);
        }
    }
    drain();
}

static void transfer_all(int units, struct cw *b)
{
    for (int i = 0; i < units; i++) {
        char unit[32];
        snprintf(unit, sizeof(unit), "FBN/%d-%d", i / 1000, i % 1000);
        cw_map(b, 3), cw_kstr(b, "unit", unit);
        cw_kstr(b, "to", persons[i]), cw_kstr(b, "effective", "2024-01-01");
        send_cmd("unit.transfer", "admin", b);
    }
    drain();
}

int main(int argc, char **argv)
{
    const char *ep = "tcp://127.0.0.1:7700";
    int units = 10000, months = 24, opt, linger = 0;
    void *ctx = zmq_ctx_new();
    struct cw b;
    double bill_ms = 0, bill_max = 0, t;

    while ((opt = getopt(argc, argv, "e:u:m:")) != -1) {
        if (opt == 'e')
            ep = optarg;
        else if (opt == 'u')
            units = atoi(optarg);
        else if (opt == 'm')
            months = atoi(optarg);
        else {
            fprintf(stderr, "usage: feebench -e EP [-u UNITS] [-m MONTHS]\n");
            return 2;
        }
    }
    sock = zmq_socket(ctx, ZMQ_DEALER);
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_connect(sock, ep);
    persons = calloc((size_t)units, sizeof(*persons));
    cw_init(&b);
    t = now_ms();
    setup(units, &b);
    transfer_all(units, &b);
    fprintf(stderr, "feebench: %d units set up in %.0f ms\n", units,
            now_ms() - t);
    for (int m = 0; m < months; m++) {
        char period[32];
        double ms;
        snprintf(period, sizeof(period), "%04d-%02d", 2024 + (m + 11) / 12,
                 (m + 11) % 12 + 1);
        cw_map(&b, 2), cw_kstr(&b, "estate", "FBN");
        cw_kstr(&b, "period", period);
        ms = timed("fee.bill_run", "admin", &b);
        bill_ms += ms;
        if (ms > bill_max)
            bill_max = ms;
        /* nine units in ten pay their month */
        for (int i = 0; i < units; i++) {
            char unit[32];
            if (i % 10 == 9)
                continue;
            snprintf(unit, sizeof(unit), "FBN/%d-%d", i / 1000, i % 1000);
            cw_map(&b, 5), cw_kstr(&b, "unit", unit);
            cw_kint(&b, "amount", 23850), cw_kstr(&b, "method", "debit");
            cw_kstr(&b, "book", "FBN"), cw_kbool(&b, "prepay_excess", true);
            send_cmd("fee.pay", "bench", &b);
        }
        drain();
    }
    cw_map(&b, 1), cw_kstr(&b, "estate", "FBN");
    t = timed("query.overdue", "bench", &b);
    cw_map(&b, 2), cw_kstr(&b, "estate", "FBN");
    cw_kstr(&b, "as_of", "2025-12-31");
    printf("units=%d months=%d bill_run_avg_ms=%.1f bill_run_max_ms=%.1f "
           "overdue_live_ms=%.1f overdue_asof_ms=%.1f failures=%ld\n",
           units, months, bill_ms / months, bill_max, t,
           timed("query.overdue", "bench", &b), failures);
    cw_release(&b);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return failures ? 1 : 0;
}
