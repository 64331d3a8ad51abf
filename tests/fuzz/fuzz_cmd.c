/* tests/fuzz/fuzz_cmd.c - libFuzzer target: the command front
 * (core/cmd.c envelope, core/args.c field validation) over every command
 * in the table. The first byte picks the command; the rest is decoded as
 * its body, and also as a whole envelope. The frame rules (core/bus.c)
 * too: the rest is cut into 1-4 frames at boundaries the input picks, and
 * the frame the rules name as the command goes through the envelope
 * parser. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../core/bus.h"
#include "../../core/cmd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OFFSET_MIN 480 /* +08:00, as deskd.conf */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct cmd_spec *spec;
    struct envelope env;
    struct codec_doc d;
    struct err e = {0};
    struct args a;

    if (size < 1)
        return 0;
    spec = &cmd_table[data[0] % cmd_table_len];
    if (codec_doc_parse(&d, (const char *)data + 1, size - 1, &e) == 0) {
        cmd_args_parse(spec, d.obj->type == MSGPACK_OBJECT_MAP ? d.obj : NULL,
                       OFFSET_MIN, &a, &e);
        codec_doc_release(&d);
    }
    if (cmd_envelope_parse(&env, (const char *)data + 1, size - 1, &e) == 0 &&
        (spec = cmd_find(env.cmd, env.cmd_len)))
        cmd_args_parse(spec, env.body, OFFSET_MIN, &a, &e);
    cmd_envelope_release(&env);
    if (size >= 5) {
        /* byte 1: frames; bytes 2-4: where they end, of what follows */
        const char *rest = (const char *)data + 5;
        size_t n = (size_t)(data[1] % 4) + 1, left = size - 5, off[5] = {0},
               sizes[4];
        bool req;
        int at;
        for (size_t i = 1; i < n; i++) {
            size_t cut = left ? data[1 + i] % (left + 1) : 0;
            off[i] = cut < off[i - 1] ? off[i - 1] : cut;
        }
        off[n] = left;
        for (size_t i = 0; i < n; i++)
            sizes[i] = off[i + 1] - off[i];
        at = bus_frame_rule(sizes, n, &req);
        if (at >= 0 && (size_t)at == n - 1) {
            if (cmd_envelope_parse(&env, rest + off[at], sizes[at], &e) == 0 &&
                (spec = cmd_find(env.cmd, env.cmd_len)))
                cmd_args_parse(spec, env.body, OFFSET_MIN, &a, &e);
            cmd_envelope_release(&env);
        }
    }
    return 0;
}
