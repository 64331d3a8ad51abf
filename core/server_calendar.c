/* core/server_calendar.c - the server's side of the working calendar
 * (R-GEN-05, docs/CALENDAR.md): the coverage warning deskd records itself
 * once per coverage end, the calendar file reloaded on SIGHUP (both run
 * on the server loop and record through server_system_command), and the
 * startup line. */
#include <stdio.h>

#include "date.h"
#include "server.h"

/* R-GEN-05: once per coverage end, when today comes within
 * calendar_warn_days of it, calendar.coverage_ending, through the pipeline
 * like a timer. Its command id names the end, so a restart does not warn
 * twice; a reload that moves the end arms the next warning. */
void calendar_watch(void)
{
    const struct calendar *c = &srv.cfg.cal;
    char id[LOG_CMD_ID_MAX + 1], day[DATE_STR_MAX];
    struct err e = {0};
    struct cw w;

    if (c->last == DATE_NONE || c->last == srv.cal_watched ||
        !cal_warn_due(c, srv.cfg.cal_warn_days,
                      date_of_ts(clock_now(&srv.clk), c->offset_min)))
        return;
    srv.cal_watched = c->last;
    date_format(c->last, day);
    snprintf(id, sizeof(id), PIPE_SYSTEM_ID "t:calendar:%s", day);
    cw_init(&w);
    cw_map(&w, 2);
    cw_kstr(&w, "covered_until", day);
    cw_kint(&w, "warn_days", srv.cfg.cal_warn_days);
    if (server_system_command("calendar.coverage_ending", id, &w, &e))
        diag_warn("calendar warning not recorded: %s", e.msg);
    cw_release(&w);
}

/* SIGHUP, R-GEN-05: the calendar file again (the next year's schedule
 * without a restart); a changed file is recorded with its coverage and
 * hash. A bad file leaves the running calendar as it was. */
void calendar_reload(void)
{
    struct calendar old = srv.cfg.cal;
    char from[DATE_STR_MAX], until[DATE_STR_MAX], prev[DATE_STR_MAX];
    struct err e = {0};
    bool changed = false;
    struct cw w;

    if (cfg_calendar_reload(&srv.cfg, &changed, &e)) {
        diag_warn("SIGHUP: calendar unchanged: %s", e.msg);
        return;
    }
    if (!changed || srv.cfg.cal.last == DATE_NONE) {
        diag_info("SIGHUP: calendar %s unchanged", srv.cfg.calendar_path);
        return;
    }
    date_format(srv.cfg.cal.first, from);
    date_format(srv.cfg.cal.last, until);
    diag_info("SIGHUP: calendar %s now covers %s..%s (BLAKE2b %s)",
              srv.cfg.calendar_path, from, until, srv.cfg.cal.hash);
    cw_init(&w);
    cw_map(&w, 6 + (old.last != DATE_NONE));
    cw_kstr(&w, "file", srv.cfg.calendar_path);
    cw_kstr(&w, "hash", srv.cfg.cal.hash);
    cw_kstr(&w, "covered_from", from);
    cw_kstr(&w, "covered_until", until);
    cw_kint(&w, "special_days", srv.cfg.cal.nspecial);
    cw_kstr(&w, "previous_hash", old.hash);
    if (old.last != DATE_NONE) {
        date_format(old.last, prev);
        cw_kstr(&w, "previous_until", prev);
    }
    if (server_system_command("calendar.reloaded", NULL, &w, &e))
        diag_warn("SIGHUP: calendar reload not recorded: %s", e.msg);
    cw_release(&w);
    calendar_watch(); /* the new end may be near already */
}

/* R-GEN-05: the range the working calendar covers, and a warning when
 * its end is within [time] calendar_warn_days (docs/CALENDAR.md). */
void calendar_banner(void)
{
    const struct calendar *c = &srv.cfg.cal;
    char from[DATE_STR_MAX], until[DATE_STR_MAX];
    int32_t today = date_of_ts(clock_now(&srv.clk), c->offset_min);

    if (c->last == DATE_NONE) {
        printf("  calendar: no holidays loaded; WARNING: every deadline "
               "counted in working days is provisional\n");
        return;
    }
    date_format(c->first, from);
    date_format(c->last, until);
    printf("  calendar %s..%s (%d days left), BLAKE2b %.16s\n", from, until,
           cal_days_left(c, today), c->hash);
    if (cal_warn_due(c, srv.cfg.cal_warn_days, today))
        printf("  WARNING: the working calendar ends %s: load the next "
               "year's official schedule and send SIGHUP "
               "(docs/CALENDAR.md); deadlines past it are provisional\n",
               until);
}
