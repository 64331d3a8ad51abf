/* core/journal.c - the log's journal: frames appended and flushed, read
 * back at start (see journal.h). */
#include "journal.h"

#include "be.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char magic[4] = {'D', 'J', '0', '1'};
#define SUM_AT (JOURNAL_HEAD - LOG_HASH_LEN)
#define ZERO_CHUNK (1 << 20)

static int fail(struct err *e, const char *what, const char *path)
{
    int errnum = errno ? errno : EIO;
    err_set(e, ERR_UNAVAILABLE, NULL, "journal: %s '%s': %s", what, path,
            strerror(errnum));
    return errnum;
}

static void path_of(char *out, size_t cap, const char *dir)
{
    snprintf(out, cap, "%s/%s", dir, JOURNAL_FILE);
}

/* The frame's sum: its header up to the sum, then its payload. */
static void frame_sum(const unsigned char *head, const void *payload,
                      size_t len, unsigned char out[LOG_HASH_LEN])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, LOG_HASH_LEN);
    crypto_generichash_update(&st, head, SUM_AT);
    crypto_generichash_update(&st, payload, len);
    crypto_generichash_final(&st, out, LOG_HASH_LEN);
}

static int write_all(int fd, const void *p, size_t n, off_t at)
{
    const char *c = p;
    while (n) {
        ssize_t w = pwrite(fd, c, n, at);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        c += w;
        n -= (size_t)w;
        at += w;
    }
    return 0;
}

static int read_all(int fd, void *p, size_t n, off_t at)
{
    char *c = p;
    while (n) {
        ssize_t r = pread(fd, c, n, at);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r == 0 ? 1 : -1; /* 1: past the end */
        c += r;
        n -= (size_t)r;
        at += r;
    }
    return 0;
}

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

int journal_open(struct journal *j, const char *dir, size_t cap,
                 const unsigned char last_hash[LOG_HASH_LEN], struct err *e)
{
    char path[PATH_MAX + 16];
    struct stat sb;
    size_t have;
    char *zero = NULL;
    int rc = 0;

    memset(j, 0, sizeof(*j));
    j->fd = -1;
    path_of(path, sizeof(path), dir);
    errno = 0;
    if ((j->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) < 0 ||
        fstat(j->fd, &sb))
        goto fail;
    have = (size_t)sb.st_size;
    if (have < cap) { /* real blocks: a frame's flush then carries no
                         metadata */
        if (!(zero = calloc(1, ZERO_CHUNK)))
            goto fail;
        for (size_t at = have; at < cap; at += ZERO_CHUNK)
            if (write_all(j->fd, zero,
                          cap - at < ZERO_CHUNK ? cap - at : ZERO_CHUNK,
                          (off_t)at))
                goto fail;
        if (fdatasync(j->fd) || sync_dir(dir))
            goto fail;
        have = cap;
    }
    j->cap = have;
    memcpy(j->last_hash, last_hash, LOG_HASH_LEN);
    free(zero);
    return 0;
fail:
    rc = fail(e, "cannot make", path);
    free(zero);
    journal_close(j);
    return rc;
}

void journal_close(struct journal *j)
{
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
    free(j->buf);
    j->buf = NULL;
    j->buf_cap = 0;
}

int journal_append(struct journal *j, const struct log_job *first,
                   struct err *e)
{
    const struct log_job *last = first;
    size_t len = 0, at = JOURNAL_HEAD;
    unsigned char *h;

