/* tests/integration/it_audit.c - audits against a real deskd: verify names
 * a tampered event, replay as of a seq or a time equals the live read
 * models recorded then, history lists a unit's events in order, export
 * round-trips the log, hot backup while serving restores into a data
 * directory a deskd serves from; and a stalled subscriber never slows the
 * desks, loses events past the PUB high-water mark, and recovers every one
 * of them through log.read (docs/SUBSCRIBERS.md). The library functions are
 * called directly; the deskaudit binary (DESKD_TOOLS, default build) is run
 * for its exit codes and output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "../../core/audit.h"
#include "../../core/date.h"
#include "../../core/log.h"
#include "../../projections/export.h"
#include "../../projections/rebuild.h"
#include "harness.h"

#define UNIT "unit:HY/3-1201"
#define LOAD_COMMANDS 20000 /* stalled-subscriber load */
#define IN_FLIGHT 500

static struct h_server srv;
static struct h_client cli;
static int next_id;
static char work[256]; /* scratch directory for copies */

/* ---- helpers ---- */

__attribute__((format(printf, 4, 5))) static void cmd(struct h_reply *r,
                                                      const char *actor,
                                                      const char *name,
                                                      const char *fmt, ...)
{
    char body[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    assert_int_equal(h_callf(&cli, r,
                             "{\"id\":\"a%d\",\"cmd\":\"%s\",\"actor\":\"%s\","
                             "\"body\":%s}",
                             ++next_id, name, actor, body),
                     0);
}

#define OK(actor, name, ...)                                                   \
    do {                                                                       \
        struct h_reply r_;                                                     \
        cmd(&r_, actor, name, __VA_ARGS__);                                    \
        if (!r_.ok)                                                            \
            fail_msg("%s refused: %s", name, h_reply_text(&r_));               \
        h_reply_release(&r_);                                                  \
    } while (0)

static const char *tools(void)
{
    return getenv("DESKD_TOOLS") ? getenv("DESKD_TOOLS") : "build";
}

/* Runs deskaudit with args; returns its exit status, output in out. */
__attribute__((format(printf, 3, 4))) static int audit(char *out, size_t cap,
                                                       const char *fmt, ...)
{
    char args[4 * H_PATH_MAX], line[8 * H_PATH_MAX];
    va_list ap;
    FILE *p;
    size_t n = 0;
    int st;

    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    snprintf(line, sizeof(line), "%s/deskaudit %s 2>&1", tools(), args);
    p = popen(line, "r");
    assert_non_null(p);
    if (out && cap)
        out[0] = '\0';
    while (fgets(line, sizeof(line), p))
        if (out && n + strlen(line) < cap)
            n += (size_t)snprintf(out + n, cap - n, "%s", line);
    st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void scratch(char *out, const char *name)
{
    char rm[2 * H_PATH_MAX];
    snprintf(out, H_PATH_MAX, "%s/%s", work, name);
    snprintf(rm, sizeof(rm), "rm -rf '%s'", out);
    assert_int_equal(system(rm), 0);
}

static int64_t last_seq(struct h_client *c)
{
    struct h_reply r;
    int64_t n;
    assert_int_equal(h_callf(c, &r,
                             "{\"id\":\"ls%d\",\"cmd\":\"log.read\",\"actor\":"
                             "\"admin\",\"body\":{\"from\":1,\"limit\":1}}",
                             ++next_id),
                     0);
    assert_true(r.ok);
    n = h_reply_int(&r, "result.last_seq", -1);
    h_reply_release(&r);
    return n;
}

static void fingerprint(const char *dir, struct fingerprint *fp)
{
    struct err e = {0};
    if (proj_fingerprint(dir, fp, &e))
        fail_msg("fingerprint %s: %s", dir, e.msg);
}

/* ---- history ---- */

struct stream_seqs {
    int64_t seq[64];
    int n;
};

static int collect_unit(json_t *ev, void *arg)
{
    struct stream_seqs *s = arg;
    const char *st = json_string_value(json_object_get(ev, "stream"));
    if (st && !strcmp(st, UNIT) && s->n < 64)
        s->seq[s->n++] = json_integer_value(json_object_get(ev, "seq"));
    return 0;
}

static void test_history_lists_a_units_events_in_order(void **state)
{
    struct stream_seqs want = {{0}, 0};
    struct err e = {0};
    char *text = NULL, out[8192], *save = NULL, *line;
    size_t len = 0;
    uint64_t n;
    bool scanned = true;
    FILE *f;
    int i = 0;
    (void)state;

    OK("lead1", "estate.register", "{\"code\":\"HY\",\"name\":\"华苑小区\"}");
    OK("lead1", "building.register", "{\"estate\":\"HY\",\"building\":\"3\"}");
    OK("clerk1", "unit.register",
       "{\"estate\":\"HY\",\"building\":\"3\",\"room\":\"1201\","
       "\"area\":\"120.50\",\"type\":\"residence\"}");
    OK("clerk1", "unit.register",
       "{\"estate\":\"HY\",\"building\":\"3\",\"room\":\"1202\","
       "\"area\":\"88.00\",\"type\":\"residence\"}");
    {
        struct h_reply r;
        char person[24];
        cmd(&r, "clerk1", "person.register",
            "{\"name\":\"王芳\",\"kind\":\"owner\"}");
        assert_true(r.ok);
        snprintf(person, sizeof(person), "%s",
                 h_reply_str(&r, "events.0.data.person"));
        h_reply_release(&r);
        OK("lead1", "unit.transfer",
           "{\"unit\":\"HY/3-1201\",\"to\":\"%s\",\"effective\":"
           "\"2026-03-01\"}",
           person);
    }
    OK("clerk1", "unit.set_state",
       "{\"unit\":\"HY/3-1201\",\"state\":\"occupied\"}");
    assert_true(h_log_all(&cli, collect_unit, &want) > 0);
    assert_int_equal(want.n, 3);

    assert_int_equal(h_derived_settled(&srv), 0); /* read from outside */
    f = open_memstream(&text, &len);
    assert_int_equal(
        audit_history(srv.data_dir, UNIT, false, f, &n, &scanned, &e), 0);
    fclose(f);
    assert_int_equal(n, 3);
    assert_false(scanned); /* the stream index answered */
    line = strtok_r(text, "\n", &save);
    assert_string_equal(line, "seq\tversion\trecorded_at\toccurred_at\tactor"
                              "\tdesk\ttype\tdata");
    while ((line = strtok_r(NULL, "\n", &save))) {
        assert_true(i < want.n);
        assert_int_equal(strtoll(line, NULL, 10), want.seq[i]);
        i++;
    }
    assert_int_equal(i, 3);
    free(text);

    /* the tool: who, when, what, in version order */
    assert_int_equal(
        audit(out, sizeof(out), "history %s %s", srv.data_dir, UNIT), 0);
    {
        const char *reg = strstr(out, "unit.registered"),
                   *own = strstr(out, "unit.ownership_transferred"),
                   *occ = strstr(out, "unit.state_changed");
        assert_non_null(reg);
        assert_non_null(own);
        assert_non_null(occ);
        assert_true(reg < own && own < occ);
        assert_non_null(strstr(out, "\tclerk1\t"));
        assert_non_null(strstr(out, "2026-03-02T09:00:00+08:00"));
        assert_non_null(strstr(out, "\"occupied\""));
    }
    assert_int_equal(
        audit(out, sizeof(out), "history %s unit:HY/3-9999", srv.data_dir), 0);
    assert_non_null(strstr(out, "0 events"));
}

/* ---- replay as of ---- */

static void test_replay_as_of_equals_live_then(void **state)
{
    struct fingerprint then, now, again;
    struct replay_report rr;
    struct err e = {0};
    char out1[H_PATH_MAX], out2[H_PATH_MAX], out3[H_PATH_MAX], txt[1024];
    int64_t until_ms;
    uint64_t n, bad;
    struct log l;
    (void)state;

    /* the read models at seq N (committed lazily: once they hold it) */
    assert_int_equal(h_derived_settled(&srv), 0);
    fingerprint(srv.data_dir, &then);
    assert_int_equal((int64_t)then.last_seq, last_seq(&cli));

    OK("admin", "clock.set", "{\"to\":\"2026-03-03T09:00:00+08:00\"}");
    OK("clerk1", "unit.set_state",
       "{\"unit\":\"HY/3-1202\",\"state\":\"occupied\"}");
    OK("clerk1", "unit.register",
       "{\"estate\":\"HY\",\"building\":\"3\",\"room\":\"1203\","
       "\"area\":\"99.00\",\"type\":\"residence\"}");
    assert_int_equal(h_derived_settled(&srv), 0);
    fingerprint(srv.data_dir, &now);
    assert_true(now.last_seq > then.last_seq);
    assert_memory_not_equal(now.hash, then.hash, sizeof(now.hash));

    /* as of seq N, beside the serving deskd */
    scratch(out1, "asof-seq");
    assert_int_equal(
        rebuild_as_of(srv.data_dir, out1, then.last_seq, 0, &rr, NULL, &e), 0);
    assert_int_equal(rr.events, then.last_seq);
    fingerprint(out1, &again);
    assert_int_equal(again.last_seq, then.last_seq);
    assert_int_equal(again.records, then.records);
    assert_memory_equal(again.hash, then.hash, sizeof(then.hash));
    assert_int_equal(log_open(&l, out1, 0, true, &e), 0);
    assert_int_equal(log_verify(&l, &n, &bad, &e), 0);
    log_close(&l);
    assert_int_equal(n, then.last_seq);

    /* as of a time: everything before the clock moved */
    scratch(out2, "asof-time");
    assert_int_equal(ts_parse("2026-03-02T23:59:59+08:00", 25, 0, &until_ms),
                     0);
    assert_int_equal(
        rebuild_as_of(srv.data_dir, out2, 0, until_ms, &rr, NULL, &e), 0);
    fingerprint(out2, &again);
    assert_int_equal(again.last_seq, then.last_seq);
    assert_memory_equal(again.hash, then.hash, sizeof(then.hash));

    /* the tool: replay, compare with the copy and with the live tables */
    scratch(out3, "asof-tool");
    assert_int_equal(audit(txt, sizeof(txt), "replay %s --until %llu --out %s",
                           srv.data_dir, (unsigned long long)then.last_seq,
                           out3),
                     0);
    assert_int_equal(audit(txt, sizeof(txt), "compare %s %s", out1, out3), 0);
    assert_int_equal(
        audit(txt, sizeof(txt), "compare %s %s", srv.data_dir, out3), 1);
    assert_non_null(strstr(txt, "DIFFERENT"));
    /* everything up to now equals the live tables */
    assert_int_equal(audit(txt, sizeof(txt),
                           "replay %s --until 2026-12-31T00:00:00+08:00 "
                           "--out %s/asof-all",
                           srv.data_dir, work),
                     0);
    assert_int_equal(
        audit(txt, sizeof(txt), "compare %s %s/asof-all", srv.data_dir, work),
        0);
    /* an existing directory is never written over */
    assert_int_equal(audit(txt, sizeof(txt), "replay %s --until 1 --out %s",
                           srv.data_dir, out3),
                     1);
    assert_int_equal(audit(txt, sizeof(txt), "dump %s units", out1), 0);
    assert_non_null(strstr(txt, "\"key\":\"HY/3-1201\""));
    assert_null(strstr(txt, "HY/3-1203")); /* registered after seq N */
}

/* ---- export ---- */

struct lines {
    json_t *events; /* array from log.read */
};

static int keep_event(json_t *ev, void *arg)
{
    json_array_append(((struct lines *)arg)->events, ev);
    return 0;
}

static void test_export_jsonl_round_trips_the_log(void **state)
{
    struct lines live = {json_array()};
    struct err e = {0};
    char *text = NULL, *save = NULL, *line, buf[4096];
    size_t len = 0, i = 0, rows = 0;
    uint64_t n;
    FILE *f;
    (void)state;

    assert_true(h_log_all(&cli, keep_event, &live) > 0);
    f = open_memstream(&text, &len);
    assert_int_equal(
        audit_export_events(srv.data_dir, AUDIT_JSONL, f, &n, NULL, &e), 0);
    fclose(f);
    assert_int_equal(n, json_array_size(live.events));
    for (line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save), i++) {
        json_t *j = json_loads(line, 0, NULL);
        assert_non_null(j);
        assert_int_equal(strlen(json_string_value(json_object_get(j, "hash"))),
                         64);
        /* the same event log.read serves, field for field */
        assert_true(json_equal(j, json_array_get(live.events, i)));
        json_decref(j);
    }
    assert_int_equal(i, n);
    free(text);

    /* CSV: a header with Chinese labels, then one row per event */
    text = NULL;
    f = open_memstream(&text, &len);
    assert_int_equal(
        audit_export_events(srv.data_dir, AUDIT_CSV, f, &n, NULL, &e), 0);
    fclose(f);
    assert_true(!strncmp(text, "序号(seq),事件类型(type)", 30));
    for (char *p = text; (p = strstr(p, "\r\n")); p += 2)
        rows++;
    assert_int_equal(rows, n + 1);
    free(text);

    /* a read model for spreadsheets */
    text = NULL;
    assert_int_equal(h_derived_settled(&srv), 0); /* committed lazily */
    f = open_memstream(&text, &len);
    assert_int_equal(
        proj_export_table(srv.data_dir, "units", AUDIT_CSV, f, &n, NULL, &e),
        0);
    fclose(f);
    assert_int_equal(n, 3);
    assert_non_null(strstr(text, "房号(unit)"));
    assert_non_null(strstr(text, "HY/3-1201"));
    free(text);
    assert_int_equal(proj_export_table(srv.data_dir, "no_such", AUDIT_CSV,
                                       stdout, &n, NULL, &e),
                     ERR_NOT_FOUND);

    /* the tool to a file */
    assert_int_equal(audit(buf, sizeof(buf),
                           "export %s --format jsonl --out %s/events.jsonl",
                           srv.data_dir, work),
                     0);
    snprintf(buf, sizeof(buf), "test $(wc -l < %s/events.jsonl) -eq %zu", work,
             json_array_size(live.events));
    assert_int_equal(system(buf), 0);
    json_decref(live.events);
}

/* ---- verify ---- */

/* Finds needle in the file and flips one bit at needle + at. */
static void flip_after(const char *path, const unsigned char *needle,
                       size_t nlen, size_t at)
{
    FILE *f = fopen(path, "r+b");
    unsigned char *buf;
    long size;
    long found = -1;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    buf = malloc((size_t)size);
    fseek(f, 0, SEEK_SET);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    for (long i = 0; i + (long)nlen <= size; i++)
        if (!memcmp(buf + i, needle, nlen)) {
            assert_int_equal(found, -1); /* one copy only (compacted) */
            found = i;
        }
    assert_true(found >= 0);
    buf[found + (long)at] ^= 0x01;
    fseek(f, found + (long)at, SEEK_SET);
    fwrite(buf + found + at, 1, 1, f);
    fclose(f);
    free(buf);
}

struct find_prev {
    int64_t seq;
    char prev[65];
};

static int find_prev(json_t *ev, void *arg)
{
    struct find_prev *fp = arg;
    if (json_integer_value(json_object_get(ev, "seq")) == fp->seq + 1) {
        snprintf(fp->prev, sizeof(fp->prev), "%s",
                 json_string_value(json_object_get(ev, "prev")));
        return 1;
    }
    return 0;
}

static void test_verify_names_a_tampered_event(void **state)
{
    struct find_prev fp = {4, ""}; /* the unit.register of HY/3-1201 */
    unsigned char needle[8 + LOG_HASH_LEN];
    uint64_t be = htobe64(4);
    char bk[H_PATH_MAX], file[2 * H_PATH_MAX], out[1024];
    (void)state;

    h_log_all(&cli, find_prev, &fp);
    assert_int_equal(strlen(fp.prev), 64);
    memcpy(needle, &be, 8); /* leaf node: key, then the record */
    for (int i = 0; i < LOG_HASH_LEN; i++) {
        unsigned v;
        sscanf(fp.prev + 2 * i, "%2x", &v);
        needle[8 + i] = (unsigned char)v;
    }
    scratch(bk, "tamper");
    assert_int_equal(audit(out, sizeof(out), "backup %s %s", srv.data_dir, bk),
                     0);
    assert_int_equal(audit(out, sizeof(out), "verify %s", bk), 0);
    snprintf(file, sizeof(file), "%s/data.mdb", bk);
    flip_after(file, needle, sizeof(needle), sizeof(needle) + 20);
    assert_int_equal(audit(out, sizeof(out), "verify %s", bk), 1);
    assert_non_null(strstr(out, "BROKEN at seq 4:"));
    assert_non_null(strstr(out, "hash does not match"));
    /* the live log is untouched */
    assert_int_equal(audit(out, sizeof(out), "verify %s", srv.data_dir), 0);
}

/* A body rewritten with a matching hash still fails the schema. */
static void rewrite(const char *dir, uint64_t seq, const char *drop,
                    const char *type)
{
    struct log l;
    struct err e = {0};
    struct codec_doc d;
    MDB_txn *txn;
    const unsigned char *hash;
    const char *body;
    size_t len;
    struct cw w;
    unsigned char key[8], h[LOG_HASH_LEN];
    uint64_t be = htobe64(seq);
    uint32_t n = 0;
    MDB_val k = {8, key}, v;

    assert_int_equal(log_open(&l, dir, 0, false, &e), 0);
    assert_int_equal(mdb_txn_begin(l.env, NULL, 0, &txn), 0);
    assert_int_equal(log_get(txn, &l, seq, &hash, &body, &len), 0);
    assert_int_equal(codec_doc_parse_trusted(&d, body, len, NULL), 0);
    cw_init(&w);
    for (uint32_t i = 0; i < d.obj->via.map.size; i++)
        n += !codec_obj_is_str(&d.obj->via.map.ptr[i].key, drop);
    cw_map(&w, n);
    for (uint32_t i = 0; i < d.obj->via.map.size; i++) {
        const msgpack_object_kv *kv = &d.obj->via.map.ptr[i];
        if (codec_obj_is_str(&kv->key, drop))
            continue;
        cw_obj(&w, &kv->key);
        if (type && codec_obj_is_str(&kv->key, "type"))
            cw_str(&w, type);
        else
            cw_obj(&w, &kv->val);
    }
    codec_doc_release(&d);
    {
        char *rec = malloc(LOG_HASH_LEN + cw_len(&w));
        log_hash(cw_data(&w), cw_len(&w), h);
        memcpy(rec, h, LOG_HASH_LEN);
        memcpy(rec + LOG_HASH_LEN, cw_data(&w), cw_len(&w));
        memcpy(key, &be, 8);
        v = (MDB_val){LOG_HASH_LEN + cw_len(&w), rec};
        assert_int_equal(mdb_put(txn, l.events, &k, &v, 0), 0);
        free(rec);
    }
    assert_int_equal(mdb_txn_commit(txn), 0);
    cw_release(&w);
    log_close(&l);
}

static void test_verify_checks_every_events_schema(void **state)
{
    static const struct {
        const char *drop, *type, *says;
    } cases[] = {
        {"actor", NULL, "seq 3: missing key 'actor'"},
        {"-", "unit.exploded", "seq 3: unknown type 'unit.exploded'"},
    };
    char bk[H_PATH_MAX], out[1024];
    (void)state;

    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        struct log l;
        struct err e = {0};
        uint64_t n, bad;
        scratch(bk, "schema");
        assert_int_equal(
            audit(out, sizeof(out), "backup %s %s", srv.data_dir, bk), 0);
        rewrite(bk, 3, cases[i].drop, cases[i].type);
        assert_int_equal(log_open(&l, bk, 0, true, &e), 0);
        assert_int_equal(log_verify(&l, &n, &bad, &e), ERR_INVALID);
        log_close(&l);
        assert_int_equal(bad, 3);
        assert_string_equal(e.msg, cases[i].says);
    }
}

