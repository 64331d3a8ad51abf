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
#include "fresh.h"
#include "log.h"
#include "metrics.h"
#include "sse.h"

#define HTTP_HEADERS_MAX (16 * 1024) /* bytes of request headers */
#define HTTP_BODY_MAX 4096           /* bytes of a request body (GET only) */
#define HTTP_TIMEOUT_S 30            /* idle keep-alive connections */

/* What the HTTP thread reads; all owned by the server and outliving it. */
struct http_deps {
    const struct config *cfg;
    struct log *log;
    const struct views *views;
    const struct clock *clk;
    struct metrics *m;
    struct bus *bus;     /* for the in-process event feed */
    struct fresh *fresh; /* queries wait here for derived state */
};

struct http {
    struct http_deps d;
    struct event_base *base;
    struct evhttp *evh;
    struct event *feed_ev, *stop_ev, *tick_ev; /* feed: d.bus's wake-ups */
    int stop_fd[2];
    pthread_t thread;
    bool started;
    struct sse sse;   /* the live feeds */
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

#endif
