/* tests/integration/it_stop.c - `systemctl stop` (SIGTERM) with commands in
 * flight loses nothing: a desk pipelines many commands, deskd is stopped
 * while it works through them and exits 0 (it answers what it had received;
 * "harness: no reply" below is the end of the replies). Every command it
 * answered ok is in the log after a restart, and sending all of them again
 * with the same ids (what a desk does for unanswered ones) leaves each
 * exactly once: the answered ones come back as duplicates. Assertions are
 * about completion, never about time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "../../core/codec_json.h"
#include "../../core/log.h"
#include "harness.h"

#define COMMANDS 5000 /* pipelined before the SIGTERM */

static bool acked[COMMANDS];

/* The i-th command, always the same bytes for the same i. */
static void unit_json(char *buf, size_t cap, int i)
{
    snprintf(buf, cap,
             "{\"id\":\"stop-%d\",\"cmd\":\"unit.register\",\"actor\":"
             "\"admin\",\"body\":{\"estate\":\"ST\",\"building\":\"1\","
             "\"room\":\"%d\",\"area\":\"88.50\",\"type\":\"residence\"}}",
             i, i);
}

/* Sends the i-th command without waiting for its reply; 0 when sent.
 * No assertion here: the sender thread uses it too. */
static int send_unit_nowait(struct h_client *c, int i)
{
    char json[512];
    json_t *j;
    struct cw w;
    int rc;
    unit_json(json, sizeof(json), i);
    if (!(j = json_loads(json, 0, NULL)))
        return -1;
    cw_init(&w);
    codec_from_json(j, &w);
    rc = h_send_raw(c, cw_data(&w), cw_len(&w));
    cw_release(&w);
    json_decref(j);
    return rc;
}

static void setup_estate(struct h_client *c)
{
    struct h_reply r;
    assert_int_equal(h_cmdf(c, &r, "admin", "estate.register",
                            "{\"code\":\"ST\",\"name\":\"Stop\"}"),
                     0);
    assert_true(r.ok);
    h_reply_release(&r);
    assert_int_equal(h_cmdf(c, &r, "admin", "building.register",
                            "{\"estate\":\"ST\",\"building\":\"1\"}"),
                     0);
    assert_true(r.ok);
    h_reply_release(&r);
}

/* A clean stop commits derived state through the log's last event: the
 * next start has nothing to catch up. */
static void derived_complete(const struct h_server *s)
{
    struct log l;
    struct err e = {0};
    assert_int_equal(log_open(&l, s->data_dir, 64 << 20, true, &e), 0);
    print_message("derived state holds seq %llu, the log %llu\n",
                  (unsigned long long)l.applied_seq,
                  (unsigned long long)l.last_seq);
    if (l.applied_seq != l.last_seq)
        fail_msg("derived state holds seq %llu, the log %llu",
                 (unsigned long long)l.applied_seq,
                 (unsigned long long)l.last_seq);
    log_close(&l);
}

static void test_sigterm_in_flight_loses_nothing(void **state)
{
    struct h_server s;
    struct h_client c;
    struct h_reply r;
    int nacked = 0, dups = 0, drain_ms = 2000;
    (void)state;

    assert_int_equal(h_server_start(&s, NULL), 0);
    assert_int_equal(h_client_open(&c, s.cmd_ep), 0);
    setup_estate(&c);
    for (int i = 0; i < COMMANDS; i++)
        assert_int_equal(send_unit_nowait(&c, i), 0);
    /* stopped while working through them: it must exit 0 */
    assert_int_equal(h_server_stop(&s), 0);
    /* the replies that left before it exited are queued here; the rest
     * were never acknowledged */
    zmq_setsockopt(c.sock, ZMQ_RCVTIMEO, &drain_ms, sizeof(drain_ms));
    while (h_recv(&c, &r) == 0) {
        int i;
        if (sscanf(r.id, "stop-%d", &i) == 1 && i >= 0 && i < COMMANDS &&
            r.ok) {
            acked[i] = true;
            nacked++;
        }
        h_reply_release(&r);
    }
    h_reply_release(&r);
    h_client_close(&c);
    print_message("%d of %d commands answered ok before the stop\n", nacked,
                  COMMANDS);
    derived_complete(&s);

    /* restarted: the desk sends every command again with its id */
    assert_int_equal(h_server_restart(&s), 0);
    assert_int_equal(h_client_open(&c, s.cmd_ep), 0);
    for (int i = 0; i < COMMANDS; i++) {
        char json[512];
        unit_json(json, sizeof(json), i);
        assert_int_equal(h_call(&c, json, &r), 0);
        if (!r.ok)
            fail_msg("stop-%d again: %s", i, h_reply_text(&r));
        if (json_is_true(h_reply_get(&r, "duplicate")))
            dups++;
        else if (acked[i])
            fail_msg("stop-%d was answered ok before the stop but is not in "
                     "the log",
                     i);
        h_reply_release(&r);
    }
    assert_true(dups >= nacked);
    /* each exactly once, plus the estate and the building */
    assert_int_equal(h_log_count(&c), COMMANDS + 2);
    h_client_close(&c);
    assert_int_equal(h_server_stop(&s), 0);
    h_server_cleanup(&s);
}

/* A desk that keeps sending while deskd stops: what was decided is
 * committed to derived state too, although commands are still waiting
 * (deskd commits derived state early when none is waiting, late when one
 * is, and at the stop whatever is waiting). */
#define SENDER_INFLIGHT 1000
static const char *sender_ep;
static volatile int sender_stop;

static void *sender(void *arg)
{
    struct h_client c;
    struct h_reply r;
    int i = COMMANDS, wait_ms = 200; /* ids after the first test's */
    (void)arg;
    if (h_client_open(&c, sender_ep))
        return NULL;
    zmq_setsockopt(c.sock, ZMQ_RCVTIMEO, &wait_ms, sizeof(wait_ms));
    for (int k = 0; k < SENDER_INFLIGHT; k++)
        if (send_unit_nowait(&c, i++))
            break;
    while (!sender_stop) { /* one more for each reply: always a backlog */
        int got = h_recv(&c, &r) == 0;
        h_reply_release(&r);
        if (got && send_unit_nowait(&c, i++))
            break; /* deskd has gone */
    }
    h_client_close(&c);
    return NULL;
}

static void test_stop_while_commands_arrive(void **state)
{
    struct h_server s;
    struct h_client c;
    pthread_t t;
    (void)state;

    assert_int_equal(h_server_start(&s, NULL), 0);
    assert_int_equal(h_client_open(&c, s.cmd_ep), 0);
    setup_estate(&c);
    h_client_close(&c);
    sender_ep = s.cmd_ep;
    sender_stop = 0;
    assert_int_equal(pthread_create(&t, NULL, sender, NULL), 0);
    usleep(300 * 1000); /* it is sending, deskd deciding */
    assert_int_equal(h_server_stop(&s), 0);
    sender_stop = 1;
    assert_int_equal(pthread_join(t, NULL), 0);
    derived_complete(&s);
    h_server_cleanup(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigterm_in_flight_loses_nothing),
        cmocka_unit_test(test_stop_while_commands_arrive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
