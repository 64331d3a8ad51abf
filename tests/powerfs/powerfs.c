/* tests/powerfs/powerfs.c - a FUSE filesystem for power-loss tests: it
 * passes everything through to a backing directory, except that data
 * written to a file since that file's last fsync/fdatasync is held in this
 * process's memory. The backing directory is "the disk"; what is held is
 * what a power cut loses.
 *
 *   powerfs BACKING MOUNTPOINT [FUSE options, e.g. -f]
 *
 * The model (what a real disk would keep after a power cut):
 *   - data: write() (and the writeback of shared mmap pages, which the
 *     kernel sends as writes) is held per file, as whole 4 KiB pages, until
 *     fsync or fdatasync of that file (msync(MS_SYNC) arrives as fsync);
 *     then every held page of the file reaches the disk. A file opened
 *     O_SYNC/O_DSYNC writes through at once.
 *   - size: a write that extends a file is data, held with it; truncate is
 *     metadata (below).
 *   - metadata: create, mkdir, unlink, rmdir, rename, truncate, fallocate
 *     (mode 0: reserving blocks), chmod and utimens are durable at once (a
 *     journalling filesystem that commits metadata synchronously); fsync of
 *     a directory is then a no-op.
 *   - a flush on close() is not durability.
 *
 * The power switch is the file /.powerfs-ctl. Writing to it is synchronous:
 * when write() returns, the cut has happened.
 *   "cut"            every held page is dropped
 *   "cut torn SEED"  each held page reaches the disk or not (a coin flip
 *                    from SEED), and one of them is torn: only its first
 *                    1-7 512-byte sectors are written
 * After a cut every operation but getattr and the control file fails with
 * EIO: a dead disk acknowledges nothing. Unmount, and mount the backing
 * directory again to see what the disk kept. Reading /.powerfs-ctl gives
 * "live <held pages>" or "cut".
 *
 * Reads overlay the held pages on the backing file, so the running system
 * (including LMDB's read-only shared map of its data file) sees its own
 * writes. The writeback cache is off, so every write reaches this process;
 * attribute and entry caching are off, so sizes come from here. Held state
 * follows the backing inode (a rename keeps it); a file unlinked or renamed
 * over while open keeps it until its last release, as a page cache would.
 * Test code: one lock serialises everything. */
#define FUSE_USE_VERSION 31

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define PFS_PAGE 4096
#define PFS_SECTOR 512
#define PFS_CTL "/.powerfs-ctl"
#define PFS_CTL_FH UINT64_MAX
#define PFS_SYNC_BIT (1ULL << 32) /* fh: file opened O_SYNC/O_DSYNC */

struct page {
    uint64_t idx; /* page number in the file */
    unsigned char b[PFS_PAGE];
};

/* Held state of one backing inode. */
struct file {
    dev_t dev;
    ino_t ino;
    int fd;           /* our own descriptor of the backing file */
    off_t size;       /* the size the running system sees */
    int opens;        /* open file handles: an unlinked file lives on */
    struct page **pg; /* sorted by idx */
    size_t n, cap;
    struct file *next;
};

static int back;            /* the backing directory */
static atomic_bool dead;    /* the power was cut */
static long fsync_delay_us; /* POWERFS_FSYNC_DELAY_US */
static struct file *files;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

/* ---- held pages ---- */

static struct file *file_find(dev_t dev, ino_t ino)
{
    for (struct file *f = files; f; f = f->next)
        if (f->dev == dev && f->ino == ino)
            return f;
    return NULL;
}

static struct file *file_of_fd(int fd)
{
    struct stat st;
    return fstat(fd, &st) ? NULL : file_find(st.st_dev, st.st_ino);
}

static struct file *file_get(int fd)
{
    struct stat st;
    struct file *f;

    if (fstat(fd, &st))
        return NULL;
    if ((f = file_find(st.st_dev, st.st_ino)))
        return f;
    f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->fd = dup(fd);
    if (f->fd < 0) {
        free(f);
        return NULL;
    }
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->size = st.st_size;
    f->next = files;
    files = f;
    return f;
}

static void file_drop(struct file *f)
{
    struct file **pp = &files;
    while (*pp && *pp != f)
        pp = &(*pp)->next;
    if (*pp)
        *pp = f->next;
    for (size_t i = 0; i < f->n; i++)
        free(f->pg[i]);
    free(f->pg);
    close(f->fd);
    free(f);
}

