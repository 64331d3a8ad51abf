/* core/log.c - the event log and the state derived from it: opens both
 * environments (recovering derived state after a crash), appends batches,
 * assigns seq, keeps the hash chain, stream versions and command ids.
 * Owns sub-dbs "events", "commands" (log) and "cmd_ids",
 * "stream_events", "derived_meta" (derived). The only file that begins a
 * write txn. */
#include "log.h"

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "be.h"
#include "date.h"
#include "journal.h"
#include "progress.h"

#define CMD_REC_LEN (LOG_HASH_LEN + 8 + 4)
#define DERIVED_DIR "derived"
#define BOOT_ID_MAX 64 /* bytes of a kernel boot id (a UUID: 36) */
static const char applied_key[] = "applied_seq";

/* dir/name into out (PATH_CAP bytes): the names joined here are short. */
#define PATH_CAP (PATH_MAX + 32)
static void path_in(char *out, const char *dir, const char *name)
{
    size_t n = strnlen(dir, PATH_MAX - 1);
    memcpy(out, dir, n);
    out[n] = '/';
    snprintf(out + n + 1, PATH_CAP - n - 1, "%s", name);
}

static int mdb_fail(struct err *e, int rc, const char *what)
{
    return err_set(e, ERR_UNAVAILABLE, NULL, "%s: %s", what, mdb_strerror(rc));
}

void log_hash(const void *p, size_t n, unsigned char out[LOG_HASH_LEN])
{
    crypto_generichash(out, LOG_HASH_LEN, p, n, NULL, 0);
}

int log_dbi(MDB_txn *txn, const char *name, bool create, MDB_dbi *out,
            struct err *e)
{
    int rc = mdb_dbi_open(txn, name, create ? MDB_CREATE : 0, out);
    if (rc)
        return err_set(e, ERR_UNAVAILABLE, NULL, "open sub-db '%s': %s", name,
                       mdb_strerror(rc));
    return 0;
}

/* Reads seq, hash and recorded_at of the last event to resume the chain. */
static int load_tail(struct log *l, MDB_txn *txn, struct err *e)
{
    MDB_cursor *cur;
    MDB_val k, v;
    struct codec_doc d;
    const char *s;
    size_t n;
    int rc = mdb_cursor_open(txn, l->events, &cur);

    if (rc)
        return mdb_fail(e, rc, "open cursor");
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return mdb_fail(e, rc, "read last event");
    if (k.mv_size != 8 || v.mv_size <= LOG_HASH_LEN)
        return err_set(e, ERR_UNAVAILABLE, NULL, "last event is corrupt");
    l->last_seq = get_be64(k.mv_data);
    memcpy(l->last_hash, v.mv_data, LOG_HASH_LEN);
    rc = codec_doc_parse_trusted(&d, (const char *)v.mv_data + LOG_HASH_LEN,
                                 v.mv_size - LOG_HASH_LEN, e);
    if (rc)
        return rc;
    if (!codec_get_str(d.obj, "recorded_at", &s, &n))
        ts_parse(s, n, 0, &l->last_recorded_at);
    codec_doc_release(&d);
    return 0;
}

#define IDX_KEY_MAX (LOG_STREAM_MAX + 1 + 8)

static size_t idx_key(unsigned char *k, const char *stream, size_t slen,
                      uint64_t version)
{
    memcpy(k, stream, slen);
    k[slen] = 0;
    put_be64(k + slen + 1, version);
    return slen + 9;
}

static int idx_put(MDB_txn *txn, const struct log *l, const char *stream,
                   size_t slen, uint64_t version, uint64_t seq)
{
    unsigned char kb[IDX_KEY_MAX], vb[8];
    MDB_val k = {idx_key(kb, stream, slen, version), kb}, v = {8, vb};
    put_be64(vb, seq);
    return mdb_put(txn, l->stream_idx, &k, &v, 0);
}

static int env_open(MDB_env **env, const char *what, const char *dir,
                    size_t map_size, unsigned flags, struct err *e)
{
    int rc = mdb_env_create(env);
    if (rc)
        return mdb_fail(e, rc, "mdb_env_create");
    mdb_env_set_maxdbs(*env, LOG_DBS_MAX);
    mdb_env_set_maxreaders(*env, LOG_READERS_MAX);
    mdb_env_set_mapsize(*env, map_size);
    rc = mdb_env_open(*env, dir, flags, 0640);
    if (rc) {
        mdb_env_close(*env);
        *env = NULL;
        err_set(e, ERR_UNAVAILABLE, NULL, "open %s '%s': %s", what, dir,
                mdb_strerror(rc));
        return rc;
    }
    return 0;
}

/* A log written before the split kept derived state beside the events:
 * its command ids move into "commands" (the only part that cannot be
 * recomputed from the events), then every sub-db but the log's is dropped;
 * the new derived env is rebuilt from the log. */
static int migrate_legacy(struct log *l, MDB_txn *txn, struct err *e)
{
    MDB_dbi old, main_db;
    MDB_cursor *cur;
    MDB_val k, v;
    char names[LOG_DBS_MAX][64];
    int n = 0, rc = mdb_dbi_open(txn, "cmd_ids", 0, &old);

    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc || (rc = mdb_cursor_open(txn, old, &cur)))
        return mdb_fail(e, rc, "open legacy command ids");
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        unsigned char buf[CMD_REC_LEN + LOG_CMD_ID_MAX];
        MDB_val ck = {8, buf}, cv;
        const unsigned char *p = v.mv_data;
        uint32_t ne;
        if (v.mv_size != CMD_REC_LEN || k.mv_size > LOG_CMD_ID_MAX)
            continue;
        memcpy(&ne, p + LOG_HASH_LEN + 8, 4);
        if (be32toh(ne) == 0)
            continue;
        memcpy(buf, p + LOG_HASH_LEN, 8); /* key: first seq */
        memcpy(buf + 8, p, LOG_HASH_LEN);
        memcpy(buf + 8 + LOG_HASH_LEN, p + LOG_HASH_LEN + 8, 4);
        memcpy(buf + 12 + LOG_HASH_LEN, k.mv_data, k.mv_size);
        cv.mv_size = 4 + LOG_HASH_LEN + k.mv_size;
        cv.mv_data = buf + 8;
        if ((rc = mdb_put(txn, l->commands, &ck, &cv, 0)))
            break;
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND)
        return mdb_fail(e, rc, "migrate command ids");
    if ((rc = mdb_dbi_open(txn, NULL, 0, &main_db)) ||
        (rc = mdb_cursor_open(txn, main_db, &cur)))
        return mdb_fail(e, rc, "list sub-dbs");
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         rc == 0 && n < LOG_DBS_MAX; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        if (k.mv_size < sizeof(names[0]))
            snprintf(names[n++], sizeof(names[0]), "%.*s", (int)k.mv_size,
                     (const char *)k.mv_data);
    mdb_cursor_close(cur);
    for (int i = 0; i < n; i++) {
        MDB_dbi d;
        if (!strcmp(names[i], "events") || !strcmp(names[i], "commands") ||
            mdb_dbi_open(txn, names[i], 0, &d))
            continue;
        if ((rc = mdb_drop(txn, d, 1)))
            return mdb_fail(e, rc, "drop legacy sub-db");
    }
    diag_info("log: moved command ids out of a log written before the "
              "log/derived split; derived state is rebuilt from the log");
    return 0;
}

static int open_log_dbs(struct log *l, struct err *e)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(l->env, NULL, l->readonly ? MDB_RDONLY : 0, &txn);
    if (rc)
        return mdb_fail(e, rc, "begin txn");
    if ((rc = log_dbi(txn, "events", !l->readonly, &l->events, e)))
        goto out_abort;
    rc = mdb_dbi_open(txn, "commands", l->readonly ? 0 : MDB_CREATE,
                      &l->commands);
    l->has_commands = rc == 0;
    if (rc && !(rc == MDB_NOTFOUND && l->readonly)) {
        rc = mdb_fail(e, rc, "open sub-db 'commands'");
        goto out_abort;
    }
    if ((rc = load_tail(l, txn, e)) ||
        (!l->readonly && (rc = migrate_legacy(l, txn, e))))
        goto out_abort;
    rc = mdb_txn_commit(txn);
    return rc ? mdb_fail(e, rc, "commit") : 0;
out_abort:
    mdb_txn_abort(txn);
    return rc;
}

static int open_derived_dbs(struct log *l, struct err *e)
{
    MDB_txn *txn;
    MDB_val k = {sizeof(applied_key) - 1, (void *)applied_key}, v;
    bool c = !l->readonly;
    int rc = mdb_txn_begin(l->denv, NULL, l->readonly ? MDB_RDONLY : 0, &txn);
    if (rc)
        return mdb_fail(e, rc, "begin derived txn");
    if ((rc = log_dbi(txn, "cmd_ids", c, &l->cmd_ids, e)) ||
        (rc = log_dbi(txn, "stream_events", c, &l->stream_idx, e)) ||
        (rc = log_dbi(txn, "derived_meta", c, &l->meta, e))) {
        mdb_txn_abort(txn);
        return rc;
    }
    l->has_stream_idx = true;
    rc = mdb_get(txn, l->meta, &k, &v);
    if (rc == 0 && v.mv_size == 8)
        l->applied_seq = get_be64(v.mv_data);
    rc = mdb_txn_commit(txn);
    return rc ? mdb_fail(e, rc, "commit") : 0;
}

