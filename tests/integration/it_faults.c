/* tests/integration/it_faults.c - faults and hostile peers: a disk that
 * fills up (deskd's data dir on a small tmpfs mounted here), a client that
 * sends without reading, many idle connections, a subscriber that never
 * reads. deskd must refuse what it cannot write with `unavailable`, show
 * nothing partial, keep answering queries and serving the other desks, and
 * write again once there is space. Assertions are about completion, never
 * about time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "../../projections/rebuild.h"
#include "harness.h"

#define TMPFS_SIZE "6m"         /* the small disk: 1m of it the journal */
#define BALLAST_BYTES (2 << 20) /* taken from it first, freed later */
#define FILL_MAX 20000          /* commands tried before giving up */
#define TEXT_BYTES 1500         /* of each filler command's note */
#define DESKS 8                 /* well-behaved desks next to a hostile one */
#define IDLE_CONNS 300          /* idle ZeroMQ connections */
#define FLOOD 10000 /* commands sent by the client that never reads */

static char text[TEXT_BYTES + 1];

static void fill_text(void)
{
    memset(text, 'x', TEXT_BYTES);
    text[TEXT_BYTES] = '\0';
}

static int register_person(struct h_client *c, struct h_reply *r, int i)
{
    return h_cmdf(c, r, "clerk1", "person.register",
                  "{\"name\":\"P%d %.*s\",\"kind\":\"owner\"}", i, 40, text);
}

/* A work order with a long message: the bytes that fill the disk. */
static int filler(struct h_client *c, struct h_reply *r, int i)
{
    return h_cmdf(c, r, "clerk1", "workorder.log",
                  "{\"kind\":\"repair\",\"text\":\"%d %s\"}", i, text);
}

/* Sends fillers until one is refused (left in *r, unavailable); returns
 * how many were written before it. */
static int64_t fill_until_refused(struct h_client *c, struct h_reply *r)
{
    int64_t ok = 0;
    for (int i = 1; i < FILL_MAX; i++) {
        assert_int_equal(filler(c, r, i), 0);
        if (!r->ok)
            break;
        ok++;
        h_reply_release(r);
    }
    if (r->ok)
        fail_msg("%d commands fitted on a %s disk", FILL_MAX, TMPFS_SIZE);
    assert_string_equal(r->code, "unavailable");
    return ok;
}

static int ballast(const char *dir, bool make)
{
    char path[H_PATH_MAX];
    static char zero[65536];
    int fd;
    snprintf(path, sizeof(path), "%s/ballast", dir);
    if (!make)
        return unlink(path);
    fd = open(path, O_WRONLY | O_CREAT, 0600);
    if (fd < 0)
        return -1;
    for (size_t n = 0; n < BALLAST_BYTES; n += sizeof(zero))
        if (write(fd, zero, sizeof(zero)) != (ssize_t)sizeof(zero)) {
            close(fd);
            return -1;
        }
    return close(fd);
}

/* The disk fills: the failing command gets unavailable saying so, nothing
 * of it is visible, queries still work; after space is freed writes work
 * again, and the log verifies. */
