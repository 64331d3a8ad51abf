/* core/http.h - deskd's HTTP side (libevent evhttp) on a thread of its own:
 * the read models as JSON (GET /api/query/<name> runs the command table's
 * query.<name> in an LMDB read txn), the live event feed as Server-Sent
 * Events, /healthz, /metrics (Prometheus text) and the dashboard's static
 * files. It never writes: queries that would record an event are refused,
 * and the writer thread is never waited on (see log_snapshot_begin for the
 * one exception, a map resize). See docs/HTTP.md. */
#ifndef DESKD_HTTP_H
#define DESKD_HTTP_H

#include <event2/http.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"
#include "clock.h"
#include "cmd.h"
#include "config.h"
#include "log.h"
#include "metrics.h"

#define HTTP_HEADERS_MAX (16 * 1024) /* bytes of request headers */
#define HTTP_BODY_MAX 4096           /* bytes of a request body (GET only) */
#define HTTP_TIMEOUT_S 30            /* idle keep-alive connections */
#define SSE_CLIENTS_MAX 64           /* live feeds at once; more get 503 */
#define SSE_HWM                                                                \
    (64 * 1024)                /* bytes queued to one SSE client               \
                                  before its feed pauses */
#define SSE_SNDBUF (64 * 1024) /* kernel send buffer of a feed */
#define SSE_WRITE_TIMEOUT_S 60 /* no progress writing: drop */
#define SSE_KEEPALIVE_TICKS 15 /* ticks between ": keep-alive" */
#define SSE_TICK_MS 1000       /* catch missed wake-ups, keep-alive */
#define SSE_CACHE 256          /* formatted events kept (ring) */
#define SSE_RETRY_MS 2000      /* browser reconnect delay we ask */

/* What the HTTP thread reads; all owned by the server and outliving it. */
struct http_deps {
    const struct config *cfg;
    struct log *log;
    const struct views *views;
    const struct clock *clk;
    struct metrics *m;
    struct bus *bus; /* for the in-process event feed */
};

struct sse_client;

struct sse_cached {
    uint64_t seq; /* 0: empty */
    char *text;   /* the whole "id:..\nevent:..\ndata:..\n\n" */
    size_t len;
};

struct http {
    struct http_deps d;
    struct event_base *base;
    struct evhttp *evh;
    void *feed; /* SUB on the PUB: wake-ups only */
    struct event *feed_ev, *stop_ev, *tick_ev;
    int stop_fd[2];
    pthread_t thread;
    bool started;
    uint64_t known; /* highest durable seq the thread knows of */
    unsigned ticks;
    struct sse_client *clients;
    struct sse_cached cache[SSE_CACHE];
    struct hctx hc;   /* queries run one at a time on this thread */
    struct cw result; /* a query's result */
};

/* Binds cfg->http_ep ("host:port", port 0 for a free one) and starts the
 * thread. ep gets the bound "host:port". *out stays NULL when the config
 * says "off". */
int http_start(struct http **out, const struct http_deps *d,
               char ep[CFG_EP_MAX], struct err *e);
/* Stops the thread, closes every connection and frees h (NULL is fine). */
void http_stop(struct http *h);

/* ---- shared by core/http.c and core/http_sse.c ---- */

/* The one place a request is authenticated. With [http_tokens] listed:
 * the operator of the request's bearer token (X-Deskd-Actor may only
 * repeat it); without: the operator named by X-Deskd-Actor, else the
 * config's http_actor. NULL with e set (ERR_FORBIDDEN) when there is
 * none. Requests to /api/ without a valid token never get here (401). */
const struct operator*
    http__auth(struct http *h, struct evhttp_request *req, struct err *e);
/* {"ok": false, "error": {code, message, field?}} with a matching status. */
void http__reply_error(struct evhttp_request *req, const struct err *e);
/* GET /api/events: starts a feed. */
void http__sse_open(struct http *h, struct evhttp_request *req,
                    const char *query);
/* New durable events may exist (feed wake-up or tick): send them. */
void http__sse_wake(struct http *h);
/* Every connection is about to close (shutdown): forget the cache. */
void http__sse_release(struct http *h);

#endif
