/* tests/common/logfix.c - see logfix.h. */
#include "logfix.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

void logfix_append(struct log_batch *b, const char *stream, int i)
{
    struct cw w;
    struct log_event_in in = {0};
    uint64_t seq;
    const char *body;
    size_t len;
    char id[16];

    cw_init(&w);
    cw_map(&w, 1);
    cw_kint(&w, "i", i);
    snprintf(id, sizeof(id), "c%d", i);
    in.type = "estate.registered"; /* verify knows only real types */
    in.stream = stream;
    in.stream_len = strlen(stream);
    in.recorded_at = 1767225600000 + i;
    in.actor = "tester";
    in.cmd_id = id;
    in.cmd_id_len = strlen(id);
    in.data = cw_data(&w);
    in.data_len = cw_len(&w);
    assert_int_equal(log_append(b, &in, &seq, &body, &len), 0);
    cw_release(&w);
}