/* Index of the first page >= idx. */
static size_t page_pos(const struct file *f, uint64_t idx)
{
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (f->pg[mid]->idx < idx)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static struct page *page_find(const struct file *f, uint64_t idx)
{
    size_t i = page_pos(f, idx);
    return i < f->n && f->pg[i]->idx == idx ? f->pg[i] : NULL;
}

/* The held page idx, made from the disk's content when new. */
static struct page *page_get(struct file *f, uint64_t idx)
{
    size_t i = page_pos(f, idx);
    struct page *p;
    ssize_t got;

    if (i < f->n && f->pg[i]->idx == idx)
        return f->pg[i];
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        struct page **q = realloc(f->pg, cap * sizeof(*q));
        if (!q)
            return NULL;
        f->pg = q;
        f->cap = cap;
    }
    if (!(p = calloc(1, sizeof(*p))))
        return NULL;
    p->idx = idx;
    got = pread(f->fd, p->b, PFS_PAGE, (off_t)(idx * PFS_PAGE));
    if (got < 0) {
        free(p);
        return NULL;
    }
    memmove(f->pg + i + 1, f->pg + i, (f->n - i) * sizeof(*f->pg));
    f->pg[i] = p;
    f->n++;
    return p;
}

/* Writes the first len bytes of p to the disk, within the file's size. */
static int page_put(const struct file *f, const struct page *p, size_t len)
{
    off_t at = (off_t)(p->idx * PFS_PAGE);
    if (at >= f->size)
        return 0;
    if ((off_t)len > f->size - at)
        len = (size_t)(f->size - at);
    return pwrite(f->fd, p->b, len, at) == (ssize_t)len ? 0 : -errno;
}

/* fsync: every held page reaches the disk. */
static int file_flush(struct file *f)
{
    for (size_t i = 0; i < f->n; i++) {
        int rc = page_put(f, f->pg[i], PFS_PAGE);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < f->n; i++)
        free(f->pg[i]);
    f->n = 0;
    return 0;
}

