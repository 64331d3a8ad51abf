/* tests/integration/harness.c - starts deskd in a temporary directory and
 * talks to it over its wire contract (see harness.h). Test support only: it
 * reports every failure on stderr with the reason, because a cmocka assert
 * that only says "-1 != 0" leaves the reader guessing. */
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 /* mkdtemp, nftw, nanosleep */
#endif

#include "harness.h"

#include "../../core/journal.h"

#include "../common/tmptree.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "../../core/codec_json.h"
#include "../../core/log.h"

#define H_POLL_MS 10    /* sleep between checks while waiting */
#define H_LOG_PAGE 500  /* events asked for per log.read */
#define H_LOG_TAIL 4096 /* bytes of deskd.log shown when start fails */

_Static_assert(H_PATH_MAX >= PATH_MAX, "realpath() needs PATH_MAX bytes");

static const char default_operators[] = "admin = admin, Admin\n"
                                        "clerk1 = clerk, Wang Fang\n"
                                        "lead1 = cs_lead, Li Na\n"
                                        "mgr1 = manager, Zhang Wei\n"
                                        "qa1 = quality, Chen Jie\n"
                                        "bench = clerk, Bench\n";

__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
    va_list ap;
    fputs("harness: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

__attribute__((format(printf, 3, 4))) static int fmt_path(char *buf, size_t cap,
                                                          const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(buf, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap)
        return fail("path too long: '%s'", buf);
    return 0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* An environment variable or a default, made absolute. */
static int abs_from_env(const char *var, const char *def, char *out)
{
    const char *p = getenv(var);
    if (!p || !*p)
        p = def;
    if (!realpath(p, out))
        return fail("%s '%s': %s", var, p, strerror(errno));
    return 0;
}

/* ---- the server ---- */

static int write_config(const struct h_server *s, const struct h_opts *o)
{
    char cal[H_PATH_MAX], rates[H_PATH_MAX];
    FILE *f;

    if (abs_from_env("DESKD_CALENDAR", "config/holidays.tsv", cal) ||
        abs_from_env("DESKD_RATES", "config/fees.tsv", rates))
        return -1;
    f = fopen(s->config, "w");
    if (!f)
        return fail("cannot write '%s': %s", s->config, strerror(errno));
    fprintf(f,
            "[deskd]\ndata_dir = %s\ncommands = tcp://127.0.0.1:*\n"
            "events = tcp://127.0.0.1:*\nhttp = 127.0.0.1:0\n"
            "map_size_mb = %d\nbatch_max = %d\njournal_mb = 1\n",
            s->data_dir, o->map_size_mb ? o->map_size_mb : 1,
            o->batch_max ? o->batch_max : 1024);
    fprintf(f,
            "[time]\nclock = %s\nutc_offset = +08:00\ncalendar = %s\n"
            "workday_hours = 08:30-18:00\nrestday_hours = 09:00-17:00\n"
            "calendar_warn_days = 0\n",
            o->real_clock ? "real" : "manual", cal);
    if (!o->real_clock)
        fprintf(f, "manual_start = %s\n",
                o->manual_start ? o->manual_start
                                : "2026-03-02T09:00:00+08:00");
    fprintf(f, "[operators]\n%s%s\n", default_operators,
            o->operators ? o->operators : "");
    /* the shipped fee schedule; a test's own [fees] rates overrides it */
    fprintf(f, "[fees]\nrates = %s\n", rates);
    if (o->extra_ini)
        fprintf(f, "%s\n", o->extra_ini);
    if (fclose(f))
        return fail("cannot write '%s': %s", s->config, strerror(errno));
    return 0;
}

int h_server_log_count(const struct h_server *s, const char *what)
{
    char line[1024];
    int n = 0;
    FILE *f = fopen(s->log_path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        n += strstr(line, what) != NULL;
    fclose(f);
    return n;
}

void h_server_show_log(const struct h_server *s)
{
    char buf[H_LOG_TAIL + 1];
    size_t n;
    FILE *f = fopen(s->log_path, "r");
    if (!f)
        return;
    if (fseek(f, -(long)H_LOG_TAIL, SEEK_END))
        rewind(f);
    n = fread(buf, 1, H_LOG_TAIL, f);
    buf[n] = '\0';
    fclose(f);
    fprintf(stderr, "harness: --- %s ---\n%s--- end ---\n", s->log_path, buf);
}

/* Child side of the fork: never returns. */
static void exec_deskd(const struct h_server *s, const char *bin)
{
    int out = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    int in = open("/dev/null", O_RDONLY);
    if (out < 0 || in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 ||
        dup2(out, 2) < 0)
        _exit(126);
    /* A test that crashes must not leave deskd running. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    execl(bin, bin, "-c", s->config, (char *)NULL);
    fprintf(stderr, "harness: exec '%s': %s\n", bin, strerror(errno));
    _exit(127);
}

/* Reads <data_dir>/endpoints; 0 once both endpoints are known. */
static int read_endpoints(struct h_server *s)
{
    char path[H_PATH_MAX], line[H_EP_MAX + 16], ep[H_EP_MAX];
    FILE *f;
    bool catching_up = false;

    if (fmt_path(path, sizeof(path), "%s/endpoints", s->data_dir))
        return -1;
    f = fopen(path, "r");
    if (!f)
        return -1;
    s->cmd_ep[0] = s->pub_ep[0] = s->http_ep[0] = '\0';
    while (fgets(line, sizeof(line), f)) {
        if (!strcmp(line, "state catching_up\n"))
            catching_up = true;
        if (sscanf(line, "commands %255s", ep) == 1)
            memcpy(s->cmd_ep, ep, sizeof(ep));
        else if (sscanf(line, "events %255s", ep) == 1)
            memcpy(s->pub_ep, ep, sizeof(ep));
        else if (sscanf(line, "http %255s", ep) == 1)
            memcpy(s->http_ep, ep, sizeof(ep));
    }
    fclose(f);
    if (catching_up && !s->early)
        return -1;
    return s->cmd_ep[0] && s->pub_ep[0] ? 0 : -1;
}

static int exit_code(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

static int wait_ready(struct h_server *s)
{
    int status;
    for (int waited = 0; waited < H_START_TIMEOUT_MS; waited += H_POLL_MS) {
        if (read_endpoints(s) == 0)
            return 0;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            h_server_show_log(s);
            return fail("deskd exited with status %d before it was ready",
                        exit_code(status));
        }
        sleep_ms(H_POLL_MS);
    }
    h_server_show_log(s);
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &status, 0);
    s->pid = 0;
    return fail("deskd wrote no endpoints within %d ms", H_START_TIMEOUT_MS);
}

/* Starts deskd on s->config. A stale endpoints file (left by a crash) is
 * removed first so that we wait for the new one. */
static int spawn(struct h_server *s)
{
    char bin[H_PATH_MAX], ep_path[H_PATH_MAX];

    if (abs_from_env("DESKD_BIN", "build/deskd", bin) ||
        fmt_path(ep_path, sizeof(ep_path), "%s/endpoints", s->data_dir))
        return -1;
    unlink(ep_path);
    s->cmd_ep[0] = s->pub_ep[0] = '\0';
    fflush(NULL);
    s->pid = fork();
    if (s->pid < 0) {
        s->pid = 0;
        return fail("fork: %s", strerror(errno));
    }
    if (s->pid == 0)
        exec_deskd(s, bin);
    return wait_ready(s);
}

int h_server_start_opts(struct h_server *s, const struct h_opts *o)
{
    static const struct h_opts defaults;

    memset(s, 0, sizeof(*s));
    snprintf(s->dir, sizeof(s->dir), "/tmp/deskd-it-XXXXXX");
    if (!mkdtemp(s->dir))
        return fail("mkdtemp: %s", strerror(errno));
    if ((o && o->data_dir
             ? fmt_path(s->data_dir, sizeof(s->data_dir), "%s", o->data_dir)
             : fmt_path(s->data_dir, sizeof(s->data_dir), "%s/var", s->dir)) ||
        fmt_path(s->config, sizeof(s->config), "%s/deskd.conf", s->dir) ||
        fmt_path(s->log_path, sizeof(s->log_path), "%s/deskd.log", s->dir))
        goto out_remove_dir;
    /* a given data dir may exist already (with mounts inside it) */
    if (mkdir(s->data_dir, 0755) && !(o->data_dir && errno == EEXIST)) {
        fail("mkdir '%s': %s", s->data_dir, strerror(errno));
        goto out_remove_dir;
    }
    if (write_config(s, o ? o : &defaults) || spawn(s))
        goto out_remove_dir;
    return 0;

out_remove_dir:
    h_server_cleanup(s);
    return -1;
}

int h_server_start(struct h_server *s, const char *extra_ini)
{
    struct h_opts o = {.extra_ini = extra_ini};
    return h_server_start_opts(s, &o);
}

int h_server_stop(struct h_server *s)
{
    int status;

    if (!s->pid)
        return fail("h_server_stop: deskd is not running");
    kill(s->pid, SIGTERM);
    for (int waited = 0; waited < H_STOP_TIMEOUT_MS; waited += H_POLL_MS) {
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            return exit_code(status);
        }
        sleep_ms(H_POLL_MS);
    }
    h_server_kill9(s);
    h_server_show_log(s);
    return fail("deskd ignored SIGTERM for %d ms; killed", H_STOP_TIMEOUT_MS);
}

int h_server_kill9(struct h_server *s)
{
    int status;

    if (!s->pid)
        return fail("h_server_kill9: deskd is not running");
    kill(s->pid, SIGKILL);
    if (waitpid(s->pid, &status, 0) != s->pid)
        return fail("waitpid %d: %s", (int)s->pid, strerror(errno));
    s->pid = 0;
    return exit_code(status);
}

int h_server_restart(struct h_server *s)
{
    if (s->pid && h_server_stop(s) != 0)
        return fail("deskd did not shut down cleanly before the restart");
    return spawn(s);
}

/* journal_scan's callback: the last seq of the frames read. */
static int journal_last(void *ctx, const struct journal_frame *fr)
{
    *(uint64_t *)ctx = fr->last_seq;
    return 0;
}

int h_derived_settled(const struct h_server *s)
{
    uint64_t applied = 0, last = 0, journaled = 0;
    for (int i = 0; i < 1000; i++) {
        struct log l;
        struct err e = {0};
        if (journal_scan(s->data_dir, journal_last, &journaled, &e))
            return fail("h_derived_settled: %s", e.msg);
        if (log_open(&l, s->data_dir, 0, true, &e))
            return fail("h_derived_settled: %s", e.msg);
        applied = l.applied_seq;
        last = l.last_seq;
        log_close(&l);
        if (applied == last && last >= journaled)
            return 0;
        usleep(10 * 1000);
    }
    return fail("derived state holds seq %llu, the log %llu, the journal "
                "%llu, after 10 s",
                (unsigned long long)applied, (unsigned long long)last,
                (unsigned long long)journaled);
}

void h_server_cleanup(struct h_server *s)
{
    if (s->pid)
        h_server_kill9(s);
    if (!s->dir[0])
        return;
    tmptree_remove(s->dir, "harness", false);
    s->dir[0] = '\0';
}

/* ---- the client ---- */

/* CURVE client keys (Z85): deskd's public key and this client's secret;
 * NULL for plain. */
static int sock_curve(void *sock, const struct h_keys *k)
{
    char pub[41];
    if (!k)
        return 0;
    if (zmq_curve_public(pub, k->secret) ||
        zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, k->server, 40) ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, pub, 40) ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, k->secret, 40))
        return -1;
    return 0;
}