/* Layout 1 kept stream versions in a table of their own ("streams"); the
 * stream index gives them now (layout 2, see STATE_CLEAN). A writer empties
 * that table, and keeps it, empty, so that an older deskd's read-only tools
 * still open derived state (none of them reads versions from it; an older
 * writer rebuilds, by the layout mark). Only once derived state is marked
 * layout 2: emptied under a layout-1 mark, an older deskd would trust it
 * and number events of existing streams from 1 again, into the log. */
static int empty_old_versions(struct log *l, struct err *e)
{
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_stat st;
    int rc = mdb_txn_begin(l->denv, NULL, 0, &txn);
    if (rc)
        return mdb_fail(e, rc, "begin derived txn");
    if ((rc = mdb_dbi_open(txn, "streams", MDB_CREATE, &dbi)) ||
        (rc = mdb_stat(txn, dbi, &st)) ||
        (st.ms_entries && (rc = mdb_drop(txn, dbi, 0)))) {
        mdb_txn_abort(txn);
        return mdb_fail(e, rc, "empty the old table of stream versions");
    }
    rc = mdb_txn_commit(txn);
    return rc ? mdb_fail(e, rc, "commit") : 0;
}

/* This boot's id: DESKD_BOOT_ID when set (tests simulate a reboot with
 * it), else the kernel's. "" when unknown: every dirty state is then
 * treated as left by another boot. */
static void boot_id(char *out, size_t cap)
{
    const char *env = getenv("DESKD_BOOT_ID");
    FILE *f;
    out[0] = '\0';
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        return;
    }
    f = fopen("/proc/sys/kernel/random/boot_id", "r");
    if (!f)
        return;
    if (!fgets(out, (int)cap, f))
        out[0] = '\0';
    fclose(f);
    out[strcspn(out, "\n")] = '\0';
}

/* Writes dir/derived/state durably (temp file, fsync, rename, fsync dir). */
static int write_state(const char *ddir, const char *text, struct err *e)
{
    char path[PATH_CAP], tmp[PATH_CAP];
    size_t n = strlen(text);
    int fd, ok;

    path_in(path, ddir, "state");
    path_in(tmp, ddir, "state.tmp");
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0640);
    if (fd < 0)
        return err_set(e, ERR_UNAVAILABLE, NULL, "write '%s': %s", tmp,
                       strerror(errno));
    ok = write(fd, text, n) == (ssize_t)n && fsync(fd) == 0;
    if (close(fd) || !ok || rename(tmp, path))
        return err_set(e, ERR_UNAVAILABLE, NULL, "write '%s': %s", path,
                       strerror(errno));
    if ((fd = open(ddir, O_RDONLY | O_DIRECTORY)) >= 0) {
        fsync(fd);
        close(fd);
    }
    return 0;
}

/* Derived state's layout, in its state file and its checkpoints' records.
 * Layout 2 (stream versions read from the stream index, no table of their
 * own) marks them "clean 2", "dirty2 <boot id>" and "deskd derived-state
 * checkpoint 2": a deskd from before it reads neither ("unreadable", "not
 * a checkpoint") and rebuilds from the log instead of misreading stream
 * versions from a table nobody writes any more. Layout 1 ("clean",
 * "dirty <boot id>", the bare header) holds the same stream index: it is
 * read as it is, and its table of versions dropped (open_derived_dbs). */
#define STATE_CLEAN "clean 2"
#define STATE_DIRTY "dirty2 "
#define STATE_CLEAN_1 "clean"
#define STATE_DIRTY_1 "dirty "

/* The boot id of a "dirty" state line of either layout, or NULL. */
static const char *dirty_boot(const char *line)
{
    if (!strncmp(line, STATE_DIRTY, strlen(STATE_DIRTY)))
        return line + strlen(STATE_DIRTY);
    if (!strncmp(line, STATE_DIRTY_1, strlen(STATE_DIRTY_1)))
        return line + strlen(STATE_DIRTY_1);
    return NULL;
}

/* Why derived state in ddir cannot be trusted, or NULL when it can. */
static const char *distrust(const char *ddir, const char *boot)
{
    const char *was;
    char path[PATH_CAP], line[BOOT_ID_MAX + 16] = "";
    FILE *f;
    path_in(path, ddir, "data.mdb");
    if (access(path, F_OK))
        return "there is none yet";
    path_in(path, ddir, "state");
    if (!(f = fopen(path, "r")))
        return "its state file is missing";
    if (!fgets(line, sizeof(line), f))
        line[0] = '\0';
    fclose(f);
    line[strcspn(line, "\n")] = '\0';
    if (!strcmp(line, STATE_CLEAN) || !strcmp(line, STATE_CLEAN_1))
        return NULL;
    if ((was = dirty_boot(line)) && boot[0] && !strcmp(was, boot))
        return NULL; /* a process crash: the OS has every write */
    if (was)
        return "the machine stopped while it was open (an OS crash or "
               "power cut can leave it torn)";
    return "its state file is unreadable";
}

static void remove_derived(const char *ddir)
{
    static const char *const files[] = {"data.mdb", "lock.mdb", "state"};
    char path[PATH_CAP];
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        path_in(path, ddir, files[i]);
        unlink(path);
    }
}

bool log_derived_roomy(const struct log *l)
{
    MDB_envinfo info;
    MDB_stat st;
    if (!l->denv || mdb_env_info(l->denv, &info) || mdb_env_stat(l->denv, &st))
        return true;
    return (size_t)(info.me_last_pgno + 1) * st.ms_psize <= l->dmap_size / 2;
}

static int read_begin(MDB_env *env, MDB_txn **txn)
{
    int rc = mdb_txn_begin(env, NULL, MDB_RDONLY, txn);
    if (rc == MDB_MAP_RESIZED) {
        mdb_env_set_mapsize(env, 0);
        rc = mdb_txn_begin(env, NULL, MDB_RDONLY, txn);
    }
    return rc;
}

/* Checkpoints of derived state (log_checkpoint, and open_derived restores
 * them): data_dir/derived.ckpt holds a copy of derived/data.mdb taken in
 * one read txn, and a record of what it holds. */
#define CKPT_SUFFIX ".ckpt"
#define CKPT_TMP_SUFFIX ".ckpt.tmp"
#define CKPT_RECORD "checkpoint"
#define CKPT_HEAD "deskd derived-state checkpoint 2" /* layout 2 */
#define CKPT_HEAD_1 "deskd derived-state checkpoint"
#define CKPT_COPY_BUF (1 << 20) /* bytes per read while restoring */

static void ckpt_path(const struct log *l, const char *suffix, char *out)
{
    snprintf(out, PATH_CAP, "%s%s", l->ddir, suffix);
}

/* Flushes a file or a directory; 0 or -1 with errno. */
static int fsync_path(const char *path, bool dir)
{
    int fd = open(path, dir ? O_RDONLY | O_DIRECTORY : O_RDONLY), rc;
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    if (close(fd))
        rc = -1;
    return rc;
}

/* Removes a checkpoint directory and what is in it (no sub-directories). */
static void remove_ckpt_dir(const char *dir)
{
    char path[PATH_CAP];
    struct dirent *d;
    DIR *dh = opendir(dir);
    if (!dh)
        return;
    while ((d = readdir(dh)))
        if (strcmp(d->d_name, ".") && strcmp(d->d_name, "..")) {
            path_in(path, dir, d->d_name);
            unlink(path);
        }
    closedir(dh);
    rmdir(dir);
}

/* The applied_seq a copy of derived state in dir holds. */
static int copy_applied_seq(const char *dir, uint64_t *seq)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta;
    MDB_val k = {sizeof(applied_key) - 1, (void *)applied_key}, v;
    int rc = mdb_env_create(&env);
    if (rc)
        return rc;
    mdb_env_set_maxdbs(env, LOG_DBS_MAX);
    rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOLOCK, 0640);
    if (!rc && !(rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn))) {
        if (!(rc = mdb_dbi_open(txn, "derived_meta", 0, &meta)) &&
            !(rc = mdb_get(txn, meta, &k, &v)))
            rc = v.mv_size == 8 ? 0 : MDB_CORRUPTED;
        if (!rc)
            *seq = get_be64(v.mv_data);
        mdb_txn_abort(txn);
    }
    mdb_env_close(env);
    return rc;
}

/* The hash the log holds for seq (MDB_NOTFOUND past its end); committed
 * records only (log_get would look at the writer's batch). Any thread. */
static int log_hash_at(struct log *l, uint64_t seq,
                       unsigned char out[LOG_HASH_LEN])
{
    MDB_txn *txn;
    unsigned char key[8];
    MDB_val k = {8, key}, v;
    int rc;
    put_be64(key, seq);
    pthread_rwlock_rdlock(&l->grow_lock);
    if (!(rc = read_begin(l->env, &txn))) {
        if (!(rc = mdb_get(txn, l->events, &k, &v)))
            rc = v.mv_size > LOG_HASH_LEN ? 0 : MDB_CORRUPTED;
        if (!rc)
            memcpy(out, v.mv_data, LOG_HASH_LEN);
        mdb_txn_abort(txn);
    }
    pthread_rwlock_unlock(&l->grow_lock);
    return rc;
}

