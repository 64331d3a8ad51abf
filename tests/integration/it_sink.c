/* tests/integration/it_sink.c - desksink against real components: a
 * PostgreSQL started in a temporary directory (tools/pgtmp.sh: initdb,
 * pg_ctl), two real deskd shards and the real desksink binary. A mixed
 * workload on both shards; then every event is in PostgreSQL exactly once
 * and the SQL read models answer what each deskd's own queries answer
 * (query.overdue, query.complaints_open, query.card_expiry). Then the
 * crashes: kill -9 of the sink in the middle of its batches, PostgreSQL
 * stopped without a checkpoint under load, a deskd shard restarted and
 * killed; afterwards the same holds.
 *
 * Environment: DESKD_TOOLS (build dir holding desksink, default build). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "desk.h"
#include "harness.h"

#define CATCH_UP_MS 120000 /* liveness bound: the sink must get there */
#define ROWS_MAX (1 << 20) /* bytes of one canonical answer */

struct shard {
    const char *id;
    struct h_server srv;
    struct h_client cli;
};

static struct shard sh[2] = {{.id = "north"}, {.id = "south"}};
static char pgdir[256], conninfo[H_PATH_MAX], sinkconf[H_PATH_MAX];
static pid_t sink_pid;
static PGconn *pg;

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int pgtmp(const char *verb, char *out, size_t cap)
{
    char cmd[H_PATH_MAX * 2];
    FILE *p;
    int rc;
    snprintf(cmd, sizeof(cmd), "bash tools/pgtmp.sh %s %s", verb, pgdir);
    if (!(p = popen(cmd, "r")))
        return -1;
    if (out && (!fgets(out, (int)cap, p)))
        out[0] = '\0';
    rc = pclose(p);
    if (out)
        out[strcspn(out, "\n")] = '\0';
    return rc == 0 ? 0 : -1;
}

/* ---- the sink process ---- */

static void write_sink_conf(int batch)
{
    FILE *f = fopen(sinkconf, "w");
    assert_non_null(f);
    fprintf(f, "[postgres]\nconninfo = %s\n[sink]\nbatch = %d\n", conninfo,
            batch);
    for (int i = 0; i < 2; i++)
        fprintf(f, "[shard.%s]\nendpoints = %s/endpoints\nactor = sink\n",
                sh[i].id, sh[i].srv.data_dir);
    fclose(f);
}

static void sink_signal(int sig);

static void sink_start(void)
{
    const char *tools = getenv("DESKD_TOOLS");
    char bin[H_PATH_MAX], log[H_PATH_MAX];
    if (sink_pid > 0) /* one sink at a time */
        sink_signal(SIGTERM);
    snprintf(bin, sizeof(bin), "%s/desksink", tools ? tools : "build");
    snprintf(log, sizeof(log), "%s/sink.log", pgdir);
    sink_pid = fork();
    assert_true(sink_pid >= 0);
    if (sink_pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execl(bin, bin, "-c", sinkconf, (char *)NULL);
        _exit(127);
    }
}

