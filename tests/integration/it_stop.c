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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "../../core/codec_json.h"
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

/* Sends the i-th command without waiting for its reply. */
static void send_unit_nowait(struct h_client *c, int i)
{
    char json[512];
    json_t *j;
    struct cw w;
    unit_json(json, sizeof(json), i);
    j = json_loads(json, 0, NULL);
    assert_non_null(j);
    cw_init(&w);
    codec_from_json(j, &w);
    assert_int_equal(h_send_raw(c, cw_data(&w), cw_len(&w)), 0);
    cw_release(&w);
    json_decref(j);
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
        send_unit_nowait(&c, i);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigterm_in_flight_loses_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