static void test_disk_full(void **state)
{
    char mnt[] = "/tmp/deskd-full-XXXXXX", data[H_PATH_MAX];
    struct h_opts o = {0};
    struct h_server s;
    struct h_client c;
    struct h_reply r;
    int64_t before, ok;
    (void)state;

    if (!mkdtemp(mnt))
        fail_msg("mkdtemp: %s", strerror(errno));
    if (mount("tmpfs", mnt, "tmpfs", 0, "size=" TMPFS_SIZE)) {
        rmdir(mnt);
        fprintf(stderr,
                "it_faults: SKIPPED disk-full test: cannot mount a "
                "tmpfs (%s); run as root with CAP_SYS_ADMIN\n",
                strerror(errno));
        skip();
    }
    assert_int_equal(ballast(mnt, true), 0);
    snprintf(data, sizeof(data), "%s/var", mnt);
    o.data_dir = data;
    /* derived state written through its map, as on ext4: its growth on
     * the full disk must be refused, not a SIGBUS */
    setenv("DESKD_TEST_WRITEMAP", "1", 1);
    assert_int_equal(h_server_start_opts(&s, &o), 0);
    unsetenv("DESKD_TEST_WRITEMAP");
    assert_int_equal(h_client_open(&c, s.cmd_ep), 0);
    assert_int_equal(register_person(&c, &r, 0), 0);
    assert_true(r.ok);
    h_reply_release(&r);

    ok = fill_until_refused(&c, &r);
    /* regression: a failed batch answered with "id": null */
    if (r.id[0] != 'h')
        fail_msg("the refusal does not carry the command's id: %s",
                 h_reply_text(&r));
    print_message("disk full after %lld commands: %s\n", (long long)ok,
                  r.message);
    if (!strstr(r.message, "disk is full") || !strstr(r.message, "nothing"))
        fail_msg("unclear message: %s", r.message);
    h_reply_release(&r);
    assert_true(ok > 0);

    /* nothing partial: the log holds the accepted commands only */
    before = h_log_count(&c);
    assert_int_equal(before, 1 + ok);
    assert_int_equal(filler(&c, &r, -1), 0);
    assert_false(r.ok);
    h_reply_release(&r);
    assert_int_equal(h_log_count(&c), before);
    assert_int_equal(h_cmdf(&c, &r, "clerk1", "query.people", "{\"q\":\"P0\"}"),
                     0);
    assert_true(r.ok);
    h_reply_release(&r);

    /* space again */
    assert_int_equal(ballast(mnt, false), 0);
    assert_int_equal(register_person(&c, &r, 1), 0);
    if (!r.ok)
        fail_msg("after freeing space: %s", h_reply_text(&r));
    h_reply_release(&r);
    assert_int_equal(h_log_count(&c), before + 1);
    h_client_close(&c);
    assert_int_equal(h_server_stop(&s), 0);
    {
        char cmd[H_PATH_MAX * 2];
        const char *tools = getenv("DESKD_TOOLS");
        snprintf(cmd, sizeof(cmd), "%s/deskaudit verify %s >/dev/null",
                 tools ? tools : "build", s.data_dir);
        assert_int_equal(system(cmd), 0);
    }
    h_server_cleanup(&s);
    umount2(mnt, MNT_DETACH);
    rmdir(mnt);
}

/* A deskd whose log is on a small disk (mnt, ballast taken) and whose
 * derived state is on a roomy one of its own (der); ini: extra settings
 * or NULL. */
static void log_disk_start(char *mnt, char *data, char *der, struct h_server *s,
                           const char *ini)
{
    struct h_opts o = {.extra_ini = ini};
    if (!mkdtemp(mnt) || mount("tmpfs", mnt, "tmpfs", 0, "size=" TMPFS_SIZE)) {
        fprintf(stderr, "it_faults: SKIPPED log-full test: cannot mount a "
                        "tmpfs; run as root with CAP_SYS_ADMIN\n");
        rmdir(mnt);
        skip();
    }
    snprintf(data, H_PATH_MAX, "%s/var", mnt);
    snprintf(der, H_PATH_MAX + 16, "%s/derived", data);
    assert_int_equal(mkdir(data, 0750), 0);
    assert_int_equal(mkdir(der, 0750), 0);
    assert_int_equal(mount("tmpfs", der, "tmpfs", 0, "size=64m"), 0);
    assert_int_equal(ballast(mnt, true), 0);
    o.data_dir = data;
    assert_int_equal(h_server_start_opts(s, &o), 0);
}

static void log_disk_end(const char *mnt, const char *der, struct h_server *s)
{
    h_server_cleanup(s);
    umount2(der, MNT_DETACH);
    umount2(mnt, MNT_DETACH);
    rmdir(mnt);
}

/* Issue 14: derived state is never ahead of the log. The log's disk fills
 * while derived state (data_dir/derived, a tmpfs of its own here) has
 * room: the batch is refused (with the journal, when the log's file finds
 * no room for it before it is journaled; without one, when the LMDB log's
 * commit fails), and derived state must be as if the refused batch never
 * happened: it holds exactly the log (applied seq = last seq) and equals a
 * replay of it. */
