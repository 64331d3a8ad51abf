/* core/sse.h - the live event feed over HTTP (Server-Sent Events) for the
 * HTTP thread: GET /api/events once the request is authorised. Reads the
 * log in read txns only; never waits for the writer. core/http.c calls
 * it; it calls nothing of core/http.c. */
#ifndef DESKD_SSE_H
#define DESKD_SSE_H

#include <event2/http.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "log.h"
#include "metrics.h"

#define SSE_CLIENTS_MAX 64 /* live feeds at once; more get 503 */
#define SSE_HWM                                                                \
    (64 * 1024)                /* bytes queued to one SSE client               \
                                  before its feed pauses */
#define SSE_SNDBUF (64 * 1024) /* kernel send buffer of a feed */
#define SSE_WRITE_TIMEOUT_S 60 /* no progress writing: drop */
#define SSE_KEEPALIVE_TICKS 15 /* ticks between ": keep-alive" */
#define SSE_TICK_MS 1000       /* catch missed wake-ups, keep-alive */
#define SSE_CACHE 256          /* formatted events kept (ring) */
#define SSE_RETRY_MS 2000      /* browser reconnect delay we ask */

struct sse_client;

struct sse_cached {
    uint64_t seq; /* 0: empty */
    char *text;   /* the whole "id:..\nevent:..\ndata:..\n\n" */
    size_t len;
};

struct sse {
    const struct config *cfg;
    struct log *log;
    struct metrics *m;
    uint64_t known; /* highest durable seq the thread knows of */
    unsigned ticks;
    struct sse_client *clients;
    struct sse_cached cache[SSE_CACHE];
};

void sse_init(struct sse *s, const struct config *cfg, struct log *log,
              struct metrics *m);
/* Starts a feed on req (already authorised for log.read's data): resumes
 * after Last-Event-ID, else at ?from= in query, else live. ERR_UNAVAILABLE
 * in e (nothing sent) when SSE_CLIENTS_MAX feeds are open. */
int sse_open(struct sse *s, struct evhttp_request *req, const char *query,
             struct err *e);
/* New durable events may exist (feed wake-up or tick): send them. */
void sse_wake(struct sse *s);
/* Counts a tick (keep-alive pacing). */
void sse_tick(struct sse *s);
/* Every connection is about to close (shutdown): forget the cache. */
void sse_release(struct sse *s);

#endif