static uint64_t rnd_next(uint64_t *s)
{
    /* xorshift64*: reproducible from the seed */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

/* The power cut. Torn: a coin flip per held page, one page torn. */
static void cut(bool torn, uint64_t seed)
{
    size_t total = 0, k = 0, tear = 0, written = 0;
    int sectors = 0;
    uint64_t s = seed ? seed : 1;

    for (struct file *f = files; f; f = f->next)
        total += f->n;
    if (torn && total) {
        tear = (size_t)(rnd_next(&s) % total);
        sectors = 1 + (int)(rnd_next(&s) % (PFS_PAGE / PFS_SECTOR - 1));
    }
    for (struct file *f = files; torn && f; f = f->next)
        for (size_t i = 0; i < f->n; i++, k++) {
            if (k == tear) {
                page_put(f, f->pg[i], (size_t)sectors * PFS_SECTOR);
                fprintf(stderr,
                        "powerfs: page %llu of inode %llu torn after %d "
                        "sectors\n",
                        (unsigned long long)f->pg[i]->idx,
                        (unsigned long long)f->ino, sectors);
            } else if (rnd_next(&s) & 1) {
                page_put(f, f->pg[i], PFS_PAGE);
                written++;
            }
        }
    while (files)
        file_drop(files);
    dead = true;
    fprintf(stderr, "powerfs: power cut%s: %zu held pages, %zu written\n",
            torn ? " (torn)" : "", total, written);
}

static int ctl_command(const char *buf, size_t size)
{
    char cmd[64];
    unsigned long long seed = 0;
    size_t n = size < sizeof(cmd) - 1 ? size : sizeof(cmd) - 1;

    memcpy(cmd, buf, n);
    cmd[n] = '\0';
    if (!strncmp(cmd, "cut torn", 8) && sscanf(cmd + 8, "%llu", &seed) == 1)
        cut(true, seed);
    else if (!strncmp(cmd, "cut", 3) &&
             strspn(cmd + 3, " \n") == strlen(cmd + 3))
        cut(false, 0);
    else
        return -EINVAL;
    return 0;
}

/* ---- the filesystem ---- */

static const char *rel(const char *path)
{
    return path[1] ? path + 1 : ".";
}

static int fh_fd(const struct fuse_file_info *fi)
{
    return (int)(fi->fh & 0xffffffffULL);
}

static int pfs_getattr(const char *path, struct stat *st,
                       struct fuse_file_info *fi)
{
    struct file *f;
    int rc;

    if (path && !strcmp(path, PFS_CTL)) {
        memset(st, 0, sizeof(*st));
        st->st_mode = S_IFREG | 0600;
        st->st_nlink = 1;
        return 0;
    }
    rc = fi && fi->fh != PFS_CTL_FH
             ? fstat(fh_fd(fi), st)
             : fstatat(back, rel(path), st, AT_SYMLINK_NOFOLLOW);
    if (rc)
        return -errno;
    pthread_mutex_lock(&mu);
    if ((f = file_find(st->st_dev, st->st_ino)))
        st->st_size = f->size;
    pthread_mutex_unlock(&mu);
    return 0;
}

static int pfs_opendir(const char *path, struct fuse_file_info *fi)
{
    int fd = openat(back, rel(path), O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -errno;
    fi->fh = (uint64_t)fd;
    return 0;
}

static int pfs_readdir(const char *path, void *buf, fuse_fill_dir_t fill,
                       off_t off, struct fuse_file_info *fi,
                       enum fuse_readdir_flags flags)
{
    int fd = dup(fh_fd(fi));
    DIR *d;
    struct dirent *e;
    (void)path;
    (void)off;
    (void)flags;

    if (fd < 0)
        return -errno;
    if (!(d = fdopendir(fd))) {
        close(fd);
        return -errno;
    }
    rewinddir(d);
    while ((e = readdir(d)))
        if (fill(buf, e->d_name, NULL, 0, 0))
            break;
    closedir(d);
    return 0;
}

static int pfs_releasedir(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    close(fh_fd(fi));
    return 0;
}

/* Opens the backing file read-write (pages are read back to be held),
 * without the flags this process handles itself. */
static int open_backing(const char *path, int flags, mode_t mode,
                        struct fuse_file_info *fi)
{
    int fd, bflags = (flags & ~(O_ACCMODE | O_APPEND | O_TRUNC | O_DIRECT |
                                O_SYNC | O_DSYNC)) |
                     O_RDWR;
    struct file *f;

    if (!strcmp(path, PFS_CTL)) {
        fi->fh = PFS_CTL_FH;
        fi->direct_io = 1;
        return 0;
    }
    pthread_mutex_lock(&mu);
    if (dead) {
        pthread_mutex_unlock(&mu);
        return -EIO;
    }
    fd = openat(back, rel(path), bflags, mode);
    if (fd < 0) {
        pthread_mutex_unlock(&mu);
        return -errno;
    }
    if ((flags & O_TRUNC) && ftruncate(fd, 0)) {
        int rc = -errno;
        close(fd);
        pthread_mutex_unlock(&mu);
        return rc;
    }
    /* held state from the open on, so that a file unlinked while open keeps
     * it (see forget_name) */
    if (!(f = file_get(fd))) {
        close(fd);
        pthread_mutex_unlock(&mu);
        return -ENOMEM;
    }
    f->opens++;
    if (flags & O_TRUNC) {
        /* metadata: durable at once; held pages go with the old data */
        for (size_t i = 0; i < f->n; i++)
            free(f->pg[i]);
        f->n = 0;
        f->size = 0;
    }
    pthread_mutex_unlock(&mu);
    fi->fh = (uint64_t)fd | (flags & O_DSYNC ? PFS_SYNC_BIT : 0);
    return 0;
}

static int pfs_open(const char *path, struct fuse_file_info *fi)
{
    return open_backing(path, fi->flags, 0, fi);
}

static int pfs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    return open_backing(path, fi->flags | O_CREAT, mode, fi);
}

static int pfs_read(const char *path, char *buf, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    int fd = fh_fd(fi);
    struct file *f;
    ssize_t got;
    size_t n = size;
    (void)path;

    if (fi->fh == PFS_CTL_FH) {
        char s[64];
        size_t held = 0, len;
        pthread_mutex_lock(&mu);
        for (f = files; f; f = f->next)
            held += f->n;
        snprintf(s, sizeof(s), dead ? "cut\n" : "live %zu\n", held);
        pthread_mutex_unlock(&mu);
        len = strlen(s);
        if (off >= (off_t)len)
            return 0;
        n = len - (size_t)off < size ? len - (size_t)off : size;
        memcpy(buf, s + off, n);
        return (int)n;
    }
    pthread_mutex_lock(&mu);
    if (dead) {
        pthread_mutex_unlock(&mu);
        return -EIO;
    }
    if (!(f = file_of_fd(fd))) {
        got = pread(fd, buf, size, off);
        pthread_mutex_unlock(&mu);
        return got < 0 ? -errno : (int)got;
    }
    if (off >= f->size)
        n = 0;
    else if ((off_t)n > f->size - off)
        n = (size_t)(f->size - off);
    memset(buf, 0, n); /* past the disk's end, within the size: a hole */
    got = n ? pread(fd, buf, n, off) : 0;
    if (got < 0) {
        pthread_mutex_unlock(&mu);
        return -errno;
    }
    for (uint64_t i = (uint64_t)off / PFS_PAGE;
         n && i <= (uint64_t)(off + (off_t)n - 1) / PFS_PAGE; i++) {
        struct page *p = page_find(f, i);
        off_t a = (off_t)(i * PFS_PAGE), b = a + PFS_PAGE;
        if (!p)
            continue;
        if (a < off)
            a = off;
        if (b > off + (off_t)n)
            b = off + (off_t)n;
        memcpy(buf + (a - off), p->b + (a - (off_t)(i * PFS_PAGE)),
               (size_t)(b - a));
    }
    pthread_mutex_unlock(&mu);
    return (int)n;
}

static int pfs_write(const char *path, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
    int fd = fh_fd(fi), rc = 0;
    bool sync = fi->fh != PFS_CTL_FH && (fi->fh & PFS_SYNC_BIT);
    struct file *f;
    (void)path;

    pthread_mutex_lock(&mu);
    if (fi->fh == PFS_CTL_FH) {
        rc = ctl_command(buf, size);
        goto out;
    }
    if (dead) {
        rc = -EIO;
        goto out;
    }
    if (!(f = file_get(fd))) {
        rc = -ENOMEM;
        goto out;
    }
    /* Held pages always hold the newest content, so that reads overlay
     * them; a synchronous write also goes to the disk at once. */
    for (off_t at = off; at < off + (off_t)size;) {
        uint64_t i = (uint64_t)at / PFS_PAGE;
        off_t in = at - (off_t)(i * PFS_PAGE);
        size_t n = PFS_PAGE - (size_t)in;
        struct page *p = sync ? page_find(f, i) : page_get(f, i);
        if (n > (size_t)(off + (off_t)size - at))
            n = (size_t)(off + (off_t)size - at);
        if (!p && !sync) {
            rc = -ENOMEM;
            goto out;
        }
        if (p)
            memcpy(p->b + in, buf + (at - off), n);
        at += (off_t)n;
    }
    if (off + (off_t)size > f->size)
        f->size = off + (off_t)size;
    if (sync && pwrite(fd, buf, size, off) != (ssize_t)size)
        rc = -errno;
out:
    pthread_mutex_unlock(&mu);
    return rc ? rc : (int)size;
}

static int pfs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    struct file *f;
    int rc = 0;
    (void)path;
    (void)datasync;

    if (fi->fh == PFS_CTL_FH)
        return 0;
    if (fsync_delay_us > 0) { /* outside the lock: a cut may come now */
        struct timespec ts = {fsync_delay_us / 1000000,
                              fsync_delay_us % 1000000 * 1000};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&mu);
    if (dead)
        rc = -EIO;
    else if ((f = file_of_fd(fh_fd(fi))))
        rc = file_flush(f);
    pthread_mutex_unlock(&mu);
    return rc;
}

