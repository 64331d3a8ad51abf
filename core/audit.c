/* core/audit.c - history, event export, hot backup and restore. Every
 * read here is one LMDB read txn on an environment opened read-only, so it
 * runs beside a serving deskd and never blocks it. */
#include "audit.h"

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec_json.h"
#include "log.h"
#include "mask.h"

#define JSON_OUT (JSON_COMPACT | JSON_PRESERVE_ORDER)
#define COPY_BUF (1 << 20)

static const struct {
    const char *field, *label;
} event_cols[] = {
    {"seq", "序号"},
    {"type", "事件类型"},
    {"stream", "对象"},
    {"version", "版本"},
    {"recorded_at", "记录时间"},
    {"occurred_at", "发生时间"},
    {"actor", "操作员"},
    {"desk", "前台"},
    {"cmd_id", "命令编号"},
    {"data", "内容"},
    {"prev", "前一事件哈希"},
    {"hash", "哈希"},
};
#define NCOLS (sizeof(event_cols) / sizeof(*event_cols))

bool audit_dir_empty(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    bool empty = true;
    if (!d)
        return errno == ENOENT;
    while (empty && (de = readdir(d)))
        empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
    closedir(d);
    return empty;
}

void audit_csv_cell(FILE *f, const char *s, size_t n)
{
    if (!memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\n', n) &&
        !memchr(s, '\r', n)) {
        fwrite(s, 1, n, f);
        return;
    }
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            fputc('"', f);
        fputc(s[i], f);
    }
    fputc('"', f);
}

void audit_csv_json(FILE *f, const json_t *v)
{
    char *s;
    if (!v || json_is_null(v))
        return;
    if (json_is_string(v)) {
        audit_csv_cell(f, json_string_value(v), json_string_length(v));
        return;
    }
    s = json_dumps(v, JSON_OUT | JSON_ENCODE_ANY);
    if (s)
        audit_csv_cell(f, s, strlen(s));
    free(s);
}

void audit_csv_header(FILE *f, const char *label, const char *field)
{
    char buf[256];
    if (label)
        snprintf(buf, sizeof(buf), "%s(%s)", label, field);
    else
        snprintf(buf, sizeof(buf), "%s", field);
    audit_csv_cell(f, buf, strlen(buf));
}

static json_t *hex(const unsigned char *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char s[2 * LOG_HASH_LEN + 1];
    n = n > LOG_HASH_LEN ? LOG_HASH_LEN : n;
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = digits[p[i] >> 4];
        s[2 * i + 1] = digits[p[i] & 15];
    }
    s[2 * n] = '\0';
    return json_string(s);
}

/* The stored record as JSON: its body, then "hash". NULL if it does not
 * decode. */
static json_t *record_json(const MDB_val *v)
{
    struct codec_doc d;
    json_t *j;
    if (v->mv_size <= LOG_HASH_LEN ||
        codec_doc_parse_trusted(&d, (const char *)v->mv_data + LOG_HASH_LEN,
                                v->mv_size - LOG_HASH_LEN, NULL))
        return NULL;
    j = codec_to_json(d.obj);
    codec_doc_release(&d);
    mask_json(json_object_get(j, "data")); /* R-GEN-02 */
    if (j && json_is_object(j))
        json_object_set_new(j, "hash", hex(v->mv_data, LOG_HASH_LEN));
    return j;
}

static void write_event(FILE *out, enum audit_fmt fmt, json_t *j)
{
    if (fmt == AUDIT_JSONL) {
        json_dumpf(j, out, JSON_OUT);
        fputc('\n', out);
        return;
    }
    for (size_t c = 0; c < NCOLS; c++) {
        if (c)
            fputc(',', out);
        audit_csv_json(out, json_object_get(j, event_cols[c].field));
    }
    fputs("\r\n", out);
}

/* Opens dir read-only and begins one read txn. */
static int open_snapshot(struct log *l, MDB_txn **txn, const char *dir,
                         struct err *e)
{
    int rc = log_open(l, dir, 0, true, e);
    if (rc)
        return rc;
    if ((rc = log_read_begin(l, txn, e)))
        log_close(l);
    return rc;
}

