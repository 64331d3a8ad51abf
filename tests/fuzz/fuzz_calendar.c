/* tests/fuzz/fuzz_calendar.c - libFuzzer target: the working calendar
 * (core/calendar.c, cal_parse: holidays and make-up days). */
#include <stdint.h>

#include "../../core/calendar.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct calendar c;
    struct err e = {0};

    cal_init(&c);
    cal_parse(&c, (const char *)data, size, "fuzz", &e);
    return 0;
}
