/* tests/integration/it_notify.c - deskd under systemd's Type=notify
 * (dist/deskd.service): with NOTIFY_SOCKET set, a real deskd says READY=1
 * once it serves, RELOADING=1 then READY=1 around a SIGHUP key reload, and
 * STOPPING=1 on SIGTERM, which still ends in a clean exit. The test plays
 * systemd: it binds the datagram socket deskd's sd_notify writes to. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

#define WAIT_S 10 /* seconds to wait for one message, not a timing check */

static char dir[64];
static char sock_path[96]; /* fits sockaddr_un.sun_path (108) */
static int sock = -1;

/* The next datagram from deskd, NUL-terminated in buf. */
static void next_message(char *buf, size_t cap)
{
    ssize_t n = recv(sock, buf, cap - 1, 0);
    if (n < 0)
        fail_msg("no sd_notify message from deskd within %d s", WAIT_S);
    buf[n] = '\0';
}

static int setup(void **state)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    struct timeval tv = {WAIT_S, 0};
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/it_notify.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(sock_path, sizeof(sock_path), "%s/notify", dir);
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock_path);
    sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0 || bind(sock, (struct sockaddr *)&a, sizeof(a)) ||
        setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (sock >= 0)
        close(sock);
    unlink(sock_path);
    rmdir(dir);
    return 0;
}

static void test_ready_reload_stopping(void **state)
{
    struct h_server s;
    char msg[512];
    (void)state;

    setenv("NOTIFY_SOCKET", sock_path, 1);
    assert_int_equal(h_server_start(&s, NULL), 0);
    unsetenv("NOTIFY_SOCKET");

    next_message(msg, sizeof(msg));
    assert_non_null(strstr(msg, "READY=1"));
    assert_non_null(strstr(msg, "STATUS=serving; log at seq 0"));

    /* systemctl reload: the unit's ExecReload sends SIGHUP */
    assert_int_equal(kill(s.pid, SIGHUP), 0);
    next_message(msg, sizeof(msg));
    assert_string_equal(msg, "RELOADING=1");
    next_message(msg, sizeof(msg));
    assert_non_null(strstr(msg, "READY=1"));
    assert_non_null(strstr(msg, "STATUS=serving; 0 desk keys"));

    /* systemctl stop: SIGTERM, STOPPING=1, then a clean exit */
    assert_int_equal(h_server_stop(&s), 0);
    next_message(msg, sizeof(msg));
    assert_string_equal(msg, "STOPPING=1");
    h_server_cleanup(&s);
}

/* Without NOTIFY_SOCKET (a terminal, the tests) nothing is sent and deskd
 * runs as before. */
static void test_no_socket_no_message(void **state)
{
    struct h_server s;
    char msg[64];
    (void)state;

    unsetenv("NOTIFY_SOCKET");
    assert_int_equal(h_server_start(&s, NULL), 0);
    assert_int_equal(h_server_stop(&s), 0);
    h_server_cleanup(&s);
    assert_true(recv(sock, msg, sizeof(msg), MSG_DONTWAIT) < 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ready_reload_stopping),
        cmocka_unit_test(test_no_socket_no_message),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