static int sock_open_keys(void **ctx, void **sock, int type, const char *ep,
                          const struct h_keys *k)
{
    int ms = H_RECV_TIMEOUT_MS, zero = 0;

    *ctx = zmq_ctx_new();
    *sock = *ctx ? zmq_socket(*ctx, type) : NULL;
    if (!*sock || sock_curve(*sock, k))
        goto out_fail;
    zmq_setsockopt(*sock, ZMQ_RCVTIMEO, &ms, sizeof(ms));
    zmq_setsockopt(*sock, ZMQ_SNDTIMEO, &ms, sizeof(ms));
    zmq_setsockopt(*sock, ZMQ_LINGER, &zero, sizeof(zero));
    if (zmq_connect(*sock, ep))
        goto out_fail;
    return 0;

out_fail:
    fail("cannot connect to '%s': %s", ep, zmq_strerror(zmq_errno()));
    if (*sock)
        zmq_close(*sock);
    if (*ctx)
        zmq_ctx_term(*ctx);
    *ctx = *sock = NULL;
    return -1;
}

static int sock_open(void **ctx, void **sock, int type, const char *ep)
{
    return sock_open_keys(ctx, sock, type, ep, NULL);
}

static void sock_close(void **ctx, void **sock)
{
    if (*sock)
        zmq_close(*sock);
    if (*ctx)
        zmq_ctx_term(*ctx);
    *ctx = *sock = NULL;
}

