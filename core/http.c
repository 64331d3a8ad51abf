/* core/http.c - the HTTP thread: its event loop, routing, the generic
 * query API over the command table, /healthz, /metrics and the static
 * dashboard. The live feed is core/sse.c. Runs beside the writer
 * and shares nothing writable with it but atomics (core/metrics.h) and LMDB
 * read txns (log_snapshot_begin). */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "codec_json.h"
#include "date.h"
#include "mask.h"

#define HTTP_PATH_MAX 128 /* bytes of a static file's path */

static int http_status(int code)
{
    switch (code) {
    case ERR_BAD_REQUEST:
    case ERR_INVALID:
        return 400;
    case ERR_FORBIDDEN:
        return 403;
    case ERR_UNKNOWN_COMMAND:
    case ERR_NOT_FOUND:
        return 404;
    case ERR_CONFLICT:
        return 409;
    case ERR_RULE:
        return 422;
    default:
        return 503;
    }
}

/* Sends j (consumed) as the JSON body. */
static void reply_json(struct evhttp_request *req, int status, json_t *j)
{
    struct evbuffer *buf = evbuffer_new();
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/json; charset=utf-8");
    evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control",
                      "no-store");
    if (text)
        evbuffer_add(buf, text, strlen(text));
    else
        evbuffer_add_printf(buf, "{\"ok\":false,\"error\":{\"code\":"
                                 "\"unavailable\",\"message\":\"out of "
                                 "memory\"}}");
    evhttp_send_reply(req, text ? status : 503, NULL, buf);
    evbuffer_free(buf);
    free(text);
    json_decref(j);
}

/* {"ok": false, "error": {code, message, field?}} with a matching status. */
static void reply_error(struct evhttp_request *req, const struct err *e)
{
    int code = e->code ? e->code : ERR_UNAVAILABLE;
    json_t *err = json_pack("{s:s,s:s}", "code", err_code_name(code), "message",
                            e->msg[0] ? e->msg : "internal error");
    if (err && e->field[0])
        json_object_set_new(err, "field", json_string(e->field));
    reply_json(req, http_status(code),
               err ? json_pack("{s:b,s:o}", "ok", 0, "error", err) : NULL);
}

/* The operator of "Authorization: Bearer <token>", or NULL. */
static const struct operator* bearer(struct http *h, struct evhttp_request *req)
{
    const char *v = evhttp_find_header(evhttp_request_get_input_headers(req),
                                       "Authorization");
    if (!v || strncasecmp(v, "Bearer ", 7))
        return NULL;
    v += 7;
    while (*v == ' ')
        v++;
    return cfg_token_operator(h->d.cfg, v, strnlen(v, CFG_TOKEN_MAX + 1));
}

/* 401 with a challenge: no token, or one not listed. */
static void reply_unauthorized(struct evhttp_request *req)
{
    evhttp_add_header(evhttp_request_get_output_headers(req),
                      "WWW-Authenticate", "Bearer realm=\"deskd\"");
    reply_json(req, 401,
               json_pack("{s:b,s:{s:s,s:s,s:s}}", "ok", 0, "error", "code",
                         "forbidden", "field", "authorization", "message",
                         "a valid bearer token is required "
                         "(Authorization: Bearer <token>)"));
}

/* With [http_tokens], the token names the operator: X-Deskd-Actor may only
 * repeat it (as a desk's envelope actor must match its CURVE key). */
static const struct operator* token_operator(struct http *h,
                                             struct evhttp_request *req,
                                             const char *id, struct err *e)
{
    const struct operator* op = bearer(h, req);
    if (!op) {
        err_set(e, ERR_FORBIDDEN, "authorization",
                "a valid bearer token is required");
        return NULL;
    }
    if (id && *id && strcmp(id, op->id)) {
        err_set(e, ERR_FORBIDDEN, "actor",
                "X-Deskd-Actor '%.32s' is not the token's operator '%s'", id,
                op->id);
        return NULL;
    }
    return op;
}

/* The one place a request is authenticated. With [http_tokens] listed:
 * the operator of the request's bearer token (X-Deskd-Actor may only
 * repeat it); without: the operator named by X-Deskd-Actor, else the
 * config's http_actor. NULL with e set (ERR_FORBIDDEN) when there is
 * none. Requests to /api/ without a valid token never get here (401). */
