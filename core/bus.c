/* core/bus.c - ZeroMQ sockets on the libevent loop. Owns every zmq call in
 * deskd (tools have their own clients). */
#include "bus.h"

#include "codec.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static int sock_fail(struct err *e, const char *what, const char *ep)
{
    return err_set(e, ERR_UNAVAILABLE, NULL, "%s '%s': %s", what, ep,
                   zmq_strerror(errno));
}

static int bind_one(void *s, const char *ep, char *out, struct err *e)
{
    size_t n = CFG_EP_MAX;
    if (zmq_bind(s, ep) != 0)
        return sock_fail(e, "bind", ep);
    zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, out, &n);
    return 0;
}

#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93 /* draft API in libzmq 4.3 */
#endif
#define ZAP_FRAMES 7 /* a CURVE request: version .. credentials */

static bool more(void *s);

/* Receives one ZAP request's frames (at most ZAP_FRAMES kept); the number
 * of frames, or -1 when nothing is waiting. */
static int zap_recv(void *s, zmq_msg_t *f)
{
    int n = 0;
    do {
        zmq_msg_t x;
        zmq_msg_init(&x);
        if (zmq_msg_recv(&x, s, n ? 0 : ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&x);
            return n ? n : -1;
        }
        if (n < ZAP_FRAMES)
            f[n] = x;
        else
            zmq_msg_close(&x);
        n++;
    } while (more(s));
    return n;
}

static void zap_send_str(void *s, const char *v, int flags)
{
    zmq_send(s, v, strlen(v), flags);
}

/* One ZMTP property, as the reply's metadata frame carries it. */
static size_t zap_prop(unsigned char *out, const char *name, const char *val)
{
    size_t nl = strlen(name), vl = strlen(val);
    out[0] = (unsigned char)nl;
    memcpy(out + 1, name, nl);
    out[1 + nl] = (unsigned char)(vl >> 24);
    out[2 + nl] = (unsigned char)(vl >> 16);
    out[3 + nl] = (unsigned char)(vl >> 8);
    out[4 + nl] = (unsigned char)vl;
    memcpy(out + 5 + nl, val, vl);
    return 5 + nl + vl;
}

/* Decides one request: 200 with User-Id = operator for a listed key,
 * 400 for anything else (unknown key, other mechanism or domain). */
static void zap_answer(struct bus *b, zmq_msg_t *f, int n)
{
    char key[CFG_Z85_KEY + 1] = "";
    const char *op = NULL;
    unsigned char meta[64];
    size_t mlen = 0;

    if (n == ZAP_FRAMES && zmq_msg_size(&f[2]) == strlen(BUS_ZAP_DOMAIN) &&
        !memcmp(zmq_msg_data(&f[2]), BUS_ZAP_DOMAIN, zmq_msg_size(&f[2])) &&
        zmq_msg_size(&f[5]) == 5 && !memcmp(zmq_msg_data(&f[5]), "CURVE", 5) &&
        zmq_msg_size(&f[6]) == 32 &&
        zmq_z85_encode(key, zmq_msg_data(&f[6]), 32))
        op = cfg_key_operator(b->cfg, key);
    if (op)
        mlen = zap_prop(meta, BUS_PROP_KEY, key);
    zap_send_str(b->zap, "1.0", ZMQ_SNDMORE);
    if (n >= 2)
        zmq_send(b->zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), ZMQ_SNDMORE);
    else
        zmq_send(b->zap, "", 0, ZMQ_SNDMORE);
    zap_send_str(b->zap, op ? "200" : "400", ZMQ_SNDMORE);
    zap_send_str(b->zap, op ? "OK" : "key not listed", ZMQ_SNDMORE);
    zap_send_str(b->zap, op ? op : "", ZMQ_SNDMORE);
    zmq_send(b->zap, meta, mlen, 0);
    if (op)
        b->zap_ok++;
    else {
        b->zap_refused++;
        diag_warn("zap: refused a %s handshake (key %s)",
                  n == ZAP_FRAMES ? "CURVE" : "malformed", key[0] ? key : "?");
    }
}

static void on_zap(evutil_socket_t fd, short what, void *arg)
{
    struct bus *b = arg;
    zmq_msg_t f[ZAP_FRAMES];
    int n;
    (void)fd, (void)what;
    /* edge-triggered: drain */
    while ((n = zap_recv(b->zap, f)) >= 0) {
        zap_answer(b, f, n);
        for (int i = 0; i < n && i < ZAP_FRAMES; i++)
            zmq_msg_close(&f[i]);
    }
}

