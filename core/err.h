/* core/err.h - the one error type: a wire code, the offending field and a
 * message a desk clerk can read. Every fallible call in deskd returns 0 or a
 * negative ERR_* and, when given a struct err, fills it. */
#ifndef DESKD_ERR_H
#define DESKD_ERR_H

#include <stdio.h>
#include <stdlib.h>

/* One list generates the enum and the wire names (the reply's error.code). */
#define ERR_CODES(X)                                                           \
    X(BAD_REQUEST, -1, "bad_request")                                          \
    X(UNKNOWN_COMMAND, -2, "unknown_command")                                  \
    X(INVALID, -3, "invalid")                                                  \
    X(NOT_FOUND, -4, "not_found")                                              \
    X(CONFLICT, -5, "conflict")                                                \
    X(FORBIDDEN, -6, "forbidden")                                              \
    X(RULE, -7, "rule")                                                        \
    X(UNAVAILABLE, -8, "unavailable")

enum err_code {
    ERR_OK = 0,
#define X(name, val, wire) ERR_##name = val,
    ERR_CODES(X)
#undef X
};

#define ERR_FIELD_MAX 64 /* bytes; longest field path we report */
#define ERR_MSG_MAX 256  /* bytes; messages are one line for a clerk */

struct err {
    int code; /* an enum err_code, 0 when no error */
    char field[ERR_FIELD_MAX];
    char msg[ERR_MSG_MAX];
};

/* Fills e (if not NULL) and returns code, so callers can write
 * `return err_set(e, ERR_INVALID, "area", "area '%s' is negative", s);`.
 * field may be NULL. */
int err_set(struct err *e, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

void err_clear(struct err *e);

/* The wire name of a code ("invalid"), or "internal" for unknown codes. */
const char *err_code_name(int code);

/* Our own invariants only; input is checked and answered with an error. */
#define DESK_ASSERT(x)                                                         \
    do {                                                                       \
        if (!(x))                                                              \
            desk_assert_fail(#x, __FILE__, __LINE__);                          \
    } while (0)

_Noreturn void desk_assert_fail(const char *expr, const char *file, int line);

/* Diagnostics: one line each on stderr, "deskd warn: ...". When stderr is
 * systemd's journal (JOURNAL_STREAM names it) the line starts with its
 * syslog priority instead, "<4>...", which journald reads as the entry's
 * priority (sd-daemon(3)); the journal adds the name and time itself.
 * diag_debug compiles out unless DESKD_DEBUG is defined. */
void diag_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void diag_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void diag_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#ifdef DESKD_DEBUG
#define diag_debug(...) diag_info(__VA_ARGS__)
#else
#define diag_debug(...) ((void)0)
#endif

/* Set by tests and tools that want silence. */
extern int diag_quiet;

#endif
