/* tests/fuzz/fuzz_seed.c - writes the seed corpora from what the tests and
 * the docs already use: every command table example as a frame (codec,
 * cmd: first byte picks the command), the config files and the calendar.
 * usage: fuzz_seed OUTDIR CONFIG... (OUTDIR/{codec,cmd,config,calendar}) */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../../core/cmd.h"
#include "../../core/codec_json.h"

static int put(const char *dir, const char *kind, const char *name,
               const void *p, size_t n)
{
    char path[4096];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, kind);
    mkdir(path, 0755);
    snprintf(path, sizeof(path), "%s/%s/%s", dir, kind, name);
    f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f)) {
        fprintf(stderr, "fuzz_seed: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int copy_file(const char *dir, const char *kind, const char *path)
{
    static char buf[1 << 20];
    const char *base = strrchr(path, '/');
    FILE *f = fopen(path, "rb");
    size_t n;
    if (!f)
        return -1;
    n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    return put(dir, kind, base ? base + 1 : path, buf, n);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fuzz_seed OUTDIR [CONFIG|CALENDAR.tsv]...\n");
        return 2;
    }
    mkdir(argv[1], 0755);
    for (size_t i = 0; i < cmd_table_len; i++) {
        json_t *body = json_loads(cmd_table[i].example, 0, NULL);
        json_t *env = json_pack("{s:s,s:s,s:s,s:o}", "id", "seed", "cmd",
                                cmd_table[i].name, "actor", "admin", "body",
                                body ? body : json_object());
        struct cw w;
        char name[32];
        cw_init(&w);
        cw_raw(&w, (const char[]){(char)i}, 1);
        codec_from_json(env, &w);
        snprintf(name, sizeof(name), "cmd-%03zu", i);
        if (put(argv[1], "cmd", name, cw_data(&w), cw_len(&w)) ||
            put(argv[1], "codec", name, cw_data(&w) + 1, cw_len(&w) - 1))
            return 1;
        cw_release(&w);
        json_decref(env);
    }
    for (int i = 2; i < argc; i++)
        if (copy_file(argv[1], strstr(argv[i], ".tsv") ? "calendar" : "config",
                      argv[i]))
            return 1;
    return 0;
}
