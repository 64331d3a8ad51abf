/* tools/desksink.c - follows one or more deskd shards through their public
 * protocol (tools/follow.c: log.read catch-up, then PUB with gap recovery)
 * and writes every event to PostgreSQL, exactly once: each batch of events
 * (COPY) and the shard's new position commit in one transaction, and the
 * read models (tools/desksink.sql) are folded by a trigger in that same
 * transaction. A restart resumes at the stored position; a batch that
 * would repeat an event is refused by the primary key and the position
 * check, and nothing of it stays. Each shard has a reader thread (deskd:
 * follow, mask, make COPY text) and a writer thread (PostgreSQL), with at
 * most QUEUE_MAX batches between them; when a batch fails or the
 * connection is new, the writer drops what is queued and the reader
 * starts again from the stored position.
 *
 *   desksink -c sink.conf
 *
 * sink.conf (INI; relative paths are relative to its directory):
 *   [postgres]  conninfo = libpq connection string
 *   [sink]      batch = events per transaction (2000)
 *               flush_ms = longest a taken event waits for its batch (50)
 *               personal_data = masked (default) | full (R-GEN-02)
 *   [shard.ID]  one per deskd; ID is the shard id stored with each row
 *               endpoints = deskd's <data_dir>/endpoints file, or
 *               commands = ..., events = ... (deskd's sockets)
 *               actor = operator for log.read (a reader role)
 *               secret_key, server_key = CURVE keys (curve mode)
 */
#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <jansson.h>
#include <libgen.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "../core/codec_json.h"
#include "../core/mask.h"
#include "follow.h"

#define SHARDS_MAX 64
#define SHARD_ID_MAX 32
#define TEXT_MAX 4096
#define HASH_LEN 32           /* BLAKE2b-256, as deskd's log */
#define IDLE_MS 1000          /* quiet this long: ask log.read (step 4) */
#define LOG_READ_TIMEOUT 3000 /* ms for one log.read reply */
#define RETRY_MS 200          /* between reconnection attempts */

struct sink_cfg {
    char dir[TEXT_MAX]; /* the config file's directory */
    char conninfo[TEXT_MAX];
    int batch, flush_ms;
    bool full; /* personal_data = full */
};

struct buf {
    char *p;
    size_t len, cap;
};

/* A batch: COPY text of events first..last, handed from a shard's reader
 * thread to its writer thread. */
struct batch {
    struct buf rows;
    int n;
    int64_t first, last;
};

#define QUEUE_MAX 2 /* batches waiting for the writer */

struct shard {
    char id[SHARD_ID_MAX];
    char endpoints[TEXT_MAX], cmd_ep[TEXT_MAX], pub_ep[TEXT_MAX];
    char actor[64], secret_key[TEXT_MAX], server_key[TEXT_MAX];
    const struct sink_cfg *cfg;
    void *zctx;
    pthread_t th, wth; /* reader (deskd) and writer (PostgreSQL) */
    /* the reader's */
    struct batch cur;
    int64_t handed;   /* the last seq handed to the writer */
    int64_t first_ms; /* when cur's first event was taken */
    struct cw enc;    /* scratch: an event re-encoded for its hash */
    /* the writer's */
    PGconn *pg;
    /* shared, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct batch q[QUEUE_MAX];
    int qlen;
    int64_t committed; /* the position stored in PostgreSQL */
    bool known;        /* committed has been read */
    bool reader_done, writer_gone;
    atomic_bool resync; /* the reader starts again from committed */
    int64_t written;    /* events committed by this run */
    int64_t target, target_from, target_t0; /* catch-up report */
};