int audit_export_events(const char *dir, enum audit_fmt fmt, FILE *out,
                        uint64_t *count, struct progress *p, struct err *e)
{
    struct log l;
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    MDB_stat st;
    int rc = open_snapshot(&l, &txn, dir, e);

    *count = 0;
    if (rc)
        return rc;
    mdb_stat(txn, l.events, &st);
    progress_begin(p, "exporting", "events", st.ms_entries);
    if (fmt == AUDIT_CSV) {
        for (size_t c = 0; c < NCOLS; c++) {
            if (c)
                fputc(',', out);
            audit_csv_header(out, event_cols[c].label, event_cols[c].field);
        }
        fputs("\r\n", out);
    }
    mdb_cursor_open(txn, l.events, &cur);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        json_t *j = record_json(&v);
        if (!j) {
            uint64_t s = 0;
            if (k.mv_size == 8)
                memcpy(&s, k.mv_data, 8);
            rc = err_set(e, ERR_INVALID, NULL,
                         "seq %llu does not decode (run deskaudit verify)",
                         (unsigned long long)be64toh(s));
            break;
        }
        write_event(out, fmt, j);
        json_decref(j);
        progress_update(p, ++*count);
    }
    mdb_cursor_close(cur);
    mdb_txn_abort(txn);
    log_close(&l);
    if (rc == MDB_NOTFOUND)
        progress_end(p);
    else
        progress_abort(p);
    if (rc == MDB_NOTFOUND)
        return ferror(out) ? err_set(e, ERR_UNAVAILABLE, NULL, "write failed")
                           : 0;
    return (e && e->code) ? rc
                          : err_set(e, ERR_UNAVAILABLE, NULL, "read log: %s",
                                    mdb_strerror(rc));
}

struct history_ctx {
    FILE *out;
    bool json;
    uint64_t n;
};

static const char *jstr(json_t *j, const char *key, const char *def)
{
    const char *s = json_string_value(json_object_get(j, key));
    return s ? s : def;
}

static int history_line(void *arg, uint64_t seq, const char *body, size_t len)
{
    struct history_ctx *h = arg;
    struct codec_doc d;
    json_t *j;
    char *data;

    if (codec_doc_parse_trusted(&d, body, len, NULL))
        return 0;
    j = codec_to_json(d.obj);
    codec_doc_release(&d);
    if (!j)
        return 0;
    mask_json(json_object_get(j, "data")); /* R-GEN-02 */
    if (h->json) {
        json_object_del(j, "prev");
        json_dumpf(j, h->out, JSON_OUT);
        fputc('\n', h->out);
    } else {
        data = json_dumps(json_object_get(j, "data"), JSON_OUT);
        fprintf(h->out, "%llu\t%lld\t%s\t%s\t%s\t%s\t%s\t%s\n",
                (unsigned long long)seq,
                (long long)json_integer_value(json_object_get(j, "version")),
                jstr(j, "recorded_at", "?"), jstr(j, "occurred_at", "-"),
                jstr(j, "actor", "?"), jstr(j, "desk", "-"),
                jstr(j, "type", "?"), data ? data : "{}");
        free(data);
    }
    json_decref(j);
    h->n++;
    return 0;
}

int audit_history(const char *dir, const char *stream, bool json, FILE *out,
                  uint64_t *count, bool *scanned, struct err *e)
{
    struct history_ctx h = {out, json, 0};
    struct log l;
    MDB_txn *txn;
    int rc = open_snapshot(&l, &txn, dir, e);

    *count = 0;
    if (rc)
        return rc;
    if (!json)
        fprintf(out, "seq\tversion\trecorded_at\toccurred_at\tactor\tdesk\t"
                     "type\tdata\n");
    {
        /* the stream index is derived state: without it, a scan */
        MDB_txn *dtxn = NULL;
        struct err de = {0};
        uint64_t applied = 0;
        if (l.denv && !log_derived_begin(&l, &dtxn, &de) &&
            log_applied_seq(dtxn, &l, &applied)) {
            mdb_txn_abort(dtxn);
            dtxn = NULL;
        }
        rc = log_stream_events(dtxn, txn, &l, stream, strlen(stream),
                               history_line, &h, scanned);
        /* derived state is committed lazily, so a running deskd's lags
         * the log a little: the log's tail past it is read */
        if (!rc && dtxn)
            rc = log_stream_scan(txn, &l, stream, strlen(stream), applied + 1,
                                 history_line, &h);
        if (dtxn)
            mdb_txn_abort(dtxn);
    }
    mdb_txn_abort(txn);
    log_close(&l);
    *count = h.n;
    return rc ? err_set(e, ERR_UNAVAILABLE, NULL, "read stream '%s' failed",
                        stream)
              : 0;
}