static void sink_signal(int sig)
{
    int st;
    if (sink_pid <= 0)
        return;
    kill(sink_pid, sig);
    waitpid(sink_pid, &st, 0);
    sink_pid = 0;
    if (sig == SIGTERM)
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* ---- PostgreSQL from the test ---- */

static void quiet(void *arg, const char *msg)
{
    (void)arg;
    (void)msg; /* "terminating connection": the restarts are on purpose */
}

static void pg_open(void)
{
    for (int i = 0; i < 600; i++) {
        pg = PQconnectdb(conninfo);
        if (PQstatus(pg) == CONNECTION_OK) {
            PQsetNoticeProcessor(pg, quiet, NULL);
            return;
        }
        PQfinish(pg);
        nap_ms(100);
    }
    fail_msg("cannot connect to PostgreSQL: %s", conninfo);
}

static PGresult *sql(const char *q, int n, const char *const *params)
{
    PGresult *r = PQexecParams(pg, q, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) { /* PostgreSQL restarted? */
        PQclear(r);
        PQfinish(pg);
        pg_open();
        r = PQexecParams(pg, q, n, NULL, params, NULL, NULL, 0);
    }
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", q, PQerrorMessage(pg));
    return r;
}

static int64_t sql_int(const char *q, const char *shard)
{
    const char *p[1] = {shard};
    PGresult *r = sql(q, shard ? 1 : 0, p);
    int64_t v = PQntuples(r) && !PQgetisnull(r, 0, 0)
                    ? strtoll(PQgetvalue(r, 0, 0), NULL, 10)
                    : 0;
    PQclear(r);
    return v;
}

/* Waits until the sink's position for every shard is its deskd's last seq
 * (a liveness bound, not a timing assertion). */
static void caught_up(void)
{
    for (int i = 0; i < 2; i++) {
        int64_t want, pos = -1;
        desk = &sh[i].cli;
        want = h_log_count(&sh[i].cli);
        assert_true(want > 0);
        for (int t = 0; t < CATCH_UP_MS / 50; t++) {
            pos = sql_int("SELECT seq FROM desk.positions WHERE shard = $1",
                          sh[i].id);
            if (pos >= want)
                break;
            nap_ms(50);
        }
        if (pos != want)
            fail_msg("shard %s: sink at %lld, deskd at %lld", sh[i].id,
                     (long long)pos, (long long)want);
    }
}

/* Every event of each shard is in desk.events exactly once: seq 1..last
 * with no gap (the primary key forbids a double), same types in the same
 * order as deskd's log, and no personal data in clear (R-GEN-02). */
struct log_cmp {
    PGresult *rows;
    int64_t i, bad;
};

static int cmp_event(json_t *ev, void *arg)
{
    struct log_cmp *c = arg;
    const char *type = json_string_value(json_object_get(ev, "type"));
    int64_t seq = json_integer_value(json_object_get(ev, "seq"));
    if (c->i >= PQntuples(c->rows) ||
        strtoll(PQgetvalue(c->rows, (int)c->i, 0), NULL, 10) != seq ||
        strcmp(PQgetvalue(c->rows, (int)c->i, 1), type ? type : ""))
        c->bad++;
    c->i++;
    return 0;
}

static void exactly_once(void)
{
    for (int i = 0; i < 2; i++) {
        const char *p[1] = {sh[i].id};
        struct log_cmp c = {sql("SELECT seq, type FROM desk.events WHERE "
                                "shard = $1 ORDER BY seq",
                                1, p),
                            0, 0};
        int64_t n = h_log_all(&sh[i].cli, cmp_event, &c);
        assert_true(n > 0);
        assert_int_equal(PQntuples(c.rows), n);
        assert_int_equal(c.bad, 0);
        PQclear(c.rows);
        assert_int_equal(sql_int("SELECT count(*) FROM desk.events WHERE "
                                 "shard = $1 AND (body::text LIKE "
                                 "'%13812345678%' OR body::text LIKE "
                                 "'%440301199001011234%')",
                                 sh[i].id),
                         0);
    }
}

/* ---- deskd's answers and the SQL ones, as sorted text lines ---- */

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Joins lines sorted; frees them. */
static char *joined(char **lines, size_t n)
{
    char *out = calloc(1, ROWS_MAX);
    size_t len = 0;
    assert_non_null(out);
    qsort(lines, n, sizeof(*lines), cmp_line);
    for (size_t i = 0; i < n; i++) {
        len += (size_t)snprintf(out + len, ROWS_MAX - len, "%s\n", lines[i]);
        free(lines[i]);
    }
    free(lines);
    return out;
}

/* One line per row of the SQL answer, columns joined by '|'. */
static char *sql_lines(const char *q, int n, const char *const *params)
{
    PGresult *r = sql(q, n, params);
    int rows = PQntuples(r), cols = PQnfields(r);
    char **lines = calloc((size_t)rows + 1, sizeof(char *));
    for (int i = 0; i < rows; i++) {
        char buf[2048];
        size_t len = 0;
        for (int j = 0; j < cols; j++)
            len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
                                    j ? "|" : "", PQgetvalue(r, i, j));
        lines[i] = strdup(buf);
    }
    PQclear(r);
    return joined(lines, (size_t)rows);
}

/* One line per item of deskd's list at path, the given keys joined by
 * '|' (true/false as PostgreSQL prints them: t/f). */
