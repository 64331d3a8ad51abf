/* handlers/common.c - helpers shared by handlers: dates, decimals and the
 * masking of personal data (R-GEN-02). */
#include <string.h>

#include "handlers.h"

int32_t hdl_today(const struct hctx *h)
{
    return date_of_ts(h->now, h->cfg->cal.offset_min);
}

/* Keeps the first keep_head and last keep_tail bytes, stars in between;
 * strings too short to hide anything become all stars. */
static void mask(const char *s, size_t n, size_t head, size_t tail, char *out,
                 size_t cap)
{
    size_t o = 0;
    if (n <= head + tail) {
        head = 0;
        tail = n > 2 ? 2 : 0;
    }
    for (size_t i = 0; i < n && o + 1 < cap; i++)
        out[o++] = (i < head || i >= n - tail) ? s[i] : '*';
    out[o] = '\0';
}

void mask_phone(const char *s, size_t n, char *out, size_t cap)
{
    mask(s, n, 3, 4, out, cap);
}

void mask_id(const char *s, size_t n, char *out, size_t cap)
{
    mask(s, n, 4, 4, out, cap);
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
