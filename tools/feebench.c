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

#include "benchcli.h"

static struct bench_cli cli;
static char (*persons)[24]; /* owner of unit i, from the replies */

/* Replies to "own-<i>" person.register commands name unit i's owner. */
static void remember_person(struct bench_cli *c, const msgpack_object *reply)
{
    const msgpack_object *evs = codec_get(reply, "events");
    char id[32];
    (void)c;
    codec_copy_str(reply, "id", id, sizeof(id));
    if (strncmp(id, "own-", 4) || !evs || evs->type != MSGPACK_OBJECT_ARRAY ||
        !evs->via.array.size)
        return;
    codec_copy_str(codec_get(&evs->via.array.ptr[0], "data"), "person",
                   persons[atoi(id + 4)], sizeof(persons[0]));
}

#define send_cmd(cmd, actor, body) bench_send(&cli, cmd, actor, body)
#define send_id(id, cmd, actor, body) bench_send_id(&cli, id, cmd, actor, body)
#define drain() bench_drain(&cli)
#define timed(cmd, actor, body) bench_timed(&cli, cmd, actor, body)
#define now_ms() bench_now_ms()

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
    int units = 10000, months = 24, opt;
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
    if (bench_open(&cli, "feebench", ep)) {
        fprintf(stderr, "feebench: cannot connect to %s\n", ep);
        return 1;
    }
    cli.on_reply = remember_person;
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
           timed("query.overdue", "bench", &b), cli.failures);
    cw_release(&b);
    bench_close(&cli);
    return cli.failures ? 1 : 0;
}