static void failed_log_write_leaves_derived_untouched(const char *ini)
{
    char mnt[] = "/tmp/deskd-logfull-XXXXXX", data[H_PATH_MAX],
         der[H_PATH_MAX + 16];
    struct h_server s;
    struct h_client c;
    struct h_reply r;
    struct fingerprint fp;
    struct rebuild_report rr;
    struct err e = {0};
    int64_t before, ok;

    log_disk_start(mnt, data, der, &s, ini);
    assert_int_equal(h_client_open(&c, s.cmd_ep), 0);
    ok = fill_until_refused(&c, &r);
    if (!strstr(r.message, "the log could not be written"))
        fail_msg("not the log's commit that failed: %s", r.message);
    h_reply_release(&r);
    before = h_log_count(&c);
    assert_int_equal(before, ok);
    /* derived state: exactly the log, equal to a replay of it */
    assert_int_equal(h_derived_settled(&s), 0); /* committed lazily */
    assert_int_equal(proj_fingerprint(s.data_dir, &fp, &e), 0);
    assert_int_equal((int64_t)fp.last_seq, before);
    assert_int_equal(rebuild_compare(s.data_dir, &rr, NULL, &e), 0);
    if (!rr.identical)
        fail_msg("derived state differs from the log: %s", rr.first_diff);

    /* space again: writes resume on the same chain */
    assert_int_equal(ballast(mnt, false), 0);
    assert_int_equal(register_person(&c, &r, 1), 0);
    if (!r.ok)
        fail_msg("after freeing space: %s", h_reply_text(&r));
    h_reply_release(&r);
    assert_int_equal(h_log_count(&c), before + 1);
    h_client_close(&c);
    assert_int_equal(h_server_stop(&s), 0);
    assert_int_equal(rebuild_compare(s.data_dir, &rr, NULL, &e), 0);
    assert_true(rr.identical);
    log_disk_end(mnt, der, &s);
}

static void test_failed_log_commit_leaves_derived_untouched(void **state)
{
    (void)state;
    failed_log_write_leaves_derived_untouched(NULL);
}

/* The same with the LMDB log's own protocol: its commit is what fails. */
static void
test_failed_log_commit_leaves_derived_untouched_no_journal(void **state)
{
    (void)state;
    failed_log_write_leaves_derived_untouched("[deskd]\njournal_mb = 0\n");
}

/* Where the log's file cannot be reserved (DESKD_TEST_NO_RESERVE=1 stands
 * for a file system without fallocate), a full disk fails the LMDB commit
 * of batches the journal acknowledged already: deskd stops (exit 75)
 * without answering more, and once there is room a restart writes them
 * from the journal into the log, so every acknowledged command is there. */
static void test_log_full_without_reservation_stops_then_recovers(void **state)
{
    char mnt[] = "/tmp/deskd-logfull-XXXXXX", data[H_PATH_MAX],
         der[H_PATH_MAX + 16];
    struct h_server s;
    struct h_client c;
    struct h_reply r;
    int64_t ok = 0, n;
    (void)state;

    setenv("DESKD_TEST_NO_RESERVE", "1", 1);
    log_disk_start(mnt, data, der, &s, NULL);
    unsetenv("DESKD_TEST_NO_RESERVE");
    assert_int_equal(h_client_open(&c, s.cmd_ep), 0);
    for (int i = 1; i < FILL_MAX; i++) {
        if (filler(&c, &r, i))
            break; /* no reply: deskd stopped */
        if (!r.ok)
            fail_msg("refused instead of stopping: %s", h_reply_text(&r));
        ok++;
        h_reply_release(&r);
    }
    h_client_close(&c);
    print_message("the LMDB log failed after %lld acknowledged commands\n",
                  (long long)ok);
    assert_true(ok > 0);
    assert_int_equal(h_server_stop(&s), 75); /* EXIT_SYNC_FAILED */

    assert_int_equal(ballast(mnt, false), 0);
    assert_int_equal(h_server_restart(&s), 0);
    assert_int_equal(h_client_open(&c, s.cmd_ep), 0);
    n = h_log_count(&c);
    if (h_server_log_count(&s, "recovered from the journal") < 1)
        fail_msg("the restart did not write the journal into the log");
    /* the command without a reply may have reached the journal too */
    if (n != ok && n != ok + 1)
        fail_msg("%lld acknowledged, %lld in the log after the restart",
                 (long long)ok, (long long)n);
    h_client_close(&c);
    assert_int_equal(h_server_stop(&s), 0);
    log_disk_end(mnt, der, &s);
}

#define PIPE_MAX 2000 /* commands sent in the pipelined test */
#define PIPE_DEPTH 64 /* in flight at once */

/* One filler with the id "<prefix><i>", sent without waiting for its
 * reply. */
static void send_filler(struct h_client *c, const char *prefix, int i)
{
    char id[16], note[TEXT_BYTES + 16];
    struct cw w;
    snprintf(id, sizeof(id), "%s%d", prefix, i);
    snprintf(note, sizeof(note), "%d %s", i, text);
    cw_init(&w);
    cw_map(&w, 4);
    cw_kstr(&w, "id", id);
    cw_kstr(&w, "cmd", "workorder.log");
    cw_kstr(&w, "actor", "clerk1");
    cw_str(&w, "body");
    cw_map(&w, 2);
    cw_kstr(&w, "kind", "repair");
    cw_kstr(&w, "text", note);
    assert_int_equal(h_send_raw(c, cw_data(&w), cw_len(&w)), 0);
    cw_release(&w);
}

