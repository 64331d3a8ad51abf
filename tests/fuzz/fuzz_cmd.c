/* tests/fuzz/fuzz_cmd.c - libFuzzer target: the command front
 * (core/cmd.c envelope, core/args.c field validation) over every command
 * in the table. The first byte picks the command; the rest is decoded as
 * its body, and also as a whole envelope. */
#include <stddef.h>
#include <stdint.h>

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
    return 0;
}
