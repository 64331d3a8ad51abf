/* handlers/calendar.c - the working calendar's coverage (R-GEN-05): the
 * query a desk or the dashboard asks, and the two events deskd records
 * about it itself (actor system): the coverage is ending (a timer, once
 * per coverage end) and a new schedule was loaded (SIGHUP). */
#include "handlers.h"

/* The coverage the HTTP thread may read too (see struct config). */
static void coverage(const struct hctx *h, int32_t *from, int32_t *until)
{
    *from = atomic_load_explicit(&h->cfg->cal_from, memory_order_relaxed);
    *until = atomic_load_explicit(&h->cfg->cal_until, memory_order_relaxed);
}

static void kdate_or_nil(struct cw *w, const char *k, int32_t day)
{
    if (day == DATE_NONE)
        cw_knil(w, k);
    else
        cw_kdate(w, k, day);
}

int hdl_query_calendar(struct hctx *h, const struct args *a, struct err *e)
{
    struct cw *w = h->result;
    int32_t from, until, today = hdl_today(h);
    int warn = h->cfg->cal_warn_days;
    bool due;
    (void)a, (void)e;

    coverage(h, &from, &until);
    due = warn > 0 && (until == DATE_NONE || (int64_t)until - today <= warn);
    cw_map(w, 7);
    kdate_or_nil(w, "covered_from", from);
    kdate_or_nil(w, "covered_until", until);
    cw_kdate(w, "today", today);
    if (until == DATE_NONE)
        cw_knil(w, "days_left");
    else
        cw_kint(w, "days_left", (int64_t)until - today);
    cw_kint(w, "warn_days", warn);
    cw_kbool(w, "warning", due);
    if (!due)
        cw_knil(w, "message");
    else if (until == DATE_NONE)
        cw_kstr(w, "message",
                "no working calendar is loaded: every deadline "
                "counted in working days is provisional");
    else if (until < today)
        cw_kstr(w, "message",
                "the working calendar has ended: deadlines past it are "
                "provisional; load the next year's official schedule "
                "(docs/CALENDAR.md)");
    else
        cw_kstr(w, "message",
                "the working calendar ends soon: load the next year's "
                "official schedule when the State Council publishes it "
                "(docs/CALENDAR.md)");
    h->has_result = true;
    return 0;
}

/* The timer's command: the coverage ending on covered_until is within
 * warn_days. Its command id names the end, so a second run for the same
 * end (a restart) is a duplicate and writes nothing. */
int hdl_calendar_coverage_ending(struct hctx *h, const struct args *a,
                                 struct err *e)
{
    int32_t until = (int32_t)arg_int(a, "covered_until");
    struct cw *w;
    (void)e;

    w = hctx_data_begin(h);
    cw_map(w, 4);
    cw_kdate(w, "covered_until", until);
    cw_kint(w, "days_left", (int64_t)until - hdl_today(h));
    cw_kint(w, "warn_days", arg_int(a, "warn_days"));
    cw_kstr(w, "action",
            "load the next year's official holiday schedule "
            "into the calendar file and send SIGHUP");
    return emit(h, EV_CALENDAR_COVERAGE_ENDING, "system:calendar");
}

/* Records a schedule loaded without a restart: its coverage and the hash
 * of the file, beside the ones it replaced. Deadlines already in events
 * stay as recorded (docs/CALENDAR.md). */
int hdl_calendar_reloaded(struct hctx *h, const struct args *a, struct err *e)
{
    static const char *const copied[] = {"file", "hash", "previous_hash"};
    struct cw *w = hctx_data_begin(h);
    size_t mo = cw_map_open(w);
    uint32_t n = 6;
    (void)e;

    for (size_t i = 0; i < sizeof(copied) / sizeof(*copied); i++)
        cw_kobj(w, copied[i], arg(a, copied[i])->o);
    cw_kdate(w, "covered_from", (int32_t)arg_int(a, "covered_from"));
    cw_kdate(w, "covered_until", (int32_t)arg_int(a, "covered_until"));
    cw_kint(w, "special_days", arg_int(a, "special_days"));
    if (arg_has(a, "previous_until")) {
        cw_kdate(w, "previous_until", (int32_t)arg_int(a, "previous_until"));
        n++;
    }
    cw_map_close(w, mo, n);
    return emit(h, EV_CALENDAR_RELOADED, "system:calendar");
}
