/* tests/integration/desk.h - what integration tests say as a desk, on top
 * of the harness: send a command as an operator, require success, require
 * a refusal that writes nothing, move the manual clock. Every call uses the
 * client in `desk`, which a test points at its own before the first call.
 * Failures are cmocka failures naming the command and the reply. */
#ifndef DESKD_TEST_DESK_H
#define DESKD_TEST_DESK_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "harness.h"

extern struct h_client *desk;

/* Sends command name as actor with a printf-formatted JSON body; the
 * transport must work (the reply may be a refusal: check r->ok). */
void cmd(struct h_reply *r, const char *actor, const char *name,
         const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The command must succeed; r holds the reply (release it with done()). */
#define OK(r, actor, name, ...)                                                \
    do {                                                                       \
        cmd(r, actor, name, __VA_ARGS__);                                      \
        if (!(r)->ok)                                                          \
            fail_msg("%s refused: %s", name, h_reply_text(r));                 \
    } while (0)

void done(struct h_reply *r);

/* The command must fail with code, its message must contain rule (when not
 * NULL: a rule id, a word of the reason), and the log must not grow: a
 * refusal writes nothing. */
void refused(const char *code, const char *rule, const char *actor,
             const char *name, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* clock.set to iso (forward only; an earlier time is ignored by the
 * tests), then waits until the timers it made due have fired. */
void clock_to(const char *iso);

/* An ID number to give a person: extra text for desk_person. */
#define DESK_ID_NO ",\"id_no\":\"440301199001011234\""

/* Registers a person with phone 13812345678 and the JSON members in extra
 * ("" or ",\"key\":value..."); the new id goes to out. */
void desk_person(const char *name, const char *kind, const char *extra,
                 char out[24]);

/* Estate code with building 1 and unit "<code>/1-101" (90.00 m², type),
 * owned from 2025-12-01 by a new person registered with owner_extra; the
 * owner's id goes to owner. */
void desk_estate(const char *code, const char *type, const char *owner_extra,
                 char owner[24]);

/* Starts a deskd (o may be NULL), opens c on it and makes it the desk. */
int desk_start(struct h_server *s, struct h_client *c, const struct h_opts *o);

/* Closes c and stops s (SIGTERM, then cleanup); 0, for cmocka. */
int desk_stop(struct h_server *s, struct h_client *c);

/* Replaying s's log into empty tables gives tables byte-identical to the
 * live ones, and the hash chain verifies (deskd --rebuild, --verify). */
void rebuild_equals_live(const struct h_server *s);

/* ---- explain=true (handlers/explain.c) ---- */
/* The type of the event log.read serves at seq (copied to type). */
void desk_log_type(int64_t seq, char type[48]);
/* Entry i of "why" list l: its seq must be that of an event of type
 * `type` (the log agrees), or nil when seq is 0; its rule must be rule;
 * its fen fen (WHY_NONE: absent). */
#define WHY_NONE INT64_MIN
void expect_entry(json_t *l, size_t i, int64_t seq, const char *type,
                  const char *rule, int64_t fen);
/* The "what" of entry i of list l. */
const char *what_of(json_t *l, size_t i);

#endif