static int zap_open(struct bus *b, struct event_base *base, struct err *e)
{
    int fd, linger = 0;
    size_t fdlen = sizeof(fd);
    b->zap = zmq_socket(b->ctx, ZMQ_REP);
    if (!b->zap)
        return sock_fail(e, "socket", BUS_ZAP_EP);
    zmq_setsockopt(b->zap, ZMQ_LINGER, &linger, sizeof(linger));
    if (zmq_bind(b->zap, BUS_ZAP_EP))
        return sock_fail(e, "bind", BUS_ZAP_EP);
    zmq_getsockopt(b->zap, ZMQ_FD, &fd, &fdlen);
    b->zap_ev = event_new(base, fd, EV_READ | EV_PERSIST, on_zap, b);
    if (!b->zap_ev || event_add(b->zap_ev, NULL))
        return err_set(e, ERR_UNAVAILABLE, NULL, "event_add failed");
    return 0;
}

/* A CURVE server that asks ZAP about every handshake in our domain. */
static int curve_server(void *s, const char *secret, struct err *e)
{
    int one = 1;
    if (zmq_setsockopt(s, ZMQ_CURVE_SERVER, &one, sizeof(one)) ||
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, secret, CFG_Z85_KEY) ||
        zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, BUS_ZAP_DOMAIN,
                       strlen(BUS_ZAP_DOMAIN)) ||
        zmq_setsockopt(s, ZMQ_ZAP_ENFORCE_DOMAIN, &one, sizeof(one)))
        return err_set(e, ERR_UNAVAILABLE, NULL, "curve setup: %s",
                       zmq_strerror(errno));
    return 0;
}

/* The ZAP handler is bound before either socket: CURVE without one would
 * accept every client key. */
static int bus_secure(struct bus *b, const struct config *cfg,
                      struct event_base *base, struct err *e)
{
    int rc;
    if (cfg->sec_mode != CFG_SEC_CURVE)
        return 0;
    if (!zmq_has("curve"))
        return err_set(e, ERR_UNAVAILABLE, NULL,
                       "this libzmq was built without CURVE");
    if ((rc = zap_open(b, base, e)) ||
        (rc = curve_server(b->router, cfg->sec_secret, e)) ||
        (rc = curve_server(b->pub, cfg->sec_secret, e)))
        return rc;
    return 0;
}

int bus_open(struct bus *b, const struct config *cfg, struct event_base *base,
             event_callback_fn on_ready, void *arg, struct err *e)
{
    int hwm = BUS_HWM, linger = 1000, fd;
    int64_t maxmsg = BUS_TRANSPORT_MAX;
    size_t fdlen = sizeof(fd);
    int rc;

    memset(b, 0, sizeof(*b));
    b->cfg = cfg;
    b->feed_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (b->feed_fd < 0)
        return err_set(e, ERR_UNAVAILABLE, NULL, "eventfd: %s",
                       strerror(errno));
    b->ctx = zmq_ctx_new();
    b->router = zmq_socket(b->ctx, ZMQ_ROUTER);
    b->pub = zmq_socket(b->ctx, ZMQ_PUB);
    if (!b->router || !b->pub)
        return err_set(e, ERR_UNAVAILABLE, NULL, "zmq socket: %s",
                       zmq_strerror(errno));
    zmq_setsockopt(b->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg));
    zmq_setsockopt(b->router, ZMQ_RCVHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(b->router, ZMQ_SNDHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(b->router, ZMQ_LINGER, &linger, sizeof(linger));
    /* A stalled subscriber costs at most pub_hwm queued events; past that
     * PUB drops its messages (never blocks) and it catches up by log.read. */
    zmq_setsockopt(b->pub, ZMQ_SNDHWM, &cfg->pub_hwm, sizeof(cfg->pub_hwm));
    zmq_setsockopt(b->pub, ZMQ_LINGER, &linger, sizeof(linger));
    if ((rc = bus_secure(b, cfg, base, e)))
        return rc;
    if ((rc = bind_one(b->router, cfg->cmd_ep, b->cmd_ep, e)) ||
        (rc = bind_one(b->pub, cfg->pub_ep, b->pub_ep, e)))
        return rc;
    zmq_getsockopt(b->router, ZMQ_FD, &fd, &fdlen);
    b->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_ready, arg);
    if (!b->ev || event_add(b->ev, NULL))
        return err_set(e, ERR_UNAVAILABLE, NULL, "event_add failed");
    return 0;
}

void bus_close(struct bus *b)
{
    if (b->ev)
        event_free(b->ev);
    if (b->zap_ev)
        event_free(b->zap_ev);
    if (b->zap)
        zmq_close(b->zap);
    if (b->router)
        zmq_close(b->router);
    if (b->pub)
        zmq_close(b->pub);
    if (b->ctx)
        zmq_ctx_term(b->ctx);
    if (b->cfg && b->feed_fd >= 0) /* cfg: bus_open ran */
        close(b->feed_fd);
    memset(b, 0, sizeof(*b));
    b->feed_fd = -1;
}

