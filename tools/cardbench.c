/* tools/cardbench.c - the card side of `make bench`: N cards (default
 * 200,000) issued over a year of manual-clock days (so their ends spread
 * over a year), a tenth of them renewed, then the expiry schedule (R-CARD-05)
 * timed live, as of a past date and for one building, beside a query that
 * walks the whole register (the tenant past-lease list) in the same run.
 * One DEALER, pipelined setup. Needs deskd with clock = manual starting on
 * 2026-01-01 and an operator "admin". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "benchcli.h"

#define DAYS 365   /* days the cards are issued over */
#define UNITS 1000 /* units the cards are spread over */

static struct bench_cli cli;
static char staff[24];
static long last_count;

/* Keeps the staff holder's person id and the size of a query's answer. */
static void on_reply(struct bench_cli *c, const msgpack_object *r)
{
    const msgpack_object *res = codec_get(r, "result");
    bool ok = false;
    (void)c;
    codec_get_bool(r, "ok", &ok);
    if (ok && !staff[0]) {
        const msgpack_object *evs = codec_get(r, "events");
        if (evs && evs->type == MSGPACK_OBJECT_ARRAY && evs->via.array.size)
            codec_copy_str(codec_get(&evs->via.array.ptr[0], "data"), "person",
                           staff, sizeof(staff));
    }
    if (ok && res) {
        int64_t n = 0;
        if (!codec_get_int(res, "count", &n))
            last_count = (long)n;
        else if (codec_get(res, "cards"))
            last_count = (long)codec_get(res, "cards")->via.array.size;
    }
}

#define send_cmd(cmd, actor, body) bench_send(&cli, cmd, actor, body)
#define drain() bench_drain(&cli)
#define timed(cmd, body) bench_timed(&cli, cmd, "admin", body)
#define now_ms() bench_now_ms()

static void setup(struct cw *b)
{
    cw_map(b, 2), cw_kstr(b, "code", "CBN"), cw_kstr(b, "name", "Bench");
    send_cmd("estate.register", "admin", b);
    for (int i = 0; i < UNITS / 100; i++) {
        char bld[16];
        snprintf(bld, sizeof(bld), "%d", i);
        cw_map(b, 2), cw_kstr(b, "estate", "CBN"), cw_kstr(b, "building", bld);
        send_cmd("building.register", "admin", b);
    }
    drain();
    for (int i = 0; i < UNITS; i++) {
        char bld[16], room[16];
        snprintf(bld, sizeof(bld), "%d", i / 100);
        snprintf(room, sizeof(room), "%d", i % 100);
        cw_map(b, 5), cw_kstr(b, "estate", "CBN"), cw_kstr(b, "building", bld);
        cw_kstr(b, "room", room), cw_kstr(b, "area", "95.40");
        cw_kstr(b, "type", "residence");
        send_cmd("unit.register", "admin", b);
    }
    drain();
    cw_map(b, 3), cw_kstr(b, "name", "Guard"), cw_kstr(b, "kind", "staff");
    cw_str(b, "phones"), cw_array(b, 1), cw_str(b, "13812345678");
    send_cmd("person.register", "admin", b);
    drain();
}

static void unit_of(long i, char *unit, size_t cap)
{
    snprintf(unit, cap, "CBN/%ld-%ld", (i % UNITS) / 100, i % 100);
}

/* Day d's cards, then every tenth of the cards issued 30 days earlier is
 * renewed (free staff cards: each renewal supersedes a period). */
static void issue_day(int d, long per_day, struct cw *b)
{
    char when[40], card[32], unit[32];
    int y = 2026, m = 1, dd = 1 + d;
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    while (dd > dim[m - 1])
        dd -= dim[m - 1], m++;
    snprintf(when, sizeof(when), "%04d-%02d-%02dT09:00:00+08:00", y, m, dd);
    if (d > 0) {
        cw_map(b, 1), cw_kstr(b, "to", when);
        send_cmd("clock.set", "admin", b);
    }
    drain();
    for (long i = d * per_day; i < (d + 1) * per_day; i++) {
        snprintf(card, sizeof(card), "B%07ld", i);
        unit_of(i, unit, sizeof(unit));
        cw_map(b, 5), cw_kstr(b, "card", card), cw_kstr(b, "kind", "access");
        cw_kstr(b, "unit", unit), cw_kstr(b, "holder", staff);
        cw_kstr(b, "approval", "HR-1");
        send_cmd("card.issue", "admin", b);
    }
    for (long i = (d - 30) * per_day; d >= 30 && i < (d - 29) * per_day;
         i += 10) {
        snprintf(card, sizeof(card), "B%07ld", i);
        cw_map(b, 1), cw_kstr(b, "card", card);
        send_cmd("card.renew", "admin", b);
    }
}

int main(int argc, char **argv)
{
    const char *ep = "tcp://127.0.0.1:7700";
    long cards = 200000, per_day;
    int opt;
    struct cw b;
    double t, live, asof, bld, scan;
    long n_live, n_asof, n_bld, n_scan;

    while ((opt = getopt(argc, argv, "e:n:")) != -1) {
        if (opt == 'e')
            ep = optarg;
        else if (opt == 'n')
            cards = atol(optarg);
        else {
            fprintf(stderr, "usage: cardbench -e EP [-n CARDS]\n");
            return 2;
        }
    }
    per_day = (cards + DAYS - 1) / DAYS;
    if (bench_open(&cli, "cardbench", ep)) {
        fprintf(stderr, "cardbench: cannot connect to %s\n", ep);
        return 1;
    }
    cli.on_reply = on_reply;
    cw_init(&b);
    t = now_ms();
    setup(&b);
    for (int d = 0; d < DAYS; d++)
        issue_day(d, per_day, &b);
    drain();
    fprintf(stderr, "cardbench: %ld cards issued in %.0f ms\n", per_day * DAYS,
            now_ms() - t);
    /* the clock is now 2026-12-31: the schedule for the next 30 days */
    cw_map(&b, 2), cw_kstr(&b, "estate", "CBN"), cw_kint(&b, "days", 30);
    live = timed("query.card_expiry", &b), n_live = last_count;
    /* as of mid-January, for a year ahead: before any renewal was
     * recorded, so every superseded period must count again */
    cw_map(&b, 3), cw_kstr(&b, "estate", "CBN"), cw_kint(&b, "days", 365);
    cw_kstr(&b, "as_of", "2026-01-15");
    asof = timed("query.card_expiry", &b), n_asof = last_count;
    cw_map(&b, 3), cw_kstr(&b, "estate", "CBN"), cw_kstr(&b, "building", "3");
    cw_kint(&b, "days", 30);
    bld = timed("query.card_expiry", &b), n_bld = last_count;
    cw_map(&b, 1), cw_kstr(&b, "estate", "CBN");
    scan = timed("query.cards_past_lease", &b), n_scan = last_count;
    printf("cards=%ld expiry_live_ms=%.1f (%ld) expiry_asof_ms=%.1f (%ld) "
           "expiry_building_ms=%.1f (%ld) full_scan_ms=%.1f (%ld) "
           "scan/expiry=%.1f failures=%ld\n",
           per_day * DAYS, live, n_live, asof, n_asof, bld, n_bld, scan, n_scan,
           live > 0 ? scan / live : 0, cli.failures);
    cw_release(&b);
    bench_close(&cli);
    return cli.failures ? 1 : 0;
}
