/* tools/deskaudit.c - the auditors' tool. Every subcommand opens the live
 * data read-only (an LMDB read txn on one snapshot), so it runs beside a
 * serving deskd. The work is done in core/audit.c, core/verify.c,
 * projections/rebuild.c and projections/export.c (tests call those).
 * Work that walks the log shows its progress on stderr (core/progress.h)
 * unless --quiet; stdout carries only results. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/audit.h"
#include "../core/date.h"
#include "../core/log.h"
#include "../core/progress.h"
#include "../core/version.h"
#include "../projections/export.h"
#include "../projections/fees.h"
#include "../projections/projections.h"
#include "../projections/rebuild.h"
#include "../projections/whatif.h"

static int usage(FILE *f)
{
    fprintf(
        f,
        "usage: deskaudit verify DIR\n"
        "       deskaudit rebuild DIR\n"
        "       deskaudit replay DIR --until SEQ|TIME --out OUTDIR\n"
        "       deskaudit history DIR STREAM [--json]\n"
        "       deskaudit export DIR --format jsonl|csv [--what events|TABLE]"
        " [--out FILE] [--bom]\n"
        "       deskaudit dump DIR [TABLE]\n"
        "       deskaudit fingerprint DIR\n"
        "       deskaudit compare DIR OTHER_DIR\n"
        "       deskaudit backup DIR BACKUPDIR\n"
        "       deskaudit restore BACKUPDIR DIR\n"
        "       deskaudit whatif DIR --config FILE --from DATE --to DATE\n"
        "             --set SECTION.KEY=VALUE [--set ...] [--json]\n"
        "options anywhere: --quiet (no progress), --progress-every SECONDS\n"
        "             (between progress lines when stderr is not a terminal,\n"
        "             default 5; on a terminal one line is updated in place)\n"
        "verify       seq continuity, every hash and prev link, every body's\n"
        "             schema; names the first bad seq; exit 1 if broken\n"
        "rebuild      replays the log into fresh tables, compares them with\n"
        "             the live ones; exit 1 if they differ\n"
        "replay       the data directory as it was after seq SEQ, or at TIME\n"
        "             (ISO 8601 with its zone: events recorded at or before\n"
        "             it), written to OUTDIR (must be absent or empty): log\n"
        "             prefix + every projection; query it with dump, export,\n"
        "             fingerprint, compare, or a deskd started on a copy\n"
        "history      every event of a stream (unit:HY/3-1201, person:P5,\n"
        "             complaint:C12, ...): who, when, what\n"
        "export       events or one projection table for spreadsheets;\n"
        "             CSV headers carry Chinese labels; --bom starts the\n"
        "             file with a UTF-8 byte-order mark for Excel\n"
        "dump         a table as JSON lines; without TABLE lists the tables\n"
        "fingerprint  last seq and a BLAKE2b digest of every projection table\n"
        "compare      projection tables of two data directories\n"
        "backup       hot, compacted copy (mdb_env_copy2 + MDB_CP_COMPACT),\n"
        "             then verifies the copy\n"
        "restore      copies a verified backup into an absent or empty DIR\n"
        "whatif       the log up to --to replayed in a scratch directory\n"
        "             under FILE (the deskd.conf in force) changed by each\n"
        "             --set; from --from on, escalations are fired again by\n"
        "             their timers, complaint intake deadlines worked out\n"
        "             again and late-fee runs run again; late fees,\n"
        "             escalations per rule, complaints escalated and what was\n"
        "             overdue on --to by age, side by side with the real\n"
        "             log; DIR is only read\n"
        "exit status: 0 good, 1 bad (broken, different, refused), 2 error\n");
    return f == stdout ? 0 : 2;
}

/* Where progress goes: stderr, or NULL (--quiet). */
static struct progress *prog;

static int fail(const struct err *e)
{
    progress_abort(prog);
    fprintf(stderr, "deskaudit: %s\n", e->msg);
    return e->code == ERR_CONFLICT || e->code == ERR_INVALID ? 1 : 2;
}

/* --until: a seq (digits) or a timestamp with its zone. */
static int parse_until(const char *s, uint64_t *seq, int64_t *ms)
{
    char *end;
    size_t n = strlen(s);
    const char *t = strchr(s, 'T');

    *seq = 0;
    *ms = 0;
    if (n && strspn(s, "0123456789") == n) {
        errno = 0;
        *seq = strtoull(s, &end, 10);
        return errno || *seq == 0 ? -1 : 0;
    }
    if (!t || !(s[n - 1] == 'Z' || strchr(t, '+') || strchr(t, '-'))) {
        fprintf(stderr,
                "deskaudit: --until '%s': give a seq or a time with "
                "its zone (2026-03-02T10:00:00+08:00)\n",
                s);
        return -1;
    }
    return ts_parse(s, n, 0, ms);
}

