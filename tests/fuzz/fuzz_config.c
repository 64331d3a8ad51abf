/* tests/fuzz/fuzz_config.c - libFuzzer target: deskd.conf parsing
 * (core/config.c, cfg_parse from a buffer), every section and key; the
 * first line again as a deskaudit whatif --set (cfg_override). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct config c; /* large: not on the stack */
    struct err e = {0};
    char *text = malloc(size + 1);

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    cfg_init(&c);
    cfg_parse(&c, text, "/nonexistent", &e);
    text[strcspn(text, "\n")] = '\0';
    cfg_override(&c, text, &e);
    free(text);
    return 0;
}
