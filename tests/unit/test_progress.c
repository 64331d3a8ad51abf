/* tests/unit/test_progress.c - progress lines (core/progress.c): on a
 * pseudo-terminal one line redrawn in place (\r) with a percent, ending
 * with the totals; off a terminal plain lines; through a callback; and
 * NULL is silent. No assertion depends on how fast the machine is: the
 * plain-line interval is set to 0 where lines are counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/progress.h"

#define N 5000 /* items walked */

/* Everything the master side of a pty has to read, NUL-terminated. */
static size_t drain(int master, char *buf, size_t cap)
{
    size_t len = 0;
    struct pollfd p = {master, POLLIN, 0};
    while (len + 1 < cap && poll(&p, 1, 200) > 0) {
        ssize_t k = read(master, buf + len, cap - len - 1);
        if (k <= 0)
            break;
        len += (size_t)k;
    }
    buf[len] = '\0';
    return len;
}

static void walk(struct progress *p)
{
    progress_begin(p, "walking", "events", N);
    for (uint64_t i = 1; i <= N; i++)
        progress_update(p, i);
    progress_end(p);
}

static void test_terminal_line_in_place(void **state)
{
    static char buf[65536];
    struct progress p;
    int master = posix_openpt(O_RDWR | O_NOCTTY), slave;
    FILE *f;
    (void)state;

    assert_true(master >= 0);
    assert_int_equal(grantpt(master), 0);
    assert_int_equal(unlockpt(master), 0);
    slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    assert_true(slave >= 0);
    f = fdopen(slave, "w");
    assert_non_null(f);
    progress_init(&p, f);
    assert_true(p.tty);
    walk(&p);
    drain(master, buf, sizeof(buf));
    fclose(f);
    close(master);
    /* drawn at once, in place, with a percent */
    assert_non_null(strstr(buf, "\rwalking: 0 of 5000 events (0.0%)"));
    /* the last redraw is the totals, then the line ends (the pty shows
     * \n as \r\n) */
    assert_non_null(strstr(buf, "\rwalking: 5000 events in "));
    assert_non_null(strstr(buf, " events/s)"));
    assert_int_equal(buf[strlen(buf) - 1], '\n');
    /* and nothing after it but blanks over the longer line it replaced,
     * and the line break */
    {
        const char *t = strstr(buf, " events/s)") + 10;
        t += strspn(t, " ");
        assert_string_equal(t, "\r\n");
    }
}

static void test_off_terminal_plain_lines(void **state)
{
    char line[256], last[256] = "";
    struct progress p;
    FILE *f = tmpfile();
    int lines = 0;
    (void)state;

    assert_non_null(f);
    progress_init(&p, f);
    assert_false(p.tty);
    p.interval_ms = 0; /* a line at every look at the clock */
    walk(&p);
    rewind(f);
    while (fgets(line, sizeof(line), f)) {
        assert_null(strchr(line, '\r'));
        if (lines < N / PROGRESS_EVERY)
            assert_non_null(strstr(line, " of 5000 events ("));
        snprintf(last, sizeof(last), "%s", line);
        lines++;
    }
    fclose(f);
    /* one per PROGRESS_EVERY updates, then the totals */
    assert_int_equal(lines, N / PROGRESS_EVERY + 1);
    assert_memory_equal(last, "walking: 5000 events in ", 24);
}

struct got {
    int n;
    char last[PROGRESS_LINE_MAX];
};

static void collect(void *ctx, const char *line)
{
    struct got *g = ctx;
    g->n++;
    snprintf(g->last, sizeof(g->last), "%s", line);
}

static void test_callback_and_null(void **state)
{
    struct progress p;
    struct got g = {0};
    (void)state;

    progress_init_fn(&p, collect, &g);
    assert_false(p.tty);
    walk(&p); /* within the default interval: only the totals */
    assert_true(g.n >= 1);
    assert_memory_equal(g.last, "walking: 5000 events in ", 24);
    /* NULL: silent, no crash */
    walk(NULL);
    progress_update_now(NULL, 1);
    progress_abort(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_terminal_line_in_place),
        cmocka_unit_test(test_off_terminal_plain_lines),
        cmocka_unit_test(test_callback_and_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