static const char *opt(int argc, char **argv, const char *name)
{
    for (int i = 0; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return NULL;
}

static bool flag(int argc, char **argv, const char *name)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], name))
            return true;
    return false;
}

static int cmd_replay(int argc, char **argv)
{
    const char *until = opt(argc, argv, "--until"),
               *out = opt(argc, argv, "--out");
    struct replay_report r;
    struct err e = {0};
    uint64_t seq;
    int64_t ms;

    if (!until || !out)
        return usage(stderr);
    if (parse_until(until, &seq, &ms)) {
        fprintf(stderr, "deskaudit: bad --until '%s'\n", until);
        return 2;
    }
    if (rebuild_as_of(argv[2], out, seq, ms, &r, prog, &e))
        return fail(&e);
    printf("REPLAYED %llu of %llu events into %s\n",
           (unsigned long long)r.events, (unsigned long long)r.live_last_seq,
           out);
    return 0;
}

static int cmd_history(int argc, char **argv)
{
    struct err e = {0};
    uint64_t n;
    bool scanned;

    if (argc < 4)
        return usage(stderr);
    if (audit_history(argv[2], argv[3], flag(argc, argv, "--json"), stdout, &n,
                      &scanned, &e))
        return fail(&e);
    fprintf(stderr, "%llu events in %s%s\n", (unsigned long long)n, argv[3],
            scanned ? " (no stream index: the whole log was scanned)" : "");
    return 0;
}

static int cmd_export(int argc, char **argv)
{
    const char *format = opt(argc, argv, "--format"),
               *what = opt(argc, argv, "--what"),
               *path = opt(argc, argv, "--out");
    enum audit_fmt fmt;
    struct err e = {0};
    uint64_t n;
    FILE *out = stdout;
    int rc;

    if (!format || (strcmp(format, "jsonl") && strcmp(format, "csv")))
        return usage(stderr);
    fmt = !strcmp(format, "csv") ? AUDIT_CSV : AUDIT_JSONL;
    if (path && !(out = fopen(path, "w"))) {
        fprintf(stderr, "deskaudit: %s: %s\n", path, strerror(errno));
        return 2;
    }
    if (fmt == AUDIT_CSV && flag(argc, argv, "--bom"))
        fputs("\xef\xbb\xbf", out); /* lets spreadsheets see UTF-8 */
    if (!what || !strcmp(what, "events"))
        rc = audit_export_events(argv[2], fmt, out, &n, prog, &e);
    else
        rc = proj_export_table(argv[2], what, fmt, out, &n, prog, &e);
    if (path && fclose(out) && !rc)
        rc =
            err_set(&e, ERR_UNAVAILABLE, NULL, "%s: %s", path, strerror(errno));
    if (rc)
        return fail(&e);
    fprintf(stderr, "exported %llu %s\n", (unsigned long long)n,
            what && strcmp(what, "events") ? "records" : "events");
    return 0;
}

static int cmd_dump(int argc, char **argv)
{
    struct err e = {0};
    uint64_t n;

    if (argc < 4) {
        puts("events");
        for (int i = 0; i < DB_COUNT; i++)
            puts(proj_db_names[i]);
        return 0;
    }
    if (!strcmp(argv[3], "events"))
        return audit_export_events(argv[2], AUDIT_JSONL, stdout, &n, prog, &e)
                   ? fail(&e)
                   : 0;
    return proj_export_table(argv[2], argv[3], AUDIT_JSONL, stdout, &n, prog,
                             &e)
               ? fail(&e)
               : 0;
}

static int cmd_fingerprint(const char *dir)
{
    struct fingerprint fp;
    struct err e = {0};

    if (proj_fingerprint(dir, &fp, &e))
        return fail(&e);
    printf("seq %llu records %llu blake2b ", (unsigned long long)fp.last_seq,
           (unsigned long long)fp.records);
    for (size_t i = 0; i < sizeof(fp.hash); i++)
        printf("%02x", fp.hash[i]);
    putchar('\n');
    return 0;
}

static int cmd_compare(const char *a, const char *b)
{
    struct rebuild_report r;
    struct err e = {0};

    if (rebuild_compare_dirs(a, b, &r, &e))
        return fail(&e);
    if (!r.identical) {
        printf("DIFFERENT: %s\n", r.first_diff);
        return 1;
    }
    printf("IDENTICAL: every projection table matches\n");
    return 0;
}

