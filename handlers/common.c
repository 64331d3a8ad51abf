/* handlers/common.c - helpers shared by handlers: dates, decimals and the
 * masking of personal data (R-GEN-02). */
#include <string.h>

#include "handlers.h"

int32_t hdl_today(const struct hctx *h)
{
    return date_of_ts(h->now, h->cfg->cal.offset_min);
}