/* Writes dir/checkpoint and flushes it. */
static int write_ckpt_record(const char *dir, uint64_t seq,
                             const unsigned char hash[LOG_HASH_LEN])
{
    char path[PATH_CAP], hex[2 * LOG_HASH_LEN + 1];
    FILE *f;
    int ok;
    path_in(path, dir, CKPT_RECORD);
    sodium_bin2hex(hex, sizeof(hex), hash, LOG_HASH_LEN);
    if (!(f = fopen(path, "w")))
        return -1;
    ok = fprintf(f, "%s\nseq %llu\nhash %s\n", CKPT_HEAD,
                 (unsigned long long)seq, hex) > 0 &&
         fflush(f) == 0 && fsync(fileno(f)) == 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

int log_checkpoint(struct log *l, uint64_t *seq, struct err *e)
{
    char tmp[PATH_CAP], dst[PATH_CAP], path[PATH_CAP], parent[PATH_CAP];
    unsigned char hash[LOG_HASH_LEN];
    const char *step;
    int rc;

    DESK_ASSERT(!l->readonly && l->denv);
    *seq = 0;
    ckpt_path(l, CKPT_TMP_SUFFIX, tmp);
    ckpt_path(l, CKPT_SUFFIX, dst);
    remove_ckpt_dir(tmp); /* left by a stop in the middle of one */
    if (mkdir(tmp, 0750))
        return err_set(e, ERR_UNAVAILABLE, NULL, "checkpoint: mkdir '%s': %s",
                       tmp, strerror(errno));
    /* One read txn (mdb_env_copy2's own): a committed state. The map may
     * not grow under it. */
    pthread_rwlock_rdlock(&l->grow_lock);
    rc = mdb_env_copy2(l->denv, tmp, MDB_CP_COMPACT);
    pthread_rwlock_unlock(&l->grow_lock);
    if (rc) {
        step = mdb_strerror(rc);
        goto fail;
    }
    if ((rc = copy_applied_seq(tmp, seq))) {
        step = mdb_strerror(rc);
        goto fail;
    }
    if (*seq == 0) { /* nothing applied yet: nothing to keep */
        remove_ckpt_dir(tmp);
        return 0;
    }
    /* Derived state is committed only after the log: the log holds it. */
    if ((rc = log_hash_at(l, *seq, hash))) {
        step = "its last event is not in the log";
        goto fail;
    }
    path_in(path, tmp, "data.mdb");
    if (write_ckpt_record(tmp, *seq, hash) || fsync_path(path, false) ||
        fsync_path(tmp, true)) {
        step = strerror(errno);
        goto fail;
    }
    /* Into place atomically: the first one by rename, the next ones by
     * exchanging it with the previous one, which then goes. */
    if (rename(tmp, dst) &&
        !((errno == ENOTEMPTY || errno == EEXIST) &&
          renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_EXCHANGE) == 0)) {
        step = strerror(errno);
        goto fail;
    }
    remove_ckpt_dir(tmp);
    snprintf(parent, sizeof(parent), "%s", l->ddir);
    *strrchr(parent, '/') = '\0';
    if (fsync_path(parent, true)) {
        step = strerror(errno);
        return err_set(e, ERR_UNAVAILABLE, NULL, "checkpoint: flush '%s': %s",
                       parent, step);
    }
    return 0;
fail:
    remove_ckpt_dir(tmp);
    return err_set(e, ERR_UNAVAILABLE, NULL, "checkpoint into '%s': %s", tmp,
                   step);
}

int log_checkpoint_check(struct log *l, uint64_t *seq, char *why, size_t cap)
{
    char path[PATH_CAP], line[160], hex[2 * LOG_HASH_LEN + 1] = "";
    unsigned char want[LOG_HASH_LEN], have[LOG_HASH_LEN];
    unsigned long long s = 0;
    bool head = false, got_seq = false;
    FILE *f;
    int rc;

    *seq = 0;
    ckpt_path(l, CKPT_SUFFIX, path);
    path_in(path, path, CKPT_RECORD);
    if (!(f = fopen(path, "r"))) {
        snprintf(why, cap, "there is none");
        return ERR_NOT_FOUND;
    }
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!strcmp(line, CKPT_HEAD) || !strcmp(line, CKPT_HEAD_1))
            head = true;
        else if (sscanf(line, "seq %llu", &s) == 1)
            got_seq = true;
        else
            sscanf(line, "hash %64s", hex);
    }
    fclose(f);
    if (!head || !got_seq || s == 0 ||
        sodium_hex2bin(want, sizeof(want), hex, strlen(hex), NULL, NULL,
                       NULL) ||
        strlen(hex) != 2 * LOG_HASH_LEN) {
        snprintf(why, cap, "its record '%s' is unreadable", path);
        return ERR_INVALID;
    }
    if (s > l->last_seq) {
        snprintf(why, cap,
                 "it holds events up to seq %llu and the log ends at %llu "
                 "(a power cut took the log's unflushed tail, or the log "
                 "came from elsewhere)",
                 s, (unsigned long long)l->last_seq);
        return ERR_INVALID;
    }
    if ((rc = log_hash_at(l, s, have)) || memcmp(want, have, LOG_HASH_LEN)) {
        snprintf(why, cap,
                 "its event %llu is not the log's (it belongs to another "
                 "history)",
                 s);
        return ERR_INVALID;
    }
    *seq = s;
    return 0;
}

/* Copies the checkpoint's data.mdb into ddir (which holds no derived
 * state now); the checkpoint stays. 0 or -1 with *why set. */
static int restore_copy(const struct log *l, const char *ddir, const char **why)
{
    char from[PATH_CAP], to[PATH_CAP];
    char *buf = malloc(CKPT_COPY_BUF);
    ssize_t n = 0;
    int in, out, rc = -1;

    ckpt_path(l, CKPT_SUFFIX, from);
    path_in(from, from, "data.mdb");
    path_in(to, ddir, "data.mdb");
    *why = "out of memory";
    if (!buf)
        return -1;
    in = open(from, O_RDONLY);
    out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0640);
    if (in >= 0 && out >= 0) {
        /* in the kernel when it can; else through buf */
        bool copied = false;
        while ((n = copy_file_range(in, NULL, out, NULL, CKPT_COPY_BUF * 64,
                                    0)) > 0)
            copied = true;
        if (n < 0 && !copied)
            while ((n = read(in, buf, CKPT_COPY_BUF)) > 0)
                if (write(out, buf, (size_t)n) != n) {
                    n = -1;
                    break;
                }
        rc = n == 0 ? 0 : -1;
    }
    *why = strerror(errno);
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out))
        rc = -1;
    free(buf);
    if (rc)
        unlink(to);
    return rc;
}

/* After derived state was discarded: restores the checkpoint when it
 * belongs to this log; its seq, or 0 (*refused: there was one, and the
 * log says why it is not used). */
static uint64_t restore_checkpoint(struct log *l, const char *ddir,
                                   bool *refused)
{
    char why[256];
    const char *copy_why;
    uint64_t seq;
    int rc = log_checkpoint_check(l, &seq, why, sizeof(why));

    *refused = rc != ERR_NOT_FOUND;
    if (rc == ERR_NOT_FOUND)
        return 0;
    if (rc) {
        diag_warn("derived state: the checkpoint in '%s%s' is not used: %s",
                  ddir, CKPT_SUFFIX, why);
        return 0;
    }
    if (restore_copy(l, ddir, &copy_why)) {
        diag_warn("derived state: the checkpoint in '%s%s' cannot be "
                  "copied: %s",
                  ddir, CKPT_SUFFIX, copy_why);
        return 0;
    }
    *refused = false;
    diag_info("derived state: restored the checkpoint of seq %llu from "
              "'%s%s'; the log is replayed past it",
              (unsigned long long)seq, ddir, CKPT_SUFFIX);
    return seq;
}

/* Reserves the disk blocks of env's file up to size bytes. Derived state
 * reserves its whole map (size bytes): written through the map
 * (MDB_WRITEMAP), a commit copies no page, since the pages it dirtied are
 * in the page cache already, which saves the writer a sixth to a third of
 * its time with keys in scattered order (PERFORMANCE.md). But a store into
 * a page the file has no block for is where a full disk would show, and
 * there it is a SIGBUS, not an error: so the map is used that way only
 * over blocks reserved beforehand, and each growth reserves first
 * (double_map). The log reserves ahead of what its journal acknowledged
 * (log_reserve). A reservation that fails may have taken part of the
 * room (ext4 keeps what it allocated): the file is cut back to keep, so
 * the rest of the disk still finds it. */
static int reserve_blocks(MDB_env *env, size_t size, size_t keep,
                          const char *what)
{
    int fd, rc;
    if (mdb_env_get_fd(env, &fd))
        return EINVAL;
    while ((rc = fallocate(fd, 0, 0, (off_t)size)) && errno == EINTR)
        ;
    if (!rc)
        return 0;
    rc = errno;
    if (ftruncate(fd, (off_t)keep))
        diag_warn("%s: cutting its file back to %zu bytes: %s", what, keep,
                  strerror(errno));
    return rc;
}

/* Whether a block reserved in ddir's file system stays the block a store
 * lands in: ext4 writes in place. Not so where a store may need a new
 * block (btrfs; XFS after a reflink copy shares extents), nor on tmpfs,
 * where the reserve is memory (a what-if's scratch copy in /tmp). Tests
 * count any (DESKD_TEST_WRITEMAP=1: tmpfs and powerfs). */
static bool writes_in_place(const char *ddir)
{
    struct statfs sf;
    const char *t = getenv("DESKD_TEST_WRITEMAP");
    if (t && !strcmp(t, "1"))
        return true;
    return !statfs(ddir, &sf) && sf.f_type == EXT4_SUPER_MAGIC;
}

/* Opens derived state's env: written through its map where its file can
 * be reserved, else (another file system, one without fallocate, no room
 * for the map) with commits that copy their pages, as it was before. */