static char *desk_lines(struct h_reply *r, const char *path,
                        const char *const *keys)
{
    json_t *items = h_reply_get(r, path), *it;
    char **lines = calloc(json_array_size(items) + 1, sizeof(char *));
    size_t i;
    assert_non_null(items);
    json_array_foreach(items, i, it)
    {
        char buf[2048];
        size_t len = 0;
        for (int j = 0; keys[j]; j++) {
            json_t *v = json_object_get(it, keys[j]);
            char val[256];
            if (json_is_string(v))
                snprintf(val, sizeof(val), "%s", json_string_value(v));
            else if (json_is_integer(v))
                snprintf(val, sizeof(val), "%lld",
                         (long long)json_integer_value(v));
            else if (json_is_boolean(v))
                snprintf(val, sizeof(val), "%s", json_is_true(v) ? "t" : "f");
            else
                val[0] = '\0';
            len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s",
                                    j ? "|" : "", val);
        }
        lines[i] = strdup(buf);
    }
    return joined(lines, json_array_size(items));
}

static void same(const char *what, const char *shard, char *want, char *got)
{
    if (strcmp(want, got))
        fail_msg("%s of shard %s differ\ndeskd:\n%sPostgreSQL:\n%s", what,
                 shard, want, got);
    free(want);
    free(got);
}

static void models_equal_deskd(void)
{
    static const char *const overdue_keys[] = {
        "unit",         "payer",  "amount", "oldest_due",
        "days_overdue", "bucket", "stage",  NULL};
    static const char *const open_keys[] = {
        "complaint", "state",         "unit",  "handler", "category",
        "level",     "reply_overdue", "major", "hot",     NULL};
    static const char *const expiry_keys[] = {"card",  "kind",      "unit",
                                              "until", "days_left", NULL};
    for (int i = 0; i < 2; i++) {
        struct h_reply r;
        char asof[16], now[40], days[16];
        const char *p[3] = {sh[i].id, asof, days};
        int nonempty = 0;
        desk = &sh[i].cli;

        OK(&r, "sink", "query.overdue", "{}");
        snprintf(asof, sizeof(asof), "%s", h_reply_str(&r, "result.as_of"));
        nonempty += h_reply_int(&r, "result.count", 0) > 0;
        same("overdue lists", sh[i].id,
             desk_lines(&r, "result.units", overdue_keys),
             sql_lines("SELECT unit, payer, amount, oldest_due, days_overdue,"
                       " bucket, stage FROM desk.overdue($2::date) WHERE "
                       "shard = $1",
                       2, p));
        done(&r);

        OK(&r, "sink", "query.complaints_open", "{}");
        snprintf(now, sizeof(now), "%s", h_reply_str(&r, "result.now"));
        nonempty += h_reply_int(&r, "result.count", 0) > 0;
        p[1] = now;
        same("open complaints", sh[i].id,
             desk_lines(&r, "result.items", open_keys),
             sql_lines("SELECT complaint, state, unit, handler, category, "
                       "level, reply_overdue, major, hot FROM "
                       "desk.complaints_open($2::timestamptz) WHERE "
                       "shard = $1",
                       2, p));
        done(&r);

        OK(&r, "sink", "query.card_expiry", "{}");
        snprintf(asof, sizeof(asof), "%s", h_reply_str(&r, "result.as_of"));
        snprintf(days, sizeof(days), "%lld",
                 (long long)h_reply_int(&r, "result.days", 30));
        nonempty += h_reply_int(&r, "result.count", 0) > 0;
        p[1] = asof;
        same("card expiry schedules", sh[i].id,
             desk_lines(&r, "result.cards", expiry_keys),
             sql_lines("SELECT card, kind, unit, until, days_left FROM "
                       "desk.card_expiry($2::date, $3::int) WHERE shard = $1",
                       3, p));
        done(&r);
        assert_int_equal(nonempty, 3); /* nothing compared empty to empty */
    }
}

/* ---- the workload ---- */

static int ncmp;

static void complaint(const char *unit, const char *handler, bool reply)
{
    struct h_reply r;
    char id[24];
    OK(&r, "clerk1", "complaint.receive",
       "{\"channel\":\"letter\",\"unit\":\"%s\",\"name\":\"王\","
       "\"contact\":\"13812345678\",\"what\":\"外墙渗水 %d\"}",
       unit, ncmp++);
    snprintf(id, sizeof(id), "%s", h_reply_str(&r, "events.0.data.complaint"));
    done(&r);
    if (handler) {
        OK(&r, "lead1", "complaint.dispatch",
           "{\"complaint\":\"%s\",\"handler\":\"%s\"}", id, handler);
        done(&r);
    }
    if (reply) {
        OK(&r, "clerk1", "complaint.reply",
           "{\"complaint\":\"%s\",\"text\":\"已安排维修\"}", id);
        done(&r);
    }
}

