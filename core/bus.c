/* core/bus.c - ZeroMQ sockets on the libevent loop. Owns every zmq call in
 * deskd (tools have their own clients). */
#include "bus.h"

#include "codec.h"

#include <errno.h>
#include <string.h>
#include <time.h>

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

int bus_open(struct bus *b, const struct config *cfg, struct event_base *base,
             event_callback_fn on_ready, void *arg, struct err *e)
{
    int hwm = BUS_HWM, linger = 1000, fd;
    int64_t maxmsg = BUS_TRANSPORT_MAX;
    size_t fdlen = sizeof(fd);
    int rc;

    memset(b, 0, sizeof(*b));
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
    if ((rc = bind_one(b->router, cfg->cmd_ep, b->cmd_ep, e)) ||
        (rc = bind_one(b->pub, cfg->pub_ep, b->pub_ep, e)))
        return rc;
    if (zmq_bind(b->pub, BUS_INPROC_EVENTS) != 0)
        return sock_fail(e, "bind", BUS_INPROC_EVENTS);
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
    if (b->router)
        zmq_close(b->router);
    if (b->pub)
        zmq_close(b->pub);
    if (b->ctx)
        zmq_ctx_term(b->ctx);
    memset(b, 0, sizeof(*b));
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

static void discard_rest(void *s)
{
    while (more(s)) {
        zmq_msg_t x;
        zmq_msg_init(&x);
        zmq_msg_recv(&x, s, 0);
        zmq_msg_close(&x);
    }
}

int bus_recv(struct bus *b, struct bus_msg *m)
{
    for (;;) {
        zmq_msg_init(&m->id);
        if (zmq_msg_recv(&m->id, b->router, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m->id);
            return -1;
        }
        zmq_msg_init(&m->body);
        m->req = false;
        if (more(b->router) && zmq_msg_recv(&m->body, b->router, 0) >= 0 &&
            zmq_msg_size(&m->body) == 0 && more(b->router)) {
            m->req = true; /* REQ: empty delimiter, then the frame */
            zmq_msg_close(&m->body);
            zmq_msg_init(&m->body);
            zmq_msg_recv(&m->body, b->router, 0);
        }
        if (!more(b->router))
            return 0;
        /* More frames than a command has: not ours, drop it. */
        discard_rest(b->router);
        bus_msg_release(m);
    }
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

void *bus_feed_open(struct bus *b)
{
    void *s = zmq_socket(b->ctx, ZMQ_SUB);
    int hwm = BUS_HWM, linger = 0;
    if (!s)
        return NULL;
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof(hwm));
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
    if (zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0) ||
        zmq_connect(s, BUS_INPROC_EVENTS)) {
        zmq_close(s);
        return NULL;
    }
    return s;
}

void bus_feed_close(void *feed)
{
    if (feed)
        zmq_close(feed);
}

int bus_feed_fd(void *feed)
{
    int fd = -1;
    size_t n = sizeof(fd);
    zmq_getsockopt(feed, ZMQ_FD, &fd, &n);
    return fd;
}

/* Only the seq is taken: the event itself is read from the log, so a
 * message lost to the HWM costs nothing but a later wake-up. */
int bus_feed_drain(void *feed, uint64_t *max_seq)
{
    int n = 0;
    for (;;) {
        zmq_msg_t m;
        struct codec_doc d;
        int64_t seq;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, feed, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return n;
        }
        if (!more(feed) && !codec_doc_parse_trusted(&d, zmq_msg_data(&m),
                                                    zmq_msg_size(&m), NULL)) {
            if (!codec_get_int(d.obj, "seq", &seq) && seq > 0 &&
                (uint64_t)seq > *max_seq)
                *max_seq = (uint64_t)seq;
            codec_doc_release(&d);
            n++;
        }
        zmq_msg_close(&m);
    }
}