static int open_derived_env(struct log *l, const char *ddir, size_t map_size,
                            struct err *e)
{
    const unsigned flags = MDB_NOSYNC | MDB_NOMETASYNC;
    MDB_envinfo info;
    MDB_stat st;
    int rc;
    l->dwritemap = false;
    /* no read-ahead: a fault on a reserved page would read (zero) the
     * pages after it too, in the writer's time */
    if (writes_in_place(ddir) &&
        !env_open(&l->denv, "derived state", ddir, map_size,
                  flags | MDB_WRITEMAP | MDB_NORDAHEAD, e)) {
        mdb_env_info(l->denv, &info);
        mdb_env_stat(l->denv, &st);
        if (!(rc = reserve_blocks(l->denv, info.me_mapsize,
                                  (info.me_last_pgno + 1) * st.ms_psize,
                                  "derived state"))) {
            l->dwritemap = true;
            return 0;
        }
        diag_info("derived state: its map is not reserved on disk (%s); "
                  "commits copy their pages instead",
                  strerror(rc));
        mdb_env_close(l->denv);
        l->denv = NULL;
    }
    memset(e, 0, sizeof(*e)); /* a map that could not be shared writable */
    return env_open(&l->denv, "derived state", ddir, map_size, flags, e);
}

/* Opens dir/derived; a writer first decides whether to keep it. */
static int open_derived(struct log *l, const char *dir, size_t map_size,
                        struct err *e)
{
    char path[PATH_CAP], boot[BOOT_ID_MAX], state[BOOT_ID_MAX + 16];
    const char *ddir = l->ddir, *why;
    int rc;

    if (strlen(dir) + sizeof(DERIVED_DIR) + 1 > sizeof(l->ddir))
        return err_set(e, ERR_INVALID, NULL, "data dir path is too long");
    path_in(l->ddir, dir, DERIVED_DIR);
    if (l->readonly) {
        path_in(path, ddir, "data.mdb");
        if (access(path, F_OK))
            return 0; /* no derived state: log-only readers still work */
        if ((rc = env_open(&l->denv, "derived state", ddir, map_size,
                           MDB_RDONLY, e)))
            return ERR_UNAVAILABLE;
        return open_derived_dbs(l, e);
    }
    if (mkdir(ddir, 0750) && errno != EEXIST)
        return err_set(e, ERR_UNAVAILABLE, NULL, "mkdir '%s': %s", ddir,
                       strerror(errno));
    boot_id(boot, sizeof(boot));
    why = distrust(ddir, boot);
    /* Attempts: what is there (when trusted), the checkpoint (once), and
     * an empty env that the whole log is replayed into. */
    for (int attempt = 0;; attempt++) {
        bool fresh = why && !strcmp(why, "there is none yet"), refused = false;
        l->restored_seq = 0;
        if (why) {
            if (!fresh)
                diag_warn("derived state in '%s' is discarded: %s", ddir, why);
            remove_derived(ddir);
            l->rebuilt = true;
            if (!l->ckpt_tried) {
                l->ckpt_tried = true;
                l->restored_seq = restore_checkpoint(l, ddir, &refused);
            }
            if (!l->restored_seq && (!fresh || refused))
                diag_info("derived state: rebuilt from the whole log");
        }
        rc = open_derived_env(l, ddir, map_size, e);
        if (!rc)
            rc = open_derived_dbs(l, e);
        if (!rc && l->restored_seq && l->applied_seq != l->restored_seq) {
            why = "the checkpoint's copy does not hold the seq its record "
                  "names";
            rc = -1;
        } else if (!rc && l->applied_seq > l->last_seq) {
            why = "it is ahead of the log";
            rc = -1;
        } else if (rc) {
            why = "it does not open";
        }
        if (!rc || attempt == 2)
            break;
        if (l->denv)
            mdb_env_close(l->denv);
        l->denv = NULL;
        l->applied_seq = 0;
        memset(e, 0, sizeof(*e));
    }
    if (rc)
        return rc < 0 ? err_set(e, ERR_UNAVAILABLE, NULL, "derived: %s", why)
                      : rc;
    snprintf(state, sizeof(state), STATE_DIRTY "%s\n", boot);
    if ((rc = write_state(ddir, state, e)))
        return rc;
    return empty_old_versions(l, e);
}

/* FOR TESTS ONLY (`make torture-power-unsafe`): DESKD_TEST_UNSAFE_NOSYNC=1
 * opens the log MDB_NOSYNC and makes log_sync() a no-op, so replies go out
 * before the events are on disk and a power cut loses acknowledged events.
 * It shows that the power-loss test (tests/integration/it_power.c) catches
 * that. Never set it on a real deskd. */
/* FOR TESTS ONLY: DESKD_TEST_NO_RESERVE=1 stands for a file system that
 * cannot reserve the log's blocks (it_faults). */
static bool test_no_reserve(void)
{
    const char *v = getenv("DESKD_TEST_NO_RESERVE");
    return v && !strcmp(v, "1");
}

bool log_unsafe_nosync(void)
{
    const char *v = getenv("DESKD_TEST_UNSAFE_NOSYNC");
    return v && !strcmp(v, "1");
}

/* journal_scan's callback: writes a frame the log does not hold yet. */
static int replay_frame(void *ctx, const struct journal_frame *fr)
{
    struct log *l = ctx;
    struct log_job j = {0};
    struct err e = {0};
    int rc;

    if (fr->last_seq <= l->last_seq)
        return 0; /* already in the log */
    if (fr->first_seq != l->last_seq + 1 ||
        memcmp(fr->prev_hash, l->last_hash, LOG_HASH_LEN)) {
        diag_warn("journal: its events %llu..%llu do not follow the log's "
                  "last event (%llu): this journal belongs to another log; "
                  "move data_dir/" JOURNAL_FILE " away to start without it",
                  (unsigned long long)fr->first_seq,
                  (unsigned long long)fr->last_seq,
                  (unsigned long long)l->last_seq);
        return ERR_INVALID;
    }
    j.recs.sb.data = (char *)fr->recs;
    j.recs.sb.size = fr->len;
    j.first_seq = fr->first_seq;
    j.last_seq = fr->last_seq;
    if ((rc = log_write(l, &j, &e))) {
        diag_warn("journal: events %llu..%llu cannot be written to the log: "
                  "%s%s",
                  (unsigned long long)fr->first_seq,
                  (unsigned long long)fr->last_seq, e.msg, log_why(l, rc));
        return rc;
    }
    l->last_seq = fr->last_seq;
    memcpy(l->last_hash, fr->last_hash, LOG_HASH_LEN);
    l->journal_replayed += fr->last_seq - fr->first_seq + 1;
    return 0;
}

/* A writer's log_open: the events the journal holds beyond the log's last
 * (acknowledged after the journal's flush, before the LMDB commit) are
 * written to the log and flushed; then the journal is cleared. */
static int replay_journal(struct log *l, const char *dir, struct err *e)
{
    MDB_txn *txn;
    int rc = journal_scan(dir, replay_frame, l, e);
    if (rc) {
        if (!e->msg[0])
            err_set(e, ERR_UNAVAILABLE, NULL,
                    "the journal cannot be replayed into the log (see the "
                    "lines above)");
        return rc;
    }
    /* Before the journal is cleared the log holds all of it durably: also
     * what a killed deskd had committed to the LMDB log without flushing
     * its meta page, which this open sees (the page cache) and does not
     * replay. */
    if (!log_unsafe_nosync() && (rc = mdb_env_sync(l->env, 1)))
        return mdb_fail(e, rc, "flush the log");
    if (l->journal_replayed) {
        if ((rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &txn)))
            return mdb_fail(e, rc, "begin txn");
        rc = load_tail(l, txn, e);
        mdb_txn_abort(txn);
        if (rc)
            return rc;
        diag_info("log: %llu events recovered from the journal (last seq "
                  "%llu)",
                  (unsigned long long)l->journal_replayed,
                  (unsigned long long)l->last_seq);
    }
    return journal_clear(dir, e);
}

int log_open(struct log *l, const char *dir, size_t map_size, bool readonly,
             struct err *e)
{
    MDB_envinfo info;
    unsigned flags = readonly ? MDB_RDONLY : MDB_NOMETASYNC;
    int rc;

    memset(l, 0, sizeof(*l));
    l->readonly = readonly;
    if (!readonly && log_unsafe_nosync()) {
        diag_warn(
            "DESKD_TEST_UNSAFE_NOSYNC=1: the log is never flushed; "
            "acknowledged events WILL be lost at a power cut (tests only)");
        flags |= MDB_NOSYNC;
    }
    pthread_rwlock_init(&l->grow_lock, NULL);
    if (sodium_init() < 0)
        return err_set(e, ERR_UNAVAILABLE, NULL, "libsodium init failed");
    if (!readonly && mkdir(dir, 0750) && errno != EEXIST)
        return err_set(e, ERR_UNAVAILABLE, NULL, "mkdir '%s': %s", dir,
                       strerror(errno));
    if (env_open(&l->env, "log", dir, map_size, flags, e))
        return ERR_UNAVAILABLE;
    mdb_env_info(l->env, &info);
    l->map_size = info.me_mapsize;
    rc = open_log_dbs(l, e);
    if (!rc && !readonly)
        rc = replay_journal(l, dir, e);
    if (!rc && !readonly && test_no_reserve()) {
        diag_warn("DESKD_TEST_NO_RESERVE=1: the log's file is not reserved; "
                  "a full disk stops deskd (tests only)");
        l->lreserve_off = true;
    }
    if (!rc)
        rc = open_derived(l, dir, l->map_size, e);
    if (!rc && l->denv && !mdb_env_info(l->denv, &info))
        l->dmap_size = info.me_mapsize;
    /* A writer's answers count the log's last commit as durable (a retry
     * of a command in it is answered duplicate at once): flush it, since
     * a deskd killed after that commit may have left its meta page
     * unflushed. */
    if (!rc && !readonly && !log_unsafe_nosync() &&
        (rc = mdb_env_sync(l->env, 1)))
        rc = mdb_fail(e, rc, "flush the log");
    if (rc)
        log_close(l);
    return rc;
}

