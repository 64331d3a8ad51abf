/* tests/unit/test_bus.c - the in-process event feed that wakes the HTTP
 * thread: its messages are wake-ups only, so it queues a bounded number
 * of them when its reader falls behind (it used to hold up to 100,000
 * events: 40-50 MB of a deskd serving 64 desks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <event2/event.h>
#include <stdio.h>
#include <unistd.h>

#include "../../core/bus.h"
#include "../../core/config.h"

#define EVENTS 20000
#define PUB_HWM 100
#define QUEUED_MAX 5000 /* parts a feed may hold: a few thousand at most */

static void on_ready(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
}

static void test_feed_queue_is_bounded(void **state)
{
    static struct config c;
    struct event_base *base = event_base_new();
    struct bus b;
    struct err e = {0};
    void *feed;
    int n;
    (void)state;

    cfg_init(&c);
    snprintf(c.cmd_ep, sizeof(c.cmd_ep), "tcp://127.0.0.1:*");
    snprintf(c.pub_ep, sizeof(c.pub_ep), "tcp://127.0.0.1:*");
    c.pub_hwm = PUB_HWM;
    assert_non_null(base);
    if (bus_open(&b, &c, base, on_ready, NULL, &e))
        fail_msg("bus_open: %s", e.msg);
    assert_non_null(feed = bus_feed_open(&b));
    usleep(100 * 1000); /* the subscription reaches PUB */
    for (int i = 0; i < EVENTS; i++)
        bus_publish(&b, "unit.registered", "{}", 2);
    usleep(100 * 1000);
    n = bus_feed_drain(feed); /* two parts an event: topic and body */
    print_message("%d events published, %d parts queued for the feed\n", EVENTS,
                  n);
    assert_true(n > 0);
    assert_true(n <= QUEUED_MAX);
    assert_true(n <= 2 * (BUS_FEED_HWM + PUB_HWM) + 2);
    bus_feed_close(feed);
    bus_close(&b);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_feed_queue_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
