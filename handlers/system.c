/* handlers/system.c - commands about deskd itself: the manual clock for
 * tests and drills, and log.read for catch-up (zguide Clone pattern). */
#include "handlers.h"

/* Moves a manual clock forward. Recorded, so an audit shows every jump and
 * a restarted deskd resumes from the last recorded time. */
int hdl_clock_set(struct hctx *h, const struct args *a, struct err *e)
{
    int64_t from = h->now, to = arg_int(a, "to");
    struct cw *w;
    int rc = clock_set(h->clk, to, e);

    if (rc)
        return rc;
    h->now = to; /* this event is recorded at the new time */
    w = hctx_data_begin(h);
    cw_map(w, 2);
    cw_kts(w, "from", from, h->cfg->cal.offset_min);
    cw_kts(w, "to", to, h->cfg->cal.offset_min);
    return emit(h, EV_CLOCK_ADVANCED, "system:clock");
}

/* Events as logged, with personal data masked for every caller (R-GEN-02)
 * and "masked": true. A full view must be recorded, and recording each
 * catch-up read would feed the readers their own reads: the full record
 * of a person is person.view_full, which is recorded. */
int hdl_log_read(struct hctx *h, const struct args *a, struct err *e)
{
    uint64_t seq = (uint64_t)arg_int(a, "from");
    int64_t limit = arg_has(a, "limit") ? arg_int(a, "limit") : 100;
    struct cw *w = h->result;
    size_t at, bytes = 0;
    uint32_t n = 0;

    cw_map(w, 3);
    cw_kbool(w, "masked", true);
    cw_str(w, "events");
    at = cw_array_open(w);
    for (; n < limit && bytes < LOG_READ_BYTES; seq++, n++) {
        const unsigned char *hash;
        const char *body;
        size_t len;
        int rc = log_get(h->ltxn, h->log, seq, &hash, &body, &len);
        if (rc == MDB_NOTFOUND)
            break;
        if (rc)
            return err_set(e, ERR_UNAVAILABLE, NULL, "log read failed at %llu",
                           (unsigned long long)seq);
        mask_event(w, body, len, hash, LOG_HASH_LEN);
        bytes += len;
    }
    cw_array_close(w, at, n);
    cw_str(w, "last_seq");
    cw_uint(w, h->next_seq - 1);
    h->has_result = true;
    return 0;
}

/* Records a key reload (SIGHUP): who may connect changed, so the log says
 * when and how much. The counts come from the server, which did the
 * reload; the keys themselves are not logged. */
int hdl_security_keys_reloaded(struct hctx *h, const struct args *a,
                               struct err *e)
{
    struct cw *w = hctx_data_begin(h);
    (void)e;
    cw_map(w, 3);
    cw_kint(w, "keys", arg_int(a, "keys"));
    cw_kint(w, "added", arg_int(a, "added"));
    cw_kint(w, "removed", arg_int(a, "removed"));
    return emit(h, EV_KEYS_RELOADED, "system:security");
}