int h_client_open(struct h_client *c, const char *endpoint)
{
    return sock_open(&c->ctx, &c->sock, ZMQ_DEALER, endpoint);
}

int h_client_open_keys(struct h_client *c, const char *endpoint,
                       const struct h_keys *k)
{
    return sock_open_keys(&c->ctx, &c->sock, ZMQ_DEALER, endpoint, k);
}

int h_sub_open_keys(struct h_sub *s, const char *endpoint, const char *topic,
                    const struct h_keys *k)
{
    if (sock_open_keys(&s->ctx, &s->sock, ZMQ_SUB, endpoint, k))
        return -1;
    zmq_setsockopt(s->sock, ZMQ_SUBSCRIBE, topic, strlen(topic));
    return 0;
}

void h_client_close(struct h_client *c)
{
    sock_close(&c->ctx, &c->sock);
}

int h_send_raw(struct h_client *c, const void *buf, size_t len)
{
    if (zmq_send(c->sock, buf, len, 0) < 0)
        return fail("send: %s", zmq_strerror(zmq_errno()));
    return 0;
}

/* Receives one message of exactly one frame into a malloc'd copy, which the
 * caller frees even when this fails. */
static int recv_frame(void *sock, char **out, size_t *len)
{
    zmq_msg_t m;
    int more = 0, extra = 0;

    *out = NULL;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, sock, 0) < 0) {
        zmq_msg_close(&m);
        return fail("no reply: %s", zmq_strerror(zmq_errno()));
    }
    *len = zmq_msg_size(&m);
    *out = malloc(*len ? *len : 1);
    if (*out)
        memcpy(*out, zmq_msg_data(&m), *len);
    more = zmq_msg_more(&m);
    while (more && zmq_msg_recv(&m, sock, 0) >= 0) {
        extra++;
        more = zmq_msg_more(&m);
    }
    zmq_msg_close(&m);
    if (!*out)
        return fail("out of memory for a %zu-byte reply", *len);
    if (extra)
        return fail("reply has %d frames, the contract says one", extra + 1);
    return 0;
}

