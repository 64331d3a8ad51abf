/* core/sse.c - GET /api/events: every durable event as a Server-Sent
 * Event ("id: <seq>", "event: <type>", "data: <event as JSON>"), resuming
 * after Last-Event-ID (or from ?from=). Events are always read from the log
 * in a read txn; the in-process SUB (and a 1 s tick) only says that there
 * is more. A client's queue is bounded (SSE_HWM): a slow client pauses and
 * catches up from the log as it drains; one that falls more than
 * sse_lag_max events behind is dropped and resumes with Last-Event-ID. The
 * writer never waits for any of it. Personal data is masked (R-GEN-02). */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "sse.h"

#include "codec_json.h"
#include "mask.h"

struct sse_client {
    struct sse *s;
    struct evhttp_request *req;
    struct evhttp_connection *con;
    uint64_t next; /* the next seq to queue */
    struct sse_client *prev, *link;
};

/* The SSE text of event seq, from the cache or the log. */
static const struct sse_cached *format_event(struct sse *s, MDB_txn *txn,
                                             uint64_t seq)
{
    struct sse_cached *c = &s->cache[seq % SSE_CACHE];
    const unsigned char *hash;
    const char *body, *type;
    struct codec_doc d;
    json_t *j;
    char *data;
    size_t len;
    int n;

    if (c->seq == seq)
        return c;
    if (log_get(txn, s->log, seq, &hash, &body, &len) ||
        codec_doc_parse_trusted(&d, body, len, NULL))
        return NULL;
    j = codec_to_json(d.obj);
    codec_doc_release(&d);
    mask_json(json_object_get(j, "data"));
    type = json_string_value(json_object_get(j, "type"));
    data = j ? json_dumps(j, JSON_COMPACT) : NULL;
    free(c->text);
    c->seq = 0;
    c->text = NULL;
    n = data ? asprintf(&c->text, "id: %llu\nevent: %s\ndata: %s\n\n",
                        (unsigned long long)seq, type ? type : "unknown", data)
             : -1;
    free(data);
    json_decref(j);
    if (n < 0) {
        c->text = NULL;
        return NULL;
    }
    c->seq = seq;
    c->len = (size_t)n;
    return c;
}

static struct evbuffer *output(const struct sse_client *c)
{
    return bufferevent_get_output(evhttp_connection_get_bufferevent(c->con));
}

static void on_drain(struct evhttp_connection *con, void *arg);

/* Queues what c still misses, up to SSE_HWM bytes; the rest follows when
 * the client has read some (on_drain). txn may be NULL. */
static void pump(struct sse_client *c, MDB_txn *txn)
{
    struct sse *s = c->s;
    struct evbuffer *out = output(c), *buf;
    struct err e = {0};
    MDB_txn *own = NULL;

    if (c->next > s->known || evbuffer_get_length(out) >= SSE_HWM)
        return;
    if (!txn && log_snapshot_begin(s->log, NULL, &own, &e)) {
        diag_warn("sse: %s", e.msg);
        return;
    }
    buf = evbuffer_new();
    while (c->next <= s->known &&
           evbuffer_get_length(out) + evbuffer_get_length(buf) < SSE_HWM) {
        const struct sse_cached *ev = format_event(s, txn ? txn : own, c->next);
        if (!ev) {
            diag_warn("sse: event %llu unreadable",
                      (unsigned long long)c->next);
            break;
        }
        evbuffer_add(buf, ev->text, ev->len);
        c->next++;
    }
    if (own)
        log_snapshot_end(s->log, NULL, own);
    if (evbuffer_get_length(buf))
        evhttp_send_reply_chunk_with_cb(c->req, buf, on_drain, c);
    evbuffer_free(buf);
}

static void on_drain(struct evhttp_connection *con, void *arg)
{
    (void)con;
    pump(arg, NULL);
}

static void unlink_client(struct sse_client *c)
{
    struct sse *s = c->s;
    if (c->prev)
        c->prev->link = c->link;
    else
        s->clients = c->link;
    if (c->link)
        c->link->prev = c->prev;
    atomic_fetch_sub_explicit(&s->m->sse_clients, 1, memory_order_relaxed);
}

/* The connection is going away: closed by the peer, timed out, dropped by
 * us, or shutdown. A request the peer abandoned was detached from its
 * connection by evhttp and is ours to free. */
static void on_close(struct evhttp_connection *con, void *arg)
{
    struct sse_client *c = arg;
    (void)con;
    unlink_client(c);
    if (!evhttp_request_get_connection(c->req))
        evhttp_request_free(c->req);
    free(c);
}

