/* tests/powerfs/pfs.c - runs powerfs for a test (see pfs.h). */
#include "pfs.h"

#include "../common/tmptree.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PFS_POLL_MS 10
#define PFS_WAIT_MS 10000 /* for the mount to answer, or powerfs to exit */

__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
    va_list ap;
    fputs("pfs: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return -1;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Whether this process may mount a FUSE filesystem at all (a container
 * without CAP_SYS_ADMIN may not): a bare mount of /dev/fuse on a scratch
 * directory, undone at once. */
static bool may_mount_fuse(void)
{
    char dir[] = "/tmp/deskd-fuse-probe-XXXXXX", opts[128];
    int fd, rc;
    if (!mkdtemp(dir))
        return false;
    fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
    snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0",
             fd);
    rc = fd < 0 ? -1
                : mount("deskd-probe", dir, "fuse.deskd-probe",
                        MS_NOSUID | MS_NODEV, opts);
    if (rc == 0)
        umount2(dir, MNT_DETACH);
    if (fd >= 0)
        close(fd);
    rmdir(dir);
    return rc == 0;
}

const char *pfs_unavailable(void)
{
    static int known; /* 1: available, 2: not */
    static const char *why;
    if (known)
        return why;
    if (access("/dev/fuse", R_OK | W_OK))
        why = "/dev/fuse missing";
    else if (geteuid() != 0)
        why = "not root (powerfs mounts need root)";
    else if (!may_mount_fuse())
        why = "FUSE mounts not permitted here (no CAP_SYS_ADMIN?)";
    known = why ? 2 : 1;
    return why;
}

const char *pfs_path(const struct pfs *p, const char *name, char *out)
{
    int n = snprintf(out, PFS_PATH_MAX, "%s/%s", p->mnt, name);
    if (n < 0 || n >= PFS_PATH_MAX)
        fail("path too long: %s/%s", p->mnt, name);
    return out;
}

static void bin_path(char *out)
{
    const char *b = getenv("POWERFS_BIN"), *t = getenv("DESKD_TOOLS");
    int n = b && *b ? snprintf(out, PFS_PATH_MAX, "%s", b)
                    : snprintf(out, PFS_PATH_MAX, "%s/powerfs",
                               t && *t ? t : "build");
    if (n < 0 || n >= PFS_PATH_MAX)
        fail("POWERFS_BIN or DESKD_TOOLS too long");
}

int pfs_start(struct pfs *p)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->dir, sizeof(p->dir), "/tmp/deskd-pfs-XXXXXX");
    if (!mkdtemp(p->dir))
        return fail("mkdtemp: %s", strerror(errno));
    /* p->dir is short: these fit */
    if (snprintf(p->disk, sizeof(p->disk), "%s/disk", p->dir) < 0 ||
        snprintf(p->mnt, sizeof(p->mnt), "%s/mnt", p->dir) < 0 ||
        snprintf(p->log, sizeof(p->log), "%s/powerfs.log", p->dir) < 0)
        return fail("snprintf");
    if (mkdir(p->disk, 0755) || mkdir(p->mnt, 0755))
        return fail("mkdir in %s: %s", p->dir, strerror(errno));
    return pfs_mount(p);
}

int pfs_mount(struct pfs *p)
{
    char bin[PFS_PATH_MAX], ctl[PFS_PATH_MAX];
    struct stat st;
    int status;

    if (p->pid)
        return fail("already mounted");
    bin_path(bin);
    fflush(NULL);
    p->pid = fork();
    if (p->pid < 0) {
        p->pid = 0;
        return fail("fork: %s", strerror(errno));
    }
    if (p->pid == 0) {
        int out = open(p->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (out < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
            _exit(126);
        /* a test that dies unmounts (libfuse exits its loop on SIGTERM) */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        execl(bin, bin, p->disk, p->mnt, "-f", (char *)NULL);
        fprintf(stderr, "pfs: exec '%s': %s\n", bin, strerror(errno));
        _exit(127);
    }
    pfs_path(p, ".powerfs-ctl", ctl);
    for (int waited = 0; waited < PFS_WAIT_MS; waited += PFS_POLL_MS) {
        if (stat(ctl, &st) == 0)
            return 0;
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            p->pid = 0;
            return fail("powerfs exited (status %d) before mounting; see %s",
                        status, p->log);
        }
        sleep_ms(PFS_POLL_MS);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &status, 0);
    p->pid = 0;
    umount2(p->mnt, MNT_DETACH);
    return fail("powerfs did not mount %s within %d ms", p->mnt, PFS_WAIT_MS);
}

int pfs_cut(struct pfs *p, const char *how)
{
    char ctl[PFS_PATH_MAX];
    size_t n = strlen(how);
    int fd = open(pfs_path(p, ".powerfs-ctl", ctl), O_WRONLY);
    if (fd < 0)
        return fail("open %s: %s", ctl, strerror(errno));
    if (write(fd, how, n) != (ssize_t)n) {
        fail("'%s' > %s: %s", how, ctl, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

long pfs_held(struct pfs *p)
{
    char ctl[PFS_PATH_MAX], buf[64];
    long n = -1;
    FILE *f = fopen(pfs_path(p, ".powerfs-ctl", ctl), "r");
    if (!f)
        return -1;
    if (!fgets(buf, sizeof(buf), f) || sscanf(buf, "live %ld", &n) != 1)
        n = -1;
    fclose(f);
    return n;
}

/* The end of powerfs's log on stderr: a failed test says why it failed
 * even though its temporary directory is removed. */
static void show_log(const struct pfs *p)
{
    char buf[2048];
    size_t n;
    FILE *f = fopen(p->log, "r");
    if (!f)
        return;
    if (fseek(f, -(long)sizeof(buf), SEEK_END))
        rewind(f);
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    fprintf(stderr, "pfs: the end of %s:\n%.*s", p->log, (int)n, buf);
}

int pfs_unmount(struct pfs *p)
{
    int status, rc = -1;

    if (!p->pid)
        return fail("not mounted");
    /* a process that just died may still hold the mount for a moment */
    for (int waited = 0; waited < PFS_WAIT_MS; waited += PFS_POLL_MS) {
        if ((rc = umount2(p->mnt, 0)) == 0 || errno != EBUSY)
            break;
        sleep_ms(PFS_POLL_MS);
    }
    if (rc && errno == EBUSY) {
        fail("%s still busy; detaching it", p->mnt);
        umount2(p->mnt, MNT_DETACH);
    } else if (rc)
        return fail("umount %s: %s", p->mnt, strerror(errno));
    for (int waited = 0; waited < PFS_WAIT_MS; waited += PFS_POLL_MS) {
        if (waitpid(p->pid, &status, WNOHANG) == p->pid) {
            p->pid = 0;
            /* a sanitizer report, a crash: see its log */
            if (!WIFEXITED(status) || WEXITSTATUS(status)) {
                fail("powerfs ended with status %d", status);
                show_log(p);
                return -1;
            }
            return rc;
        }
        sleep_ms(PFS_POLL_MS);
    }
    kill(p->pid, SIGKILL);
    waitpid(p->pid, &status, 0);
    p->pid = 0;
    return fail("powerfs did not exit after the unmount; killed");
}

void pfs_cleanup(struct pfs *p)
{
    if (p->pid)
        pfs_unmount(p);
    if (!p->dir[0])
        return;
    tmptree_remove(p->dir, "pfs", true);
    p->dir[0] = '\0';
}