static const struct operator*
    auth(struct http *h, struct evhttp_request *req, struct err *e)
{
    const char *id = evhttp_find_header(evhttp_request_get_input_headers(req),
                                        "X-Deskd-Actor");
    const struct operator* op;

    if (h->d.cfg->ntokens)
        return token_operator(h, req, id, e);
    if (!id || !*id)
        id = h->d.cfg->http_actor;
    if (!*id) {
        err_set(e, ERR_FORBIDDEN, "actor",
                "no operator: send X-Deskd-Actor or set http_actor");
        return NULL;
    }
    op = cfg_operator(h->d.cfg, id, strlen(id));
    if (!op || op->role == ROLE_SYSTEM) {
        err_set(e, ERR_FORBIDDEN, "actor", "unknown operator '%.32s'", id);
        return NULL;
    }
    return op;
}

/* The query string as the command body: each key typed by its field,
 * exactly as deskctl does with key=value. */
static int query_body(const struct cmd_spec *spec, const char *query,
                      struct cw *w, struct err *e)
{
    struct evkeyvalq kv;
    struct evkeyval *p;
    json_t *body = json_object();
    int rc = 0;

    TAILQ_INIT(&kv);
    if (query && evhttp_parse_query_str(query, &kv))
        rc = err_set(e, ERR_BAD_REQUEST, NULL, "malformed query string");
    for (p = kv.tqh_first; !rc && p; p = p->next.tqe_next) {
        json_t *v = codec_json_typed(spec, p->key, p->value);
        if (json_object_get(body, p->key))
            rc = err_set(e, ERR_INVALID, NULL, "'%.32s' appears twice", p->key);
        else if (!v || json_object_set_new(body, p->key, v))
            rc = err_set(e, ERR_INVALID, NULL, "query arguments must be UTF-8");
        if (rc && v && !json_object_get(body, p->key))
            json_decref(v);
    }
    if (!rc && codec_from_json(body, w))
        rc = err_set(e, ERR_INVALID, NULL, "query arguments do not encode");
    evhttp_clear_headers(&kv);
    json_decref(body);
    return rc;
}

/* Runs the handler in a read txn with the clock as it reads now. The
 * handler gets the same context as on the writer, but anything it emits
 * is refused: over HTTP nothing is ever written. */
static int run_query(struct http *h, const struct cmd_spec *spec,
                     const struct args *a, const struct operator* op,
                     uint64_t *seq, struct err *e)
{
    struct hctx *hc = &h->hc;
    struct clock now;
    MDB_txn *txn, *ltxn;
    int rc;

    if ((rc = log_snapshot_begin(h->d.log, &txn, &ltxn, e)))
        return rc;
    /* the seq the read models show */
    if (log_applied_seq(txn, h->d.log, seq)) {
        log_snapshot_end(h->d.log, txn, ltxn);
        return err_set(e, ERR_UNAVAILABLE, NULL, "log read failed");
    }
    clock_init(&now, true, clock_peek(h->d.clk));
    hctx_reset(hc);
    cw_reset(&h->result);
    hc->txn = txn;
    hc->ltxn = ltxn;
    hc->v = h->d.views;
    hc->log = h->d.log;
    hc->cfg = h->d.cfg;
    hc->clk = &now;
    hc->now = clock_now(&now);
    hc->op = op;
    hc->desk = "http";
    hc->next_seq = *seq + 1;
    hc->result = &h->result;
    rc = spec->run(hc, a, e);
    if (rc && !e->code)
        rc = err_set(e, ERR_UNAVAILABLE, NULL, "'%s' failed", spec->name);
    if (!rc && hc->nev)
        rc = err_set(e, ERR_FORBIDDEN, NULL,
                     "'%s' records an event: send it on the command socket",
                     spec->name);
    log_snapshot_end(h->d.log, txn, ltxn);
    hc->txn = hc->ltxn = NULL;
    hc->clk = NULL;
    return rc;
}