    for (const struct log_job *x = first; x; x = x->qnext) {
        len += cw_len(&x->recs);
        last = x;
    }
    if (len > UINT32_MAX || JOURNAL_HEAD + len > j->cap - j->pos)
        return JOURNAL_FULL;
    if (JOURNAL_HEAD + len > j->buf_cap) {
        size_t c = j->buf_cap ? j->buf_cap : 64 * 1024;
        char *p;
        while (c < JOURNAL_HEAD + len)
            c *= 2;
        if (!(p = realloc(j->buf, c))) {
            err_set(e, ERR_UNAVAILABLE, NULL,
                    "journal: no memory for a frame of %zu bytes", len);
            return JOURNAL_NOMEM;
        }
        j->buf = p;
        j->buf_cap = c;
    }
    for (const struct log_job *x = first; x; x = x->qnext) {
        memcpy(j->buf + at, cw_data(&x->recs), cw_len(&x->recs));
        at += cw_len(&x->recs);
    }
    h = (unsigned char *)j->buf;
    memcpy(h, magic, 4);
    put_be32(h + 4, (uint32_t)len);
    put_be64(h + 8, first->first_seq);
    put_be64(h + 16, last->last_seq);
    memcpy(h + 24, j->last_hash, LOG_HASH_LEN);
    memcpy(h + 24 + LOG_HASH_LEN, last->hash, LOG_HASH_LEN);
    frame_sum(h, h + JOURNAL_HEAD, len, h + SUM_AT);
    errno = 0;
    if (write_all(j->fd, j->buf, JOURNAL_HEAD + len, (off_t)j->pos) ||
        (!j->nosync && fdatasync(j->fd)))
        return fail(e, "cannot write", JOURNAL_FILE);
    j->pos += JOURNAL_HEAD + len;
    memcpy(j->last_hash, last->hash, LOG_HASH_LEN);
    return 0;
}

void journal_rewind(struct journal *j,
                    const unsigned char last_hash[LOG_HASH_LEN])
{
    j->pos = 0;
    memcpy(j->last_hash, last_hash, LOG_HASH_LEN);
}

int journal_scan(const char *dir, journal_frame_fn fn, void *ctx, struct err *e)
{
    char path[PATH_MAX + 16];
    unsigned char head[JOURNAL_HEAD], sum[LOG_HASH_LEN];
    unsigned char prev[LOG_HASH_LEN];
    uint64_t next = 0; /* seq the next frame must start at (0: any) */
    char *buf = NULL;
    size_t cap = 0, pos = 0, size;
    struct stat sb;
    int fd, rc = 0;

    path_of(path, sizeof(path), dir);
    errno = 0;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return errno == ENOENT ? 0 : fail(e, "cannot open", path);
    if (fstat(fd, &sb)) {
        rc = fail(e, "cannot read", path);
        goto out;
    }
    size = (size_t)sb.st_size;
    while (pos + JOURNAL_HEAD <= size) {
        struct journal_frame fr;
        uint32_t len;
        int r = read_all(fd, head, JOURNAL_HEAD, (off_t)pos);
        if (r < 0) {
            rc = fail(e, "cannot read", path);
            goto out;
        }
        if (r > 0 || memcmp(head, magic, 4))
            break;
        len = get_be32(head + 4);
        if (len > size - pos - JOURNAL_HEAD)
            break;
        fr.first_seq = get_be64(head + 8);
        fr.last_seq = get_be64(head + 16);
        if (fr.first_seq == 0 || fr.last_seq < fr.first_seq ||
            (next &&
             (fr.first_seq != next || memcmp(head + 24, prev, LOG_HASH_LEN))))
            break;
        if (len > cap) {
            char *p = realloc(buf, len);
            if (!p) {
                errno = ENOMEM;
                rc = fail(e, "no memory to read", path);
                goto out;
            }
            buf = p;
            cap = len;
        }
        if ((r = read_all(fd, buf, len, (off_t)(pos + JOURNAL_HEAD))) < 0) {
            rc = fail(e, "cannot read", path);
            goto out;
        }
        frame_sum(head, buf, len, sum);
        if (r > 0 || memcmp(sum, head + SUM_AT, LOG_HASH_LEN))
            break; /* torn: it was never acknowledged */
        fr.prev_hash = head + 24;
        fr.last_hash = head + 24 + LOG_HASH_LEN;
        fr.recs = buf;
        fr.len = len;
        if ((rc = fn(ctx, &fr)))
            goto out;
        next = fr.last_seq + 1;
        memcpy(prev, fr.last_hash, LOG_HASH_LEN);
        pos += JOURNAL_HEAD + len;
    }
out:
    free(buf);
    close(fd);
    return rc;
}

int journal_clear(const char *dir, struct err *e)
{
    char path[PATH_MAX + 16];
    unsigned char zero[JOURNAL_HEAD] = {0};
    int fd;

    path_of(path, sizeof(path), dir);
    errno = 0;
    if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
        return errno == ENOENT ? 0 : fail(e, "cannot open", path);
    if (write_all(fd, zero, sizeof(zero), 0) || fdatasync(fd)) {
        int rc = fail(e, "cannot clear", path);
        close(fd);
        return rc;
    }
    close(fd);
    return 0;
}
