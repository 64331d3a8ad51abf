/* core/err.c - error filling, wire names, asserts and diagnostics. */
#include "err.h"

#include <stdarg.h>
#include <string.h>

int diag_quiet;

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
    fprintf(stderr, "deskd: assertion '%s' failed at %s:%d\n", expr, file,
            line);
    abort();
}

static void diag_out(const char *level, const char *fmt, va_list ap)
{
    if (diag_quiet)
        return;
    fprintf(stderr, "deskd %s: ", level);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void diag_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_out("info", fmt, ap);
    va_end(ap);
}

void diag_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_out("warn", fmt, ap);
    va_end(ap);
}