static void reply_result(struct http *h, struct evhttp_request *req,
                         uint64_t seq)
{
    json_t *res = json_null();
    struct codec_doc d;

    if (h->hc.has_result &&
        !codec_doc_parse_trusted(&d, cw_data(&h->result), cw_len(&h->result),
                                 NULL)) {
        json_decref(res);
        res = codec_to_json(d.obj);
        codec_doc_release(&d);
        mask_json(res); /* as on the command socket (R-GEN-02) */
    }
    reply_json(req, 200,
               json_pack("{s:b,s:I,s:o}", "ok", 1, "seq", (json_int_t)seq,
                         "result", res ? res : json_null()));
}

/* How long a query waits for derived state to hold what was acknowledged
 * before it arrived; then it is answered from what derived state holds
 * (its "seq" says how far that is). */
#define QUERY_WAIT_MS 2000

/* Read-your-writes: derived state is committed lazily (fresh.h), so a
 * query first waits for everything durable when it arrived. */
static void await_derived(struct http *h, uint64_t seq)
{
    int rc = fresh_wait(h->d.fresh, seq, QUERY_WAIT_MS);
    if (rc > 0)
        atomic_fetch_add_explicit(&h->d.m->query_waits, 1,
                                  memory_order_relaxed);
    if (rc < 0)
        atomic_fetch_add_explicit(&h->d.m->query_stale, 1,
                                  memory_order_relaxed);
}

/* GET /api/query/<name>?field=value...: query.<name> from the table, with
 * the table's validation and roles. */
static void api_query(struct http *h, struct evhttp_request *req,
                      const char *name, const char *query)
{
    char cmd[CMD_NAME_MAX + 1];
    const struct cmd_spec *spec = NULL;
    const struct operator* op;
    struct err e = {0};
    struct cw w;
    struct codec_doc d;
    bool parsed = false;
    struct args a;
    uint64_t seq = 0, acked = metrics_get(&h->d.m->acked_seq);
    int n = snprintf(cmd, sizeof(cmd), "query.%s", name);

    if (metrics_get(&h->d.m->catching_up)) { /* derived state is partial */
        err_set(&e, ERR_UNAVAILABLE, NULL,
                "deskd is starting: derived state is catching up with the "
                "log; retry shortly (see /healthz)");
        reply_error(req, &e);
        return;
    }

    cw_init(&w);
    if (n > 0 && (size_t)n < sizeof(cmd))
        spec = cmd_find(cmd, (size_t)n);
    if (!spec || !(spec->flags & CMD_QUERY)) {
        err_set(&e, ERR_UNKNOWN_COMMAND, "cmd", "no query '%.40s'", name);
        goto out;
    }
    if (!(op = auth(h, req, &e)) || cmd_authorise(spec, op, &e) ||
        query_body(spec, query, &w, &e))
        goto out;
    if (codec_doc_parse(&d, cw_data(&w), cw_len(&w), &e))
        goto out;
    parsed = true;
    if (cmd_args_parse(spec, d.obj, h->d.cfg->cal.offset_min, &a, &e))
        goto out;
    await_derived(h, acked);
    if (run_query(h, spec, &a, op, &seq, &e))
        goto out;
    reply_result(h, req, seq);
out:
    if (e.code)
        reply_error(req, &e);
    if (parsed)
        codec_doc_release(&d);
    cw_release(&w);
}

/* GET /api/meta: what this deskd offers, from its tables: the queries
 * (with fields) and the event types, so a page can adapt to either. */
static void api_meta(struct http *h, struct evhttp_request *req)
{
    json_t *q = json_array(), *ev = json_array();
    (void)h;
    for (size_t i = 0; i < cmd_table_len; i++) {
        const struct cmd_spec *c = &cmd_table[i];
        json_t *f;
        if (!(c->flags & CMD_QUERY) || strncmp(c->name, "query.", 6))
            continue;
        f = json_array(); /* after the skip: it leaked for every command */
        for (int k = 0; c->fields[k].name; k++)
            json_array_append_new(
                f, json_pack("{s:s,s:b}", "name", c->fields[k].name, "required",
                             (c->fields[k].flags & F_REQ) != 0));
        json_array_append_new(q, json_pack("{s:s,s:s,s:o}", "name", c->name + 6,
                                           "help", c->help, "fields", f));
    }
    for (size_t t = 0; t < cmd_event_types_len; t++)
        json_array_append_new(ev, json_string(cmd_event_types[t]));
    reply_json(req, 200,
               json_pack("{s:b,s:o,s:o}", "ok", 1, "queries", q, "events", ev));
}

