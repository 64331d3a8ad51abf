/* app/main.c - deskd's command line: serve, or check the config
 * (--check-config) or the data (--verify, --rebuild) and exit. The program
 * that assembles the layers: core (the log, the loop), handlers (the
 * command table) and projections (derived_ops, rebuild) meet here and in
 * the link, never inside core. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../core/date.h"
#include "../core/progress.h"
#include "../core/server.h"
#include "../core/version.h"
#include "../projections/rebuild.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: deskd -c CONFIG [--check-config | --verify | --rebuild]\n"
            "\n"
            "Event-sourced backend for a property-management front desk.\n"
            "\n"
            "  -c, --config FILE  deskd.conf (INI); relative paths in it are\n"
            "                     relative to the file's directory\n"
            "      --check-config check the config and the calendar and fee\n"
            "                     files it names, and exit (0 valid, 2 not,\n"
            "                     naming the file, line and reason)\n"
            "      --verify       check the log's hash chain and exit\n"
            "                     (0 intact, 1 broken)\n"
            "      --rebuild      replay the log into fresh tables, compare\n"
            "                     with the live projections and exit\n"
            "                     (0 identical, 1 different)\n"
            "  -h, --help         this text\n"
            "  -V, --version      print the version\n"
            "\n"
            "Signals: SIGINT/SIGTERM commit and answer queued commands, then "
            "exit 0;\nSIGHUP reloads the desks' keys. Logs go to stderr "
            "(with syslog priorities\nunder systemd's journal).\n");
}

/* --check-config: the config parsed, its calendar and fee schedule
 * loaded (cfg_load did both); one line saying what was read. */
static int check_config(const struct config *c)
{
    char first[DATE_STR_MAX] = "-", last[DATE_STR_MAX] = "-";
    if (c->calendar_path[0] && c->cal.nspecial) {
        date_format(c->cal.first, first);
        date_format(c->cal.last, last);
    }
    printf("%s: ok: %d operators, calendar %s..%s (%d special days), "
           "%d rates, data_dir %s, security %s (%d keys, %d http tokens)\n",
           c->path, c->nops, first, last, c->cal.nspecial, c->fees.nrates,
           c->data_dir, c->sec_mode == CFG_SEC_CURVE ? "curve" : "plain",
           c->nkeys, c->ntokens);
    return 0;
}

static int serve(void)
{
    struct err e = {0};
    if (server_open(&e)) {
        diag_err("%s", e.msg);
        server_close();
        return 1;
    }
    printf("deskd %s: log %s (%llu events), clock %s\n"
           "  commands %s\n  events   %s\n  http     %s\n",
           DESKD_VERSION, srv.cfg.data_dir,
           (unsigned long long)srv.log.last_seq,
           srv.cfg.clock_manual ? "manual" : "real", srv.bus.cmd_ep,
           srv.bus.pub_ep, srv.http ? srv.http_ep : "off");
    if (srv.cfg.sec_mode == CFG_SEC_CURVE)
        printf("  security curve: %d desk keys, SIGHUP reloads them\n",
               srv.cfg.nkeys);
    else
        printf("  security plain: NO authentication, any local process may "
               "act as any operator (see docs/SECURITY.md)\n");
    printf("  http auth %s\n", srv.cfg.ntokens ? "bearer tokens" : "off");
    calendar_banner();
    fflush(stdout);
    server_run();
    diag_info("stopped: %llu batches, %llu commits, %llu syncs, "
              "%llu events, max batch %llu, map grown %llu times",
              (unsigned long long)srv.stats.batches,
              (unsigned long long)srv.stats.commits,
              (unsigned long long)srv.stats.syncs,
              (unsigned long long)srv.pipe.stats.events,
              (unsigned long long)srv.stats.max_batch,
              (unsigned long long)srv.stats.map_grows);
    server_close();
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"verify", no_argument, NULL, 'v'},
        {"rebuild", no_argument, NULL, 'r'},
        {"check-config", no_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    const char *path = NULL;
    int c, mode = 0;
    struct err e = {0};

    while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'v':
        case 'r':
        case 'C':
            mode = c;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("deskd %s\n", DESKD_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!path || optind != argc) {
        usage(stderr);
        return 2;
    }
    cfg_init(&srv.cfg);
    if (cfg_load(&srv.cfg, path, &e)) {
        diag_err("%s", e.msg);
        return 2;
    }
    if (mode == 'C')
        return check_config(&srv.cfg);
    if (mode == 'v' || mode == 'r') {
        /* the same progress as deskaudit's, on stderr (issue 21) */
        struct progress p;
        progress_init(&p, stderr);
        return mode == 'v' ? audit_verify_print(srv.cfg.data_dir, &p)
                           : audit_rebuild_print(srv.cfg.data_dir, &p);
    }
    return serve();
}