/* Issue 14, with the flusher: while a log write is under way the writer
 * already decides the next commands on derived state. When the log's
 * disk fills with many commands in flight, every command decided after
 * the failed write must fail too (it may have read what never got
 * written), nothing answered ok may be missing from the log, and derived
 * state must equal a replay of the log. Once there is space, sending every
 * command again writes exactly the failed ones; the others are duplicates
 * of what the log holds. */
static void test_failed_log_write_fails_what_came_after_it(void **state)
{
    char mnt[] = "/tmp/deskd-logfull-XXXXXX", data[H_PATH_MAX],
         der[H_PATH_MAX + 16];
    static bool acked[PIPE_MAX];
    struct h_server s;
    struct h_client c;
    struct h_reply r;
    struct fingerprint fp;
    struct rebuild_report rr;
    struct err e = {0};
    int sent = 0, got = 0, ok = 0, failed = 0, dups = 0, fresh = 0;
    (void)state;

    log_disk_start(mnt, data, der, &s, NULL);
    assert_int_equal(h_client_open(&c, s.cmd_ep), 0);
    memset(acked, 0, sizeof(acked));
    while (sent < PIPE_DEPTH)
        send_filler(&c, "p", sent++);
    while (got < sent) {
        int i;
        if (h_recv(&c, &r)) { /* seen once, not understood: keep why */
            h_server_show_log(&s);
            fail_msg("no reply to %d of %d commands", sent - got, sent);
        }
        got++;
        assert_int_equal(sscanf(r.id, "p%d", &i), 1);
        if (r.ok) {
            acked[i] = true;
            ok++;
        } else {
            assert_string_equal(r.code, "unavailable");
            failed++;
        }
        h_reply_release(&r);
        if (sent < PIPE_MAX && !failed)
            send_filler(&c, "p", sent++);
    }
    if (!failed)
        fail_msg("%d commands fitted on a %s disk", PIPE_MAX, TMPFS_SIZE);
    fprintf(stderr, "pipelined on a full log disk: %d ok, %d refused\n", ok,
            failed);
    /* what was acknowledged is exactly what the log holds */
    assert_int_equal(h_log_count(&c), ok);
    assert_int_equal(h_derived_settled(&s), 0); /* committed lazily */
    assert_int_equal(proj_fingerprint(s.data_dir, &fp, &e), 0);
    assert_int_equal((int64_t)fp.last_seq, ok);
    assert_int_equal(rebuild_compare(s.data_dir, &rr, NULL, &e), 0);
    if (!rr.identical)
        fail_msg("derived state differs from the log: %s", rr.first_diff);

    /* space again: the same commands, one at a time */
    assert_int_equal(ballast(mnt, false), 0);
    for (int i = 0; i < sent; i++) {
        bool dup;
        send_filler(&c, "p", i);
        assert_int_equal(h_recv(&c, &r), 0);
        if (!r.ok)
            fail_msg("p%d again: %s", i, h_reply_text(&r));
        dup = h_reply_get(&r, "duplicate") != NULL;
        if (dup != acked[i])
            fail_msg("p%d: acknowledged %d, duplicate now %d", i, acked[i],
                     dup);
        dups += dup;
        fresh += !dup;
        h_reply_release(&r);
    }
    assert_int_equal(dups, ok);
    assert_int_equal(fresh, failed);
    assert_int_equal(h_log_count(&c), sent);
    h_client_close(&c);
    assert_int_equal(h_server_stop(&s), 0);
    assert_int_equal(rebuild_compare(s.data_dir, &rr, NULL, &e), 0);
    assert_true(rr.identical);
    log_disk_end(mnt, der, &s);
}

#define POISON_AT 20 /* the failing command among BATCH_CMDS */
#define BATCH_CMDS 60

/* A batch that fails after its commands wrote derived state (as a write
 * error in a projection would: DESKD_TEST_FAIL_ID makes the command "x0"
 * fail its batch once its events are in): nothing of that batch may stay
 * in derived state, not even the command ids of the commands before it.
 * Every command answered ok is in the log as answered; sent again, each
 * is a duplicate with its seq, and each refused one is written fresh;
 * derived state equals a replay of the log. */