/* GET /api/events: the feed is log.read's data, so whoever may run
 * log.read may follow it (core/sse.c). */
static void api_events(struct http *h, struct evhttp_request *req,
                       const char *query)
{
    const struct cmd_spec *spec = cmd_find("log.read", strlen("log.read"));
    const struct operator* op;
    struct err e = {0};

    if (!(op = auth(h, req, &e)) || (spec && cmd_authorise(spec, op, &e)) ||
        sse_open(&h->sse, req, query, &e))
        reply_error(req, &e);
}

/* Ready: 200 {"ok":true,"status":"ready","last_seq":N}. While start-up
 * replays the log into derived state: 503 {"ok":false,"status":
 * "catching_up","replayed":n,"to_replay":t,"percent":p,"last_seq":N}. */
static void api_healthz(struct http *h, struct evhttp_request *req)
{
    struct err e = {0};
    MDB_txn *txn;
    uint64_t seq = metrics_get(&h->d.m->acked_seq),
             done = metrics_get(&h->d.m->catch_up_done),
             total = metrics_get(&h->d.m->catch_up_total);

    if (metrics_get(&h->d.m->catching_up)) {
        reply_json(req, 503,
                   json_pack("{s:b,s:s,s:I,s:I,s:I,s:I}", "ok", 0, "status",
                             "catching_up", "replayed", (json_int_t)done,
                             "to_replay", (json_int_t)total, "percent",
                             (json_int_t)(total ? done * 100 / total : 0),
                             "last_seq", (json_int_t)seq));
        return;
    }
    if (log_snapshot_begin(h->d.log, &txn, NULL, &e)) {
        reply_error(req, &e);
        return;
    }
    log_snapshot_end(h->d.log, txn, NULL);
    reply_json(req, 200,
               json_pack("{s:b,s:s,s:I}", "ok", 1, "status", "ready",
                         "last_seq", (json_int_t)seq));
}

static void prom_counter(struct evbuffer *b, const char *name, const char *help,
                         const _Atomic uint64_t *v)
{
    evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name,
                        help, name, name, (unsigned long long)metrics_get(v));
}

/* A histogram; scale divides bounds and sum (microseconds -> seconds). */
static void prom_hist(struct evbuffer *b, const char *name, const char *help,
                      const struct metrics_hist *hs, const uint64_t *bounds,
                      size_t n, double scale)
{
    uint64_t cum = 0;
    evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help,
                        name);
    for (size_t i = 0; i < n; i++) {
        cum += metrics_get(&hs->bucket[i]);
        evbuffer_add_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name,
                            (double)bounds[i] / scale, (unsigned long long)cum);
    }
    cum += metrics_get(&hs->bucket[n]);
    evbuffer_add_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name,
                        (unsigned long long)cum);
    evbuffer_add_printf(b, "%s_sum %g\n%s_count %llu\n", name,
                        (double)metrics_get(&hs->sum) / scale, name,
                        (unsigned long long)metrics_get(&hs->count));
}

/* R-GEN-05: the working calendar's coverage as unix times (seconds) of
 * its first instant and of its last (23:59:59 local on covered_until), so
 * an alert is `deskd_calendar_covered_until - time() < 60 * 86400`; both 0
 * when nothing is covered. */
static void prom_calendar(struct evbuffer *b, const struct config *c)
{
    int32_t from = atomic_load_explicit(&c->cal_from, memory_order_relaxed);
    int32_t until = atomic_load_explicit(&c->cal_until, memory_order_relaxed);
    long long f = 0, u = 0;

    if (from != DATE_NONE && until != DATE_NONE) {
        f = ts_of_date(from, 0, c->cal.offset_min) / 1000;
        u = ts_of_date(until + 1, 0, c->cal.offset_min) / 1000 - 1;
    }
    evbuffer_add_printf(
        b,
        "# HELP deskd_calendar_covered_from First second the working "
        "calendar covers (unix time)\n"
        "# TYPE deskd_calendar_covered_from gauge\n"
        "deskd_calendar_covered_from %lld\n"
        "# HELP deskd_calendar_covered_until Last second the working "
        "calendar covers (unix time, 23:59:59 local of its last day)\n"
        "# TYPE deskd_calendar_covered_until gauge\n"
        "deskd_calendar_covered_until %lld\n"
        "# HELP deskd_calendar_warn_days Days before the end that deskd "
        "warns\n"
        "# TYPE deskd_calendar_warn_days gauge\n"
        "deskd_calendar_warn_days %d\n",
        f, u, c->cal_warn_days);
}

