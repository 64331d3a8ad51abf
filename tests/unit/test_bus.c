/* tests/unit/test_bus.c - the in-process feed that wakes the HTTP thread
 * holds nothing however far its reader falls behind (as a SUB on the PUB
 * it once queued up to 100,000 events: 40-50 MB of a deskd serving 64
 * desks). */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_feed_holds_nothing, fx_open,
                                        fx_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