static void test_failed_batch_leaves_nothing_behind(void **state)
{
    static int64_t seq_of[BATCH_CMDS];
    struct h_server s;
    struct h_client c;
    struct h_reply r;
    struct rebuild_report rr;
    struct err e = {0};
    int got = 0, ok = 0, failed = 0;
    (void)state;

    setenv("DESKD_TEST_FAIL_ID", "x0", 1);
    assert_int_equal(h_server_start(&s, NULL), 0);
    unsetenv("DESKD_TEST_FAIL_ID");
    assert_int_equal(h_client_open(&c, s.cmd_ep), 0);
    for (int i = 0; i < BATCH_CMDS; i++) {
        if (i == POISON_AT)
            send_filler(&c, "x", 0);
        send_filler(&c, "b", i);
    }
    while (got < BATCH_CMDS + 1) {
        int i;
        assert_int_equal(h_recv(&c, &r), 0);
        got++;
        if (!strcmp(r.id, "x0")) {
            assert_false(r.ok);
            h_reply_release(&r);
            continue;
        }
        assert_int_equal(sscanf(r.id, "b%d", &i), 1);
        seq_of[i] = r.ok ? r.seq : 0;
        ok += r.ok;
        failed += !r.ok;
        h_reply_release(&r);
    }
    fprintf(stderr, "a batch failed by x0: %d ok, %d refused with it\n", ok,
            failed);
    assert_int_equal(h_log_count(&c), ok);
    for (int i = 0; i < BATCH_CMDS; i++) {
        send_filler(&c, "b", i);
        assert_int_equal(h_recv(&c, &r), 0);
        if (!r.ok)
            fail_msg("b%d again: %s", i, h_reply_text(&r));
        if (seq_of[i] &&
            (h_reply_get(&r, "duplicate") == NULL || r.seq != seq_of[i]))
            fail_msg("b%d was answered seq %lld; again: %s", i,
                     (long long)seq_of[i], h_reply_text(&r));
        if (!seq_of[i] && h_reply_get(&r, "duplicate") != NULL)
            fail_msg("b%d was refused, yet is a duplicate: %s", i,
                     h_reply_text(&r));
        h_reply_release(&r);
    }
    assert_int_equal(h_log_count(&c), BATCH_CMDS);
    h_client_close(&c);
    assert_int_equal(h_server_stop(&s), 0);
    assert_int_equal(rebuild_compare(s.data_dir, &rr, NULL, &e), 0);
    if (!rr.identical)
        fail_msg("derived state differs from the log: %s", rr.first_diff);
    h_server_cleanup(&s);
}

static int64_t last_seq(struct h_client *c)
{
    struct h_reply r;
    int64_t n;
    assert_int_equal(
        h_cmdf(c, &r, "admin", "log.read", "{\"from\":1,\"limit\":1}"), 0);
    n = h_reply_int(&r, "result.last_seq", -1);
    h_reply_release(&r);
    return n;
}

/* Each of n desks registers one person; all must be answered. */
static void desks_are_served(struct h_server *s, int round)
{
    for (int d = 0; d < DESKS; d++) {
        struct h_client c;
        struct h_reply r;
        assert_int_equal(h_client_open(&c, s->cmd_ep), 0);
        assert_int_equal(register_person(&c, &r, round * 100 + d), 0);
        if (!r.ok)
            fail_msg("desk %d: %s", d, h_reply_text(&r));
        h_reply_release(&r);
        h_client_close(&c);
    }
}

/* A client that floods without reading a reply, hundreds of idle
 * connections and a subscriber that never reads: the other desks are
 * still served, and every command that was answered is in the log. */