static void api_metrics(struct http *h, struct evhttp_request *req)
{
    const struct metrics *m = h->d.m;
    struct evbuffer *b = evbuffer_new();

    prom_counter(b, "deskd_events_total", "Events appended to the log",
                 &m->events);
    evbuffer_add_printf(
        b,
        "# HELP deskd_commands_total Commands and queries answered, by "
        "result\n# TYPE deskd_commands_total counter\n"
        "deskd_commands_total{result=\"ok\"} %llu\n"
        "deskd_commands_total{result=\"failed\"} %llu\n"
        "deskd_commands_total{result=\"duplicate\"} %llu\n",
        (unsigned long long)metrics_get(&m->cmd_ok),
        (unsigned long long)metrics_get(&m->cmd_failed),
        (unsigned long long)metrics_get(&m->cmd_duplicate));
    prom_hist(b, "deskd_batch_size", "Commands per write transaction",
              &m->batch, metrics_batch_bounds, METRICS_BATCH_N, 1);
    prom_hist(
        b, "deskd_commit_seconds",
        "Time to make one batch durable (a journal frame, or a log commit)",
        &m->commit, metrics_commit_bounds, METRICS_COMMIT_N, 1e6);
    prom_counter(b, "deskd_batches_total", "Batches run", &m->batches);
    prom_counter(b, "deskd_journal_frames_total",
                 "Batches made durable in the journal", &m->frames);
    prom_counter(b, "deskd_commits_total", "Write transactions committed",
                 &m->commits);
    prom_counter(b, "deskd_syncs_total", "Explicit flushes", &m->syncs);
    prom_counter(b, "deskd_map_grows_total", "LMDB map resizes", &m->map_grows);
    prom_counter(b, "deskd_timers_fired_total",
                 "Timers fired (escalations, expiries)", &m->timers_fired);
    prom_counter(b, "deskd_timers_failed_total", "Timers whose command failed",
                 &m->timers_failed);
    evbuffer_add_printf(b,
                        "# HELP deskd_last_seq Last durable event seq\n"
                        "# TYPE deskd_last_seq gauge\ndeskd_last_seq %llu\n"
                        "# HELP deskd_sse_clients Live feeds connected\n"
                        "# TYPE deskd_sse_clients gauge\n"
                        "deskd_sse_clients %llu\n",
                        (unsigned long long)metrics_get(&m->acked_seq),
                        (unsigned long long)metrics_get(&m->sse_clients));
    prom_calendar(b, h->d.cfg);
    evbuffer_add_printf(
        b,
        "# HELP deskd_catching_up 1 while start-up replays the log\n"
        "# TYPE deskd_catching_up gauge\ndeskd_catching_up %llu\n"
        "# HELP deskd_catch_up_events Events replayed at start, of total\n"
        "# TYPE deskd_catch_up_events gauge\n"
        "deskd_catch_up_events{of=\"replayed\"} %llu\n"
        "deskd_catch_up_events{of=\"total\"} %llu\n",
        (unsigned long long)metrics_get(&m->catching_up),
        (unsigned long long)metrics_get(&m->catch_up_done),
        (unsigned long long)metrics_get(&m->catch_up_total));
    prom_counter(b, "deskd_sse_dropped_total",
                 "Live feeds dropped for falling behind", &m->sse_dropped);
    prom_counter(b, "deskd_query_waits_total",
                 "HTTP queries that waited for derived state's commit",
                 &m->query_waits);
    prom_counter(b, "deskd_query_stale_total",
                 "HTTP queries answered before derived state held what "
                 "was acknowledged when they arrived",
                 &m->query_stale);
    prom_counter(b, "deskd_http_requests_total", "HTTP requests",
                 &m->http_requests);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4; charset=utf-8");
    evhttp_send_reply(req, 200, NULL, b);
    evbuffer_free(b);
}

