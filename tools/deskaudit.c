/* tools/deskaudit.c - auditors' tool: verify the hash chain, rebuild the
 * projections from the log and compare. Read-only on the live data; runs
 * beside a serving deskd. */
#include <stdio.h>
#include <string.h>

#include "../projections/rebuild.h"

static int usage(FILE *f)
{
    fprintf(f, "usage: deskaudit verify DATA_DIR\n"
               "       deskaudit rebuild DATA_DIR\n"
               "verify: checks seq continuity, every hash and prev link; "
               "exit 1 at the first bad event\n"
               "rebuild: replays the log into fresh tables and compares "
               "them with the live ones; exit 1 if they differ\n");
    return f == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
        return usage(stdout);
    if (argc != 3)
        return usage(stderr);
    if (!strcmp(argv[1], "verify"))
        return audit_verify_report(argv[2]);
    if (!strcmp(argv[1], "rebuild"))
        return audit_rebuild_report(argv[2]);
    return usage(stderr);
}