static int pfs_fsyncdir(const char *path, int datasync,
                        struct fuse_file_info *fi)
{
    (void)path;
    (void)datasync;
    (void)fi;
    return dead ? -EIO : 0;
}

static int pfs_release(const char *path, struct fuse_file_info *fi)
{
    struct stat st;
    struct file *f;
    int fd = fh_fd(fi);
    (void)path;

    if (fi->fh == PFS_CTL_FH)
        return 0;
    pthread_mutex_lock(&mu);
    /* an unlinked file's held pages can never reach a name: they go with
     * its last open handle */
    if (!fstat(fd, &st) && (f = file_find(st.st_dev, st.st_ino)) &&
        --f->opens <= 0 && st.st_nlink == 0)
        file_drop(f);
    pthread_mutex_unlock(&mu);
    close(fd);
    return 0;
}

static int pfs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    struct file *f;
    int fd, rc = 0;

    if ((fi && fi->fh == PFS_CTL_FH) || (path && !strcmp(path, PFS_CTL)))
        return 0; /* echo cut > /.powerfs-ctl truncates first */
    fd = fi ? fh_fd(fi) : openat(back, rel(path), O_RDWR);
    if (fd < 0)
        return -errno;
    pthread_mutex_lock(&mu);
    if (dead) {
        rc = -EIO;
        goto out;
    }
    if (ftruncate(fd, size)) {
        rc = -errno;
        goto out;
    }
    if ((f = file_of_fd(fd))) {
        uint64_t cut_at = (uint64_t)size / PFS_PAGE;
        size_t i = page_pos(f, cut_at), keep = i;
        struct page *p = i < f->n && f->pg[i]->idx == cut_at ? f->pg[i] : NULL;
        if (p && size % PFS_PAGE) { /* the page with the new end stays */
            memset(p->b + size % PFS_PAGE, 0, PFS_PAGE - size % PFS_PAGE);
            keep++;
        }
        for (size_t j = keep; j < f->n; j++)
            free(f->pg[j]);
        f->n = keep;
        f->size = size;
    }