void log_close(struct log *l)
{
    struct err e = {0};
    /* else: rebuilt next time */
    if (l->denv && !l->readonly && !l->derived_behind &&
        mdb_env_sync(l->denv, 1) == 0 && l->env && mdb_env_sync(l->env, 1) == 0)
        write_state(l->ddir, STATE_CLEAN "\n", &e);
    if (l->denv)
        mdb_env_close(l->denv);
    l->denv = NULL;
    if (l->env)
        mdb_env_close(l->env);
    l->env = NULL;
    pthread_rwlock_destroy(&l->grow_lock);
}

void log_batch_init(struct log_batch *b, struct log *l, int offset_min)
{
    memset(b, 0, sizeof(*b));
    b->log = l;
    b->offset_min = offset_min;
    cw_init(&b->bodies);
    cw_init(&b->recs);
    b->thread = pthread_self();
    l->writer = b;
    /* the head: past the log's last event (see head_reset) */
    b->next_seq = l->last_seq + 1;
    memcpy(b->hash, l->last_hash, LOG_HASH_LEN);
    b->last_recorded_at = l->last_recorded_at;
}

static void job_free(struct log_job *j)
{
    cw_release(&j->recs);
    free(j);
}

/* A job done with: kept for reuse, up to SPARE_MAX of them (a peak of
 * jobs in flight does not stay allocated). */
#define SPARE_MAX 32
static void job_retire(struct log_batch *b, struct log_job *j)
{
    if (b->nspare >= SPARE_MAX) {
        job_free(j);
        return;
    }
    cw_reset(&j->recs);
    j->next = b->spare;
    b->spare = j;
    b->nspare++;
}

void log_batch_release(struct log_batch *b)
{
    if (b->txn || b->ltxn || b->inflight)
        log_batch_abort(b);
    while (b->spare) {
        struct log_job *j = b->spare;
        b->spare = j->next;
        job_free(j);
    }
    b->nspare = 0;
    cw_release(&b->bodies);
    cw_release(&b->recs);
    free(b->off);
    free(b->type);
    free(b->hashes);
    b->off = NULL;
    b->type = NULL;
    b->hashes = NULL;
    if (b->log && b->log->writer == b)
        b->log->writer = NULL;
}

/* The head back at the log's last committed event. */
static void head_reset(struct log_batch *b)
{
    b->next_seq = b->log->last_seq + 1;
    memcpy(b->hash, b->log->last_hash, LOG_HASH_LEN);
    b->last_recorded_at = b->log->last_recorded_at;
}

/* The segment's read view of the log; held off log_write's map growth
 * (LMDB may not remap under an open txn) until the segment ends. */
static int view_begin(struct log_batch *b, struct err *e)
{
    int rc;
    pthread_rwlock_rdlock(&b->log->grow_lock);
    if ((rc = mdb_txn_begin(b->log->env, NULL, MDB_RDONLY, &b->ltxn))) {
        b->ltxn = NULL;
        pthread_rwlock_unlock(&b->log->grow_lock);
        return mdb_fail(e, rc, "begin log read txn");
    }
    return 0;
}

static void view_end(struct log_batch *b)
{
    if (!b->ltxn)
        return;
    mdb_txn_abort(b->ltxn);
    b->ltxn = NULL;
    pthread_rwlock_unlock(&b->log->grow_lock);
}

int log_batch_begin(struct log_batch *b, struct err *e)
{
    int rc;
    DESK_ASSERT(!b->ltxn);
    if (!b->txn) {
        DESK_ASSERT(!b->inflight);
        if ((rc = mdb_txn_begin(b->log->denv, NULL, 0, &b->txn))) {
            b->txn = NULL;
            return mdb_fail(e, rc, "begin derived write txn");
        }
        head_reset(b);
        b->segments = 0;
        b->txn_events = 0;
    }
    if ((rc = view_begin(b, e))) {
        if (!b->inflight && !b->segments) {
            mdb_txn_abort(b->txn);
            b->txn = NULL;
        }
        return rc;
    }
    b->seg_first = b->next_seq;
    cw_reset(&b->bodies);
    cw_reset(&b->recs);
    b->nevents = 0;
    return 0;
}

static int put_applied(MDB_txn *dtxn, const struct log *l, uint64_t seq)
{
    unsigned char vb[8];
    MDB_val k = {sizeof(applied_key) - 1, (void *)applied_key}, v = {8, vb};
    put_be64(vb, seq);
    return mdb_put(dtxn, l->meta, &k, &v, 0);
}

/* One log record: kind, key (8 bytes big-endian), value length (4, host
 * order), then the value, given in two parts. */
#define REC_EVENT 'e'
#define REC_CMD 'c'
#define REC_HEAD 13
static void rec_add(struct cw *w, char kind, uint64_t key, const void *a,
                    size_t alen, const void *b, size_t blen)
{
    unsigned char h[REC_HEAD];
    uint32_t n = (uint32_t)(alen + blen);
    h[0] = (unsigned char)kind;
    put_be64(h + 1, key);
    memcpy(h + 9, &n, 4);
    cw_raw(w, h, REC_HEAD);
    cw_raw(w, a, alen);
    if (blen)
        cw_raw(w, b, blen);
}

/* Walks the records of w: fn for each; stops at a nonzero return. */
struct rec {
    char kind;
    uint64_t key;
    const char *val;
    size_t len;
};
static bool rec_next(const struct cw *w, size_t *at, struct rec *r)
{
    const unsigned char *p = (const unsigned char *)cw_data(w) + *at;
    uint32_t n;
    if (*at + REC_HEAD > cw_len(w))
        return false;
    memcpy(&n, p + 9, 4);
    r->kind = (char)p[0];
    r->key = get_be64(p + 1);
    r->val = (const char *)p + REC_HEAD;
    r->len = n;
    *at += REC_HEAD + n;
    return true;
}

static bool recs_find(const struct cw *w, uint64_t seq, const char **val,
                      size_t *len)
{
    struct rec r;
    size_t at = 0;
    while (rec_next(w, &at, &r))
        if (r.kind == REC_EVENT && r.key == seq) {
            *val = r.val;
            *len = r.len;
            return true;
        }
    return false;
}

/* Doubles env's map (size: its current size, under grow_lock) once no
 * other thread of this process holds a txn on it (see grow_lock); derived
 * state written through its map has the new blocks reserved first. */
static int double_map(struct log *l, MDB_env *env, size_t *size,
                      const char *what)
{
    size_t want;
    int rc;
    pthread_rwlock_wrlock(&l->grow_lock);
    want = *size * 2;
    rc = env == l->denv && l->dwritemap
             ? reserve_blocks(env, want, *size, "derived state")
             : 0;
    if (!rc && !(rc = mdb_env_set_mapsize(env, want)))
        *size = want;
    pthread_rwlock_unlock(&l->grow_lock);
    if (rc)
        return rc;
    __atomic_add_fetch(&l->grows, 1, __ATOMIC_RELAXED);
    diag_info("%s map grown to %zu MiB", what, want >> 20);
    return 0;
}

/* The log's file is reserved in steps of this (log_reserve), with at
 * least LOG_RESERVE_MIN beyond what the records need. */
#define LOG_RESERVE_STEP ((size_t)8 << 20)
#define LOG_RESERVE_MIN ((size_t)1 << 20)

int log_reserve(struct log *l, size_t bytes, struct err *e)
{
    MDB_envinfo info;
    MDB_stat st;
    struct stat sb;
    size_t used, need, want;
    int fd, rc;

    if (l->lreserve_off)
        return 0;
    if ((rc = mdb_env_info(l->env, &info)) || (rc = mdb_env_stat(l->env, &st)))
        return mdb_fail(e, rc, "log size");
    /* each record's pages (a value a little larger than a page's share
     * takes two), the tree's pages, a commit's free list */
    used = (info.me_last_pgno + 1) * st.ms_psize;
    need = used + 4 * bytes + LOG_RESERVE_MIN;
    if (need <= l->lreserved)
        return 0;
    /* a step ahead, or on a nearly full disk what this needs */
    want = (need / LOG_RESERVE_STEP + 1) * LOG_RESERVE_STEP;
    for (;;) {
        while (want > l->map_size)
            if ((rc = double_map(l, l->env, &l->map_size, "log")))
                return err_set(e, ERR_UNAVAILABLE, NULL,
                               "the log's map cannot grow (%s%s)",
                               mdb_strerror(rc), log_why(l, rc)),
                       rc;
        if ((rc = mdb_env_get_fd(l->env, &fd)) || fstat(fd, &sb))
            return err_set(e, ERR_UNAVAILABLE, NULL, "log file: %s",
                           strerror(rc ? rc : errno)),
                   rc ? rc : errno;
        rc = reserve_blocks(l->env, want, (size_t)sb.st_size, "log");
        if (rc != ENOSPC || want == need)
            break;
        want = need;
    }
    if (rc == EOPNOTSUPP) { /* nothing to reserve with: as before */
        diag_info("log: its file system cannot reserve blocks (fallocate: "
                  "%s); a full disk stops deskd instead of refusing "
                  "commands",
                  strerror(rc));
        l->lreserve_off = true;
        return 0;
    }
    if (rc)
        return err_set(e, ERR_UNAVAILABLE, NULL,
                       "no room for the log's next records (%s%s)",
                       strerror(rc), log_why(l, rc)),
               rc;
    l->lreserved = want;
    return 0;
}