bool bus_readable(struct bus *b)
{
    int events = 0;
    size_t n = sizeof(events);
    zmq_getsockopt(b->router, ZMQ_EVENTS, &events, &n);
    return (events & ZMQ_POLLIN) != 0;
}

bool bus_wait(struct bus *b, int timeout_us)
{
    zmq_pollitem_t it = {b->router, 0, ZMQ_POLLIN, 0};
    struct timespec t0, t1;
    long waited;

    if (bus_readable(b))
        return true;
    /* zmq_poll counts milliseconds: spin on 0 ms polls for short waits. */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        if (zmq_poll(&it, 1, timeout_us >= 1000 ? 1 : 0) > 0)
            return true;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        waited = (t1.tv_sec - t0.tv_sec) * 1000000L +
                 (t1.tv_nsec - t0.tv_nsec) / 1000;
    } while (waited < timeout_us);
    return false;
}

static bool more(void *s)
{
    int m = 0;
    size_t n = sizeof(m);
    zmq_getsockopt(s, ZMQ_RCVMORE, &m, &n);
    return m != 0;
}

static void prop_copy(zmq_msg_t *msg, const char *name, char *out, size_t cap)
{
    const char *v = zmq_msg_gets(msg, name);
    snprintf(out, cap, "%s", v ? v : "");
}

/* Only under CURVE: in plain mode a peer's own handshake metadata could
 * claim any User-Id. */
static void msg_auth(struct bus *b, struct bus_msg *m)
{
    m->user[0] = m->key[0] = '\0';
    if (!b->zap)
        return;
    prop_copy(&m->body, "User-Id", m->user, sizeof(m->user));
    prop_copy(&m->body, BUS_PROP_KEY, m->key, sizeof(m->key));
}

int bus_frame_rule(const size_t *sizes, size_t n, bool *req)
{
    *req = n >= 1 && sizes[0] == 0;
    if (n == 1)
        return 0; /* DEALER: the command */
    if (n == 2 && sizes[0] == 0)
        return 1; /* REQ: empty delimiter, then the command */
    return -1;
}

int bus_recv(struct bus *b, struct bus_msg *m)
{
    size_t sizes[BUS_FRAMES_KEPT], n = 0;
    int at;

    zmq_msg_init(&m->id);
    if (zmq_msg_recv(&m->id, b->router, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m->id);
        return -1;
    }
    /* The frames after the peer's id: the first two are kept (a REQ
     * delimiter and the command), the rest only counted. */
    zmq_msg_init(&m->body);
    m->bad_frames = false;
    while (more(b->router)) {
        zmq_msg_t x;
        zmq_msg_init(&x);
        if (zmq_msg_recv(&x, b->router, 0) < 0) {
            zmq_msg_close(&x);
            break;
        }
        if (n < BUS_FRAMES_KEPT)
            sizes[n] = zmq_msg_size(&x);
        if (n < 2) { /* the command is the last of the first two */
            zmq_msg_close(&m->body);
            zmq_msg_init(&m->body);
            zmq_msg_move(&m->body, &x);
        }
        zmq_msg_close(&x);
        n++;
    }
    at = bus_frame_rule(sizes, n < BUS_FRAMES_KEPT ? n : BUS_FRAMES_KEPT,
                        &m->req);
    if (at < 0 || (size_t)at != n - 1) {
        /* answered with bad_request: nothing of it is read */
        m->bad_frames = true;
        zmq_msg_close(&m->body);
        zmq_msg_init(&m->body);
    }
    msg_auth(b, m);
    return 0;
}

void bus_msg_body_done(struct bus_msg *m)
{
    zmq_msg_close(&m->body);
    zmq_msg_init(&m->body);
}

void bus_msg_release(struct bus_msg *m)
{
    zmq_msg_close(&m->body);
    zmq_msg_close(&m->id);
}

void bus_reply(struct bus *b, struct bus_msg *m, const char *data, size_t len)
{
    /* ROUTER drops (does not block) when the peer is gone or full. */
    zmq_msg_send(&m->id, b->router, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    if (m->req)
        zmq_send(b->router, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(b->router, data, len, ZMQ_DONTWAIT);
    bus_msg_release(m);
}

void bus_publish(struct bus *b, const char *topic, const char *body, size_t len)
{
    zmq_send(b->pub, topic, strlen(topic), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(b->pub, body, len, ZMQ_DONTWAIT);
}

void bus_feed_wake(struct bus *b)
{
    uint64_t one = 1;
    /* EAGAIN only when the counter is near overflow: awake already */
    if (write(b->feed_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        diag_warn("feed: eventfd write: %s", strerror(errno));
}

int bus_feed_fd(const struct bus *b)
{
    return b->feed_fd;
}

bool bus_feed_drain(const struct bus *b)
{
    uint64_t n;
    return read(b->feed_fd, &n, sizeof(n)) == sizeof(n);
}