static const char *content_type(const char *path)
{
    static const char *const types[][2] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".json", "application/json; charset=utf-8"},
        {".ico", "image/x-icon"}};
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
        if (!strcmp(dot, types[i][0]))
            return types[i][1];
    return "application/octet-stream";
}

/* Only plain names under dashboard_dir: letters, digits, '_', '-', '.',
 * '/', and no "..". */
static bool safe_path(const char *p)
{
    if (p[0] != '/' || strlen(p) >= HTTP_PATH_MAX || strstr(p, ".."))
        return false;
    for (; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.' ||
              *p == '/'))
            return false;
    return true;
}

static void static_file(struct http *h, struct evhttp_request *req,
                        const char *path)
{
    char file[PATH_MAX + HTTP_PATH_MAX];
    struct err e = {0};
    struct evbuffer *b;
    struct stat st;
    int fd = -1;

    if (!strcmp(path, "/"))
        path = "/index.html";
    if (safe_path(path) && h->d.cfg->dashboard_dir[0]) {
        snprintf(file, sizeof(file), "%s%s", h->d.cfg->dashboard_dir, path);
        fd = open(file, O_RDONLY | O_CLOEXEC);
    }
    if (fd >= 0 && (fstat(fd, &st) || !S_ISREG(st.st_mode))) {
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        err_set(&e, ERR_NOT_FOUND, NULL, "no page '%.64s'", path);
        reply_error(req, &e);
        return;
    }
    b = evbuffer_new();
    evbuffer_add_file(b, fd, 0, st.st_size); /* takes fd */
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      content_type(path));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control",
                      "no-cache");
    evhttp_send_reply(req, 200, NULL, b);
    evbuffer_free(b);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct http *h = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    struct err e = {0};

    atomic_fetch_add_explicit(&h->d.m->http_requests, 1, memory_order_relaxed);
    if (!path || !*path)
        path = "/";
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
        err_set(&e, ERR_BAD_REQUEST, NULL, "only GET is served");
        reply_error(req, &e);
    } else if (!strcmp(path, "/healthz")) {
        api_healthz(h, req);
    } else if (!strncmp(path, "/api/", 5) && h->d.cfg->ntokens &&
               !bearer(h, req)) {
        reply_unauthorized(req);
    } else if (!strcmp(path, "/metrics")) {
        api_metrics(h, req);
    } else if (!strcmp(path, "/api/events")) {
        api_events(h, req, query);
    } else if (!strcmp(path, "/api/meta")) {
        api_meta(h, req);
    } else if (!strncmp(path, "/api/query/", 11)) {
        api_query(h, req, path + 11, query);
    } else if (!strncmp(path, "/api/", 5)) {
        err_set(&e, ERR_UNKNOWN_COMMAND, NULL, "no API '%.64s'", path);
        reply_error(req, &e);
    } else {
        static_file(h, req, path);
    }
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
    struct http *h = arg;
    (void)fd, (void)what;
    event_base_loopbreak(h->base);
}

/* The feed is a wake-up: the live feed reads the events from the log up
 * to the durable seq (sse_wake). */
static void on_feed(evutil_socket_t fd, short what, void *arg)
{
    struct http *h = arg;
    (void)fd, (void)what;
    bus_feed_drain(h->d.bus);
    sse_wake(&h->sse);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct http *h = arg;
    (void)fd, (void)what;
    bus_feed_drain(h->d.bus);
    sse_tick(&h->sse);
    sse_wake(&h->sse);
}

static void *run(void *arg)
{
    struct http *h = arg;
    event_base_dispatch(h->base);
    return NULL;
}

/* "host:port" -> bound socket; ep gets the port actually bound. */
static int bind_ep(struct http *h, char ep[CFG_EP_MAX], struct err *e)
{
    char host[CFG_EP_MAX];
    const char *colon = strrchr(h->d.cfg->http_ep, ':');
    struct evhttp_bound_socket *s;
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    long port;
    char *end;

    if (!colon || colon == h->d.cfg->http_ep)
        return err_set(e, ERR_INVALID, "http", "http '%s' is not host:port",
                       h->d.cfg->http_ep);
    port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port < 0 || port > 65535)
        return err_set(e, ERR_INVALID, "http", "http '%s': bad port",
                       h->d.cfg->http_ep);
    snprintf(host, sizeof(host), "%.*s", (int)(colon - h->d.cfg->http_ep),
             h->d.cfg->http_ep);
    s = evhttp_bind_socket_with_handle(h->evh, host, (uint16_t)port);
    if (!s)
        return err_set(e, ERR_UNAVAILABLE, "http", "bind http '%s': %s",
                       h->d.cfg->http_ep, strerror(errno));
    if (getsockname(evhttp_bound_socket_get_fd(s), (struct sockaddr *)&sa,
                    &len) == 0 &&
        sa.sin_family == AF_INET)
        port = ntohs(sa.sin_port);
    snprintf(ep, CFG_EP_MAX, "%.200s:%ld", host, port);
    return 0;
}

