/* tests/common/logfix.h - events for tests that drive the log's API
 * without deskd (test_log, test_journal, it_power). */
#ifndef DESKD_LOGFIX_H
#define DESKD_LOGFIX_H

#include "../../core/log.h"

/* Appends one estate.registered event to the batch's segment: stream,
 * body {"i": i}, command id "c<i>", recorded 2026-01-01 plus i ms. Fails
 * the test (cmocka) if the log refuses it. */
void logfix_append(struct log_batch *b, const char *stream, int i);

#endif
