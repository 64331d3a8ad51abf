/* tests/powerfs/pfs.h - runs powerfs (tests/powerfs/powerfs.c) for a test:
 * a temporary directory holding the backing store ("the disk") and a mount
 * point, mounts and unmounts it, and cuts the power through its control
 * file. Failures are reported on stderr and returned as -1.
 *
 * Environment: POWERFS_BIN (default $DESKD_TOOLS/powerfs, else
 * build/powerfs). Needs /dev/fuse and the right to mount (root). */
#ifndef DESKD_PFS_H
#define DESKD_PFS_H

#include <sys/types.h>

#define PFS_PATH_MAX 4096

struct pfs {
    pid_t pid;               /* the powerfs process; 0 when unmounted */
    char dir[64];            /* the temporary directory, owned */
    char disk[PFS_PATH_MAX]; /* <dir>/disk: the backing store */
    char mnt[PFS_PATH_MAX];  /* <dir>/mnt: where it is mounted */
    char log[PFS_PATH_MAX];  /* <dir>/powerfs.log: its stderr */
};

/* NULL when powerfs can run here, else why not ("/dev/fuse missing"). */
const char *pfs_unavailable(void);
/* Makes the temporary directory and mounts; 0 once the mount answers. */
int pfs_start(struct pfs *p);
/* Mounts the backing store again (after pfs_unmount). */
int pfs_mount(struct pfs *p);
/* Cuts the power: how is "cut" or "cut torn SEED". Synchronous. */
int pfs_cut(struct pfs *p, const char *how);
/* Pages written but not yet flushed (held), -1 if it cannot tell. */
long pfs_held(struct pfs *p);
/* Unmounts and waits for powerfs to exit. */
int pfs_unmount(struct pfs *p);
/* Unmounts if mounted and removes the temporary directory (unless
 * DESKD_KEEP_TMP is set). */
void pfs_cleanup(struct pfs *p);
/* "<mnt>/name" into out (PFS_PATH_MAX bytes). */
const char *pfs_path(const struct pfs *p, const char *name, char *out);

#endif