out:
    pthread_mutex_unlock(&mu);
    if (!fi)
        close(fd);
    return rc;
}

/* Reserves blocks (mode 0 only): metadata, durable at once like truncate.
 * Held pages keep overlaying what the backing file reads (its new blocks
 * read as zeros); a size it extends is the file's new size. */
static int pfs_fallocate(const char *path, int mode, off_t off, off_t len,
                         struct fuse_file_info *fi)
{
    struct file *f;
    int fd, rc = 0;

    if (mode)
        return -EOPNOTSUPP;
    if ((fi && fi->fh == PFS_CTL_FH) || (path && !strcmp(path, PFS_CTL)))
        return -EOPNOTSUPP;
    fd = fi ? fh_fd(fi) : openat(back, rel(path), O_RDWR);
    if (fd < 0)
        return -errno;
    pthread_mutex_lock(&mu);
    if (dead)
        rc = -EIO;
    else if (fallocate(fd, 0, off, len))
        rc = -errno;
    else if ((f = file_of_fd(fd)) && off + len > f->size)
        f->size = off + len;
    pthread_mutex_unlock(&mu);
    if (!fi)
        close(fd);
    return rc;
}

/* Held pages of a name about to disappear (unlink, rename over it) go
 * with it once no link is left, unless the file is open: then a program
 * still reads its own writes through it, as from a page cache, and the
 * last release drops them. Memory only: held state keeps its own
 * descriptor, so the inode (and its number) lives on until it is dropped,
 * and no new file can inherit its pages. */
static void forget_name(const char *path)
{
    struct stat st;
    struct file *f;
    if (!fstatat(back, rel(path), &st, AT_SYMLINK_NOFOLLOW) &&
        S_ISREG(st.st_mode) && st.st_nlink == 1 &&
        (f = file_find(st.st_dev, st.st_ino)) && f->opens <= 0)
        file_drop(f);
}

