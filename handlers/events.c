/* handlers/events.c - event type names from the EVENT_TYPES list. */
#include "events.h"

#include "../core/cmd.h"

#include <string.h>

static const char *const names[EV_COUNT] = {[EV_UNKNOWN] = "unknown",
#define X(n, s) [EV_##n] = s,
                                            EVENT_TYPES(X)
#undef X
};

/* Lengths first: every event applied or replayed is looked up here. */
static const unsigned char lens[EV_COUNT] = {[EV_UNKNOWN] =
                                                 sizeof("unknown") - 1,
#define X(n, s) [EV_##n] = sizeof(s) - 1,
                                             EVENT_TYPES(X)
#undef X
};

const char *const cmd_event_types[] = {
#define X(n, s) s,
    EVENT_TYPES(X)
#undef X
};
const size_t cmd_event_types_len =
    sizeof(cmd_event_types) / sizeof(cmd_event_types[0]);

const char *ev_type_name(enum ev_type t)
{
    return (t > EV_UNKNOWN && t < EV_COUNT) ? names[t] : names[EV_UNKNOWN];
}

enum ev_type ev_type_parse(const char *s, size_t len)
{
    for (int t = EV_UNKNOWN + 1; t < EV_COUNT; t++)
        if (lens[t] == len && names[t][0] == s[0] &&
            memcmp(names[t], s, len) == 0)
            return (enum ev_type)t;
    return EV_UNKNOWN;
}