static int setup(struct http *h, char ep[CFG_EP_MAX], struct err *e)
{
    struct timeval tick = {SSE_TICK_MS / 1000, (SSE_TICK_MS % 1000) * 1000};
    int rc;

    h->base = event_base_new();
    h->evh = h->base ? evhttp_new(h->base) : NULL;
    if (!h->evh || pipe(h->stop_fd))
        return err_set(e, ERR_UNAVAILABLE, NULL, "http setup failed");
    evhttp_set_max_headers_size(h->evh, HTTP_HEADERS_MAX);
    evhttp_set_max_body_size(h->evh, HTTP_BODY_MAX);
    evhttp_set_timeout(h->evh, HTTP_TIMEOUT_S);
    evhttp_set_allowed_methods(h->evh, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
                                           EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                           EVHTTP_REQ_DELETE);
    evhttp_set_gencb(h->evh, on_request, h);
    if ((rc = bind_ep(h, ep, e)))
        return rc;
    h->feed_ev = event_new(h->base, bus_feed_fd(h->d.bus), EV_READ | EV_PERSIST,
                           on_feed, h);
    h->stop_ev = event_new(h->base, h->stop_fd[0], EV_READ, on_stop, h);
    h->tick_ev = event_new(h->base, -1, EV_PERSIST, on_tick, h);
    if (!h->feed_ev || !h->stop_ev || !h->tick_ev ||
        event_add(h->feed_ev, NULL) || event_add(h->stop_ev, NULL) ||
        event_add(h->tick_ev, &tick))
        return err_set(e, ERR_UNAVAILABLE, NULL, "http: event setup failed");
    return 0;
}

int http_start(struct http **out, const struct http_deps *d,
               char ep[CFG_EP_MAX], struct err *e)
{
    struct http *h;
    sigset_t all, old;
    int rc;

    *out = NULL;
    ep[0] = '\0';
    if (!strcmp(d->cfg->http_ep, "off"))
        return 0;
    /* A browser that goes away mid-write must not kill deskd. */
    signal(SIGPIPE, SIG_IGN);
    h = calloc(1, sizeof(*h));
    if (!h)
        return err_set(e, ERR_UNAVAILABLE, NULL, "out of memory");
    h->d = *d;
    h->stop_fd[0] = h->stop_fd[1] = -1;
    sse_init(&h->sse, d->cfg, d->log, d->m);
    h->sse.known = metrics_get(&d->m->durable_seq);
    hctx_init(&h->hc);
    cw_init(&h->result);
    *out = h;
    if ((rc = setup(h, ep, e)))
        return rc;
    /* Signals stay with the writer's loop. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    rc = pthread_create(&h->thread, NULL, run, h);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc)
        return err_set(e, ERR_UNAVAILABLE, NULL, "http thread: %s",
                       strerror(rc));
    h->started = true;
    return 0;
}

void http_stop(struct http *h)
{
    if (!h)
        return;
    if (h->started) {
        ssize_t n = write(h->stop_fd[1], "x", 1);
        (void)n;
        pthread_join(h->thread, NULL);
    }
    if (h->evh)
        evhttp_free(h->evh); /* closes every connection and feed */
    sse_release(&h->sse);
    if (h->feed_ev)
        event_free(h->feed_ev);
    if (h->stop_ev)
        event_free(h->stop_ev);
    if (h->tick_ev)
        event_free(h->tick_ev);
    if (h->base)
        event_base_free(h->base);
    for (int i = 0; i < 2; i++)
        if (h->stop_fd[i] >= 0)
            close(h->stop_fd[i]);
    hctx_release(&h->hc);
    cw_release(&h->result);
    free(h);
}