static void reply_fields(struct h_reply *r)
{
    const msgpack_object *o = r->doc.obj, *ev, *er;

    codec_get_bool(o, "ok", &r->ok);
    codec_get_int(o, "seq", &r->seq);
    codec_copy_str(o, "id", r->id, sizeof(r->id));
    ev = codec_get(o, "events");
    if (ev && ev->type == MSGPACK_OBJECT_ARRAY)
        r->nevents = ev->via.array.size;
    er = codec_get(o, "error");
    if (er) {
        codec_copy_str(er, "code", r->code, sizeof(r->code));
        codec_copy_str(er, "field", r->field, sizeof(r->field));
        codec_copy_str(er, "message", r->message, sizeof(r->message));
    }
}

static int parse_reply(struct h_reply *r)
{
    struct err e = {0};
    /* Trusted: the server's replies may legitimately exceed the limits we
     * impose on commands (a long log.read); the sanity check remains. */
    if (codec_doc_parse_trusted(&r->doc, r->frame, r->len, &e))
        return fail("reply of %zu bytes: %s", r->len, e.msg);
    r->parsed = true;
    if (r->doc.obj->type != MSGPACK_OBJECT_MAP)
        return fail("reply is not a msgpack map");
    reply_fields(r);
    return 0;
}

int h_recv(struct h_client *c, struct h_reply *r)
{
    memset(r, 0, sizeof(*r));
    r->seq = -1;
    if (recv_frame(c->sock, &r->frame, &r->len))
        return -1;
    return parse_reply(r);
}