static int cmd_backup(const char *dir, const char *to)
{
    struct err e = {0};

    /* the log, then its derived state built in the copy */
    progress_note(prog,
                  "copying the log to %s (compacted, one snapshot; "
                  "no progress until it is done)",
                  to);
    if (audit_backup(dir, to, &e) || rebuild_derived(to, 0, prog, &e))
        return fail(&e);
    printf("BACKUP %s -> %s\n", dir, to);
    return audit_verify_print(to, prog);
}

static int cmd_restore(const char *from, const char *dir)
{
    struct err e = {0};

    if (audit_restore(from, dir, prog, &e) || rebuild_derived(dir, 0, prog, &e))
        return fail(&e);
    printf("RESTORED %s -> %s\n", from, dir);
    return 0;
}

/* Every --set of argv applied to c (validated like the file's lines),
 * and re-decided by whatif. */
static int whatif_settings(int argc, char **argv, struct config *c,
                           json_t *list, struct err *e)
{
    for (int i = 0; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--set"))
            continue;
        if (cfg_override(c, argv[i + 1], e) ||
            whatif_setting_ok(argv[i + 1], e))
            return e->code;
        json_array_append_new(list, json_string(argv[i + 1]));
    }
    if (!json_array_size(list))
        return err_set(e, ERR_INVALID, NULL,
                       "whatif needs at least one --set SECTION.KEY=VALUE");
    return 0;
}

static json_t *side_json(const struct whatif_side *s)
{
    json_t *esc = json_object();
    for (int r = 0; r < RULE_COUNT; r++)
        json_object_set_new(esc, cmp_rule_names[r],
                            json_integer((json_int_t)s->escalations[r]));
    json_t *age = json_object();
    for (int i = 0; i < FEES_BUCKETS; i++)
        json_object_set_new(age, fees_bucket_names[i],
                            json_integer((json_int_t)s->overdue_fen[i]));
    return json_pack("{s:I, s:I, s:o, s:I, s:I, s:o, s:I}", "late_fee_fen",
                     (json_int_t)s->late_fee_fen, "late_fee_bills",
                     (json_int_t)s->late_fee_bills, "complaint_escalations",
                     esc, "workorder_escalations",
                     (json_int_t)s->wo_escalations, "complaints_escalated",
                     (json_int_t)s->complaints_escalated, "overdue_fen_by_age",
                     age, "overdue_fen", (json_int_t)s->overdue_total);
}

static void row(const char *what, int64_t a, int64_t b)
{
    printf("%-38s %12lld %12lld %+12lld\n", what, (long long)a, (long long)b,
           (long long)(b - a));
}

static void whatif_table(const struct whatif_report *r, const char *from,
                         const char *to, json_t *set, const struct config *c)
{
    char what[64];
    printf("what-if %s .. %s\n", from, to);
    for (size_t i = 0; i < json_array_size(set); i++)
        printf("  --set %s\n", json_string_value(json_array_get(set, i)));
    printf("%-38s %12s %12s %12s\n", "", "actual", "what-if", "difference");
    row("late fees charged (fen)", r->real.late_fee_fen, r->sim.late_fee_fen);
    row("late-fee assessments", (int64_t)r->real.late_fee_bills,
        (int64_t)r->sim.late_fee_bills);
    for (int i = 0; i < RULE_COUNT; i++) {
        snprintf(what, sizeof(what), "escalated %s (%s)", cmp_rule_names[i],
                 c->cmp.rule[i].notify);
        row(what, (int64_t)r->real.escalations[i],
            (int64_t)r->sim.escalations[i]);
    }
    row("complaints escalated", (int64_t)r->real.complaints_escalated,
        (int64_t)r->sim.complaints_escalated);
    row("work-order escalations", (int64_t)r->real.wo_escalations,
        (int64_t)r->sim.wo_escalations);
    for (int i = 0; i < FEES_BUCKETS; i++) {
        snprintf(what, sizeof(what), "overdue on %s, %s days (fen)", to,
                 fees_bucket_names[i]);
        row(what, r->real.overdue_fen[i], r->sim.overdue_fen[i]);
    }
    snprintf(what, sizeof(what), "overdue on %s, total (fen)", to);
    row(what, r->real.overdue_total, r->sim.overdue_total);
    printf("replay: %llu events taken as recorded, %llu timer events left "
           "to the timers (%llu fired), %llu intakes with new deadlines, "
           "%llu late-fee runs run again (%llu refused or charged nothing)\n",
           (unsigned long long)r->copied, (unsigned long long)r->dropped,
           (unsigned long long)r->timers, (unsigned long long)r->rewritten,
           (unsigned long long)r->reruns, (unsigned long long)r->rerun_refused);
}

