/* tests/common/tmptree.c - see tmptree.h. */
#include "tmptree.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if ((flag == FTW_DP ? rmdir(path) : unlink(path)) && errno != ENOENT)
        fprintf(stderr, "cannot remove '%s': %s\n", path, strerror(errno));
    return 0;
}

void tmptree_remove(const char *dir, const char *who, bool one_fs)
{
    const char *keep = getenv("DESKD_KEEP_TMP");

    if (keep && *keep && strcmp(keep, "0"))
        fprintf(stderr, "%s: keeping %s\n", who, dir);
    else
        nftw(dir, rm_entry, 16,
             FTW_DEPTH | FTW_PHYS | (one_fs ? FTW_MOUNT : 0));
}