/* Where a feed starts: after Last-Event-ID, else at ?from=, else live. */
static uint64_t start_seq(struct sse *s, struct evhttp_request *req,
                          const char *query)
{
    const char *last = evhttp_find_header(evhttp_request_get_input_headers(req),
                                          "Last-Event-ID");
    struct evkeyvalq kv;
    const char *from = NULL;
    uint64_t next = s->known + 1;
    char *end;
    unsigned long long v;

    TAILQ_INIT(&kv);
    if (!last && query && !evhttp_parse_query_str(query, &kv))
        from = evhttp_find_header(&kv, "from");
    errno = 0;
    if (last && *last) {
        v = strtoull(last, &end, 10);
        if (!*end && !errno)
            next = v + 1;
    } else if (from && *from) {
        v = strtoull(from, &end, 10);
        if (!*end && !errno)
            next = v ? v : 1;
    }
    evhttp_clear_headers(&kv);
    return next;
}

static void refresh_known(struct sse *s)
{
    uint64_t d = metrics_get(&s->m->durable_seq);
    if (d > s->known)
        s->known = d;
}

void sse_init(struct sse *s, const struct config *cfg, struct log *log,
              struct metrics *m)
{
    memset(s, 0, sizeof(*s));
    s->cfg = cfg;
    s->log = log;
    s->m = m;
}

int sse_open(struct sse *s, struct evhttp_request *req, const char *query,
             struct err *e)
{
    struct evkeyvalq *hd = evhttp_request_get_output_headers(req);
    struct timeval wt = {SSE_WRITE_TIMEOUT_S, 0};
    struct sse_client *c;
    struct bufferevent *bev;
    struct evbuffer *hello;
    int sndbuf = SSE_SNDBUF;

    if (metrics_get(&s->m->sse_clients) >= SSE_CLIENTS_MAX)
        return err_set(e, ERR_UNAVAILABLE, NULL, "too many live feeds");
    if (!(c = calloc(1, sizeof(*c))))
        return err_set(e, ERR_UNAVAILABLE, NULL, "out of memory");
    refresh_known(s);
    c->s = s;
    c->req = req;
    c->con = evhttp_request_get_connection(req);
    c->next = start_seq(s, req, query);
    evhttp_add_header(hd, "Content-Type", "text/event-stream; charset=utf-8");
    evhttp_add_header(hd, "Cache-Control", "no-store");
    evhttp_add_header(hd, "X-Accel-Buffering", "no");
    evhttp_send_reply_start(req, 200, "OK");
    bev = evhttp_connection_get_bufferevent(c->con);
    setsockopt(bufferevent_getfd(bev), SOL_SOCKET, SO_SNDBUF, &sndbuf,
               sizeof(sndbuf));
    bufferevent_set_timeouts(bev, NULL, &wt); /* idle reading is normal */
    evhttp_connection_set_closecb(c->con, on_close, c);
    c->link = s->clients;
    if (s->clients)
        s->clients->prev = c;
    s->clients = c;
    atomic_fetch_add_explicit(&s->m->sse_clients, 1, memory_order_relaxed);
    hello = evbuffer_new();
    evbuffer_add_printf(hello, "retry: %d\n: deskd feed from %llu\n\n",
                        SSE_RETRY_MS, (unsigned long long)c->next);
    evhttp_send_reply_chunk_with_cb(req, hello, on_drain, c);
    evbuffer_free(hello);
    pump(c, NULL);
    return 0;
}

static void drop(struct sse_client *c)
{
    diag_info("sse: dropping a feed %llu events behind",
              (unsigned long long)(c->s->known + 1 - c->next));
    atomic_fetch_add_explicit(&c->s->m->sse_dropped, 1, memory_order_relaxed);
    evhttp_connection_free(c->con); /* on_close frees c */
}

void sse_wake(struct sse *s)
{
    struct sse_client *c, *next;
    MDB_txn *txn = NULL;
    struct err e = {0};
    bool keepalive = s->ticks >= SSE_KEEPALIVE_TICKS;

    refresh_known(s);
    if (keepalive)
        s->ticks = 0;
    if (s->clients && log_snapshot_begin(s->log, NULL, &txn, &e))
        diag_warn("sse: %s", e.msg);
    for (c = s->clients; c; c = next) {
        next = c->link;
        if (s->known >= c->next &&
            s->known - c->next >= (uint64_t)s->cfg->sse_lag_max) {
            drop(c);
            continue;
        }
        if (txn)
            pump(c, txn);
        if (keepalive && evbuffer_get_length(output(c)) == 0) {
            struct evbuffer *b = evbuffer_new();
            evbuffer_add_printf(b, ": keep-alive\n\n");
            evhttp_send_reply_chunk_with_cb(c->req, b, on_drain, c);
            evbuffer_free(b);
        }
    }
    if (txn)
        log_snapshot_end(s->log, NULL, txn);
}

void sse_tick(struct sse *s)
{
    s->ticks++;
}

void sse_release(struct sse *s)
{
    for (int i = 0; i < SSE_CACHE; i++) {
        free(s->cache[i].text);
        s->cache[i].text = NULL;
        s->cache[i].seq = 0;
    }
}
