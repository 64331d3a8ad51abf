/* core/audit.h - what auditors read out of a data directory, read-only and
 * beside a serving deskd: one stream's history, the whole log as JSON lines
 * or CSV, hot backups and restores. Projection tables are exported by
 * projections/export.c with the same writers. */
#ifndef DESKD_AUDIT_H
#define DESKD_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "progress.h"

enum audit_fmt { AUDIT_JSONL, AUDIT_CSV };

/* One CSV cell (RFC 4180: quoted when it holds a comma, quote or line
 * break; quotes doubled). */
void audit_csv_cell(FILE *f, const char *s, size_t n);
/* A JSON value as a CSV cell: strings as they are, null empty, numbers and
 * booleans as text, arrays and maps as compact JSON. */
void audit_csv_json(FILE *f, const json_t *v);
/* A header cell: "中文(field)" when label is known, else the field name. */
void audit_csv_header(FILE *f, const char *label, const char *field);

/* Every event of the log (one snapshot) to out: JSON lines (the stored body
 * with bin values as hex, plus "hash") or CSV with one column per body key
 * and data as JSON. *count = events written. p (NULL: silent) counts them
 * (progress.h; everywhere below too). */
int audit_export_events(const char *dir, enum audit_fmt fmt, FILE *out,
                        uint64_t *count, struct progress *p, struct err *e);

/* Every event of one stream ("unit:HY/3-1201", "person:P5"), in version
 * order: a readable line each (seq, recorded_at, occurred_at, actor, desk,
 * type, data as JSON) or, with json, one JSON object per line. *scanned is
 * set when the log had no stream index and every event was read. */
int audit_history(const char *dir, const char *stream, bool json, FILE *out,
                  uint64_t *count, bool *scanned, struct err *e);

/* Hot backup: a compacted copy of the environment (mdb_env_copy2 with
 * MDB_CP_COMPACT, one read snapshot) into backup_dir, created if absent,
 * refused if not empty. The live data is opened read-only. */
int audit_backup(const char *dir, const char *backup_dir, struct err *e);
/* Restores a backup into dir, which must be absent or empty, once the
 * backup verifies; the copy is flushed before it returns. */
int audit_restore(const char *backup_dir, const char *dir, struct progress *p,
                  struct err *e);

/* true when dir does not exist or holds nothing. */
bool audit_dir_empty(const char *dir);

#endif