int h_reply_from(struct h_reply *r, const void *buf, size_t len)
{
    memset(r, 0, sizeof(*r));
    r->seq = -1;
    if (!(r->frame = malloc(len ? len : 1)))
        return -1;
    memcpy(r->frame, buf, len);
    r->len = len;
    return parse_reply(r);
}

int h_call_raw(struct h_client *c, const void *buf, size_t len,
               struct h_reply *r)
{
    memset(r, 0, sizeof(*r));
    if (h_send_raw(c, buf, len))
        return -1;
    return h_recv(c, r);
}

int h_call(struct h_client *c, const char *json_envelope, struct h_reply *r)
{
    json_error_t jerr;
    json_t *j = json_loads(json_envelope, 0, &jerr);
    struct cw w;
    int rc;

    memset(r, 0, sizeof(*r));
    if (!j)
        return fail("bad JSON at column %d (%s): %s", jerr.column, jerr.text,
                    json_envelope);
    cw_init(&w);
    rc = codec_from_json(j, &w);
    json_decref(j);
    if (rc)
        rc = fail("JSON has no msgpack form: %s", json_envelope);
    else
        rc = h_call_raw(c, cw_data(&w), cw_len(&w), r);
    cw_release(&w);
    return rc;
}

int h_callf(struct h_client *c, struct h_reply *r, const char *fmt, ...)
{
    va_list ap;
    char *text;
    int n, rc;

    memset(r, 0, sizeof(*r));
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !(text = malloc((size_t)n + 1)))
        return fail("h_callf: cannot format '%s'", fmt);
    va_start(ap, fmt);
    vsnprintf(text, (size_t)n + 1, fmt, ap);
    va_end(ap);
    rc = h_call(c, text, r);
    free(text);
    return rc;
}

int h_cmdf(struct h_client *c, struct h_reply *r, const char *actor,
           const char *name, const char *body_fmt, ...)
{
    static unsigned long next_id;
    va_list ap;
    char *body;
    int n, rc;

    memset(r, 0, sizeof(*r));
    va_start(ap, body_fmt);
    n = vsnprintf(NULL, 0, body_fmt, ap);
    va_end(ap);
    if (n < 0 || !(body = malloc((size_t)n + 1)))
        return fail("h_cmdf: cannot format '%s'", body_fmt);
    va_start(ap, body_fmt);
    vsnprintf(body, (size_t)n + 1, body_fmt, ap);
    va_end(ap);
    rc = h_callf(c, r,
                 "{\"id\":\"h%d-%lu\",\"cmd\":\"%s\",\"actor\":\"%s\","
                 "\"body\":%s}",
                 (int)getpid(), ++next_id, name, actor, body);
    free(body);
    return rc;
}

void h_reply_release(struct h_reply *r)
{
    if (r->parsed)
        codec_doc_release(&r->doc);
    json_decref(r->json);
    free(r->text);
    free(r->frame);
    memset(r, 0, sizeof(*r));
    r->seq = -1;
}

json_t *h_reply_json(struct h_reply *r)
{
    if (!r->json && r->parsed)
        r->json = codec_to_json(r->doc.obj);
    return r->json;
}

const char *h_reply_text(struct h_reply *r)
{
    json_t *j = h_reply_json(r);
    if (!r->text && j)
        r->text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    return r->text ? r->text : "(no reply)";
}

/* ---- JSON paths ---- */

static json_t *path_step(json_t *j, const char *seg, size_t n)
{
    char *end;
    unsigned long i;

    if (json_is_object(j))
        return json_object_getn(j, seg, n);
    if (!json_is_array(j) || n == 0 || seg[0] < '0' || seg[0] > '9')
        return NULL;
    i = strtoul(seg, &end, 10);
    return (size_t)(end - seg) == n ? json_array_get(j, i) : NULL;
}

json_t *h_json_path(json_t *root, const char *path)
{
    json_t *j = root;
    const char *seg = path;

    while (j && *seg) {
        const char *dot = strchr(seg, '.');
        size_t n = dot ? (size_t)(dot - seg) : strlen(seg);
        j = path_step(j, seg, n);
        seg += n + (dot ? 1 : 0);
    }
    return j;
}

json_t *h_reply_get(struct h_reply *r, const char *path)
{
    json_t *j = h_reply_json(r);
    return j ? h_json_path(j, path) : NULL;
}

