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
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "../core/codec.h"

#define WINDOW 256          /* commands in flight during setup */
#define REPLY_MAX (4 << 20) /* bytes in one reply */
#define DAYS 365            /* days the cards are issued over */
#define UNITS 1000          /* units the cards are spread over */

static void *sock;
static long next_id, inflight, failures;
static char *buf;
static char staff[24];
static long last_count;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void recv_one(void)
{
    struct codec_doc d;
    bool ok = false;
    int n = zmq_recv(sock, buf, REPLY_MAX, 0);
    inflight--;
    if (n <= 0 || n > REPLY_MAX || codec_doc_parse(&d, buf, (size_t)n, NULL))
        return;
    codec_get_bool(d.obj, "ok", &ok);
    if (ok && !staff[0]) {
        const msgpack_object *evs = codec_get(d.obj, "events");
        if (evs && evs->type == MSGPACK_OBJECT_ARRAY && evs->via.array.size)
            codec_copy_str(codec_get(&evs->via.array.ptr[0], "data"), "person",
                           staff, sizeof(staff));
    }
    if (ok && codec_get(d.obj, "result")) {
        int64_t c = 0;
        const msgpack_object *res = codec_get(d.obj, "result");
        if (!codec_get_int(res, "count", &c))
            last_count = (long)c;
        else if (codec_get(res, "cards"))
            last_count = (long)codec_get(res, "cards")->via.array.size;
    }
    if (!ok && failures++ == 0) {
        char msg[256];
        codec_copy_str(codec_get(d.obj, "error"), "message", msg, sizeof(msg));
        fprintf(stderr, "cardbench: refused: %s\n", msg);
    }
    codec_doc_release(&d);
}

static void send_cmd(const char *cmd, const char *actor, struct cw *body)
{
    struct cw w;
    char id[32];
    while (inflight >= WINDOW)
        recv_one();
    snprintf(id, sizeof(id), "cb%d-%ld", (int)getpid(), ++next_id);
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

static void drain(void)
{
    while (inflight > 0)
        recv_one();
}

static double timed(const char *cmd, struct cw *body)
{
    double t0;
    drain();
    t0 = now_ms();
    send_cmd(cmd, "admin", body);
    drain();
    return now_ms() - t0;
}

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
    int opt, linger = 0;
    void *ctx = zmq_ctx_new();
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
    buf = malloc(REPLY_MAX);
    sock = zmq_socket(ctx, ZMQ_DEALER);
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_connect(sock, ep);
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
           live > 0 ? scan / live : 0, failures);
    cw_release(&b);
    free(buf);
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return failures ? 1 : 0;
}
