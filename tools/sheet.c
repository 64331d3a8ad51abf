/* tools/sheet.c - prints a handover sheet (query.handover's result) as a
 * page a clerk reads at the end of a shift. Every figure is copied from
 * the result; nothing is recomputed here except the per-method total
 * line, summed as integers. */
#include "sheet.h"

#include <stdint.h>
#include <string.h>

#include "../core/cmd.h"

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "-";
}

static long long num(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

/* "500 fen (5.00 yuan)" from integer fen (R-GEN-04). */
static void money(FILE *f, long long fen)
{
    char yuan[CMD_DEC2_STR];
    cmd_dec2_format((int64_t)fen, yuan);
    fprintf(f, "%lld fen (%s yuan)", fen, yuan);
}

static void money_block(FILE *f, const json_t *m)
{
    static const char *const methods[] = {"cash", "debit", "transfer", "pos"};
    const json_t *paid = json_object_get(m, "paid_by_method"),
                 *voided = json_object_get(m, "voided_by_method"),
                 *net = json_object_get(m, "net_by_method");
    long long tp = 0, tv = 0, tn = 0;

    fprintf(f, "\nMoney, fen          paid     voided        net\n");
    for (size_t i = 0; i < sizeof(methods) / sizeof(*methods); i++) {
        fprintf(f, "  %-10s %11lld %10lld %10lld\n", methods[i],
                num(paid, methods[i]), num(voided, methods[i]),
                num(net, methods[i]));
        tp += num(paid, methods[i]);
        tv += num(voided, methods[i]);
        tn += num(net, methods[i]);
    }
    fprintf(f, "  %-10s %11lld %10lld %10lld\n", "total", tp, tv, tn);
    fprintf(f, "  %lld payment(s), %lld void(s), %lld receipt(s)\n",
            num(m, "payments"), num(m, "voids"), num(m, "receipts"));
    fprintf(f, "Cash to hand over: ");
    money(f, num(m, "cash_expected"));
    fputc('\n', f);
}

static void complaints(FILE *f, const json_t *r)
{
    const json_t *open = json_object_get(r, "complaints_open"), *c;
    size_t i;

    fprintf(f, "\nComplaints received: %lld; still open at the end: %zu\n",
            num(r, "complaints_received"), json_array_size(open));
    for (i = 0; i < json_array_size(open) && (c = json_array_get(open, i)); i++)
        fprintf(f, "  %-8s %-14s %-10s next deadline %s (%s)\n",
                str(c, "complaint"), str(c, "unit"), str(c, "state"),
                str(c, "next_deadline"), str(c, "next_rule"));
}

/* {seq, type, id, at, rule} rows: escalations and deadlines fired. */
static void fired(FILE *f, const char *title, const json_t *rows)
{
    const json_t *e;
    size_t i;

    fprintf(f, "%s: %zu\n", title, json_array_size(rows));
    for (i = 0; i < json_array_size(rows) && (e = json_array_get(rows, i)); i++)
        fprintf(f, "  %s  %-30s %-14s %s\n", str(e, "at"), str(e, "type"),
                str(e, "id"), str(e, "rule"));
}

static void next_deadlines(FILE *f, const json_t *r)
{
    const json_t *rows = json_object_get(r, "deadlines_next"), *d;
    size_t i;

    fprintf(f, "Deadlines in the next shift (until %s): %zu\n",
            str(r, "next_to"), json_array_size(rows));
    for (i = 0; i < json_array_size(rows) && (d = json_array_get(rows, i)); i++)
        fprintf(f, "  %s  %-28s %s\n", str(d, "due"), str(d, "cmd"),
                str(d, "key"));
}

static void ids(FILE *f, const char *title, const json_t *rows)
{
    const json_t *v;
    size_t i;

    fprintf(f, "%s: %zu", title, json_array_size(rows));
    for (i = 0; i < json_array_size(rows) && (v = json_array_get(rows, i)); i++)
        fprintf(f, "%s%s", i ? ", " : "  ",
                json_is_string(v) ? json_string_value(v) : "-");
    fputc('\n', f);
}

static void keys(FILE *f, const char *title, const json_t *rows)
{
    const json_t *k;
    size_t i;

    fprintf(f, "%s: %zu\n", title, json_array_size(rows));
    for (i = 0; i < json_array_size(rows) && (k = json_array_get(rows, i)); i++)
        fprintf(f, "  %s  %-14s %lld key(s)\n", str(k, "at"), str(k, "unit"),
                num(k, "keys"));
}

static void visits(FILE *f, const json_t *r)
{
    const json_t *rows = json_object_get(r, "return_visits"), *o;
    size_t i;

    fprintf(f, "Work orders waiting for a return visit: %zu\n",
            json_array_size(rows));
    for (i = 0; i < json_array_size(rows) && (o = json_array_get(rows, i)); i++)
        fprintf(f, "  %-8s %-12s %-14s %-10s visit due %s\n", str(o, "order"),
                str(o, "kind"), str(o, "unit"), str(o, "assignee"),
                str(o, "visit_due"));
}

void sheet_print(FILE *f, const json_t *r)
{
    const char *desk = str(r, "desk");

    fprintf(f, "交接班 shift handover — desk %s\n",
            desk[0] && strcmp(desk, "-") ? desk : "(every desk)");
    fprintf(f, "Shift %s to %s: %lld event(s)", str(r, "from"), str(r, "to"),
            num(r, "events"));
    if (num(r, "events"))
        fprintf(f, ", seq %lld..%lld", num(r, "first_seq"), num(r, "last_seq"));
    fputc('\n', f);
    money_block(f, json_object_get(r, "money"));
    complaints(f, r);
    fputc('\n', f);
    fired(f, "Escalations fired", json_object_get(r, "escalations"));
    fired(f, "Deadlines fired", json_object_get(r, "deadlines_fired"));
    next_deadlines(f, r);
    fputc('\n', f);
    ids(f, "Cards issued", json_object_get(r, "cards_issued"));
    ids(f, "Cards reported lost", json_object_get(r, "cards_lost"));
    keys(f, "Keys handed over", json_object_get(r, "keys_handed"));
    keys(f, "Keys returned", json_object_get(r, "keys_returned"));
    ids(f, "Release passes", json_object_get(r, "release_passes"));
    visits(f, r);
}