static int pfs_unlink(const char *path)
{
    int rc = 0;
    pthread_mutex_lock(&mu);
    if (dead)
        rc = -EIO;
    else {
        forget_name(path);
        if (unlinkat(back, rel(path), 0))
            rc = -errno;
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

static int pfs_rename(const char *from, const char *to, unsigned int flags)
{
    int rc = 0;
    pthread_mutex_lock(&mu);
    if (dead)
        rc = -EIO;
    else {
        if (!(flags & (RENAME_NOREPLACE | RENAME_EXCHANGE)))
            forget_name(to);
        if (renameat2(back, rel(from), back, rel(to), flags))
            rc = -errno;
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

static int pfs_mkdir(const char *path, mode_t mode)
{
    if (dead)
        return -EIO;
    return mkdirat(back, rel(path), mode) ? -errno : 0;
}

static int pfs_rmdir(const char *path)
{
    if (dead)
        return -EIO;
    return unlinkat(back, rel(path), AT_REMOVEDIR) ? -errno : 0;
}

static int pfs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    if (dead)
        return -EIO;
    if (fi && fi->fh != PFS_CTL_FH)
        return fchmod(fh_fd(fi), mode) ? -errno : 0;
    return fchmodat(back, rel(path), mode, 0) ? -errno : 0;
}

static int pfs_utimens(const char *path, const struct timespec tv[2],
                       struct fuse_file_info *fi)
{
    if (dead)
        return -EIO;
    if (fi && fi->fh != PFS_CTL_FH)
        return futimens(fh_fd(fi), tv) ? -errno : 0;
    return utimensat(back, rel(path), tv, AT_SYMLINK_NOFOLLOW) ? -errno : 0;
}

static int pfs_statfs(const char *path, struct statvfs *st)
{
    (void)path;
    return fstatvfs(back, st) ? -errno : 0;
}

static void *pfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    conn->want &= ~FUSE_CAP_WRITEBACK_CACHE; /* every write reaches us */
    cfg->attr_timeout = 0;
    cfg->entry_timeout = 0;
    cfg->negative_timeout = 0;
    cfg->kernel_cache = 0;
    cfg->direct_io = 0; /* shared mmap needs the page cache */
    cfg->hard_remove = 1;
    cfg->nullpath_ok = 1;
    return NULL;
}

static const struct fuse_operations pfs_ops = {
    .init = pfs_init,
    .getattr = pfs_getattr,
    .opendir = pfs_opendir,
    .readdir = pfs_readdir,
    .releasedir = pfs_releasedir,
    .open = pfs_open,
    .create = pfs_create,
    .read = pfs_read,
    .write = pfs_write,
    .fsync = pfs_fsync,
    .fsyncdir = pfs_fsyncdir,
    .release = pfs_release,
    .truncate = pfs_truncate,
    .fallocate = pfs_fallocate,
    .unlink = pfs_unlink,
    .rename = pfs_rename,
    .mkdir = pfs_mkdir,
    .rmdir = pfs_rmdir,
    .chmod = pfs_chmod,
    .utimens = pfs_utimens,
    .statfs = pfs_statfs,
};

/* fuse_main's steps, but an ECONNABORTED from /dev/fuse at the unmount
 * ends cleanly: the kernel gives it to a thread that took a request off
 * the queue (a late release, say) just as the unmount shut the connection,
 * and libfuse 3.14 counts it as an error (fuse_main exits 8), which made
 * one unmount in several hundred look like a crashed powerfs. */
static int serve(int argc, char **argv)
{
    struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
    struct fuse_cmdline_opts opts;
    struct fuse *fuse;
    int rc = 1;

    if (fuse_parse_cmdline(&args, &opts))
        return 1;
    if (!opts.mountpoint) {
        fprintf(stderr, "powerfs: no mount point\n");
        goto out_args;
    }
    if (!(fuse = fuse_new(&args, &pfs_ops, sizeof(pfs_ops), NULL)))
        goto out_args;
    if (fuse_mount(fuse, opts.mountpoint))
        goto out_fuse;
    if (fuse_daemonize(opts.foreground) ||
        fuse_set_signal_handlers(fuse_get_session(fuse)))
        goto out_unmount;
    rc = opts.singlethread ? fuse_loop(fuse) : fuse_loop_mt(fuse, 0);
    if (rc == -ECONNABORTED) {
        fprintf(stderr, "powerfs: connection ended with ECONNABORTED at "
                        "the unmount (a kernel race): a clean exit\n");
        rc = 0;
    }
    if (rc)
        fprintf(stderr, "powerfs: the FUSE loop failed: %d\n", rc);
    fuse_remove_signal_handlers(fuse_get_session(fuse));
out_unmount:
    fuse_unmount(fuse);
out_fuse:
    fuse_destroy(fuse);
out_args:
    free(opts.mountpoint);
    fuse_opt_free_args(&args);
    return rc ? 8 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr,
                "usage: powerfs BACKING MOUNTPOINT [FUSE options]\n"
                "  writes since a file's last fsync stay in memory until\n"
                "  \"cut\" or \"cut torn SEED\" is written to "
                "MOUNTPOINT" PFS_CTL "\n");
        return 2;
    }
    back = open(argv[1], O_RDONLY | O_DIRECTORY);
    if (back < 0) {
        fprintf(stderr, "powerfs: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    if (getenv("POWERFS_FSYNC_DELAY_US"))
        fsync_delay_us = atol(getenv("POWERFS_FSYNC_DELAY_US"));
    argv[1] = argv[0];
    return serve(argc - 1, argv + 1);
}