/* ---- backup and restore ---- */

static void send_unit(void *sock, const char *estate, int i)
{
    struct cw w;
    char id[40], room[24];
    snprintf(id, sizeof(id), "u-%s-%d", estate, i);
    snprintf(room, sizeof(room), "%d", i);
    cw_init(&w);
    cw_map(&w, 4);
    cw_kstr(&w, "id", id);
    cw_kstr(&w, "cmd", "unit.register");
    cw_kstr(&w, "actor", "clerk1");
    cw_str(&w, "body");
    cw_map(&w, 5);
    cw_kstr(&w, "estate", estate);
    cw_kstr(&w, "building", "1");
    cw_kstr(&w, "room", room);
    cw_kstr(&w, "area", "66.60");
    cw_kstr(&w, "type", "residence");
    assert_int_equal(zmq_send(sock, cw_data(&w), cw_len(&w), 0),
                     (int)cw_len(&w));
    cw_release(&w);
}

static bool reply_ok(const char *buf, int n)
{
    struct codec_doc d;
    bool ok = false;
    if (n <= 0 || codec_doc_parse(&d, buf, (size_t)n, NULL))
        return false;
    codec_get_bool(d.obj, "ok", &ok);
    codec_doc_release(&d);
    return ok;
}

static void test_hot_backup_restores_into_a_serving_deskd(void **state)
{
    struct h_server other;
    struct h_client c2;
    struct h_reply r;
    struct fingerprint fb, fr;
    char bk[H_PATH_MAX], out[4096], buf[4096], sh[3 * H_PATH_MAX];
    int64_t before, after, in_backup;
    int acked = 0;
    (void)state;

    OK("lead1", "estate.register", "{\"code\":\"BK\",\"name\":\"备份\"}");
    OK("lead1", "building.register", "{\"estate\":\"BK\",\"building\":\"1\"}");
    before = last_seq(&cli);
    /* in the LMDB log, which the backup copies (it may lag the journal) */
    assert_int_equal(h_derived_settled(&srv), 0);
    /* 3000 commands in flight while the backup runs */
    for (int i = 0; i < 3000; i++)
        send_unit(cli.sock, "BK", i);
    scratch(bk, "backup");
    assert_int_equal(audit(out, sizeof(out), "backup %s %s", srv.data_dir, bk),
                     0);
    assert_non_null(strstr(out, "OK "));
    for (int i = 0; i < 3000; i++) {
        int n = zmq_recv(cli.sock, buf, sizeof(buf), 0);
        acked += reply_ok(buf, n);
    }
    assert_int_equal(acked, 3000);
    after = last_seq(&cli);
    fingerprint(bk, &fb);
    in_backup = (int64_t)fb.last_seq;
    assert_true(in_backup >= before && in_backup <= after);

    /* restore never writes over data */
    assert_int_equal(audit(out, sizeof(out), "restore %s %s", bk, srv.data_dir),
                     1);
    assert_non_null(strstr(out, "not empty"));

    /* a second deskd on the restored directory */
    assert_int_equal(h_server_start(&other, NULL), 0);
    assert_int_equal(h_server_stop(&other), 0);
    snprintf(sh, sizeof(sh), "rm -rf '%s'", other.data_dir);
    assert_int_equal(system(sh), 0);
    assert_int_equal(
        audit(out, sizeof(out), "restore %s %s", bk, other.data_dir), 0);
    assert_int_equal(audit(out, sizeof(out), "verify %s", other.data_dir), 0);
    fingerprint(other.data_dir, &fr);
    assert_memory_equal(fr.hash, fb.hash, sizeof(fb.hash));
    assert_int_equal(h_server_restart(&other), 0);
    assert_int_equal(h_client_open(&c2, other.cmd_ep), 0);
    assert_int_equal(h_log_count(&c2), in_backup);
    assert_int_equal(h_call(&c2,
                            "{\"id\":\"q1\",\"cmd\":\"query.unit\",\"actor\":"
                            "\"clerk1\",\"body\":{\"unit\":\"HY/3-1201\"}}",
                            &r),
                     0);
    assert_true(r.ok);
    assert_string_equal(h_reply_str(&r, "result.unit.state"), "occupied");
    h_reply_release(&r);
    /* it keeps writing on the restored chain */
    assert_int_equal(h_call(&c2,
                            "{\"id\":\"w1\",\"cmd\":\"unit.set_state\","
                            "\"actor\":\"clerk1\",\"body\":{\"unit\":"
                            "\"HY/3-1201\",\"state\":\"vacant\"}}",
                            &r),
                     0);
    assert_true(r.ok);
    assert_int_equal(r.seq, in_backup + 1);
    h_reply_release(&r);
    h_client_close(&c2);
    assert_int_equal(h_server_stop(&other), 0);
    assert_int_equal(audit(out, sizeof(out), "verify %s", other.data_dir), 0);
    assert_int_equal(audit(out, sizeof(out), "rebuild %s", other.data_dir), 0);
    h_server_cleanup(&other);
}