static int cmd_whatif(int argc, char **argv)
{
    const char *conf = opt(argc, argv, "--config"),
               *from = opt(argc, argv, "--from"), *to = opt(argc, argv, "--to");
    struct config *c = calloc(1, sizeof(*c));
    struct whatif_report r;
    struct err e = {0};
    json_t *set = json_array();
    int32_t d0, d1;
    int rc = 2;

    if (!conf || !from || !to) {
        fprintf(stderr, "deskaudit: whatif needs --config FILE (the deskd.conf "
                        "in force), --from DATE and --to DATE\n");
        goto out;
    }
    if (date_parse(from, strlen(from), &d0) ||
        date_parse(to, strlen(to), &d1) || d1 < d0) {
        fprintf(stderr,
                "deskaudit: --from '%s' --to '%s': give two dates "
                "(2026-01-01), --to not before --from\n",
                from, to);
        goto out;
    }
    cfg_init(c);
    if (cfg_load_rules(c, conf, &e) ||
        whatif_settings(argc, argv, c, set, &e)) {
        rc = fail(&e);
        goto out;
    }
    if (whatif_run(argv[2], c, ts_of_date(d0, 0, c->cal.offset_min),
                   ts_of_date(d1 + 1, 0, c->cal.offset_min) - 1, &r, prog,
                   &e)) {
        rc = fail(&e);
        goto out;
    }
    if (flag(argc, argv, "--json")) {
        json_t *j = json_pack(
            "{s:s, s:s, s:O, s:o, s:o, s:{s:I, s:I, s:I, "
            "s:I, s:I, s:I}}",
            "from", from, "to", to, "set", set, "actual", side_json(&r.real),
            "whatif", side_json(&r.sim), "replay", "copied",
            (json_int_t)r.copied, "dropped", (json_int_t)r.dropped,
            "timers_fired", (json_int_t)r.timers, "intakes_redone",
            (json_int_t)r.rewritten, "late_fee_runs", (json_int_t)r.reruns,
            "late_fee_runs_empty", (json_int_t)r.rerun_refused);
        json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        putchar('\n');
        json_decref(j);
    } else {
        whatif_table(&r, from, to, set, c);
    }
    rc = 0;
out:
    json_decref(set);
    free(c);
    return rc;
}

/* Takes --quiet and --progress-every out of argv; -1 on a bad value. */
static int progress_options(int *argc, char **argv, struct progress *p)
{
    bool quiet = false;
    int n = 0;
    progress_init(p, stderr);
    for (int i = 0; i < *argc; i++) {
        if (!strcmp(argv[i], "--quiet")) {
            quiet = true;
        } else if (!strcmp(argv[i], "--progress-every") && i + 1 < *argc) {
            char *end;
            double s = strtod(argv[++i], &end);
            if (*end || !(s > 0 && s < 86400)) {
                fprintf(stderr,
                        "deskaudit: --progress-every '%s': give "
                        "seconds (0.5, 5, 60)\n",
                        argv[i]);
                return -1;
            }
            p->interval_ms = (int64_t)(s * 1000);
        } else {
            argv[n++] = argv[i];
        }
    }
    argv[n] = NULL;
    *argc = n;
    prog = quiet ? NULL : p;
    diag_quiet = quiet; /* library notes on stderr too */
    return 0;
}

int main(int argc, char **argv)
{
    struct progress p;
    const char *c;

    if (progress_options(&argc, argv, &p))
        return 2;
    c = argc > 1 ? argv[1] : "";

    if (!strcmp(c, "-h") || !strcmp(c, "--help") || !strcmp(c, "help"))
        return usage(stdout);
    if (!strcmp(c, "-V") || !strcmp(c, "--version")) {
        printf("deskaudit %s\n", DESKD_VERSION);
        return 0;
    }
    if (argc < 3)
        return usage(stderr);
    if (!strcmp(c, "verify"))
        return audit_verify_print(argv[2], prog);
    if (!strcmp(c, "rebuild"))
        return audit_rebuild_print(argv[2], prog);
    if (!strcmp(c, "replay"))
        return cmd_replay(argc, argv);
    if (!strcmp(c, "history"))
        return cmd_history(argc, argv);
    if (!strcmp(c, "export"))
        return cmd_export(argc, argv);
    if (!strcmp(c, "dump"))
        return cmd_dump(argc, argv);
    if (!strcmp(c, "fingerprint"))
        return cmd_fingerprint(argv[2]);
    if (!strcmp(c, "compare") && argc == 4)
        return cmd_compare(argv[2], argv[3]);
    if (!strcmp(c, "backup") && argc == 4)
        return cmd_backup(argv[2], argv[3]);
    if (!strcmp(c, "whatif"))
        return cmd_whatif(argc, argv);
    if (!strcmp(c, "restore") && argc == 4)
        return cmd_restore(argv[2], argv[3]);
    return usage(stderr);
}
