/* core/main.c - deskd's command line: serve, or check the data (--verify,
 * --rebuild) and exit. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../projections/rebuild.h"
#include "server.h"

#define DESKD_VERSION "0.1.0"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: deskd -c CONFIG [--verify | --rebuild]\n"
            "\n"
            "Event-sourced backend for a property-management front desk.\n"
            "\n"
            "  -c, --config FILE  deskd.conf (INI); relative paths in it are\n"
            "                     relative to the file's directory\n"
            "      --verify       check the log's hash chain and exit\n"
            "                     (0 intact, 1 broken)\n"
            "      --rebuild      replay the log into fresh tables, compare\n"
            "                     with the live projections and exit\n"
            "                     (0 identical, 1 different)\n"
            "  -h, --help         this text\n"
            "  -V, --version      print the version\n"
            "\n"
            "Signals: SIGINT/SIGTERM commit and answer queued commands, then "
            "exit 0.\n");
}

static int serve(void)
{
    struct err e = {0};
    if (server_open(&e)) {
        fprintf(stderr, "deskd: %s\n", e.msg);
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
        fprintf(stderr, "deskd: %s\n", e.msg);
        return 2;
    }
    if (mode == 'v')
        return audit_verify_report(srv.cfg.data_dir);
    if (mode == 'r')
        return audit_rebuild_report(srv.cfg.data_dir);
    return serve();
}