const char *h_reply_str(struct h_reply *r, const char *path)
{
    return json_string_value(h_reply_get(r, path));
}

int64_t h_reply_int(struct h_reply *r, const char *path, int64_t def)
{
    json_t *j = h_reply_get(r, path);
    return json_is_integer(j) ? (int64_t)json_integer_value(j) : def;
}

/* ---- the log ---- */

/* Visits the events of one page after *last; returns how many were new,
 * or -1 on a gap or a callback stop (*stop set). */
static int64_t log_page(json_t *events, int64_t *last, h_event_fn fn, void *arg,
                        bool *stop)
{
    size_t i;
    json_t *ev;
    int64_t n = 0;

    if (!json_is_array(events))
        return fail("log.read: result.events is not an array");
    json_array_foreach(events, i, ev)
    {
        json_t *jseq = json_object_get(ev, "seq");
        int64_t seq = json_is_integer(jseq) ? json_integer_value(jseq) : -1;
        if (seq >= 0 && seq <= *last)
            continue;
        if (seq != *last + 1)
            return fail("log.read: seq %lld after %lld", (long long)seq,
                        (long long)*last);
        *last = seq;
        n++;
        if (fn && fn(ev, arg)) {
            *stop = true;
            break;
        }
    }
    return n;
}

int64_t h_log_all(struct h_client *c, h_event_fn fn, void *arg)
{
    static unsigned calls;
    struct h_reply r;
    int64_t last = 0, n, total = 0;
    bool stop = false;

    while (!stop) {
        if (h_callf(c, &r,
                    "{\"id\":\"h-log-%d-%u\",\"cmd\":\"log.read\","
                    "\"actor\":\"admin\",\"body\":{\"from\":%lld,"
                    "\"limit\":%d}}",
                    (int)getpid(), calls++, (long long)last + 1, H_LOG_PAGE))
            goto out_release;
        if (!r.ok) {
            fail("log.read refused: %s", h_reply_text(&r));
            goto out_release;
        }
        n = log_page(h_reply_get(&r, "result.events"), &last, fn, arg, &stop);
        if (n < 0)
            goto out_release;
        total += n;
        if (n == 0 || last >= h_reply_int(&r, "result.last_seq", INT64_MAX))
            stop = true;
        h_reply_release(&r);
    }
    return total;

out_release:
    h_reply_release(&r);
    return -1;
}

int64_t h_log_count(struct h_client *c)
{
    return h_log_all(c, NULL, NULL);
}

/* ---- events ---- */

static bool sock_more(void *sock)
{
    int more = 0;
    size_t n = sizeof(more);
    return zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &n) == 0 && more;
}

int h_sub_open(struct h_sub *s, const char *endpoint, const char *topic)
{
    if (sock_open(&s->ctx, &s->sock, ZMQ_SUB, endpoint))
        return -1;
    zmq_setsockopt(s->sock, ZMQ_SUBSCRIBE, topic, strlen(topic));
    return 0;
}

void h_sub_close(struct h_sub *s)
{
    sock_close(&s->ctx, &s->sock);
}

int h_sub_recv(struct h_sub *s, char *topic, size_t cap, json_t **event,
               int timeout_ms)
{
    zmq_pollitem_t it = {s->sock, 0, ZMQ_POLLIN, 0};
    struct codec_doc d;
    struct err e = {0};
    char *frame;
    size_t len;
    int n;

    *event = NULL;
    snprintf(e.msg, sizeof(e.msg), "out of memory");
    if (zmq_poll(&it, 1, timeout_ms) <= 0)
        return fail("no event within %d ms", timeout_ms);
    n = zmq_recv(s->sock, topic, cap - 1, 0);
    if (n < 0 || !sock_more(s->sock))
        return fail("event without its body frame");
    topic[(size_t)n < cap - 1 ? (size_t)n : cap - 1] = '\0';
    if (recv_frame(s->sock, &frame, &len)) {
        free(frame);
        return -1;
    }
    if (codec_doc_parse_trusted(&d, frame, len, &e) == 0) {
        *event = codec_to_json(d.obj);
        codec_doc_release(&d);
    }
    free(frame);
    return *event ? 0 : fail("event body: %s", e.msg);
}
