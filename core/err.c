/* core/err.c - error filling, wire names, asserts and diagnostics. */
#include "err.h"

#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

int diag_quiet;

/* Syslog priorities (syslog(3)) as journald reads them in a "<N>" prefix. */
#define DIAG_ERR 3
#define DIAG_WARNING 4
#define DIAG_INFO 6

/* True when stderr is the journal stream systemd gave us: JOURNAL_STREAM is
 * "DEV:INODE" of that stream (systemd.exec(5)); a child's redirected stderr
 * inherits the variable but not the inode, so it is compared. */
static int diag_journal(void)
{
    static int known = -1;
    const char *v;
    unsigned long long dev, ino;
    struct stat st;

    if (known >= 0)
        return known;
    v = getenv("JOURNAL_STREAM");
    known = v && sscanf(v, "%llu:%llu", &dev, &ino) == 2 &&
            fstat(fileno(stderr), &st) == 0 &&
            (unsigned long long)st.st_dev == dev &&
            (unsigned long long)st.st_ino == ino;
    return known;
}

static void diag_prefix(int prio, const char *level)
{
    if (diag_journal())
        fprintf(stderr, "<%d>", prio);
    else
        fprintf(stderr, "deskd %s: ", level);
}

int err_set(struct err *e, int code, const char *field, const char *fmt, ...)
{
    va_list ap;

    if (!e)
        return code;
    e->code = code;
    snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return code;
}

void err_clear(struct err *e)
{
    if (!e)
        return;
    e->code = 0;
    e->field[0] = '\0';
    e->msg[0] = '\0';
}

const char *err_code_name(int code)
{
    switch (code) {
#define X(name, val, wire)                                                     \
    case val:                                                                  \
        return wire;
        ERR_CODES(X)
#undef X
    default:
        return "internal";
    }
}

void desk_assert_fail(const char *expr, const char *file, int line)
{
    diag_prefix(DIAG_ERR - 1, "crit");
    fprintf(stderr, "assertion '%s' failed at %s:%d\n", expr, file, line);
    abort();
}

static void diag_out(int prio, const char *level, const char *fmt, va_list ap)
{
    if (diag_quiet && prio > DIAG_ERR)
        return;
    diag_prefix(prio, level);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void diag_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_out(DIAG_ERR, "error", fmt, ap);
    va_end(ap);
}

void diag_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_out(DIAG_INFO, "info", fmt, ap);
    va_end(ap);
}

void diag_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_out(DIAG_WARNING, "warn", fmt, ap);
    va_end(ap);
}
