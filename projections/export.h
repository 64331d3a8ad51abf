/* projections/export.h - read models for auditors: any projection table of
 * a data directory (one read snapshot) as JSON lines or CSV, with Chinese
 * column labels where the field has one. `deskaudit dump` and `deskaudit
 * export --what TABLE` use it. */
#ifndef DESKD_EXPORT_H
#define DESKD_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "../core/audit.h"
#include "../core/err.h"

/* The label of a field of a table's records, or NULL. */
const char *proj_field_label(const char *field);

/* Writes every record of table (a name from PROJ_DBS, e.g. "units") in key
 * order. JSON lines: {"key": "...", <the record's fields>} (a record that is
 * not a map is under "value"). CSV: a header row, then one row per record:
 * the key, then one column per field met in the table (in order of first
 * appearance; nested values as JSON). p (NULL: silent) counts the records. Keys
 * are printed with their 0 bytes as
 * "|" and other bytes outside printable UTF-8 as \xNN. */
int proj_export_table(const char *dir, const char *table, enum audit_fmt fmt,
                      FILE *out, uint64_t *count, struct progress *p,
                      struct err *e);

#endif