static int make_empty_dir(const char *dir, struct err *e)
{
    if (!audit_dir_empty(dir))
        return err_set(e, ERR_CONFLICT, NULL,
                       "'%s' is not empty: refusing to overwrite", dir);
    if (mkdir(dir, 0750) && errno != EEXIST)
        return err_set(e, ERR_UNAVAILABLE, NULL, "mkdir '%s': %s", dir,
                       strerror(errno));
    return 0;
}

int audit_backup(const char *dir, const char *backup_dir, struct err *e)
{
    struct log l;
    int rc;

    if ((rc = make_empty_dir(backup_dir, e)))
        return rc;
    if ((rc = log_open(&l, dir, 0, true, e)))
        return rc;
    rc = mdb_env_copy2(l.env, backup_dir, MDB_CP_COMPACT);
    if (rc == MDB_MAP_RESIZED) { /* the live deskd grew the map meanwhile */
        char p[4096];
        snprintf(p, sizeof(p), "%s/data.mdb", backup_dir);
        unlink(p);
        mdb_env_set_mapsize(l.env, 0);
        rc = mdb_env_copy2(l.env, backup_dir, MDB_CP_COMPACT);
    }
    log_close(&l);
    return rc ? err_set(e, ERR_UNAVAILABLE, NULL, "backup to '%s': %s",
                        backup_dir, mdb_strerror(rc))
              : 0;
}

static int copy_file(const char *from, const char *to, struct progress *p,
                     struct err *e)
{
    int in = open(from, O_RDONLY), out = -1, rc = 0;
    char *buf = malloc(COPY_BUF);
    ssize_t n = 0;
    uint64_t copied = 0;
    struct stat st;

    if (in < 0 || !buf) {
        rc = err_set(e, ERR_UNAVAILABLE, NULL, "open '%s': %s", from,
                     strerror(errno));
        goto out;
    }
    out = open(to, O_WRONLY | O_CREAT | O_EXCL, 0640);
    if (out < 0) {
        rc = err_set(e, ERR_UNAVAILABLE, NULL, "create '%s': %s", to,
                     strerror(errno));
        goto out;
    }
    progress_begin(p, "copying", "MiB",
                   fstat(in, &st) ? 0 : (uint64_t)st.st_size >> 20);
    while ((n = read(in, buf, COPY_BUF)) > 0) {
        copied += (uint64_t)n;
        progress_update_now(p, copied >> 20);
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0) {
                n = -1;
                break;
            }
            off += w;
        }
        if (n < 0)
            break;
    }
    if (n < 0 || fsync(out))
        rc = err_set(e, ERR_UNAVAILABLE, NULL, "copy to '%s': %s", to,
                     strerror(errno));
    if (rc)
        progress_abort(p);
    else
        progress_end(p);
out:
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    free(buf);
    return rc;
}

int audit_restore(const char *backup_dir, const char *dir, struct progress *p,
                  struct err *e)
{
    char from[4096], tmp[4096], to[4096];
    struct log l;
    uint64_t n, bad;
    int rc, dfd;

    snprintf(from, sizeof(from), "%s/data.mdb", backup_dir);
    snprintf(tmp, sizeof(tmp), "%s/data.mdb.restoring", dir);
    snprintf(to, sizeof(to), "%s/data.mdb", dir);
    if (access(from, R_OK))
        return err_set(e, ERR_NOT_FOUND, NULL, "'%s' holds no backup",
                       backup_dir);
    if ((rc = make_empty_dir(dir, e)))
        return rc;
    /* Only an intact backup is restored. */
    if ((rc = log_open(&l, backup_dir, 0, true, e)))
        return rc;
    l.progress = p;
    rc = log_verify(&l, &n, &bad, e);
    log_close(&l);
    if (rc)
        return rc;
    if ((rc = copy_file(from, tmp, p, e)))
        return rc;
    if (rename(tmp, to))
        return err_set(e, ERR_UNAVAILABLE, NULL, "rename to '%s': %s", to,
                       strerror(errno));
    if ((dfd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}