/* ---- subscribers ---- */

/* The recipe of docs/SUBSCRIBERS.md, state of one subscriber. */
struct follower {
    struct h_client *cmd;
    int64_t last;      /* last seq taken, in order */
    int64_t from_pub;  /* events taken from PUB */
    int64_t from_read; /* events taken from log.read */
    int64_t dups, gaps;
};

static void take(struct follower *f, int64_t seq)
{
    assert_int_equal(seq, f->last + 1); /* in order, each once */
    f->last = seq;
}

/* log.read from last+1 up to upto (inclusive; 0 = to the end). */
static void read_range(struct follower *f, int64_t upto)
{
    for (;;) {
        struct h_reply r;
        json_t *evs;
        size_t i;
        json_t *ev;
        assert_int_equal(h_callf(f->cmd, &r,
                                 "{\"id\":\"rr%d\",\"cmd\":\"log.read\","
                                 "\"actor\":\"admin\",\"body\":{\"from\":%lld,"
                                 "\"limit\":1000}}",
                                 ++next_id, (long long)f->last + 1),
                         0);
        assert_true(r.ok);
        evs = h_reply_get(&r, "result.events");
        json_array_foreach(evs, i, ev)
        {
            int64_t s = json_integer_value(json_object_get(ev, "seq"));
            if (upto && s > upto)
                break;
            take(f, s);
            f->from_read++;
        }
        i = json_array_size(evs);
        h_reply_release(&r);
        if (i == 0 || (upto && f->last >= upto))
            return;
    }
}