/* An estate with an owned unit, two months billed, one part-paid; three
 * complaints; an owner's card and a tenant's that ends with the lease. */
static void estate_workload(const char *code)
{
    struct h_reply r;
    char owner[24], tenant[24], unit[32];

    snprintf(unit, sizeof(unit), "%s/1-101", code);
    desk_estate(code, "residence", DESK_ID_NO, owner);
    desk_person("Tenant", "tenant", DESK_ID_NO, tenant);
    OK(&r, "clerk1", "unit.link",
       "{\"unit\":\"%s\",\"person\":\"%s\",\"role\":\"tenant\","
       "\"from\":\"2026-03-01\",\"to\":\"2026-03-25\"}",
       unit, tenant);
    done(&r);
    OK(&r, "lead1", "fee.bill_run",
       "{\"estate\":\"%s\",\"period\":\"2026-01\"}", code);
    done(&r);
    OK(&r, "lead1", "fee.bill_run",
       "{\"estate\":\"%s\",\"period\":\"2026-02\"}", code);
    done(&r);
    OK(&r, "clerk1", "fee.pay",
       "{\"unit\":\"%s\",\"amount\":10000,\"method\":\"cash\","
       "\"book\":\"%s1\"}",
       unit, code);
    done(&r);
    OK(&r, "clerk1", "card.issue",
       "{\"card\":\"%s-O\",\"kind\":\"access\",\"unit\":\"%s\","
       "\"holder\":\"%s\",\"move_in\":true}",
       code, unit, owner);
    done(&r);
    OK(&r, "clerk1", "card.issue",
       "{\"card\":\"%s-T\",\"kind\":\"access\",\"unit\":\"%s\","
       "\"holder\":\"%s\",\"move_in\":true,\"docs\":[\"id\",\"lease\"]}",
       code, unit, tenant);
    done(&r);
    complaint(unit, NULL, false);
    complaint(unit, "clerk1", false);
    complaint(unit, "clerk1", true);
}

/* Registrations: many small events (batches fill). */
static void units_workload(int n, const char *estate)
{
    struct h_reply r;
    OK(&r, "lead1", "estate.register", "{\"code\":\"%s\",\"name\":\"%s\"}",
       estate, estate);
    done(&r);
    OK(&r, "lead1", "building.register",
       "{\"estate\":\"%s\",\"building\":\"1\"}", estate);
    done(&r);
    for (int i = 0; i < n; i++) {
        OK(&r, "clerk1", "unit.register",
           "{\"estate\":\"%s\",\"building\":\"1\",\"room\":\"%d\","
           "\"area\":\"80.00\",\"type\":\"residence\"}",
           estate, 1000 + i);
        done(&r);
    }
}

/* ---- the tests ---- */

static int setup(void **state)
{
    struct h_opts o = {.operators = "sink = reader, Sink"};
    (void)state;
    snprintf(pgdir, sizeof(pgdir), "/tmp/it_sink.XXXXXX");
    if (!mkdtemp(pgdir) || pgtmp("start", conninfo, sizeof(conninfo)) ||
        !conninfo[0]) {
        fprintf(stderr, "it_sink: PostgreSQL did not start (tools/pgtmp.sh)\n");
        return -1;
    }
    snprintf(sinkconf, sizeof(sinkconf), "%s/sink.conf", pgdir);
    for (int i = 0; i < 2; i++)
        if (desk_start(&sh[i].srv, &sh[i].cli, &o))
            return -1;
    pg_open();
    return 0;
}

static int teardown(void **state)
{
    char cmd[H_PATH_MAX + 16];
    (void)state;
    sink_signal(SIGKILL);
    if (pg)
        PQfinish(pg);
    for (int i = 0; i < 2; i++)
        desk_stop(&sh[i].srv, &sh[i].cli);
    pgtmp("stop", NULL, 0);
    if (!getenv("DESKD_KEEP_TMP")) {
        snprintf(cmd, sizeof(cmd), "rm -rf %s", pgdir);
        if (system(cmd) != 0)
            fprintf(stderr, "it_sink: could not remove %s\n", pgdir);
    }
    return 0;
}