int log_write(struct log *l, const struct log_job *first, struct err *e)
{
    MDB_txn *txn;
    int rc;
again:
    if ((rc = mdb_txn_begin(l->env, NULL, 0, &txn)))
        return mdb_fail(e, rc, "begin write txn"), rc;
    for (const struct log_job *j = first; j && !rc; j = j->qnext) {
        struct rec r;
        size_t at = 0;
        while (!rc && rec_next(&j->recs, &at, &r)) {
            unsigned char kb[8];
            MDB_val k = {8, kb}, v = {r.len, (void *)r.val};
            put_be64(kb, r.key);
            rc = mdb_put(txn, r.kind == REC_EVENT ? l->events : l->commands, &k,
                         &v, MDB_APPEND);
        }
    }
    if (rc) {
        mdb_txn_abort(txn);
    } else {
        rc = mdb_txn_commit(txn);
    }
    /* from a put or the commit itself */
    if (rc == MDB_MAP_FULL && !double_map(l, l->env, &l->map_size, "log"))
        goto again;
    return rc ? (mdb_fail(e, rc, "commit"), rc) : 0;
}

void log_batch_seal(struct log_batch *b, struct log_job **job)
{
    struct log_job *j;
    msgpack_sbuffer t;
    view_end(b);
    *job = NULL;
    if (b->nevents == 0)
        return;
    if ((j = b->spare)) {
        b->spare = j->next;
        b->nspare--;
    } else {
        j = calloc(1, sizeof(*j));
        DESK_ASSERT(j); /* a few dozen bytes */
        cw_init(&j->recs);
    }
    /* the records move to the job; the job's old buffer serves the next
     * segment (each packer keeps pointing at its own sbuffer) */
    t = j->recs.sb;
    j->recs.sb = b->recs.sb;
    b->recs.sb = t;
    cw_reset(&b->recs);
    j->next = j->qnext = NULL;
    j->first_seq = b->seg_first;
    j->last_seq = b->next_seq - 1;
    memcpy(j->hash, b->hash, LOG_HASH_LEN);
    j->last_recorded_at = b->last_recorded_at;
    if (b->inflight_last)
        b->inflight_last->next = j;
    else
        b->inflight = j;
    b->inflight_last = j;
    b->segments++;
    b->txn_events += b->nevents;
    *job = j;
}

void log_batch_drop_segment(struct log_batch *b)
{
    view_end(b);
    b->doomed = b->txn != NULL;
    cw_reset(&b->bodies);
    cw_reset(&b->recs);
    b->nevents = 0;
}

void log_batch_logged(struct log_batch *b, uint64_t seq)
{
    struct log *l = b->log;
    while (b->inflight && b->inflight->last_seq <= seq) {
        struct log_job *j = b->inflight;
        l->last_seq = j->last_seq;
        memcpy(l->last_hash, j->hash, LOG_HASH_LEN);
        l->last_recorded_at = j->last_recorded_at;
        b->inflight = j->next;
        if (!b->inflight)
            b->inflight_last = NULL;
        job_retire(b, j);
    }
}

int log_batch_commit_derived(struct log_batch *b, struct err *e)
{
    struct log *l = b->log;
    int rc = 0;
    DESK_ASSERT(!b->inflight && !b->ltxn);
    if (!b->txn)
        return 0;
    if (b->doomed) /* a dropped segment wrote into it: abort only */
        return err_set(e, ERR_UNAVAILABLE, NULL,
                       "derived txn holds a dropped segment");
    if (b->txn_events && (rc = put_applied(b->txn, l, b->next_seq - 1))) {
        mdb_txn_abort(b->txn);
    } else {
        rc = mdb_txn_commit(b->txn); /* no flush (MDB_NOSYNC) */
    }
    b->txn = NULL;
    if (rc) {
        /* the events are in the log: derived state catches up from it
         * before anything else is decided (log_catch_up) */
        l->derived_behind = true;
        diag_warn("derived state not committed (%s): it catches up from "
                  "the log before the next command",
                  mdb_strerror(rc));
        return mdb_fail(e, rc, "derived commit");
    }
    if (b->txn_events)
        l->applied_seq = b->next_seq - 1;
    return 0;
}

int log_batch_commit(struct log_batch *b, struct err *e)
{
    struct log_job *j;
    int rc;

    DESK_ASSERT(!b->inflight);
    log_batch_seal(b, &j);
    /* The log first: a failed log commit leaves derived state as if the
     * batch never happened, so it is never ahead of the log. */
    if (j && (rc = log_write(b->log, j, e))) {
        log_batch_abort(b);
        return rc;
    }
    if (j)
        log_batch_logged(b, j->last_seq);
    log_batch_commit_derived(b, e);
    return 0;
}

void log_batch_abort(struct log_batch *b)
{
    view_end(b);
    if (b->txn)
        mdb_txn_abort(b->txn);
    b->txn = NULL;
    b->doomed = false;
    while (b->inflight) {
        struct log_job *j = b->inflight;
        b->inflight = j->next;
        job_retire(b, j);
    }
    b->inflight_last = NULL;
    cw_reset(&b->bodies);
    cw_reset(&b->recs);
    b->nevents = 0;
    head_reset(b);
}

void log_batch_body(const struct log_batch *b, size_t i, const char **body,
                    size_t *len)
{
    size_t end = i + 1 < b->nevents ? b->off[i + 1] : cw_len(&b->bodies);
    DESK_ASSERT(i < b->nevents);
    *body = cw_data(&b->bodies) + b->off[i];
    *len = end - b->off[i];
}

/* The stream's last key in the stream index (stream \0 version sorts
 * each stream's versions in order): found by seeking just past it. A
 * stream name longer than a key can hold has no events. */
