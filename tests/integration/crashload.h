/* tests/integration/crashload.h - load for crash tests (it_crash: kill -9,
 * it_power: power cut on powerfs). CL_DESKS desks send unit.register
 * commands with unique ids ("k<n>", one in flight each) until the crash,
 * and a ledger remembers what was sent and acknowledged (with its seq).
 * After a restart cl_check says what a desk would see: acknowledged ids
 * missing from the log or there twice, resends of acknowledged ids not
 * answered `duplicate` with their seq, gaps in seq, a broken hash chain
 * (deskd --verify) and read models that differ from a rebuild from the log
 * (deskd --rebuild). Nothing here aborts: the caller asserts. */
#ifndef DESKD_CRASHLOAD_H
#define DESKD_CRASHLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "harness.h"

#define CL_DESKS 16

/* What one check found. */
struct cl_result {
    int64_t events;  /* in the log; -1 if it could not be read gaplessly */
    long lost;       /* acknowledged, not in the log */
    long dup;        /* in the log more than once */
    long resent;     /* acknowledged ids sent again */
    long resend_bad; /* of those, not `duplicate` with the same seq */
    int verify;      /* deskd --verify exit status: 0 chain ok */
    int rebuild;     /* deskd --rebuild exit status: 0 equal */
};

/* Room for max_ids commands at first (it grows as needed). */
int cl_init(size_t max_ids);
void cl_free(void);
/* Estate CR and one building per desk (C0..C15), as admin. */
int cl_setup_estate(const struct h_server *s);
/* Writes from CL_DESKS desks for run_ms, then calls crash(arg) with the
 * desks still connected (so nothing is answered after it). Each desk first
 * resends the command it had in flight at the previous crash, if that was
 * never acknowledged. -1 if the ledger is full. */
int cl_write_then(const struct h_server *s, int64_t run_ms,
                  void (*crash)(void *), void *arg);
/* Checks the restarted server (see above); 0 when everything is right. */
int cl_check(const struct h_server *s, struct cl_result *r);
/* Sends every acknowledged command again (pipelined); each must be
 * answered `duplicate` with the seq of its first reply. Returns how many
 * were sent (-1 on a transport failure); *bad counts the wrong answers. */
long cl_resend_all(const struct h_server *s, long *bad);
/* Sends again, one at a time, each command a desk had in flight at the
 * last crash and never got an answer to, and records the answers (a
 * command that made it into the log is answered `duplicate`, now
 * acknowledged). Returns how many were answered ok, -1 on a transport
 * failure. */
long cl_resend_carried(const struct h_server *s);
size_t cl_sent(void);
size_t cl_acked(void);

#endif
