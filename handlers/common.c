/* handlers/common.c - helpers shared by handlers: today's date and list
 * arguments. (Masking of personal data is core/mask.c.) */
#include <string.h>

#include "handlers.h"

int32_t hdl_today(const struct hctx *h)
{
    return date_of_ts(h->now, h->cfg->cal.offset_min);
}

bool arg_strs_has(const struct args *a, const char *field, const char *s)
{
    const msgpack_object *l = arg(a, field)->o;
    for (uint32_t i = 0; arg_has(a, field) && i < l->via.array.size; i++)
        if (codec_obj_is_str(&l->via.array.ptr[i], s))
            return true;
    return false;
}

const char *arg_strs_missing(const struct args *a, const char *field,
                             const char *const *need)
{
    for (int i = 0; need[i]; i++)
        if (!arg_strs_has(a, field, need[i]))
            return need[i];
    return NULL;
}
