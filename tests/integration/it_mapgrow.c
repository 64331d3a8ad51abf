/* tests/integration/it_mapgrow.c - the LMDB map grows by itself: deskd
 * starts with a 1 MiB map and takes enough commands, many in flight at
 * once, to need many doublings. On MDB_MAP_FULL the batch is aborted, the
 * map enlarged and the batch run again, so no command is refused or lost
 * and nothing appears twice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "harness.h"

#define COMMANDS 20000
#define IN_FLIGHT 500

static struct h_server srv;

static void send_unit(void *sock, int i)
{
    struct cw w;
    char id[32], room[32];
    snprintf(id, sizeof(id), "g%d", i);
    snprintf(room, sizeof(room), "%d", i);
    cw_init(&w);
    cw_map(&w, 4);
    cw_kstr(&w, "id", id);
    cw_kstr(&w, "cmd", "unit.register");
    cw_kstr(&w, "actor", "bench");
    cw_str(&w, "body");
    cw_map(&w, 6);
    cw_kstr(&w, "estate", "MG");
    cw_kstr(&w, "building", "1");
    cw_kstr(&w, "room", room);
    cw_kstr(&w, "area", "101.25");
    cw_kstr(&w, "type", "residence");
    /* a long name-like field would do too; state keeps events realistic */
    cw_kstr(&w, "state", "handed_over");
    assert_int_equal(zmq_send(sock, cw_data(&w), cw_len(&w), 0),
                     (int)cw_len(&w));
    cw_release(&w);
}

static int count_ok(const char *buf, size_t n)
{
    struct codec_doc d;
    bool ok = false;
    if (codec_doc_parse(&d, buf, n, NULL))
        return 0;
    codec_get_bool(d.obj, "ok", &ok);
    if (!ok) {
        const msgpack_object *er = codec_get(d.obj, "error");
        char msg[256];
        codec_copy_str(er, "message", msg, sizeof(msg));
        fprintf(stderr, "refused: %s\n", msg);
    }
    codec_doc_release(&d);
    return ok;
}

static void setup_estate(struct h_client *c)
{
    struct h_reply r;
    assert_int_equal(h_call(c,
                            "{\"id\":\"e\",\"cmd\":\"estate.register\","
                            "\"actor\":\"admin\",\"body\":{\"code\":\"MG\","
                            "\"name\":\"Grow\"}}",
                            &r),
                     0);
    assert_true(r.ok);
    h_reply_release(&r);
    assert_int_equal(h_call(c,
                            "{\"id\":\"b\",\"cmd\":\"building.register\","
                            "\"actor\":\"admin\",\"body\":{\"estate\":"
                            "\"MG\",\"building\":\"1\"}}",
                            &r),
                     0);
    assert_true(r.ok);
    h_reply_release(&r);
}

static void test_tiny_map_grows_without_loss(void **state)
{
    struct h_client c;
    char buf[1 << 16];
    int sent = 0, acked = 0, replies = 0;
    (void)state;

    assert_int_equal(h_client_open(&c, srv.cmd_ep), 0);
    setup_estate(&c);
    while (sent < IN_FLIGHT)
        send_unit(c.sock, sent++);
    while (replies < COMMANDS) {
        int n = zmq_recv(c.sock, buf, sizeof(buf), 0);
        assert_true(n > 0);
        replies++;
        acked += count_ok(buf, (size_t)n);
        if (sent < COMMANDS)
            send_unit(c.sock, sent++);
    }
    assert_int_equal(acked, COMMANDS);
    /* every command once, plus the two setup events */
    assert_int_equal(h_log_count(&c), COMMANDS + 2);
    h_client_close(&c);
}

static void test_log_grew_and_verifies_after_restart(void **state)
{
    char cmd[3 * H_PATH_MAX], line[256] = "";
    const char *bin = getenv("DESKD_BIN") ? getenv("DESKD_BIN") : "build/deskd";
    FILE *f;
    int grows = 0;
    (void)state;

    assert_int_equal(h_server_stop(&srv), 0);
    f = fopen(srv.log_path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f))
        grows += strstr(line, "map grown to") != NULL;
    fclose(f);
    fprintf(stderr, "map grown %d times\n", grows);
    assert_true(grows >= 4); /* 1 MiB -> at least 16 MiB */
    snprintf(cmd, sizeof(cmd), "%s -c %s --verify && %s -c %s --rebuild", bin,
             srv.config, bin, srv.config);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(h_server_restart(&srv), 0);
}

static int setup(void **state)
{
    struct h_opts o = {.map_size_mb = 1};
    (void)state;
    return h_server_start_opts(&srv, &o);
}

static int teardown(void **state)
{
    (void)state;
    h_server_stop(&srv);
    h_server_cleanup(&srv);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiny_map_grows_without_loss),
        cmocka_unit_test(test_log_grew_and_verifies_after_restart),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