static struct sink_cfg cfg = {.batch = 2000, .flush_ms = 50};
static struct shard shards[SHARDS_MAX];
static int nshards;
static atomic_bool stopping;
extern const char desksink_sql[]; /* tools/desksink.sql, built in */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void say(const struct shard *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(const struct shard *s, const char *fmt, ...)
{
    va_list ap;
    char line[1024];
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    fprintf(stderr, "desksink: shard %s: %s\n", s ? s->id : "-", line);
}

static void nap(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- COPY text ---- */

static void put(struct buf *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            fprintf(stderr, "desksink: out of memory\n");
            abort();
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static void puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* A text column: COPY's escapes for backslash and the separators. */
static void put_text(struct buf *b, const char *s, size_t n)
{
    size_t from = 0;
    for (size_t i = 0; i < n; i++) {
        const char *esc = s[i] == '\\'   ? "\\\\"
                          : s[i] == '\t' ? "\\t"
                          : s[i] == '\n' ? "\\n"
                          : s[i] == '\r' ? "\\r"
                                         : NULL;
        if (esc) {
            put(b, s + from, i - from);
            puts_(b, esc);
            from = i + 1;
        }
    }
    put(b, s + from, n - from);
}

static void put_str(struct buf *b, const msgpack_object *ev, const char *k)
{
    const char *s;
    size_t n;
    if (codec_get_str(ev, k, &s, &n))
        puts_(b, "\\N");
    else
        put_text(b, s, n);
}

static void put_hex(struct buf *b, const unsigned char *p, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    puts_(b, "\\\\x");
    for (size_t i = 0; i < n; i++) {
        char c[2] = {hx[p[i] >> 4], hx[p[i] & 15]};
        put(b, c, 2);
    }
}

/* A time of the event: deskd writes ISO 8601 with its offset, which
 * timestamptz reads as it is; ms since the epoch are taken too. */
static void put_time(struct buf *b, const msgpack_object *ev, const char *k)
{
    char t[64];
    int64_t ms;
    struct tm tm;
    time_t sec;
    if (codec_get_int(ev, k, &ms)) {
        put_str(b, ev, k);
        return;
    }
    sec = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    gmtime_r(&sec, &tm);
    snprintf(t, sizeof(t), "%04d-%02d-%02d %02d:%02d:%02d.%03d+00",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(ms - (int64_t)sec * 1000));
    puts_(b, t);
}

/* One event as a COPY row of desk.events. */
static int take(void *arg, const msgpack_object *ev, int64_t seq)
{
    struct shard *s = arg;
    struct buf *b = &s->cur.rows;
    unsigned char hash[HASH_LEN];
    int64_t version = 0;
    char num[32];
    json_t *data;
    char *text;

    if (!s->cur.n) {
        s->first_ms = now_ms();
        s->cur.first = seq;
    }
    put_text(b, s->id, strlen(s->id));
    snprintf(num, sizeof(num), "\t%lld\t", (long long)seq);
    puts_(b, num);
    put_str(b, ev, "type");
    puts_(b, "\t");
    put_str(b, ev, "stream");
    codec_get_int(ev, "version", &version);
    snprintf(num, sizeof(num), "\t%lld\t", (long long)version);
    puts_(b, num);
    put_time(b, ev, "recorded_at");
    puts_(b, "\t");
    put_time(b, ev, "occurred_at");
    puts_(b, "\t");
    put_str(b, ev, "actor");
    puts_(b, "\t");
    put_str(b, ev, "desk");
    puts_(b, "\t");
    put_str(b, ev, "cmd_id");
    puts_(b, "\t");
    /* deskd masks what it publishes; the sink masks again unless its
     * config allows personal data (R-GEN-02), so no change upstream can
     * put it in PostgreSQL unasked */
    data = codec_to_json(codec_get(ev, "data"));
    if (!data || !json_is_object(data)) {
        json_decref(data);
        data = json_object();
    }
    if (!s->cfg->full)
        mask_json(data);
    text = json_dumps(data, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(data);
    if (!text)
        return 1;
    put_text(b, text, strlen(text));
    free(text);
    puts_(b, "\t");
    cw_reset(&s->enc);
    cw_obj(&s->enc, ev);
    crypto_generichash(hash, sizeof(hash),
                       (const unsigned char *)cw_data(&s->enc), cw_len(&s->enc),
                       NULL, 0);
    put_hex(b, hash, sizeof(hash));
    puts_(b, "\n");
    s->cur.n++;
    s->cur.last = seq;
    return 0;
}

/* ---- PostgreSQL ---- */

static bool pg_ok(struct shard *s, PGresult *r, ExecStatusType want,
                  const char *what)
{
    bool ok = r && PQresultStatus(r) == want;
    if (!ok)
        say(s, "%s: %s", what, s->pg ? PQerrorMessage(s->pg) : "no connection");
    PQclear(r);
    return ok;
}

static void pg_drop(struct shard *s)
{
    if (s->pg)
        PQfinish(s->pg);
    s->pg = NULL;
}

/* The stored position of this shard (0 when none), or -1. */
static int64_t read_position(struct shard *s)
{
    const char *p[1] = {s->id};
    int64_t pos;
    PGresult *r =
        PQexecParams(s->pg, "SELECT seq FROM desk.positions WHERE shard = $1",
                     1, NULL, p, NULL, NULL, 0);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        pg_ok(s, r, PGRES_TUPLES_OK, "reading the position");
        return -1;
    }
    pos = PQntuples(r) ? atoll(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    return pos;
}

static void free_batch(struct batch *b)
{
    free(b->rows.p);
    memset(b, 0, sizeof(*b));
}

/* Writer side, under mu: what is queued was taken after a position that
 * no longer holds; the reader starts again from the stored one. */
static void drop_queue(struct shard *s)
{
    for (int i = 0; i < s->qlen; i++)
        free_batch(&s->q[i]);
    s->qlen = 0;
    atomic_store(&s->resync, true);
    pthread_cond_broadcast(&s->cv);
}

/* Connects and reads the position; every batch queued before is dropped
 * (a PostgreSQL crash may have taken the last commits with it). */
static int pg_connect(struct shard *s)
{
    int64_t pos;
    s->pg = PQconnectdb(s->cfg->conninfo);
    if (PQstatus(s->pg) != CONNECTION_OK) {
        say(s, "PostgreSQL: %s", PQerrorMessage(s->pg));
        pg_drop(s);
        return -1;
    }
    /* Commits need not wait for the disk: the position commits with its
     * rows, so a PostgreSQL crash loses both together, the connection
     * breaks, and the sink resumes from the position that survived. */
    PQclear(PQexec(s->pg, "SET synchronous_commit = off"));
    if ((pos = read_position(s)) < 0) {
        pg_drop(s);
        return -1;
    }
    pthread_mutex_lock(&s->mu);
    s->committed = pos;
    s->known = true;
    drop_queue(s);
    pthread_mutex_unlock(&s->mu);
    return 0;
}

/* Commits a batch and the new position in one transaction. The position
 * moves only from the one this sink read: another writer, or a batch that
 * repeats an event (primary key), rolls the whole batch back. */
static int commit_batch(struct shard *s, const struct batch *b, int64_t from)
{
    char to[32], was[32];
    const char *p[3] = {s->id, to, was};
    PGresult *r;
    bool ok;

    snprintf(to, sizeof(to), "%lld", (long long)b->last);
    snprintf(was, sizeof(was), "%lld", (long long)from);
    ok = pg_ok(s, PQexec(s->pg, "BEGIN"), PGRES_COMMAND_OK, "BEGIN") &&
         pg_ok(s,
               PQexec(s->pg,
                      "COPY desk.events (shard, seq, type, stream, version, "
                      "at, occurred_at, actor, desk, cmd_id, body, hash) "
                      "FROM STDIN"),
               PGRES_COPY_IN, "COPY");
    if (ok) {
        ok = PQputCopyData(s->pg, b->rows.p, (int)b->rows.len) == 1;
        ok = PQputCopyEnd(s->pg, ok ? NULL : "send failed") == 1 && ok;
        ok = pg_ok(s, PQgetResult(s->pg), PGRES_COMMAND_OK, "COPY rows") && ok;
        while ((r = PQgetResult(s->pg)))
            PQclear(r);
    }
    if (ok) {
        r = PQexecParams(
            s->pg,
            "INSERT INTO desk.positions (shard, seq) VALUES ($1, $2) "
            "ON CONFLICT (shard) DO UPDATE SET seq = EXCLUDED.seq, "
            "updated = now() WHERE desk.positions.seq = $3",
            3, NULL, p, NULL, NULL, 0);
        ok = r && PQresultStatus(r) == PGRES_COMMAND_OK &&
             !strcmp(PQcmdTuples(r), "1");
        if (!ok && r && PQresultStatus(r) == PGRES_COMMAND_OK)
            say(s,
                "position is no longer %s: another sink writes this "
                "shard; batch refused",
                was);
        if (!ok)
            pg_ok(s, r, PGRES_COMMAND_OK, "position");
        else
            PQclear(r);
    }
    ok = ok && pg_ok(s, PQexec(s->pg, "COMMIT"), PGRES_COMMAND_OK, "COMMIT");
    if (ok)
        return 0;
    /* nothing of the batch is stored; the next connection reads what is */
    pg_drop(s);
    return -1;
}

/* The writer thread of a shard: commits the batches the reader hands it,
 * in order, while the reader takes the next ones from deskd. */
static void *write_shard(void *arg)
{
    struct shard *s = arg;
    for (;;) {
        struct batch b;
        int64_t from;
        if (!s->pg && pg_connect(s)) {
            if (atomic_load(&stopping))
                break; /* PostgreSQL is gone; the position says where */
            nap(RETRY_MS);
            continue;
        }
        pthread_mutex_lock(&s->mu);
        while (!s->qlen && !s->reader_done) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 200 * 1000000L;
            ts.tv_sec += ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&s->cv, &s->mu, &ts);
        }
        if (!s->qlen) {
            pthread_mutex_unlock(&s->mu);
            break; /* the reader is done and everything is written */
        }
        b = s->q[0];
        memmove(&s->q[0], &s->q[1], (size_t)(s->qlen - 1) * sizeof(b));
        s->qlen--;
        from = s->committed;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
        if (b.first != from + 1) { /* taken before a resync: stale */
            free_batch(&b);
            pthread_mutex_lock(&s->mu);
            drop_queue(s);
            pthread_mutex_unlock(&s->mu);
            continue;
        }
        if (commit_batch(s, &b, from)) {
            pthread_mutex_lock(&s->mu);
            drop_queue(s);
            pthread_mutex_unlock(&s->mu);
        } else {
            pthread_mutex_lock(&s->mu);
            s->committed = b.last;
            s->written += b.last - from;
            if (s->target && s->committed >= s->target) {
                int64_t ms = now_ms() - s->target_t0;
                say(s, "caught up to seq %lld: %lld events in %lld ms (%lld/s)",
                    (long long)s->target,
                    (long long)(s->target - s->target_from), (long long)ms,
                    (long long)((s->target - s->target_from) * 1000 /
                                (ms ? ms : 1)));
                s->target = 0;
            }
            pthread_mutex_unlock(&s->mu);
        }
        free_batch(&b);
    }
    pthread_mutex_lock(&s->mu);
    say(s, "stopped at seq %lld (%lld events written)", (long long)s->committed,
        (long long)s->written);
    for (int i = 0; i < s->qlen; i++)
        free_batch(&s->q[i]);
    s->qlen = 0;
    s->writer_gone = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pg_drop(s);
    return NULL;
}

/* Reader side: hands the batch taken so far to the writer, waiting while
 * QUEUE_MAX batches wait already. -1 when the reader must start again from
 * the stored position (a batch failed, PostgreSQL reconnected). */
static int hand(struct shard *s)
{
    int rc = 0;
    if (!s->cur.n)
        return 0;
    pthread_mutex_lock(&s->mu);
    while (s->qlen == QUEUE_MAX && !atomic_load(&s->resync) && !s->writer_gone)
        pthread_cond_wait(&s->cv, &s->mu);
    if (atomic_load(&s->resync) || s->writer_gone) {
        rc = -1;
        free_batch(&s->cur);
    } else {
        s->handed = s->cur.last;
        s->q[s->qlen++] = s->cur;
        memset(&s->cur, 0, sizeof(s->cur));
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

/* take, then hand the batch over when it is full */
static int take_batched(void *arg, const msgpack_object *ev, int64_t seq)
{
    struct shard *s = arg;
    if (take(s, ev, seq))
        return 1;
    return s->cur.n >= s->cfg->batch ? (hand(s) ? 1 : 0) : 0;
}

/* ---- following one shard ---- */

/* deskd's endpoints file: "commands EP" and "events EP" lines. */
static int read_endpoints(struct shard *s)
{
    char line[TEXT_MAX], ep[TEXT_MAX];
    FILE *f;
    if (!s->endpoints[0])
        return s->cmd_ep[0] && s->pub_ep[0] ? 0 : -1;
    if (!(f = fopen(s->endpoints, "r")))
        return -1;
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "commands %4095s", ep) == 1)
            snprintf(s->cmd_ep, sizeof(s->cmd_ep), "%s", ep);
        else if (sscanf(line, "events %4095s", ep) == 1)
            snprintf(s->pub_ep, sizeof(s->pub_ep), "%s", ep);
    }
    fclose(f);
    return s->cmd_ep[0] && s->pub_ep[0] ? 0 : -1;
}

/* Follows deskd from seq start + 1 until deskd stops answering, a batch
 * fails or the sink stops. */
static void follow_shard(struct shard *s, int64_t start)
{
    struct follow_opts fo = {s->cmd_ep,
                             s->pub_ep,
                             s->actor,
                             s->secret_key[0] ? s->secret_key : NULL,
                             s->server_key[0] ? s->server_key : NULL,
                             LOG_READ_TIMEOUT};
    struct follow f;
    int64_t n, t0 = now_ms();

    if (read_endpoints(s) ||
        follow_open(&f, s->zctx, &fo, start + 1, take_batched, s))
        return;
    n = follow_catch_up(&f, 0);
    if (n > 0 && !hand(s)) { /* the writer says when it is all in */
        pthread_mutex_lock(&s->mu);
        s->target = f.next - 1;
        s->target_from = start;
        s->target_t0 = t0;
        pthread_mutex_unlock(&s->mu);
    }
    while (n >= 0 && !atomic_load(&stopping)) {
        if (atomic_load(&s->resync)) {
            n = -2;
            break;
        }
        n = follow_poll(&f, s->cur.n ? 5 : IDLE_MS);
        if (n == 0 && !s->cur.n)
            n = follow_catch_up(&f, 0); /* quiet: a lost tail? */
        if (n >= 0 && s->cur.n &&
            (n == 0 || now_ms() - s->first_ms >= s->cfg->flush_ms) && hand(s))
            n = -2;
    }
    /* deskd went away, or stopping: hand over what came; after a failed
     * batch, what was taken is dropped (it is read again) */
    if (n == -2)
        free_batch(&s->cur);
    else
        hand(s);
    follow_close(&f);
}

/* The reader thread of a shard: follows deskd, makes the batches. */
static void *run_shard(void *arg)
{
    struct shard *s = arg;
    int64_t last_said = -1, start;

    cw_init(&s->enc);
    if (pthread_create(&s->wth, NULL, write_shard, s)) {
        say(s, "cannot start the writer thread");
        atomic_store(&stopping, true);
        cw_release(&s->enc);
        return NULL;
    }
    while (!atomic_load(&stopping)) {
        pthread_mutex_lock(&s->mu);
        while (!s->known && !atomic_load(&stopping) && !s->writer_gone)
            pthread_cond_wait(&s->cv, &s->mu);
        /* after a resync the stored position; otherwise what was handed
         * (the writer commits the batches still queued) */
        start = atomic_load(&s->resync) || s->handed < s->committed
                    ? s->committed
                    : s->handed;
        s->handed = start;
        atomic_store(&s->resync, false);
        pthread_mutex_unlock(&s->mu);
        if (atomic_load(&stopping) || s->writer_gone)
            break;
        if (start != last_said)
            say(s, "following from seq %lld", (long long)start + 1);
        last_said = start;
        follow_shard(s, start);
        if (!atomic_load(&stopping))
            nap(RETRY_MS);
    }
    pthread_mutex_lock(&s->mu);
    s->reader_done = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->wth, NULL);
    free_batch(&s->cur);
    cw_release(&s->enc);
    return NULL;
}

