/* handlers/explain.c - "why" for the figures a query shows: with
 * explain=true, a query writes beside a figure the events that produced it
 * (read back from the log by seq) and the rule ids, settings and calendar
 * facts that turned them into the figure. One entry shape for every
 * query, {seq, type, at, rule, what} plus "fen" when the entry adds to (or
 * takes from) an amount, so the entries of an amount sum to it. Entries
 * are part of the result and leave masked with it (R-GEN-02); "what" is
 * free text and is masked as such. Writes nothing to LMDB. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../projections/timeline.h"
#include "handlers.h"

#define WHY_WHAT_MAX 512    /* bytes of one entry's "what" */
#define WHY_CAL_DAYS_MAX 92 /* days a calendar fact walks, about a quarter */

bool hdl_explain(const struct args *a)
{
    return arg_has(a, "explain") && arg_int(a, "explain");
}

void why_begin_in(struct why *y, struct hctx *h, struct cw *w, const char *key)
{
    y->h = h;
    y->w = w;
    y->n = 0;
    cw_str(w, key);
    y->at = cw_array_open(w);
}

void why_begin(struct why *y, struct hctx *h, const char *key)
{
    why_begin_in(y, h, h->result, key);
}

void why_end(struct why *y)
{
    cw_array_close(y->w, y->at, y->n);
}

static void entry(struct why *y, uint64_t seq, const char *type, int64_t at,
                  const char *rule, int64_t fen, const char *fmt, va_list ap)
{
    struct cw *w = y->w;
    char what[WHY_WHAT_MAX];

    vsnprintf(what, sizeof(what), fmt, ap);
    cw_map(w, fen == WHY_NO_FEN ? 5 : 6);
    if (seq)
        cw_kint(w, "seq", (int64_t)seq);
    else
        cw_knil(w, "seq");
    cw_kstr(w, "type", type);
    if (at)
        cw_kts(w, "at", at, y->h->cfg->cal.offset_min);
    else
        cw_knil(w, "at");
    cw_kstr(w, "rule", rule);
    cw_kstr(w, "what", what);
    if (fen != WHY_NO_FEN)
        cw_kint(w, "fen", fen);
    y->n++;
}

void why_entry(struct why *y, uint64_t seq, const char *type, int64_t at,
               const char *rule, int64_t fen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    entry(y, seq, type, at, rule, fen, fmt, ap);
    va_end(ap);
}

void why_fact(struct why *y, const char *kind, const char *rule,
              const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    entry(y, 0, kind, 0, rule, WHY_NO_FEN, fmt, ap);
    va_end(ap);
}

int hdl_event_get(struct hctx *h, uint64_t seq, struct codec_doc *doc,
                  struct event *ev)
{
    const unsigned char *hash;
    const char *body;
    size_t len;
    int rc = log_get(h->ltxn, h->log, seq, &hash, &body, &len);

    if (rc)
        return rc;
    return event_parse(ev, doc, body, len, NULL);
}

int why_event(struct why *y, uint64_t seq, const char *rule, int64_t fen,
              const char *fmt, ...)
{
    struct codec_doc d;
    struct event ev;
    va_list ap;
    int rc = hdl_event_get(y->h, seq, &d, &ev);

    if (rc)
        return rc;
    va_start(ap, fmt);
    entry(y, seq, ev_type_name(ev.type), ev.occurred_at, rule, fen, fmt, ap);
    va_end(ap);
    codec_doc_release(&d);
    return 0;
}

/* Appends to buf the runs of days in [from, to] for which keep() holds,
 * as "2026-10-01..2026-10-07" or "2026-10-08", comma-separated. */
static void day_runs(const struct calendar *c, int32_t from, int32_t to,
                     bool workday, char *buf, size_t cap)
{
    size_t n = strlen(buf);

    for (int32_t d = from; d <= to && n + 2 * DATE_STR_MAX + 4 < cap; d++) {
        char a[DATE_STR_MAX], b[DATE_STR_MAX];
        int32_t e = d;
        if (cal_is_workday(c, d) != workday)
            continue;
        while (e < to && cal_is_workday(c, e + 1) == workday)
            e++;
        date_format(d, a);
        date_format(e, b);
        n += (size_t)snprintf(buf + n, cap - n, "%s%s%s%s", n ? ", " : "", a,
                              e > d ? ".." : "", e > d ? b : "");
        d = e;
    }
}

void why_calendar(struct why *y, const char *rule, const struct deadline *d,
                  int64_t from, int64_t due)
{
    const struct calendar *c = y->h->cal;
    int off = y->h->cfg->cal.offset_min;
    int32_t f, t;
    struct cal_hours hw = y->h->cfg->cal.work, hr = y->h->cfg->cal.rest;
    char off_days[WHY_WHAT_MAX / 2] = "", work[WHY_WHAT_MAX / 2] = "";

    if (d->kind == DL_NOW || d->kind == DL_HOURS || d->kind == DL_DAYS) {
        why_fact(y, "calendar", rule,
                 "counted in clock time: holidays and desk hours do not "
                 "move it");
        return;
    }
    why_fact(y, "calendar", rule,
             "desk hours %02d:%02d-%02d:%02d on working days, "
             "%02d:%02d-%02d:%02d on rest days; a deadline falls at the "
             "desk's close",
             hw.open / 60, hw.open % 60, hw.close / 60, hw.close % 60,
             hr.open / 60, hr.open % 60, hr.close / 60, hr.close % 60);
    if (!c) { /* the HTTP thread: the days may change under it */
        why_fact(y, "calendar", rule,
                 "the working days counted are listed by the same query on "
                 "the command socket");
        return;
    }
    f = date_of_ts(from, off);
    t = date_of_ts(due, off);
    if (t - f > WHY_CAL_DAYS_MAX)
        t = f + WHY_CAL_DAYS_MAX;
    day_runs(c, f, t, false, off_days, sizeof(off_days));
    day_runs(c, f, t, true, work, sizeof(work));
    why_fact(y, "calendar", rule,
             "from the day of the start to the deadline's day: working days "
             "%s; not working (weekend or holiday) %s",
             work[0] ? work : "none", off_days[0] ? off_days : "none");
}

