/* tests/unit/test_bus.c - the event side of the bus: the in-process feed
 * that wakes the HTTP thread holds nothing however far its reader falls
 * behind (it once queued up to 100,000 events: 40-50 MB of a deskd
 * serving 64 desks), and the XPUB knows whether anyone subscribes, so
 * that events are masked and published only then. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <event2/event.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../../core/bus.h"
#include "../../core/config.h"

#define WAKES 20000

static void on_ready(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
}

struct fx {
    struct config c;
    struct event_base *base;
    struct bus b;
};

static int fx_open(void **state)
{
    static struct fx f;
    struct err e = {0};
    memset(&f, 0, sizeof(f));
    cfg_init(&f.c);
    snprintf(f.c.cmd_ep, sizeof(f.c.cmd_ep), "tcp://127.0.0.1:*");
    snprintf(f.c.pub_ep, sizeof(f.c.pub_ep), "tcp://127.0.0.1:*");
    if (!(f.base = event_base_new()) ||
        bus_open(&f.b, &f.c, f.base, on_ready, NULL, &e))
        fail_msg("bus_open: %s", e.msg);
    *state = &f;
    return 0;
}

static int fx_close(void **state)
{
    struct fx *f = *state;
    bus_close(&f->b);
    event_base_free(f->base);
    return 0;
}

static bool feed_readable(const struct bus *b)
{
    struct pollfd p = {bus_feed_fd(b), POLLIN, 0};
    return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void test_feed_holds_nothing(void **state)
{
    struct fx *f = *state;
    assert_false(feed_readable(&f->b));
    assert_false(bus_feed_drain(&f->b));
    for (int i = 0; i < WAKES; i++)
        bus_feed_wake(&f->b);
    assert_true(feed_readable(&f->b));
    assert_true(bus_feed_drain(&f->b)); /* one read takes all of them */
    assert_false(feed_readable(&f->b));
    assert_false(bus_feed_drain(&f->b));
}

/* bus_subscribed, asked until it says want or 5 s pass. */
static bool subscribed_within(struct bus *b, bool want)
{
    for (int i = 0; i < 500; i++) {
        if (bus_subscribed(b) == want)
            return true;
        usleep(10 * 1000);
    }
    return false;
}

static void test_knows_whether_anyone_subscribes(void **state)
{
    struct fx *f = *state;
    void *ctx = zmq_ctx_new();
    void *s1 = zmq_socket(ctx, ZMQ_SUB), *s2 = zmq_socket(ctx, ZMQ_SUB);
    int linger = 0;
    char topic[64], body[8];

    zmq_setsockopt(s1, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(s2, ZMQ_LINGER, &linger, sizeof(linger));
    assert_false(bus_subscribed(&f->b));
    /* connected but subscribed to nothing: nobody */
    assert_int_equal(zmq_connect(s1, f->b.pub_ep), 0);
    usleep(100 * 1000);
    assert_false(bus_subscribed(&f->b));
    assert_int_equal(zmq_setsockopt(s1, ZMQ_SUBSCRIBE, "unit.", 5), 0);
    assert_true(subscribed_within(&f->b, true));
    bus_publish(&f->b, "unit.registered", "{}", 2);
    assert_int_equal(zmq_recv(s1, topic, sizeof(topic), 0), 15);
    assert_int_equal(zmq_recv(s1, body, sizeof(body), 0), 2);
    /* a second subscriber to the same prefix, then the first leaves */
    assert_int_equal(zmq_connect(s2, f->b.pub_ep), 0);
    assert_int_equal(zmq_setsockopt(s2, ZMQ_SUBSCRIBE, "unit.", 5), 0);
    usleep(100 * 1000);
    zmq_close(s1);
    usleep(200 * 1000);
    assert_true(bus_subscribed(&f->b));
    /* the last one unsubscribes: nobody again */
    assert_int_equal(zmq_setsockopt(s2, ZMQ_UNSUBSCRIBE, "unit.", 5), 0);
    assert_true(subscribed_within(&f->b, false));
    /* subscribed again, then gone without unsubscribing */
    assert_int_equal(zmq_setsockopt(s2, ZMQ_SUBSCRIBE, "", 0), 0);
    assert_true(subscribed_within(&f->b, true));
    zmq_close(s2);
    assert_true(subscribed_within(&f->b, false));
    zmq_ctx_term(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_feed_holds_nothing, fx_open,
                                        fx_close),
        cmocka_unit_test_setup_teardown(test_knows_whether_anyone_subscribes,
                                        fx_open, fx_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