/* ---- config ---- */

static void path_at(char *out, size_t cap, const char *v)
{
    if (v[0] == '/' || !cfg.dir[0])
        snprintf(out, cap, "%s", v);
    else
        snprintf(out, cap, "%.2047s/%.2047s", cfg.dir, v);
}

/* A key's value may be a Z85 key itself or a file: a path is resolved
 * only when such a file exists. */
static void key_at(char *out, size_t cap, const char *v)
{
    char p[TEXT_MAX];
    path_at(p, sizeof(p), v);
    snprintf(out, cap, "%s", access(p, R_OK) == 0 ? p : v);
}

static struct shard *shard_named(const char *id)
{
    for (int i = 0; i < nshards; i++)
        if (!strcmp(shards[i].id, id))
            return &shards[i];
    if (nshards == SHARDS_MAX || !id[0] || strlen(id) >= SHARD_ID_MAX)
        return NULL;
    struct shard *s = &shards[nshards++];
    snprintf(s->id, sizeof(s->id), "%s", id);
    snprintf(s->actor, sizeof(s->actor), "sink");
    s->cfg = &cfg;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    return s;
}

static int on_entry(void *user, const char *sec, const char *k, const char *v)
{
    (void)user;
    if (!strcmp(sec, "postgres") && !strcmp(k, "conninfo")) {
        snprintf(cfg.conninfo, sizeof(cfg.conninfo), "%s", v);
    } else if (!strcmp(sec, "sink") && !strcmp(k, "batch")) {
        cfg.batch = atoi(v);
        if (cfg.batch < 1 || cfg.batch > 100000)
            return 0;
    } else if (!strcmp(sec, "sink") && !strcmp(k, "flush_ms")) {
        cfg.flush_ms = atoi(v);
        if (cfg.flush_ms < 0)
            return 0;
    } else if (!strcmp(sec, "sink") && !strcmp(k, "personal_data")) {
        if (strcmp(v, "masked") && strcmp(v, "full"))
            return 0;
        cfg.full = !strcmp(v, "full");
    } else if (!strncmp(sec, "shard.", 6)) {
        struct shard *s = shard_named(sec + 6);
        if (!s)
            return 0;
        if (!strcmp(k, "endpoints"))
            path_at(s->endpoints, sizeof(s->endpoints), v);
        else if (!strcmp(k, "commands"))
            snprintf(s->cmd_ep, sizeof(s->cmd_ep), "%s", v);
        else if (!strcmp(k, "events"))
            snprintf(s->pub_ep, sizeof(s->pub_ep), "%s", v);
        else if (!strcmp(k, "actor") && strlen(v) < sizeof(s->actor))
            snprintf(s->actor, sizeof(s->actor), "%s", v);
        else if (!strcmp(k, "secret_key"))
            key_at(s->secret_key, sizeof(s->secret_key), v);
        else if (!strcmp(k, "server_key"))
            key_at(s->server_key, sizeof(s->server_key), v);
        else
            return 0;
    } else {
        return 0;
    }
    return 1;
}

