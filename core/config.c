/* core/config.c - deskd.conf parsing with libinih. Fills struct config;
 * validation errors name the file, line and key. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "date.h"

#define MAP_SIZE_MB_MAX (1024 * 1024) /* 1 TiB: the largest initial map */
#define BATCH_MAX_LIMIT 65536
#define FRAME_MAX_LIMIT (16 * 1024 * 1024)

const char *const cmp_channel_names[] = {
#define X(n, s, d) s,
    CMP_CHANNELS(X)
#undef X
        NULL};
const char *const cmp_rule_names[] = {
#define X(n, s, d, r) s,
    CMP_RULES(X)
#undef X
        NULL};

const char *const wo_category_names[] = {
#define X(n, s, d) s,
    WO_CATEGORIES(X)
#undef X
        NULL};
const char *const wo_rule_names[] = {
#define X(n, s, d, r) s,
    WO_RULES(X)
#undef X
        NULL};

static void wo_defaults(struct workorder_settings *w)
{
#define X(n, s, d) deadline_parse(d, &w->visit[WOC_##n]);
    WO_CATEGORIES(X)
#undef X
#define X(n, s, d, r)                                                          \
    deadline_parse(d, &w->rule[WOR_##n].after);                               \
    snprintf(w->rule[WOR_##n].notify, sizeof(w->rule[0].notify), "%s", r);
    WO_RULES(X)
#undef X
}

static void cmp_defaults(struct complaint_settings *c)
{
#define X(n, s, d) deadline_parse(d, &c->reply[CH_##n]);
    CMP_CHANNELS(X)
#undef X
#define X(n, s, d, r)                                                         \
    deadline_parse(d, &c->rule[RULE_##n].after);                              \
    snprintf(c->rule[RULE_##n].notify, sizeof(c->rule[0].notify), "%s", r);
    CMP_RULES(X)
#undef X
    c->re_reply_max_workdays = 3;
    c->major_claim_fen = 100000;
    c->hot_complainants = 3;
    c->hot_window_days = 30;
    c->auto_close_days = 7;
}

struct cfg_parse_state {
    struct config *c;
    const char *dir;
    struct err *e;
};

void cfg_init(struct config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->data_dir, sizeof(c->data_dir), "var");
    snprintf(c->cmd_ep, sizeof(c->cmd_ep), "tcp://127.0.0.1:7700");
    snprintf(c->pub_ep, sizeof(c->pub_ep), "tcp://127.0.0.1:7701");
    snprintf(c->http_ep, sizeof(c->http_ep), "127.0.0.1:7780");
    c->map_size = (size_t)64 << 20;
    c->batch_max = 1024;
    c->frame_max = 64 * 1024;
    c->sync_wait_us = 0;
    c->pub_hwm = 10000;
    cal_init(&c->cal);
    rates_init(&c->fees);
    cmp_defaults(&c->cmp);
    wo_defaults(&c->wo);
    c->cards = (struct card_settings){24, 12, 12, 12, 3, 1, 30};
    c->sse_lag_max = CFG_SSE_LAG_MAX;
    c->visits = (struct visit_settings){1, 3, 1, 7, 2};
    c->ren = (struct renovation_settings){3, 3, 100000, 100000, 200000, 7};
}

unsigned cfg_role_parse(const char *s)
{
#define X(name, bit, str)                                                      \
    if (strcmp(s, str) == 0)                                                   \
        return bit;
    ROLES(X)
#undef X
    return 0;
}

const char *cfg_role_name(unsigned role)
{
#define X(name, bit, str)                                                      \
    if (role == (bit))                                                         \
        return str;
    ROLES(X)
#undef X
    return "?";
}

const struct operator*
    cfg_operator(const struct config *c, const char *id, size_t len)
{
    for (int i = 0; i < c->nops; i++)
        if (strlen(c->ops[i].id) == len && memcmp(c->ops[i].id, id, len) == 0)
            return &c->ops[i];
    return NULL;
}

static int resolve_path(char *out, size_t cap, const char *dir, const char *v)
{
    int n = (v[0] == '/' || !dir[0]) ? snprintf(out, cap, "%s", v)
                                     : snprintf(out, cap, "%s/%s", dir, v);
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

static int parse_long(const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    *out = strtol(v, &end, 10);
    return (errno || end == v || *end || *out < lo || *out > hi) ? -1 : 0;
}

static int bad(struct cfg_parse_state *st, const char *sec, const char *key,
               const char *why, const char *v)
{
    err_set(st->e, ERR_INVALID, key, "%s: [%s] %s: %s '%s'",
            st->c->path[0] ? st->c->path : "config", sec, key, why, v);
    return 0;
}

static int set_str(char *dst, size_t cap, const char *v)
{
    int n = snprintf(dst, cap, "%s", v);
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

/* [deskd] keys of the HTTP side (core/http.c). */
static int on_deskd_http(struct cfg_parse_state *st, const char *k,
                         const char *v)
{
    struct config *c = st->c;
    long n;
    if (!strcmp(k, "dashboard_dir"))
        return resolve_path(c->dashboard_dir, sizeof(c->dashboard_dir),
                            st->dir, v)
                   ? bad(st, "deskd", k, "path too long", v)
                   : 1;
    if (!strcmp(k, "http_actor")) {
        if (set_str(c->http_actor, sizeof(c->http_actor), v))
            return bad(st, "deskd", k, "too long", v);
        return 1;
    }
    if (!strcmp(k, "sse_lag_max")) {
        if (parse_long(v, 1, 100000000, &n))
            return bad(st, "deskd", k, "not a count in 1..100000000", v);
        c->sse_lag_max = n;
        return 1;
    }
    return bad(st, "deskd", k, "unknown key", v);
}

static int on_deskd(struct cfg_parse_state *st, const char *k, const char *v)
{
    struct config *c = st->c;
    long n;
    if (!strcmp(k, "data_dir"))
        return resolve_path(c->data_dir, sizeof(c->data_dir), st->dir, v)
                   ? bad(st, "deskd", k, "path too long", v)
                   : 1;
    if (!strcmp(k, "commands") || !strcmp(k, "events") || !strcmp(k, "http")) {
        char *dst = k[0] == 'c'   ? c->cmd_ep
                    : k[0] == 'e' ? c->pub_ep
                                  : c->http_ep;
        return set_str(dst, CFG_EP_MAX, v) ? bad(st, "deskd", k, "too long", v)
                                           : 1;
    }
    if (!strcmp(k, "map_size_mb")) {
        if (parse_long(v, 1, MAP_SIZE_MB_MAX, &n))
            return bad(st, "deskd", k, "not a size in MiB", v);
        c->map_size = (size_t)n << 20;
        return 1;
    }
    if (!strcmp(k, "batch_max")) {
        if (parse_long(v, 1, BATCH_MAX_LIMIT, &n))
            return bad(st, "deskd", k, "not a count in 1..65536", v);
        c->batch_max = (int)n;
        return 1;
    }
    if (!strcmp(k, "sync_wait_us")) {
        if (parse_long(v, 0, 100000, &n))
            return bad(st, "deskd", k, "not a time in 0..100000 us", v);
        c->sync_wait_us = (int)n;
        return 1;
    }
    if (!strcmp(k, "frame_max")) {
        if (parse_long(v, 1024, FRAME_MAX_LIMIT, &n))
            return bad(st, "deskd", k, "not a size in 1024..16777216", v);
        c->frame_max = (int)n;
        return 1;
    }
    if (!strcmp(k, "pub_hwm")) {
        if (parse_long(v, 1, 10000000, &n))
            return bad(st, "deskd", k, "not a count in 1..10000000", v);
        c->pub_hwm = (int)n;
        return 1;
    }
    return on_deskd_http(st, k, v);
}

static int parse_offset(const char *v, int *out)
{
    int hh, mm;
    char sign;
    if (strlen(v) != 6 || sscanf(v, "%c%2d:%2d", &sign, &hh, &mm) != 3 ||
        (sign != '+' && sign != '-') || hh > 14 || mm > 59)
        return -1;
    *out = (sign == '-' ? -1 : 1) * (hh * 60 + mm);
    return 0;
}

static int on_time(struct cfg_parse_state *st, const char *k, const char *v)
{
    struct config *c = st->c;
    if (!strcmp(k, "clock")) {
        if (strcmp(v, "real") && strcmp(v, "manual"))
            return bad(st, "time", k, "expected real or manual, got", v);
        c->clock_manual = !strcmp(v, "manual");
        return 1;
    }
    if (!strcmp(k, "manual_start"))
        return ts_parse(v, strlen(v), c->cal.offset_min, &c->manual_start)
                   ? bad(st, "time", k, "not an ISO 8601 time", v)
                   : 1;
    if (!strcmp(k, "utc_offset"))
        return parse_offset(v, &c->cal.offset_min)
                   ? bad(st, "time", k, "expected +hh:mm, got", v)
                   : 1;
    if (!strcmp(k, "calendar"))
        return resolve_path(c->calendar_path, sizeof(c->calendar_path), st->dir,
                            v)
                   ? bad(st, "time", k, "path too long", v)
                   : 1;
    if (!strcmp(k, "workday_hours"))
        return cal_parse_hours(v, &c->cal.work)
                   ? bad(st, "time", k, "expected HH:MM-HH:MM, got", v)
                   : 1;
    if (!strcmp(k, "restday_hours"))
        return cal_parse_hours(v, &c->cal.rest)
                   ? bad(st, "time", k, "expected HH:MM-HH:MM, got", v)
                   : 1;
    return bad(st, "time", k, "unknown key", v);
}

static int on_fees(struct cfg_parse_state *st, const char *k, const char *v)
{
    struct config *c = st->c;
    long n;
    if (!strcmp(k, "rates"))
        return resolve_path(c->rates_path, sizeof(c->rates_path), st->dir, v)
                   ? bad(st, "fees", k, "path too long", v)
                   : 1;
    if (!strcmp(k, "due_day")) {
        if (parse_long(v, 1, 28, &n))
            return bad(st, "fees", k, "not a day in 1..28", v);
        c->fees.due_day = (int)n;
        return 1;
    }
    if (!strcmp(k, "prepay_months")) {
        if (parse_long(v, 0, 24, &n))
            return bad(st, "fees", k, "not a count in 0..24", v);
        c->fees.prepay_months = (int)n;
        return 1;
    }
    if (!strcmp(k, "large_debtor_fen")) {
        if (parse_long(v, 1, 1000000000L, &n))
            return bad(st, "fees", k, "not an amount of fen", v);
        c->fees.large_debtor_fen = n;
        return 1;
    }
    if (!strncmp(k, "late_fee.", 9))
        return rates_parse_late(&c->fees, k + 9, v)
                   ? bad(st, "fees", k,
                         "expected 'grace=D daily_bp=N cap_bp=N', got", v)
                   : 1;
    return bad(st, "fees", k, "unknown key", v);
}

static int lookup(const char *const *names, const char *s)
{
    for (int i = 0; names[i]; i++)
        if (!strcmp(names[i], s))
            return i;
    return -1;
}

/* "escalate.<rule> = <deadline>, <notified>" in section sec, for the
 * rules named in names. */
static int esc_rule_parse(struct cfg_parse_state *st, const char *sec,
                          const char *k, const char *v,
                          const char *const *names, struct esc_rule *rules)
{
    struct esc_rule *r;
    char when[32];
    const char *comma = strchr(v, ',');
    int i = lookup(names, k + 9);

    if (i < 0)
        return bad(st, sec, k, "unknown escalation rule", k + 9);
    r = &rules[i];
    if (!comma || (size_t)(comma - v) >= sizeof(when))
        return bad(st, sec, k, "expected '<deadline>, <who>', got", v);
    snprintf(when, sizeof(when), "%.*s", (int)(comma - v), v);
    while (*++comma == ' ')
        ;
    if (deadline_parse(when, &r->after) || !*comma ||
        strlen(comma) >= sizeof(r->notify))
        return bad(st, sec, k, "bad deadline or party in", v);
    snprintf(r->notify, sizeof(r->notify), "%s", comma);
    return 1;
}

static int on_workorders(struct cfg_parse_state *st, const char *k,
                         const char *v)
{
    struct workorder_settings *w = &st->c->wo;
    int i;

    if (!strncmp(k, "visit.", 6)) {
        if ((i = lookup(wo_category_names, k + 6)) < 0)
            return bad(st, "workorders", k, "unknown category", k + 6);
        return deadline_parse(v, &w->visit[i])
                   ? bad(st, "workorders", k, "not a deadline rule", v)
                   : 1;
    }
    if (!strncmp(k, "escalate.", 9))
        return esc_rule_parse(st, "workorders", k, v, wo_rule_names, w->rule);
    return bad(st, "workorders", k, "unknown key", v);
}

static int on_complaints(struct cfg_parse_state *st, const char *k,
                         const char *v)
{
    struct complaint_settings *c = &st->c->cmp;
    long n;
    int i;
    if (!strncmp(k, "reply.", 6)) {
        if ((i = lookup(cmp_channel_names, k + 6)) < 0)
            return bad(st, "complaints", k, "unknown channel", k + 6);
        return deadline_parse(v, &c->reply[i])
                   ? bad(st, "complaints", k, "not a deadline rule", v)
                   : 1;
    }
    if (!strncmp(k, "escalate.", 9))
        return esc_rule_parse(st, "complaints", k, v, cmp_rule_names,
                              c->rule);
    if (parse_long(v, 1, 100000000L, &n))
        return bad(st, "complaints", k, "not a positive number", v);
    if (!strcmp(k, "re_reply_max_workdays"))
        c->re_reply_max_workdays = (int)n;
    else if (!strcmp(k, "major_claim_fen"))
        c->major_claim_fen = n;
    else if (!strcmp(k, "hot_complainants"))
        c->hot_complainants = (int)n;
    else if (!strcmp(k, "hot_window_days"))
        c->hot_window_days = (int)n;
    else if (!strcmp(k, "auto_close_days"))
        c->auto_close_days = (int)n;
    else
        return bad(st, "complaints", k, "unknown key", v);
    return 1;
}

static int on_cards(struct cfg_parse_state *st, const char *k, const char *v)
{
    static const struct {
        const char *key;
        size_t off;
        long lo, hi;
    } keys[] = {
        {"owner_months", offsetof(struct card_settings, owner_months), 1, 120},
        {"tenant_months", offsetof(struct card_settings, tenant_months), 1,
         120},
        {"merchant_months", offsetof(struct card_settings, merchant_months), 1,
         120},
        {"staff_months", offsetof(struct card_settings, staff_months), 1, 120},
        {"move_in_free", offsetof(struct card_settings, move_in_free), 0, 100},
        {"damage_free_months",
         offsetof(struct card_settings, damage_free_months), 0, 12},
        {"expiry_days", offsetof(struct card_settings, expiry_days), 1, 3660},
    };
    long n;
    for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
        if (strcmp(k, keys[i].key))
            continue;
        if (parse_long(v, keys[i].lo, keys[i].hi, &n))
            return bad(st, "cards", k, "out of range", v);
        *(int *)((char *)&st->c->cards + keys[i].off) = (int)n;
        return 1;
    }
    return bad(st, "cards", k, "unknown key", v);
}

static int on_visits(struct cfg_parse_state *st, const char *k, const char *v)
{
    static const struct {
        const char *key;
        size_t off;
        long lo, hi;
    } keys[] = {
        {"new_owner_months", offsetof(struct visit_settings, new_owner_months),
         1, 24},
        {"new_owner_max_months",
         offsetof(struct visit_settings, new_owner_max_months), 1, 24},
        {"second_after_months",
         offsetof(struct visit_settings, second_after_months), 1, 24},
        {"second_window_days",
         offsetof(struct visit_settings, second_window_days), 0, 60},
        {"manager_min_monthly",
         offsetof(struct visit_settings, manager_min_monthly), 0, 100},
    };
    long n;
    for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
        if (strcmp(k, keys[i].key))
            continue;
        if (parse_long(v, keys[i].lo, keys[i].hi, &n))
            return bad(st, "visits", k, "out of range", v);
        *(int *)((char *)&st->c->visits + keys[i].off) = (int)n;
        return 1;
    }
    return bad(st, "visits", k, "unknown key", v);
}

static int on_renovation(struct cfg_parse_state *st, const char *k,
                         const char *v)
{
    struct renovation_settings *r = &st->c->ren;
    long n;
    int *ip = !strcmp(k, "term_months")        ? &r->term_months
              : !strcmp(k, "extension_months") ? &r->extension_months
              : !strcmp(k, "refund_workdays")  ? &r->refund_workdays
                                               : NULL;
    int64_t *mp = !strcmp(k, "owner_deposit_fen") ? &r->owner_deposit
                  : !strcmp(k, "contractor_deposit_fen")
                      ? &r->contractor_deposit
                  : !strcmp(k, "self_deposit_fen") ? &r->self_deposit
                                                   : NULL;
    if (!ip && !mp)
        return bad(st, "renovation", k, "unknown key", v);
    if (parse_long(v, ip ? 1 : 0, ip ? 120 : 100000000L, &n))
        return bad(st, "renovation", k, "out of range", v);
    if (ip)
        *ip = (int)n;
    else
        *mp = n;
    return 1;
}

/* "id = role, Display Name" */
static int on_operator(struct cfg_parse_state *st, const char *k, const char *v)
{
    struct config *c = st->c;
    struct operator* op;
    char role[32];
    const char *comma = strchr(v, ',');
    size_t rl = comma ? (size_t)(comma - v) : strlen(v);

    if (c->nops >= CFG_OPERATORS_MAX)
        return bad(st, "operators", k, "too many operators at", k);
    if (!k[0] || strlen(k) >= CFG_OP_ID_MAX || cfg_operator(c, k, strlen(k)))
        return bad(st, "operators", k, "empty, too long or duplicate id", k);
    if (!strcmp(k, "system"))
        return bad(st, "operators", k, "reserved id", k);
    while (rl && isspace((unsigned char)v[rl - 1]))
        rl--;
    if (rl >= sizeof(role))
        return bad(st, "operators", k, "unknown role", v);
    memcpy(role, v, rl);
    role[rl] = '\0';
    op = &c->ops[c->nops];
    op->role = cfg_role_parse(role);
    if (!op->role || op->role == ROLE_SYSTEM)
        return bad(st, "operators", k, "unknown role", role);
    snprintf(op->id, sizeof(op->id), "%s", k);
    if (comma) {
        comma++;
        while (isspace((unsigned char)*comma))
            comma++;
    }
    snprintf(op->name, sizeof(op->name), "%s", comma ? comma : k);
    c->nops++;
    return 1;
}

/* Debian's libinih is built without line numbers in the callback, so
 * messages name the section and key instead. */
static int on_entry(void *user, const char *sec, const char *k, const char *v)
{
    struct cfg_parse_state *st = user;
    if (!strcmp(sec, "deskd"))
        return on_deskd(st, k, v);
    if (!strcmp(sec, "time"))
        return on_time(st, k, v);
    if (!strcmp(sec, "operators"))
        return on_operator(st, k, v);
    if (!strcmp(sec, "fees"))
        return on_fees(st, k, v);
    if (!strcmp(sec, "complaints"))
        return on_complaints(st, k, v);
    if (!strcmp(sec, "workorders"))
        return on_workorders(st, k, v);
    if (!strcmp(sec, "cards"))
        return on_cards(st, k, v);
    if (!strcmp(sec, "visits"))
        return on_visits(st, k, v);
    if (!strcmp(sec, "renovation"))
        return on_renovation(st, k, v);
    return bad(st, sec, k, "unknown section for key", k);
}

static int finish(struct cfg_parse_state *st, int rc)
{
    if (st->e && st->e->code)
        return st->e->code;
    if (rc)
        return err_set(st->e, ERR_INVALID, NULL, "%s:%d: syntax error",
                       st->c->path[0] ? st->c->path : "config", rc);
    if (!st->c->dashboard_dir[0] &&
        resolve_path(st->c->dashboard_dir, sizeof(st->c->dashboard_dir),
                     st->dir, CFG_DASHBOARD_DIR))
        st->c->dashboard_dir[0] = '\0'; /* too long: no dashboard */
    if (st->c->visits.new_owner_max_months < st->c->visits.new_owner_months)
        return err_set(st->e, ERR_INVALID, "visits.new_owner_max_months",
                       "[visits] new_owner_max_months is below "
                       "new_owner_months");
    return 0;
}

int cfg_parse(struct config *c, const char *text, const char *dir,
              struct err *e)
{
    struct err local = {0};
    struct cfg_parse_state st = {c, dir ? dir : "", e ? e : &local};
    int rc;

    err_clear(st.e);
    snprintf(c->dir, sizeof(c->dir), "%s", st.dir);
    rc = ini_parse_string(text, on_entry, &st);
    return finish(&st, rc);
}

static void dir_of(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, cap, ".");
    else if (slash == path)
        snprintf(out, cap, "/");
    else
        snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

int cfg_load(struct config *c, const char *path, struct err *e)
{
    struct err local = {0};
    struct cfg_parse_state st = {c, NULL, e ? e : &local};
    char dir[PATH_MAX];
    FILE *f;
    int rc;

    err_clear(st.e);
    snprintf(c->path, sizeof(c->path), "%s", path);
    dir_of(path, dir, sizeof(dir));
    snprintf(c->dir, sizeof(c->dir), "%s", dir);
    st.dir = c->dir;
    f = fopen(path, "r");
    if (!f)
        return err_set(e, ERR_INVALID, NULL, "cannot open config '%s': %s",
                       path, strerror(errno));
    rc = ini_parse_file(f, on_entry, &st);
    fclose(f);
    rc = finish(&st, rc);
    if (rc)
        return rc;
    if (c->calendar_path[0] && (rc = cal_load(&c->cal, c->calendar_path, e)))
        return rc;
    if (c->rates_path[0])
        return rates_load(&c->fees, c->rates_path, e);
    return 0;
}
