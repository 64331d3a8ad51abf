/* tests/fuzz/fuzz_codec.c - libFuzzer target: the frame decoder
 * (core/codec.c) on any bytes, as a command frame arrives from a socket;
 * whatever decodes is re-encoded and decoded again. */
#include <stddef.h>
#include <stdint.h>

#include "../../core/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct codec_doc d, again;
    struct err e = {0};
    struct cw w;

    if (codec_doc_parse(&d, (const char *)data, size, &e))
        return 0;
    cw_init(&w);
    cw_obj(&w, d.obj);
    if (codec_doc_parse_trusted(&again, cw_data(&w), cw_len(&w), &e) == 0)
        codec_doc_release(&again);
    cw_release(&w);
    codec_doc_release(&d);
    return 0;
}