static int load_config(const char *path)
{
    char copy[TEXT_MAX];
    int line;
    snprintf(copy, sizeof(copy), "%s", path);
    snprintf(cfg.dir, sizeof(cfg.dir), "%s", dirname(copy));
    line = ini_parse(path, on_entry, NULL);
    if (line) {
        fprintf(stderr,
                line < 0 ? "desksink: cannot read %s\n"
                         : "desksink: %s:%d: unknown or bad setting\n",
                path, line);
        return -1;
    }
    if (!cfg.conninfo[0] || !nshards) {
        fprintf(stderr,
                "desksink: %s needs [postgres] conninfo and at least "
                "one [shard.ID]\n",
                path);
        return -1;
    }
    for (int i = 0; i < nshards; i++)
        if (!shards[i].endpoints[0] &&
            (!shards[i].cmd_ep[0] || !shards[i].pub_ep[0])) {
            fprintf(stderr,
                    "desksink: [shard.%s] needs endpoints, or "
                    "commands and events\n",
                    shards[i].id);
            return -1;
        }
    return 0;
}

/* The schema and read models, once per start (idempotent). */
static int install_schema(void)
{
    PGconn *pg;
    PGresult *r;
    int rc = -1;
    for (;;) {
        pg = PQconnectdb(cfg.conninfo);
        if (PQstatus(pg) == CONNECTION_OK)
            break;
        fprintf(stderr, "desksink: PostgreSQL: %s", PQerrorMessage(pg));
        PQfinish(pg);
        if (atomic_load(&stopping))
            return -1;
        nap(1000);
    }
    /* one transaction; the lock keeps two sinks starting together apart */
    r = PQexec(pg, "BEGIN; SELECT pg_advisory_xact_lock(4455);");
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
        PQclear(r);
        r = PQexec(pg, desksink_sql);
        if (PQresultStatus(r) == PGRES_COMMAND_OK ||
            PQresultStatus(r) == PGRES_TUPLES_OK) {
            PQclear(r);
            r = PQexec(pg, "COMMIT");
            rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
        }
    }
    if (rc)
        fprintf(stderr, "desksink: installing the schema: %s",
                PQerrorMessage(pg));
    PQclear(r);
    PQfinish(pg);
    return rc;
}

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stopping, true);
}

int main(int argc, char **argv)
{
    const char *conf = NULL;
    struct sigaction sa;
    void *zctx;
    int c;

    while ((c = getopt(argc, argv, "c:h")) != -1) {
        if (c == 'c') {
            conf = optarg;
        } else {
            fprintf(c == 'h' ? stdout : stderr,
                    "usage: desksink -c sink.conf\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (!conf || load_config(conf))
        return 2;
    if (sodium_init() < 0)
        return 2;
    json_object_seed(0);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (install_schema())
        return 1;
    zctx = zmq_ctx_new();
    fprintf(stderr, "desksink: %d shard(s), batch %d, personal data %s\n",
            nshards, cfg.batch,
            cfg.full ? "FULL (allowed by config)" : "masked");
    for (int i = 0; i < nshards; i++) {
        shards[i].zctx = zctx;
        if (pthread_create(&shards[i].th, NULL, run_shard, &shards[i])) {
            fprintf(stderr, "desksink: cannot start a thread\n");
            atomic_store(&stopping, true);
            nshards = i;
        }
    }
    for (int i = 0; i < nshards; i++)
        pthread_join(shards[i].th, NULL);
    zmq_ctx_term(zctx);
    return 0;
}
