/* tests/common/tmptree.h - removing a test's temporary directory tree, in
 * one place for the integration harness and powerfs's helpers. */
#ifndef DESKD_TEST_TMPTREE_H
#define DESKD_TEST_TMPTREE_H

#include <stdbool.h>

/* Removes dir and everything under it, staying on dir's filesystem when
 * one_fs (never into a mount inside it). With DESKD_KEEP_TMP set (and not
 * "0") it keeps the tree and says so on stderr, prefixed by who. A file
 * that cannot be removed is reported and skipped. */
void tmptree_remove(const char *dir, const char *who, bool one_fs);

#endif