/* Two shards, a mixed workload on each while the sink follows (PUB, with
 * what it missed read back by log.read); the read models in PostgreSQL
 * answer what each deskd answers (R-FEE-06, R-CMP-06/07, R-CARD-05), and
 * personal data stays masked (R-GEN-02). */
static void test_two_shards_read_models_equal_deskd(void **state)
{
    static const char *const codes[2][2] = {{"NA", "NB"}, {"SA", "SB"}};
    (void)state;
    /* the sink's operator has the reader role: it may query and read the
     * log, and nothing else (no writes, no lead-only full records) */
    desk = &sh[0].cli;
    refused("forbidden", NULL, "sink", "estate.register",
            "{\"code\":\"XX\",\"name\":\"X\"}");
    refused("forbidden", NULL, "sink", "person.view_full",
            "{\"person\":\"P1\",\"reason\":\"audit\"}");
    write_sink_conf(500);
    /* some events before the sink starts (catch-up), the rest after */
    desk = &sh[0].cli;
    estate_workload(codes[0][0]);
    sink_start();
    for (int i = 0; i < 2; i++) {
        desk = &sh[i].cli;
        if (i)
            estate_workload(codes[i][0]);
        estate_workload(codes[i][1]);
        units_workload(300, i ? "SU" : "NU");
    }
    /* time passes: deadlines are missed, escalations fire, bills age */
    for (int i = 0; i < 2; i++) {
        desk = &sh[i].cli;
        clock_to("2026-03-09T10:00:00+08:00");
    }
    caught_up();
    exactly_once();
    models_equal_deskd();
    /* the read models rebuilt from the events alone are the same */
    assert_true(sql_int("SELECT desk.rebuild()", NULL) > 0);
    models_equal_deskd();
}

/* kill -9 of the sink while it writes its batches, many times over; the
 * batch in flight is rolled back by PostgreSQL, and the next run resumes
 * at the stored position: nothing lost, nothing twice. */
static void test_sink_killed_mid_batch(void **state)
{
    int64_t pos = 0, prev, mid = 0;
    (void)state;
    sink_signal(SIGTERM);
    desk = &sh[0].cli;
    units_workload(3000, "NK");
    write_sink_conf(50);
    prev = sql_int("SELECT seq FROM desk.positions WHERE shard = $1", sh[0].id);
    for (int round = 0; round < 20; round++) {
        int t;
        if (prev >= h_log_count(&sh[0].cli))
            break; /* it got to the end before the last round: nothing is
                      left to kill it in the middle of */
        sink_start();
        for (t = 0; t < CATCH_UP_MS / 5; t++) {
            pos = sql_int("SELECT seq FROM desk.positions WHERE shard = $1",
                          sh[0].id);
            if (pos != prev)
                break;
            nap_ms(5);
        }
        if (pos == prev)
            fail_msg("round %d: the sink wrote nothing from seq %lld", round,
                     (long long)pos);
        nap_ms(round % 4); /* somewhere inside the next batches */
        sink_signal(SIGKILL);
        mid += pos < h_log_count(&sh[0].cli);
        prev = pos;
    }
    assert_true(mid > 0); /* killed before the end at least once */
    sink_start();
    caught_up();
    exactly_once();
    models_equal_deskd();
}

/* PostgreSQL stopped without a checkpoint (immediate: recovery at the next
 * start, as after kill -9) while the desks work and the sink writes, then
 * a deskd shard restarted (new ports: the sink reads its endpoints file
 * again) and another killed with -9. */
static void test_postgres_and_deskd_restarts(void **state)
{
    struct h_reply r;
    (void)state;
    write_sink_conf(200);
    sink_start();
    desk = &sh[0].cli;
    units_workload(400, "NP");
    assert_int_equal(pgtmp("crash", NULL, 0), 0);
    for (int i = 0; i < 400; i++) {
        OK(&r, "clerk1", "unit.register",
           "{\"estate\":\"NP\",\"building\":\"1\",\"room\":\"%d\","
           "\"area\":\"80.00\",\"type\":\"residence\"}",
           5000 + i);
        done(&r);
        if (i == 150)
            assert_int_equal(pgtmp("crash", NULL, 0), 0);
    }
    desk = &sh[1].cli;
    units_workload(200, "SP");
    h_client_close(&sh[1].cli);
    assert_int_equal(h_server_restart(&sh[1].srv), 0);
    assert_int_equal(h_client_open(&sh[1].cli, sh[1].srv.cmd_ep), 0);
    desk = &sh[1].cli;
    estate_workload("SR");
    h_client_close(&sh[1].cli);
    assert_int_equal(h_server_kill9(&sh[1].srv), 128 + SIGKILL);
    assert_int_equal(h_server_restart(&sh[1].srv), 0);
    assert_int_equal(h_client_open(&sh[1].cli, sh[1].srv.cmd_ep), 0);
    desk = &sh[1].cli;
    units_workload(100, "SQ");
    caught_up();
    exactly_once();
    models_equal_deskd();
    sink_signal(SIGTERM);
}