int log_stream_version(MDB_txn *txn, const struct log *l, const char *stream,
                       size_t len, uint64_t *version)
{
    unsigned char kb[IDX_KEY_MAX];
    MDB_val k, v;
    MDB_cursor *c;
    int rc;

    *version = 0;
    if (len == 0 || len > LOG_STREAM_MAX)
        return 0;
    k = (MDB_val){idx_key(kb, stream, len, UINT64_MAX), kb};
    if ((rc = mdb_cursor_open(txn, l->stream_idx, &c)))
        return rc;
    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
    if (rc == 0)
        rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
    else if (rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
    if (rc == 0 && k.mv_size == len + 9 && !memcmp(k.mv_data, stream, len) &&
        ((const char *)k.mv_data)[len] == '\0')
        *version = get_be64((const unsigned char *)k.mv_data + len + 1);
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static void encode_body(struct log_batch *b, const struct log_event_in *in,
                        uint64_t version)
{
    struct cw *w = &b->bodies;
    bool occ = in->occurred_at && in->occurred_at != in->recorded_at;
    bool desk = in->desk && in->desk[0];

    cw_map(w, 9 + (occ ? 1 : 0) + (desk ? 1 : 0));
    cw_str(w, "seq");
    cw_uint(w, b->next_seq);
    cw_kstr(w, "type", in->type);
    cw_kstrn(w, "stream", in->stream, in->stream_len);
    cw_str(w, "version");
    cw_uint(w, version);
    cw_kts(w, "recorded_at", in->recorded_at, b->offset_min);
    if (occ)
        cw_kts(w, "occurred_at", in->occurred_at, b->offset_min);
    cw_kstr(w, "actor", in->actor);
    if (desk)
        cw_kstr(w, "desk", in->desk);
    cw_kstrn(w, "cmd_id", in->cmd_id, in->cmd_id_len);
    cw_str(w, "data");
    cw_raw(w, in->data, in->data_len);
    cw_str(w, "prev");
    cw_bin(w, b->hash, LOG_HASH_LEN);
}

/* Keeps where body i starts, its type and its hash (just computed). */
static int remember(struct log_batch *b, size_t at, const char *type)
{
    if (b->nevents == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        size_t *p = realloc(b->off, cap * sizeof(*p));
        const char **t;
        unsigned char(*h)[LOG_HASH_LEN];
        if (!p)
            return ERR_UNAVAILABLE;
        b->off = p;
        t = realloc(b->type, cap * sizeof(*t));
        if (!t)
            return ERR_UNAVAILABLE;
        b->type = t;
        h = realloc(b->hashes, cap * sizeof(*h));
        if (!h)
            return ERR_UNAVAILABLE;
        b->hashes = h;
        b->cap = cap; /* only once every array has room */
    }
    b->off[b->nevents] = at;
    memcpy(b->hashes[b->nevents], b->hash, LOG_HASH_LEN);
    b->type[b->nevents++] = type;
    return 0;
}

const unsigned char *log_batch_hash(const struct log_batch *b, size_t i)
{
    DESK_ASSERT(i < b->nevents);
    return b->hashes[i];
}

const char *log_batch_type(const struct log_batch *b, size_t i)
{
    DESK_ASSERT(i < b->nevents);
    return b->type[i];
}

/* Hashes body at and adds its log record to the segment's. */
static void put_event(struct log_batch *b, size_t at)
{
    const char *body = cw_data(&b->bodies) + at;
    size_t len = cw_len(&b->bodies) - at;
    log_hash(body, len, b->hash);
    rec_add(&b->recs, REC_EVENT, b->next_seq, b->hash, LOG_HASH_LEN, body, len);
}

int log_append(struct log_batch *b, const struct log_event_in *in,
               uint64_t *seq, const char **body, size_t *body_len)
{
    uint64_t version;
    size_t at = cw_len(&b->bodies);
    int rc;

    DESK_ASSERT(b->txn && b->ltxn);
    if (in->stream_len == 0 || in->stream_len > LOG_STREAM_MAX)
        return ERR_INVALID;
    rc = log_stream_version(b->txn, b->log, in->stream, in->stream_len,
                            &version);
    if (rc)
        return rc;
    version++;
    encode_body(b, in, version);
    put_event(b, at);
    if ((rc = idx_put(b->txn, b->log, in->stream, in->stream_len, version,
                      b->next_seq)))
        return rc;
    if ((rc = remember(b, at, in->type)))
        return rc;
    *seq = b->next_seq++;
    if (in->recorded_at > b->last_recorded_at)
        b->last_recorded_at = in->recorded_at;
    *body = cw_data(&b->bodies) + at;
    *body_len = cw_len(&b->bodies) - at;
    return 0;
}

int log_cmd_get(MDB_txn *txn, const struct log *l, const char *id, size_t len,
                struct log_cmd_rec *rec)
{
    MDB_val k = {len, (void *)id}, v;
    int rc = mdb_get(txn, l->cmd_ids, &k, &v);
    if (rc)
        return rc;
    if (v.mv_size != CMD_REC_LEN)
        return ERR_UNAVAILABLE;
    memcpy(rec->fp, v.mv_data, LOG_HASH_LEN);
    rec->first_seq = get_be64((const unsigned char *)v.mv_data + LOG_HASH_LEN);
    memcpy(&rec->nevents, (const char *)v.mv_data + LOG_HASH_LEN + 8, 4);
    rec->nevents = be32toh(rec->nevents);
    return 0;
}

int log_cmd_put(MDB_txn *txn, const struct log *l, const char *id, size_t len,
                const struct log_cmd_rec *rec)
{
    unsigned char buf[CMD_REC_LEN];
    uint32_t n = htobe32(rec->nevents);
    MDB_val k = {len, (void *)id}, v = {sizeof(buf), buf};

    memcpy(buf, rec->fp, LOG_HASH_LEN);
    put_be64(buf + LOG_HASH_LEN, rec->first_seq);
    memcpy(buf + LOG_HASH_LEN + 8, &n, 4);
    return mdb_put(txn, l->cmd_ids, &k, &v, 0);
}

int log_batch_cmd(struct log_batch *b, const char *id, size_t len,
                  const struct log_cmd_rec *rec)
{
    unsigned char vb[LOG_HASH_LEN + 4 + LOG_CMD_ID_MAX];
    uint32_t n = htobe32(rec->nevents);

    DESK_ASSERT(len <= LOG_CMD_ID_MAX);
    memcpy(vb, rec->fp, LOG_HASH_LEN);
    memcpy(vb + LOG_HASH_LEN, &n, 4);
    memcpy(vb + LOG_HASH_LEN + 4, id, len);
    rec_add(&b->recs, REC_CMD, rec->first_seq, vb, LOG_HASH_LEN + 4 + len, NULL,
            0);
    return log_cmd_put(b->txn, b->log, id, len, rec);
}

/* An event of the writer's that is not in the log yet: in this segment
 * or in a job in flight. */
static int pending_get(const struct log_batch *b, uint64_t seq,
                       const unsigned char **hash, const char **body,
                       size_t *len)
{
    const char *val = NULL;
    size_t n = 0;
    bool found = seq >= b->seg_first && recs_find(&b->recs, seq, &val, &n);
    for (const struct log_job *j = b->inflight; !found && j; j = j->next)
        if (seq >= j->first_seq && seq <= j->last_seq)
            found = recs_find(&j->recs, seq, &val, &n);
    if (!found)
        return MDB_NOTFOUND;
    if (n <= LOG_HASH_LEN)
        return ERR_UNAVAILABLE;
    *hash = (const unsigned char *)val;
    *body = val + LOG_HASH_LEN;
    *len = n - LOG_HASH_LEN;
    return 0;
}

int log_get(MDB_txn *txn, const struct log *l, uint64_t seq,
            const unsigned char **hash, const char **body, size_t *len)
{
    unsigned char key[8];
    MDB_val k = {8, key}, v;
    int rc;

    put_be64(key, seq);
    rc = mdb_get(txn, l->events, &k, &v);
    if (rc == MDB_NOTFOUND && l->writer &&
        pthread_equal(pthread_self(), l->writer->thread) &&
        l->writer->ltxn == txn)
        return pending_get(l->writer, seq, hash, body, len);
    if (rc)
        return rc;
    if (v.mv_size <= LOG_HASH_LEN)
        return ERR_UNAVAILABLE;
    *hash = v.mv_data;
    *body = (const char *)v.mv_data + LOG_HASH_LEN;
    *len = v.mv_size - LOG_HASH_LEN;
    return 0;
}

#define DISK_FULL_BYTES                                                        \
    (1 << 20) /* free bytes below which a failed write                         \
                 is put down to a full disk */
static bool disk_full(const char *dir)
{
    struct statvfs st;
    return statvfs(dir, &st) == 0 &&
           (unsigned long long)st.f_bavail * st.f_frsize < DISK_FULL_BYTES;
}

const char *log_why(const struct log *l, int rc)
{
    char dir[PATH_MAX];
    char *slash;
    if (rc == ENOSPC || rc == EDQUOT)
        return ": the disk is full";
    if (rc != EIO)
        return "";
    /* a short write (LMDB reports EIO) on a disk with no room left: the
     * log's (ddir's parent) or derived state's, which may be another */
    snprintf(dir, sizeof(dir), "%s", l->ddir);
    if ((slash = strrchr(dir, '/')) && slash != dir)
        *slash = '\0';
    return disk_full(dir) || disk_full(l->ddir) ? ": the disk is full" : "";
}

bool log_write_unknown(const struct log *l, int rc)
{
    return rc > 0 && !*log_why(l, rc);
}

int log_sync(struct log *l, struct err *e)
{
    int rc = log_unsafe_nosync() ? 0 : mdb_env_sync(l->env, 1);
    return rc ? err_set(e, ERR_UNAVAILABLE, NULL, "sync: %s", mdb_strerror(rc))
              : 0;
}

int log_grow(struct log *l, struct err *e)
{
    int rc =
        l->denv ? double_map(l, l->denv, &l->dmap_size, "derived state's") : 0;
    return rc ? err_set(e, ERR_UNAVAILABLE, NULL,
                        "derived state's map cannot grow (%s%s)",
                        mdb_strerror(rc), log_why(l, rc))
              : 0;
}

int log_read_begin(struct log *l, MDB_txn **txn, struct err *e)
{
    int rc = read_begin(l->env, txn);
    return rc ? mdb_fail(e, rc, "begin read txn") : 0;
}

int log_derived_begin(struct log *l, MDB_txn **txn, struct err *e)
{
    int rc;
    if (!l->denv)
        return err_set(e, ERR_NOT_FOUND, NULL,
                       "no derived state here (start deskd on it once, or "
                       "replay it with deskaudit)");
    rc = read_begin(l->denv, txn);
    return rc ? mdb_fail(e, rc, "begin derived read txn") : 0;
}

int log_applied_seq(MDB_txn *dtxn, const struct log *l, uint64_t *seq)
{
    MDB_val k = {sizeof(applied_key) - 1, (void *)applied_key}, v;
    int rc = mdb_get(dtxn, l->meta, &k, &v);
    *seq = 0;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc || v.mv_size != 8)
        return rc ? rc : MDB_CORRUPTED;
    *seq = get_be64(v.mv_data);
    return 0;
}

int log_stream_scan(MDB_txn *txn, const struct log *l, const char *stream,
                    size_t len, uint64_t from, log_event_fn fn, void *ctx)
{
    unsigned char fb[8];
    MDB_cursor *cur;
    MDB_val k = {8, fb}, v;
    int rc = mdb_cursor_open(txn, l->events, &cur), stop = 0;

    if (rc)
        return ERR_UNAVAILABLE;
    put_be64(fb, from);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && !stop;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        struct codec_doc d;
        const char *body = (const char *)v.mv_data + LOG_HASH_LEN, *s;
        size_t n, blen = v.mv_size - LOG_HASH_LEN;
        if (k.mv_size != 8 || v.mv_size <= LOG_HASH_LEN ||
            codec_doc_parse_trusted(&d, body, blen, NULL))
            continue;
        if (!codec_get_str(d.obj, "stream", &s, &n) && n == len &&
            !memcmp(s, stream, len))
            stop = fn(ctx, get_be64(k.mv_data), body, blen);
        codec_doc_release(&d);
    }
    mdb_cursor_close(cur);
    return stop ? stop : (rc == MDB_NOTFOUND || rc == 0) ? 0 : ERR_UNAVAILABLE;
}

int log_stream_events(MDB_txn *dtxn, MDB_txn *ltxn, const struct log *l,
                      const char *stream, size_t len, log_event_fn fn,
                      void *ctx, bool *scanned)
{
    unsigned char kb[IDX_KEY_MAX];
    MDB_cursor *cur;
    MDB_val k, v;
    int rc, stop = 0;

    *scanned = !dtxn;
    if (len == 0 || len > LOG_STREAM_MAX)
        return 0;
    if (!dtxn)
        return log_stream_scan(ltxn, l, stream, len, 1, fn, ctx);
    if (mdb_cursor_open(dtxn, l->stream_idx, &cur))
        return ERR_UNAVAILABLE;
    k.mv_size = idx_key(kb, stream, len, 0);
    k.mv_data = kb;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && !stop;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const unsigned char *hash;
        const char *body;
        size_t blen;
        if (k.mv_size != len + 9 || memcmp(k.mv_data, kb, len + 1) ||
            v.mv_size != 8)
            break;
        if (log_get(ltxn, l, get_be64(v.mv_data), &hash, &body, &blen) == 0)
            stop = fn(ctx, get_be64(v.mv_data), body, blen);
    }
    mdb_cursor_close(cur);
    return stop;
}