struct set_ctx {
    enum ev_type type; /* EV_UNKNOWN: any */
    const char *key, *str;
    int64_t num;
    uint64_t seq; /* the last event that matched */
};

/* Whether the event's data[key] is the value sought. */
static int set_seen(void *ctx, uint64_t seq, const char *body, size_t len)
{
    struct set_ctx *x = ctx;
    struct codec_doc d;
    struct err e;
    const msgpack_object *v;
    int64_t n;

    if (codec_doc_parse_trusted(&d, body, len, &e))
        return ERR_UNAVAILABLE;
    v = codec_get(codec_get(d.obj, "data"), x->key);
    if (x->type != EV_UNKNOWN &&
        !codec_obj_is_str(codec_get(d.obj, "type"), ev_type_name(x->type)))
        v = NULL;
    if (v && (x->str ? codec_obj_is_str(v, x->str)
                     : !codec_get_int(codec_get(d.obj, "data"), x->key, &n) &&
                           n == x->num))
        x->seq = seq;
    codec_doc_release(&d);
    return 0;
}

int why_find_set(struct hctx *h, const char *stream, enum ev_type type,
                 const char *key, const char *str, int64_t num, uint64_t *seq)
{
    struct set_ctx x = {type, key, str, num, 0};
    bool scanned;
    int rc = log_stream_events(h->txn, h->ltxn, h->log, stream, strlen(stream),
                               set_seen, &x, &scanned);

    *seq = x.seq;
    return rc;
}

int why_set_by(struct why *y, const char *stream, enum ev_type type,
               const char *key, const char *str, int64_t num, const char *rule,
               const char *fmt, ...)
{
    struct set_ctx x = {0};
    struct codec_doc d;
    struct event ev;
    va_list ap;
    int rc = why_find_set(y->h, stream, type, key, str, num, &x.seq);

    if (rc)
        return rc;
    if (!x.seq) {
        why_fact(y, "rule", rule, "no event of %s sets it", stream);
        return 0;
    }
    if ((rc = hdl_event_get(y->h, x.seq, &d, &ev)))
        return rc;
    va_start(ap, fmt);
    entry(y, x.seq, ev_type_name(ev.type), ev.occurred_at, rule, WHY_NO_FEN,
          fmt, ap);
    va_end(ap);
    codec_doc_release(&d);
    return 0;
}

void why_day_due(struct why *y, const char *rule, int32_t day, int64_t due)
{
    const struct calendar *c = y->h->cal;
    int off = y->h->cfg->cal.offset_min;
    char d[DATE_STR_MAX], n[DATE_STR_MAX], when[TS_STR_MAX];
    char off_days[WHY_WHAT_MAX / 2] = "";
    int32_t next;
    struct cal_hours hr;

    date_format(day, d);
    ts_format(due, off, when);
    if (!c) { /* the HTTP thread: the days may change under it */
        why_fact(y, "calendar", rule,
                 "a deadline of a day (%s) passes at the next working day's "
                 "opening: %s; the days counted are listed by the same "
                 "query on the command socket",
                 d, when);
        return;
    }
    next = cal_add_workdays(c, day, 1);
    hr = cal_hours_of(c, next);
    date_format(next, n);
    if (next - day > 1)
        day_runs(c, day + 1, next - 1, false, off_days, sizeof(off_days));
    why_fact(y, "calendar", rule,
             "a deadline of a day (%s) passes at the next working day's "
             "opening: %s at %02d:%02d (not working in between: %s), "
             "recorded as %s",
             d, n, hr.open / 60, hr.open % 60, off_days[0] ? off_days : "none",
             when);
}

struct esc_ctx {
    struct why *y;
    const struct why_tiers *t;
};

static int esc_entry(void *ctx, const msgpack_object *e)
{
    struct esc_ctx *x = ctx;
    const msgpack_object *d = codec_get(e, "data");
    char rule[24] = "", notify[48] = "", due[TS_STR_MAX] = "";
    int64_t seq = 0, at = 0;
    int tier;

    if (!d ||
        !codec_obj_is_str(codec_get(e, "type"), ev_type_name(x->t->escalated)))
        return 0;
    codec_get_int(e, "seq", &seq);
    codec_get_int(e, "occurred", &at);
    codec_copy_str(d, "rule", rule, sizeof(rule));
    codec_copy_str(d, "notify", notify, sizeof(notify));
    codec_copy_str(d, "due", due, sizeof(due));
    tier = x->t->tier(d);
    why_entry(x->y, (uint64_t)seq, ev_type_name(x->t->escalated), at,
              x->t->rule_id(rule), WHY_NO_FEN,
              "%s: tier %d (%s), deadline %s, told %s", rule, tier,
              tier > 0 && tier <= x->t->top ? x->t->names[tier] : "no tier",
              due, notify);
    return 0;
}

int why_escalations(struct why *y, const char *id, int level,
                    const struct why_tiers *t)
{
    struct esc_ctx x = {y, t};
    int rc = timeline_each(y->h->txn, y->h->v, id, esc_entry, &x);

    why_fact(y, "rule", t->rule_id(""),
             "level = the highest tier escalated: %d (%s); %s", level,
             level > 0 && level <= t->top ? t->names[level] : "none", t->scale);
    return rc;
}