static void test_hostile_peers_do_not_stop_the_desks(void **state)
{
    struct h_server s;
    struct h_client flood, idle[IDLE_CONNS], adm;
    struct h_sub deaf;
    struct cw w;
    int zero = 0, one = 1, small = 4096, sent = 0;
    (void)state;

    /* a small PUB queue, so the deaf subscriber's fills and overflows */
    assert_int_equal(h_server_start(&s, "[deskd]\npub_hwm = 100\n"), 0);
    deaf.ctx = zmq_ctx_new();
    deaf.sock = zmq_socket(deaf.ctx, ZMQ_SUB);
    zmq_setsockopt(deaf.sock, ZMQ_RCVHWM, &one, sizeof(one));
    zmq_setsockopt(deaf.sock, ZMQ_RCVBUF, &small, sizeof(small));
    zmq_setsockopt(deaf.sock, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_setsockopt(deaf.sock, ZMQ_SUBSCRIBE, "", 0);
    assert_int_equal(zmq_connect(deaf.sock, s.pub_ep), 0);
    for (int i = 0; i < IDLE_CONNS; i++)
        assert_int_equal(h_client_open(&idle[i], s.cmd_ep), 0);
    assert_int_equal(h_client_open(&flood, s.cmd_ep), 0);
    zmq_setsockopt(flood.sock, ZMQ_SNDHWM, &zero, sizeof(zero));
    /* the flooder never reads: its replies back up to the HWM and are
     * dropped by deskd (ZMQ_DONTWAIT), it never blocks the loop */
    cw_init(&w);
    for (int i = 0; i < FLOOD; i++) {
        char id[32];
        snprintf(id, sizeof(id), "flood-%d", i);
        cw_reset(&w);
        cw_map(&w, 4);
        cw_kstr(&w, "id", id);
        cw_kstr(&w, "cmd", "workorder.log");
        cw_kstr(&w, "actor", "clerk1");
        cw_str(&w, "body");
        cw_map(&w, 2);
        cw_kstr(&w, "kind", "repair");
        cw_kstr(&w, "text", text);
        if (zmq_send(flood.sock, cw_data(&w), cw_len(&w), ZMQ_DONTWAIT) < 0)
            break; /* our own send queue is full: deskd applies back-pressure */
        sent++;
    }
    cw_release(&w);
    assert_true(sent > 0);
    print_message("flooder queued %d commands without reading\n", sent);
    desks_are_served(&s, 1);
    /* the flood is worked through, not stuck: every command of it is
     * logged (its replies were dropped), and the log is gapless */
    desks_are_served(&s, 2);
    assert_int_equal(h_client_open(&adm, s.cmd_ep), 0);
    for (int tries = 0; last_seq(&adm) < sent + 2 * DESKS && tries < 1200;
         tries++)
        nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
    assert_int_equal(last_seq(&adm), sent + 2 * DESKS);
    assert_int_equal(h_log_count(&adm), sent + 2 * DESKS); /* gapless */
    h_client_close(&adm);
    h_client_close(&flood);
    for (int i = 0; i < IDLE_CONNS; i++)
        h_client_close(&idle[i]);
    h_sub_close(&deaf);
    assert_int_equal(h_server_stop(&s), 0);
    h_server_cleanup(&s);
}

/* Frames larger than the transport limit drop the peer; a frame over
 * frame_max gets bad_request; the server keeps serving. */
static void test_oversized_frames(void **state)
{
    struct h_server s;
    struct h_client c, big;
    struct h_reply r;
    size_t huge = 2u << 20, over = 70 * 1024;
    char *buf = calloc(1, huge);
    int ms = 1500;
    (void)state;

    assert_non_null(buf);
    assert_int_equal(h_server_start(&s, NULL), 0);
    assert_int_equal(h_client_open(&big, s.cmd_ep), 0);
    zmq_setsockopt(big.sock, ZMQ_RCVTIMEO, &ms, sizeof(ms));
    assert_int_equal(h_call_raw(&big, buf, huge, &r), -1); /* peer dropped */
    h_reply_release(&r);
    h_client_close(&big);
    assert_int_equal(h_client_open(&c, s.cmd_ep), 0);
    memset(buf, 0xc1, over); /* never valid msgpack */
    assert_int_equal(h_call_raw(&c, buf, over, &r), 0);
    assert_false(r.ok);
    assert_string_equal(r.code, "bad_request");
    h_reply_release(&r);
    assert_int_equal(register_person(&c, &r, 7), 0);
    assert_true(r.ok);
    h_reply_release(&r);
    h_client_close(&c);
    free(buf);
    assert_int_equal(h_server_stop(&s), 0);
    h_server_cleanup(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disk_full),
        cmocka_unit_test(test_failed_log_commit_leaves_derived_untouched),
        cmocka_unit_test(
            test_failed_log_commit_leaves_derived_untouched_no_journal),
        cmocka_unit_test(test_log_full_without_reservation_stops_then_recovers),
        cmocka_unit_test(test_failed_log_write_fails_what_came_after_it),
        cmocka_unit_test(test_failed_batch_leaves_nothing_behind),
        cmocka_unit_test(test_hostile_peers_do_not_stop_the_desks),
        cmocka_unit_test(test_oversized_frames),
    };
    fill_text();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