/* Copies one sub-db's records keyed by seq in [first, last]; commands
 * only when all their events are <= until. */
static int copy_range(MDB_txn *from, MDB_dbi df, MDB_txn *to, MDB_dbi dt,
                      uint64_t first, uint64_t last, uint64_t until,
                      bool commands)
{
    unsigned char kb[8];
    MDB_cursor *cur;
    MDB_val k = {8, kb}, v;
    int rc = mdb_cursor_open(from, df, &cur);

    if (rc)
        return rc;
    put_be64(kb, first);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        uint64_t seq = k.mv_size == 8 ? get_be64(k.mv_data) : 0;
        if (seq > last)
            break;
        if (commands) {
            uint32_t n = 0;
            if (v.mv_size > LOG_HASH_LEN + 4)
                memcpy(&n, (const char *)v.mv_data + LOG_HASH_LEN, 4);
            if (seq + be32toh(n) - 1 > until)
                continue; /* ends past until: not part of the copy */
        }
        if ((rc = mdb_put(to, dt, &k, &v, MDB_APPEND)))
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int log_copy(MDB_txn *from, const struct log *lf, MDB_txn *to,
             const struct log *lt, uint64_t first, uint64_t last,
             uint64_t until)
{
    int rc =
        copy_range(from, lf->events, to, lt->events, first, last, until, false);
    if (!rc && lf->has_commands)
        rc = copy_range(from, lf->commands, to, lt->commands, first, last,
                        until, true);
    return rc;
}

int log_snapshot_begin(struct log *l, MDB_txn **dtxn, MDB_txn **ltxn,
                       struct err *e)
{
    int rc = 0;
    pthread_rwlock_rdlock(&l->grow_lock);
    if (dtxn && (rc = mdb_txn_begin(l->denv, NULL, MDB_RDONLY, dtxn)))
        *dtxn = NULL;
    if (!rc && ltxn && (rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, ltxn)))
        *ltxn = NULL;
    if (rc) {
        log_snapshot_end(l, dtxn ? *dtxn : NULL, NULL);
        return mdb_fail(e, rc, "begin read txn");
    }
    return 0;
}

void log_snapshot_end(struct log *l, MDB_txn *dtxn, MDB_txn *ltxn)
{
    if (dtxn)
        mdb_txn_abort(dtxn);
    if (ltxn)
        mdb_txn_abort(ltxn);
    pthread_rwlock_unlock(&l->grow_lock);
}

int log_last_seq(MDB_txn *txn, const struct log *l, uint64_t *seq)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, l->events, &cur);
    if (rc)
        return rc;
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    mdb_cursor_close(cur);
    *seq = 0;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc || k.mv_size != 8)
        return rc ? rc : MDB_CORRUPTED;
    *seq = get_be64(k.mv_data);
    return 0;
}

/* Index entry (which gives the stream's version) and fn for one stored
 * event. */
static int derive_event(struct log *l, MDB_txn *dtxn, uint64_t seq,
                        const char *body, size_t len, log_derive_fn fn,
                        void *ctx)
{
    struct codec_doc d;
    const char *s;
    size_t n;
    int64_t ver;
    int rc = codec_doc_parse_trusted(&d, body, len, NULL);

    if (rc)
        return MDB_CORRUPTED;
    if (codec_get_str(d.obj, "stream", &s, &n) || n == 0 ||
        n > LOG_STREAM_MAX || codec_get_int(d.obj, "version", &ver)) {
        codec_doc_release(&d);
        return MDB_CORRUPTED;
    }
    rc = idx_put(dtxn, l, s, n, (uint64_t)ver, seq);
    if (!rc && fn) /* one decoding serves both */
        rc = fn(ctx, dtxn, seq, d.obj);
    codec_doc_release(&d);
    return rc;
}

/* Command ids of the commands whose first event is in [from, to]. */
static int derive_commands(struct log *l, MDB_txn *ltxn, MDB_txn *dtxn,
                           uint64_t from, uint64_t to)
{
    unsigned char kb[8];
    MDB_cursor *cur;
    MDB_val k = {8, kb}, v;
    int rc;

    if (!l->has_commands)
        return 0;
    if ((rc = mdb_cursor_open(ltxn, l->commands, &cur)))
        return rc;
    put_be64(kb, from);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const unsigned char *p = v.mv_data;
        struct log_cmd_rec rec;
        if (k.mv_size != 8 || get_be64(k.mv_data) > to)
            break;
        if (v.mv_size <= LOG_HASH_LEN + 4 ||
            v.mv_size > LOG_HASH_LEN + 4 + LOG_CMD_ID_MAX)
            continue;
        memcpy(rec.fp, p, LOG_HASH_LEN);
        memcpy(&rec.nevents, p + LOG_HASH_LEN, 4);
        rec.nevents = be32toh(rec.nevents);
        rec.first_seq = get_be64(k.mv_data);
        if ((rc = log_cmd_put(dtxn, l, (const char *)p + LOG_HASH_LEN + 4,
                              v.mv_size - LOG_HASH_LEN - 4, &rec)))
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* One derived txn: events from..to (at most CATCH_UP_TXN). */
static int catch_up_chunk(struct log *l, MDB_txn *ltxn, uint64_t from,
                          uint64_t to, log_derive_fn fn, void *ctx)
{
    unsigned char kb[8];
    MDB_val k = {8, kb}, v;
    MDB_cursor *cur;
    MDB_txn *dtxn;
    uint64_t seq = from;
    int rc = mdb_txn_begin(l->denv, NULL, 0, &dtxn);
    if (rc)
        return rc;
    if ((rc = mdb_cursor_open(ltxn, l->events, &cur))) {
        mdb_txn_abort(dtxn);
        return rc;
    }
    put_be64(kb, from);
    /* a cursor walk: the events are consecutive keys. A failed event
     * ends it before the cursor moves (its error must not be lost: after
     * MDB_MAP_FULL the txn is unusable and the caller grows the map). */
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); !rc && seq <= to;
         seq++) {
        if (k.mv_size != 8 || get_be64(k.mv_data) != seq ||
            v.mv_size <= LOG_HASH_LEN) {
            rc = MDB_CORRUPTED; /* a gap in the log */
            break;
        }
        rc = derive_event(l, dtxn, seq, (const char *)v.mv_data + LOG_HASH_LEN,
                          v.mv_size - LOG_HASH_LEN, fn, ctx);
        if (rc)
            break;
        if (l->progress)
            progress_update(l->progress, l->progress->done + 1);
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND && seq > to)
        rc = 0;
    if (!rc)
        rc = derive_commands(l, ltxn, dtxn, from, to);
    if (!rc)
        rc = put_applied(dtxn, l, to);
    if (rc) {
        mdb_txn_abort(dtxn);
        return rc;
    }
    return mdb_txn_commit(dtxn);
}

uint64_t log_catch_up_begin(struct log *l)
{
    uint64_t todo = l->last_seq - l->applied_seq;
    if (l->applied_seq >= l->last_seq)
        return 0;
    if (l->progress)
        progress_note(l->progress,
                      "derived state: replaying %llu events (%llu..%llu) "
                      "from the log",
                      (unsigned long long)todo,
                      (unsigned long long)l->applied_seq + 1,
                      (unsigned long long)l->last_seq);
    else
        diag_info("derived state: replaying %llu events (%llu..%llu) from "
                  "the log",
                  (unsigned long long)todo,
                  (unsigned long long)l->applied_seq + 1,
                  (unsigned long long)l->last_seq);
    progress_begin(l->progress, "derived state: replaying", "events", todo);
    return todo;
}

int log_catch_up_step(struct log *l, log_derive_fn fn, void *ctx, uint64_t max,
                      struct err *e)
{
    uint64_t to = l->applied_seq + max,
             done = l->progress ? l->progress->done : 0;
    MDB_txn *ltxn;
    int rc;

    DESK_ASSERT(!l->readonly && l->denv && max > 0);
    if (to > l->last_seq)
        to = l->last_seq;
    if (l->applied_seq < to) {
        if ((rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &ltxn)))
            return mdb_fail(e, rc, "begin read txn");
        rc = catch_up_chunk(l, ltxn, l->applied_seq + 1, to, fn, ctx);
        mdb_txn_abort(ltxn);
        if (rc == MDB_MAP_FULL) { /* the chunk was aborted: grow, again */
            struct err ge = {0};
            if (l->progress)
                l->progress->done = done;
            if (!log_grow(l, &ge))
                return log_catch_up_step(l, fn, ctx, max, e);
            return err_set(e, ERR_UNAVAILABLE, NULL,
                           "catching up derived state: %s", ge.msg);
        }
        if (rc) {
            if (l->progress) /* that chunk is replayed again */
                l->progress->done = done;
            return err_set(e, ERR_UNAVAILABLE, NULL,
                           "catching up derived state: %s%s", mdb_strerror(rc),
                           log_why(l, rc));
        }
        l->applied_seq = to;
    }
    if (l->applied_seq >= l->last_seq)
        l->derived_behind = false;
    return 0;
}

int log_catch_up(struct log *l, log_derive_fn fn, void *ctx, struct err *e)
{
    int rc = 0;
    if (!log_catch_up_begin(l)) {
        l->derived_behind = false;
        return 0;
    }
    while (l->applied_seq < l->last_seq &&
           !(rc = log_catch_up_step(l, fn, ctx, CATCH_UP_TXN, e)))
        ;
    if (rc)
        progress_abort(l->progress);
    else
        progress_end(l->progress);
    return rc;
}