/* Under [security] mode = curve the sink connects with its own key, listed
 * for its reader operator like any desk's (docs/SECURITY.md). */
static void test_sink_with_its_own_curve_key(void **state)
{
    char srv_pub[41], srv_sec[41], sink_pub[41], sink_sec[41], adm_pub[41],
        adm_sec[41], ini[H_PATH_MAX + 256], path[H_PATH_MAX];
    struct h_keys k = {srv_pub, adm_sec};
    struct h_server cs;
    struct h_client cc;
    struct h_reply r;
    FILE *f;
    int64_t n, pos = -1;
    (void)state;

    assert_int_equal(zmq_curve_keypair(srv_pub, srv_sec), 0);
    assert_int_equal(zmq_curve_keypair(sink_pub, sink_sec), 0);
    assert_int_equal(zmq_curve_keypair(adm_pub, adm_sec), 0);
    snprintf(path, sizeof(path), "%s/curve-server.key", pgdir);
    assert_non_null(f = fopen(path, "w"));
    fprintf(f, "%s\n", srv_sec);
    fclose(f);
    snprintf(ini, sizeof(ini),
             "[security]\nmode = curve\nsecret_key = %s\n"
             "[keys]\nadmin = %s\nsink = %s\n",
             path, adm_pub, sink_pub);
    {
        struct h_opts o = {.operators = "sink = reader, Sink",
                           .extra_ini = ini};
        assert_int_equal(h_server_start_opts(&cs, &o), 0);
    }
    assert_int_equal(h_client_open_keys(&cc, cs.cmd_ep, &k), 0);
    desk = &cc;
    OK(&r, "admin", "estate.register", "{\"code\":\"CV\",\"name\":\"C\"}");
    done(&r);
    OK(&r, "admin", "building.register",
       "{\"estate\":\"CV\",\"building\":\"1\"}");
    done(&r);
    for (int i = 0; i < 50; i++) {
        OK(&r, "admin", "unit.register",
           "{\"estate\":\"CV\",\"building\":\"1\",\"room\":\"%d\","
           "\"area\":\"80.00\",\"type\":\"residence\"}",
           100 + i);
        done(&r);
    }
    n = h_log_count(&cc);
    snprintf(path, sizeof(path), "%s/sink.key", pgdir);
    assert_non_null(f = fopen(path, "w"));
    fprintf(f, "%s\n", sink_sec);
    fclose(f);
    assert_non_null(f = fopen(sinkconf, "w"));
    fprintf(f,
            "[postgres]\nconninfo = %s\n[shard.curved]\nendpoints = "
            "%s/endpoints\nactor = sink\nsecret_key = %s\nserver_key = %s\n",
            conninfo, cs.data_dir, path, srv_pub);
    fclose(f);
    sink_start();
    for (int t = 0; t < CATCH_UP_MS / 50 && pos != n; t++) {
        pos = sql_int("SELECT seq FROM desk.positions WHERE shard = $1",
                      "curved");
        if (pos != n)
            nap_ms(50);
    }
    sink_signal(SIGTERM);
    assert_int_equal(pos, n);
    assert_int_equal(
        sql_int("SELECT count(*) FROM desk.events WHERE shard = $1", "curved"),
        n);
    h_client_close(&cc);
    assert_int_equal(h_server_stop(&cs), 0);
    h_server_cleanup(&cs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_shards_read_models_equal_deskd),
        cmocka_unit_test(test_sink_killed_mid_batch),
        cmocka_unit_test(test_postgres_and_deskd_restarts),
        cmocka_unit_test(test_sink_with_its_own_curve_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