/* One PUB message: drop duplicates, fill a gap, take it. -1 on idle. */
static int follow_one(struct follower *f, void *sub, int wait_ms)
{
    zmq_pollitem_t it = {sub, 0, ZMQ_POLLIN, 0};
    char topic[64], body[1 << 16];
    struct codec_doc d;
    int64_t seq = 0;
    int n;

    if (zmq_poll(&it, 1, wait_ms) <= 0)
        return -1;
    assert_true(zmq_recv(sub, topic, sizeof(topic), 0) >= 0);
    n = zmq_recv(sub, body, sizeof(body), 0);
    assert_true(n > 0 && n <= (int)sizeof(body));
    assert_int_equal(codec_doc_parse_trusted(&d, body, (size_t)n, NULL), 0);
    assert_int_equal(codec_get_int(d.obj, "seq", &seq), 0);
    codec_doc_release(&d);
    if (seq <= f->last) {
        f->dups++;
        return 0;
    }
    if (seq > f->last + 1) {
        f->gaps++;
        read_range(f, seq - 1);
    }
    take(f, seq);
    f->from_pub++;
    return 0;
}

static void test_stalled_subscriber_never_slows_desks_and_recovers(void **state)
{
    struct h_server s3;
    struct h_client c, probe;
    struct follower f = {&c, 0, 0, 0, 0, 0};
    void *ctx = zmq_ctx_new(), *sub = zmq_socket(ctx, ZMQ_SUB);
    int hwm = 10, rcvbuf = 4096, zero = 0, sent = 0, replies = 0, acked = 0;
    int64_t final;
    char buf[4096];
    (void)state;

    /* PUB keeps at most 100 events for a subscriber that does not read */
    assert_int_equal(h_server_start(&s3, "[deskd]\npub_hwm = 100\n"), 0);
    zmq_setsockopt(sub, ZMQ_RCVHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(sub, ZMQ_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    zmq_setsockopt(sub, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "", 0);
    assert_int_equal(zmq_connect(sub, s3.pub_ep), 0); /* subscribe first */
    usleep(300 * 1000); /* let the subscription reach deskd */

    assert_int_equal(h_client_open(&c, s3.cmd_ep), 0);
    assert_int_equal(h_client_open(&probe, s3.cmd_ep), 0);
    {
        struct h_reply r;
        assert_int_equal(h_call(&c,
                                "{\"id\":\"e\",\"cmd\":\"estate.register\","
                                "\"actor\":\"lead1\",\"body\":{\"code\":"
                                "\"SL\",\"name\":\"Slow\"}}",
                                &r),
                         0);
        assert_true(r.ok);
        h_reply_release(&r);
        assert_int_equal(h_call(&c,
                                "{\"id\":\"b\",\"cmd\":\"building.register\","
                                "\"actor\":\"lead1\",\"body\":{\"estate\":"
                                "\"SL\",\"building\":\"1\"}}",
                                &r),
                         0);
        assert_true(r.ok);
        h_reply_release(&r);
    }
    /* the desks: thousands of commands, IN_FLIGHT at a time, while the
     * subscriber reads nothing */
    while (sent < IN_FLIGHT)
        send_unit(c.sock, "SL", sent++);
    while (replies < LOAD_COMMANDS) {
        int n = zmq_recv(c.sock, buf, sizeof(buf), 0);
        assert_true(n > 0);
        replies++;
        acked += reply_ok(buf, n);
        if (sent < LOAD_COMMANDS)
            send_unit(c.sock, "SL", sent++);
        if (replies == LOAD_COMMANDS / 2) /* another desk is served too */
            assert_true(last_seq(&probe) > 2);
    }
    assert_int_equal(acked, LOAD_COMMANDS);
    final = last_seq(&probe);
    assert_int_equal(final, LOAD_COMMANDS + 2);

    /* it reads again: what the pipes kept, filling each gap it sees, until
     * silence */
    while (follow_one(&f, sub, 500) == 0)
        ;
    fprintf(stderr,
            "stalled subscriber: %lld of %lld events from PUB, %lld gaps\n",
            (long long)f.from_pub, (long long) final, (long long)f.gaps);
    assert_true(f.from_pub < final); /* PUB dropped past its HWM */
    /* the next event shows any gap left at the end; log.read fills it */
    {
        struct h_reply r;
        assert_int_equal(h_call(&probe,
                                "{\"id\":\"n\",\"cmd\":\"unit.set_state\","
                                "\"actor\":\"clerk1\",\"body\":{\"unit\":"
                                "\"SL/1-1\",\"state\":\"occupied\"}}",
                                &r),
                         0);
        assert_true(r.ok);
        h_reply_release(&r);
    }
    assert_int_equal(follow_one(&f, sub, 10000), 0);
    assert_true(f.gaps >= 1);
    assert_int_equal(f.last, final + 1);
    assert_true(f.from_read > 0);
    assert_int_equal(f.from_pub + f.from_read, final + 1);

    h_client_close(&probe);
    h_client_close(&c);
    zmq_close(sub);
    zmq_ctx_term(ctx);
    assert_int_equal(h_server_stop(&s3), 0);
    h_server_cleanup(&s3);
}

/* ---- group ---- */

static int setup(void **state)
{
    (void)state;
    snprintf(work, sizeof(work), "/tmp/deskd-it-audit.XXXXXX");
    if (!mkdtemp(work) || h_server_start(&srv, NULL))
        return -1;
    return h_client_open(&cli, srv.cmd_ep);
}

static int teardown(void **state)
{
    char rm[2 * H_PATH_MAX];
    (void)state;
    h_client_close(&cli);
    h_server_stop(&srv);
    h_server_cleanup(&srv);
    snprintf(rm, sizeof(rm), "rm -rf '%s'", work);
    return system(rm) ? -1 : 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_history_lists_a_units_events_in_order),
        cmocka_unit_test(test_replay_as_of_equals_live_then),
        cmocka_unit_test(test_export_jsonl_round_trips_the_log),
        cmocka_unit_test(test_verify_names_a_tampered_event),
        cmocka_unit_test(test_verify_checks_every_events_schema),
        cmocka_unit_test(test_hot_backup_restores_into_a_serving_deskd),
        cmocka_unit_test(
            test_stalled_subscriber_never_slows_desks_and_recovers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
