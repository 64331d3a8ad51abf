/* core/config.c - deskd.conf parsing with libinih. Fills struct config;
 * validation errors name the file, line and key. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
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
    deadline_parse(d, &w->rule[WOR_##n].after);                                \
    snprintf(w->rule[WOR_##n].notify, sizeof(w->rule[0].notify), "%s", r);
    WO_RULES(X)
#undef X
}

static void cmp_defaults(struct complaint_settings *c)
{
#define X(n, s, d) deadline_parse(d, &c->reply[CH_##n]);
    CMP_CHANNELS(X)
#undef X
#define X(n, s, d, r)                                                          \
    deadline_parse(d, &c->rule[RULE_##n].after);                               \
    snprintf(c->rule[RULE_##n].notify, sizeof(c->rule[0].notify), "%s", r);
    CMP_RULES(X)
#undef X
    c->re_reply_max_workdays = 3;
    c->major_claim_fen = 100000;
    c->hot_complainants = 3;
    c->hot_window_days = 30;
    c->auto_close_days = 7;
}

/* Where the INI text comes from: a file or a string. libinih (as Debian
 * builds it) gives the handler no line number, so the reader counts lines
 * and refuses one too long for inih's buffer (it would otherwise take the
 * rest as a line of its own). */
struct cfg_src {
    FILE *f;       /* or */
    const char *s; /* the rest of the text */
    int line;      /* of the line last read, 1-based */
    bool bol;      /* the next read starts a line */
    int too_long;  /* the first line over INI_MAX_LINE, 0 if none */
};

struct cfg_parse_state {
    struct config *c;
    const char *dir;
    struct err *e;
    struct cfg_src *src;
};

void cfg_init(struct config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->data_dir, sizeof(c->data_dir), "%s", CFG_DATA_DIR);
    snprintf(c->cmd_ep, sizeof(c->cmd_ep), "tcp://127.0.0.1:7700");
    snprintf(c->pub_ep, sizeof(c->pub_ep), "tcp://127.0.0.1:7701");
    snprintf(c->http_ep, sizeof(c->http_ep), "127.0.0.1:7780");
    c->map_size = (size_t)64 << 20;
    c->batch_max = 1024;
    c->frame_max = 64 * 1024;
    c->sync_wait_us = 0;
    c->derived_commit_ms = 50;
    c->journal_bytes = (size_t)16 << 20;
    c->log_commit_ms = 20;
    c->checkpoint_events = 200000;
    c->checkpoint_interval_s = 86400;
    c->pub_hwm = 10000;
    cal_init(&c->cal);
    c->cal_warn_days = 60;
    cfg_publish_calendar(c);
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

/* The first error is the one reported (inih goes on after a refusal; a
 * line too long, found by cfg_read, is reported by finish). */
static int bad(struct cfg_parse_state *st, const char *sec, const char *key,
               const char *why, const char *v)
{
    if (!st->e->code && !st->src->too_long)
        err_set(st->e, ERR_INVALID, key, "%s:%d: [%s] %s: %s '%s'",
                st->c->path[0] ? st->c->path : "config", st->src->line, sec,
                key, why, v);
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
        return resolve_path(c->dashboard_dir, sizeof(c->dashboard_dir), st->dir,
                            v)
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
    if (!strcmp(k, "journal_mb")) {
        if (parse_long(v, 0, 4096, &n))
            return bad(st, "deskd", k, "not a size in 0..4096 MiB", v);
        c->journal_bytes = (size_t)n << 20;
        return 1;
    }
    if (!strcmp(k, "log_commit_ms")) {
        if (parse_long(v, 1, 10000, &n))
            return bad(st, "deskd", k, "not a time in 1..10000 ms", v);
        c->log_commit_ms = (int)n;
        return 1;
    }
    if (!strcmp(k, "derived_commit_ms")) {
        if (parse_long(v, 0, 10000, &n))
            return bad(st, "deskd", k, "not a time in 0..10000 ms", v);
        c->derived_commit_ms = (int)n;
        return 1;
    }
    if (!strcmp(k, "checkpoint_events")) {
        if (parse_long(v, 0, 1000000000, &n))
            return bad(st, "deskd", k, "not a count in 0..1000000000", v);
        c->checkpoint_events = n;
        return 1;
    }
    if (!strcmp(k, "checkpoint_interval_s")) {
        if (parse_long(v, 0, 604800, &n))
            return bad(st, "deskd", k, "not a time in 0..604800 s", v);
        c->checkpoint_interval_s = n;
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
    if (!strcmp(k, "calendar_warn_days")) {
        long n;
        if (parse_long(v, 0, 366, &n))
            return bad(st, "time", k, "expected 0..366 days, got", v);
        c->cal_warn_days = (int)n;
        return 1;
    }
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
        if (!strcmp(v, "last")) { /* month-end, 28th to 31st */
            c->fees.due_day = FEES_DUE_LAST;
            return 1;
        }
        if (parse_long(v, 1, 28, &n))
            return bad(st, "fees", k,
                       "not a day in 1..28 or 'last' (the month's last day)",
                       v);
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
        return esc_rule_parse(st, "complaints", k, v, cmp_rule_names, c->rule);
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

/* ---- [security], [keys], [http_tokens] ---- */

static const char z85_chars[] =
    "0123456789abcdefghijklmnopqrstuvwxyz"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

bool cfg_z85_key_ok(const char *s, size_t n)
{
    if (n != CFG_Z85_KEY)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!s[i] || !strchr(z85_chars, s[i]))
            return false;
    return true;
}

const char *cfg_key_operator(const struct config *c, const char *z85)
{
    for (int i = 0; i < c->nkeys; i++)
        if (!strcmp(c->keys[i].key, z85))
            return c->keys[i].op;
    return NULL;
}

const struct operator*
    cfg_token_operator(const struct config *c, const char *token, size_t len)
{
    for (int i = 0; i < c->ntokens; i++) {
        const struct cfg_token *t = &c->tokens[i];
        /* every byte compared, so the time does not tell how much matched */
        unsigned diff = strlen(t->token) != len;
        for (size_t j = 0; j < len && j < CFG_TOKEN_MAX; j++)
            diff |= (unsigned char)t->token[j] ^ (unsigned char)token[j];
        if (!diff)
            return cfg_operator(c, t->op, strlen(t->op));
    }
    return NULL;
}

static int on_security(struct cfg_parse_state *st, const char *k, const char *v)
{
    struct config *c = st->c;
    if (!strcmp(k, "mode")) {
        if (!strcmp(v, "plain"))
            c->sec_mode = CFG_SEC_PLAIN;
        else if (!strcmp(v, "curve"))
            c->sec_mode = CFG_SEC_CURVE;
        else
            return bad(st, "security", k, "expected plain or curve, got", v);
        c->sec_mode_set = true;
        return 1;
    }
    if (!strcmp(k, "secret_key"))
        return resolve_path(c->sec_secret_path, sizeof(c->sec_secret_path),
                            st->dir, v)
                   ? bad(st, "security", k, "path too long", v)
                   : 1;
    return bad(st, "security", k, "unknown key", v);
}

/* "operator = KEY[, KEY...]": Z85 uses '=' and ':', which INI takes as
 * the key/value separator, so the key is the value here. */
static int on_keys(struct cfg_parse_state *st, const char *k, const char *v)
{
    struct config *c = st->c;
    const char *p = v;

    if (!k[0] || strlen(k) >= CFG_OP_ID_MAX)
        return bad(st, "keys", k, "bad operator id", k);
    while (*p) {
        size_t n = strcspn(p, ", \t");
        if (n) {
            if (!cfg_z85_key_ok(p, n))
                return bad(st, "keys", k, "not a Z85 public key (40 chars)", v);
            if (c->nkeys >= CFG_KEYS_MAX)
                return bad(st, "keys", k, "too many keys at", k);
            memcpy(c->keys[c->nkeys].key, p, n);
            c->keys[c->nkeys].key[n] = '\0';
            if (cfg_key_operator(c, c->keys[c->nkeys].key))
                return bad(st, "keys", k, "key listed twice", v);
            snprintf(c->keys[c->nkeys].op, CFG_OP_ID_MAX, "%s", k);
            c->nkeys++;
        }
        p += n;
        p += strspn(p, ", \t");
    }
    return 1;
}

/* "token = operator"; tokens are [A-Za-z0-9_.~-], CFG_TOKEN_MIN.. bytes. */
static int on_token(struct cfg_parse_state *st, const char *k, const char *v)
{
    struct config *c = st->c;
    size_t n = strlen(k);

    if (n < CFG_TOKEN_MIN || n > CFG_TOKEN_MAX ||
        strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789_.~-") != n)
        return bad(st, "http_tokens", "token",
                   "tokens are 16..128 chars of [A-Za-z0-9_.~-]; got one of",
                   n < 100 ? "a bad form" : "too many chars");
    if (c->ntokens >= CFG_TOKENS_MAX)
        return bad(st, "http_tokens", "token", "too many tokens for", v);
    if (!v[0] || strlen(v) >= CFG_OP_ID_MAX)
        return bad(st, "http_tokens", "token", "bad operator id", v);
    snprintf(c->tokens[c->ntokens].token, CFG_TOKEN_MAX + 1, "%s", k);
    snprintf(c->tokens[c->ntokens].op, CFG_OP_ID_MAX, "%s", v);
    c->ntokens++;
    return 1;
}

/* A loopback, ipc or inproc endpoint: reachable from this machine only. */
static bool ep_local(const char *ep)
{
    return !strncmp(ep, "tcp://127.", 10) ||
           !strncmp(ep, "tcp://localhost:", 16) ||
           !strncmp(ep, "tcp://[::1]:", 12) || !strncmp(ep, "ipc://", 6) ||
           !strncmp(ep, "inproc://", 9);
}

/* Keys, tokens and http_actor name operators of this config; CURVE needs a
 * secret key;
 * plain on an endpoint other machines can reach must be chosen. */
static int security_check(struct cfg_parse_state *st)
{
    struct config *c = st->c;
    for (int i = 0; i < c->nkeys; i++)
        if (!cfg_operator(c, c->keys[i].op, strlen(c->keys[i].op)))
            return err_set(st->e, ERR_INVALID, "keys",
                           "[keys] %s: no such operator", c->keys[i].op);
    for (int i = 0; i < c->ntokens; i++)
        if (!cfg_operator(c, c->tokens[i].op, strlen(c->tokens[i].op)))
            return err_set(st->e, ERR_INVALID, "http_tokens",
                           "[http_tokens] no such operator '%s'",
                           c->tokens[i].op);
    if (c->http_actor[0] &&
        !cfg_operator(c, c->http_actor, strlen(c->http_actor)))
        return err_set(st->e, ERR_INVALID, "deskd.http_actor",
                       "[deskd] http_actor '%s' is not listed under "
                       "[operators]",
                       c->http_actor);
    if (c->sec_mode == CFG_SEC_CURVE && !c->sec_secret_path[0])
        return err_set(st->e, ERR_INVALID, "security.secret_key",
                       "[security] mode = curve needs secret_key");
    if (!c->ntokens && strcmp(c->http_ep, "off") &&
        strncmp(c->http_ep, "127.", 4) &&
        strncmp(c->http_ep, "localhost:", 10) &&
        strncmp(c->http_ep, "[::1]:", 6))
        return err_set(st->e, ERR_INVALID, "http_tokens",
                       "http on '%s' is reachable from other machines: list "
                       "[http_tokens] (and put TLS in front, "
                       "docs/SECURITY.md)",
                       c->http_ep);
    if (!c->sec_mode_set && (!ep_local(c->cmd_ep) || !ep_local(c->pub_ep)))
        return err_set(st->e, ERR_INVALID, "security.mode",
                       "endpoints reachable from other machines need "
                       "[security] mode = curve (or plain, chosen "
                       "explicitly)");
    return 0;
}

/* The secret key file: the Z85 key on its first line. */
static int load_secret(struct config *c, struct err *e)
{
    char line[128];
    size_t n;
    FILE *f = fopen(c->sec_secret_path, "r");
    if (!f)
        return err_set(e, ERR_INVALID, "security.secret_key",
                       "cannot open secret key '%s': %s", c->sec_secret_path,
                       strerror(errno));
    if (!fgets(line, sizeof(line), f))
        line[0] = '\0';
    fclose(f);
    n = strcspn(line, "\r\n");
    if (!cfg_z85_key_ok(line, n))
        return err_set(e, ERR_INVALID, "security.secret_key",
                       "'%s' does not hold a Z85 secret key (40 chars)",
                       c->sec_secret_path);
    memcpy(c->sec_secret, line, n);
    c->sec_secret[n] = '\0';
    return 0;
}

/* One key: errors name the line (counted by cfg_read), section and key. */
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
    if (!strcmp(sec, "security"))
        return on_security(st, k, v);
    if (!strcmp(sec, "keys"))
        return on_keys(st, k, v);
    if (!strcmp(sec, "http_tokens"))
        return on_token(st, k, v);
    return bad(st, sec, k, "unknown section for key", k);
}

/* Reads one line, or the first INI_MAX_LINE - 1 bytes of it (the rest is
 * skipped and the line recorded as too long). */
static char *cfg_read(char *buf, int cap, void *stream)
{
    struct cfg_src *src = stream;
    size_t n = 0;

    if (src->f) {
        if (!fgets(buf, cap, src->f))
            return NULL;
        n = strlen(buf);
    } else {
        if (!*src->s)
            return NULL;
        while (src->s[n] && n + 1 < (size_t)cap)
            if (src->s[n++] == '\n')
                break;
        memcpy(buf, src->s, n);
        buf[n] = '\0';
        src->s += n;
    }
    if (src->bol)
        src->line++;
    src->bol = n && buf[n - 1] == '\n';
    if (!src->bol && n + 1 == (size_t)cap) { /* buffer full: more? */
        int ch = src->f ? fgetc(src->f) : (unsigned char)*src->s;
        if (!src->f && ch == '\n')
            src->s++;
        if (ch != EOF && ch != '\n' && ch != '\0') { /* cut: skip the rest */
            if (!src->too_long)
                src->too_long = src->line;
            if (src->f)
                while ((ch = fgetc(src->f)) != EOF && ch != '\n')
                    ;
            else
                src->s += strcspn(src->s, "\n") + (strchr(src->s, '\n') != 0);
        }
        src->bol = true;
    }
    return buf;
}

static int cfg_ini(struct cfg_parse_state *st, struct cfg_src *src)
{
    src->bol = true;
    st->src = src;
    return ini_parse_stream(cfg_read, src, on_entry, st);
}

/* Path settings the config left out, resolved against its directory. */
static int path_defaults(struct cfg_parse_state *st)
{
    struct config *c = st->c;
    if (!strcmp(c->data_dir, CFG_DATA_DIR) &&
        resolve_path(c->data_dir, sizeof(c->data_dir), st->dir, CFG_DATA_DIR))
        return err_set(st->e, ERR_INVALID, "deskd.data_dir",
                       "%s: the config's directory is too long for data_dir",
                       c->path[0] ? c->path : "config");
    if (!c->dashboard_dir[0] &&
        resolve_path(c->dashboard_dir, sizeof(c->dashboard_dir), st->dir,
                     CFG_DASHBOARD_DIR))
        c->dashboard_dir[0] = '\0'; /* too long: no dashboard */
    return 0;
}

static int finish(struct cfg_parse_state *st, int rc)
{
    const char *name = st->c->path[0] ? st->c->path : "config";
    if (st->e->code)
        return st->e->code;
    if (st->src->too_long)
        return err_set(st->e, ERR_INVALID, NULL, "%s:%d: line over %d bytes",
                       name, st->src->too_long, INI_MAX_LINE - 1);
    if (rc)
        return err_set(st->e, ERR_INVALID, NULL,
                       "%s:%d: syntax error (expected [section], key = value "
                       "or a ; comment)",
                       name, rc);
    if ((rc = path_defaults(st)))
        return rc;
    if (st->c->visits.new_owner_max_months < st->c->visits.new_owner_months)
        rc = err_set(st->e, ERR_INVALID, "visits.new_owner_max_months",
                     "[visits] new_owner_max_months is below "
                     "new_owner_months");
    else
        rc = security_check(st);
    if (rc) { /* checks of the whole file: name the file, no line */
        char msg[ERR_MSG_MAX];
        memcpy(msg, st->e->msg, sizeof(msg));
        snprintf(st->e->msg, sizeof(st->e->msg), "%.100s: %.150s", name, msg);
    }
    return rc;
}

int cfg_override(struct config *c, const char *setting, struct err *e)
{
    struct err local = {0};
    struct cfg_src src = {.s = "", .line = 1};
    struct cfg_parse_state st = {c, c->dir, e ? e : &local, &src};
    char sec[32], key[128], msg[ERR_MSG_MAX];
    const char *dot = strchr(setting, '.'), *eq = strchr(setting, '=');
    const char *why;

    err_clear(st.e);
    if (!dot || !eq || dot > eq || dot == setting || eq == dot + 1 ||
        (size_t)(dot - setting) >= sizeof(sec) ||
        (size_t)(eq - dot - 1) >= sizeof(key))
        return err_set(st.e, ERR_INVALID, NULL,
                       "--set '%s': give section.key=value "
                       "(complaints.escalate.open_10d=days:7, manager)",
                       setting);
    snprintf(sec, sizeof(sec), "%.*s", (int)(dot - setting), setting);
    snprintf(key, sizeof(key), "%.*s", (int)(eq - dot - 1), dot + 1);
    if (on_entry(&st, sec, key, eq + 1) && !st.e->code) {
        /* a late-fee policy set again replaces the one of the file: the
         * new one was appended last, the older ones go */
        if (!strcmp(sec, "fees") && !strncmp(key, "late_fee.", 9))
            for (int i = c->fees.nlate - 2; i >= 0; i--)
                if (!strcmp(c->fees.late[i].item, key + 9))
                    memmove(&c->fees.late[i], &c->fees.late[i + 1],
                            (size_t)(--c->fees.nlate - i) *
                                sizeof(c->fees.late[0]));
        return 0;
    }
    if (!st.e->code)
        err_set(st.e, ERR_INVALID, key, "bad value");
    /* the same message as for the file, without its file and line */
    why = strchr(st.e->msg, '[');
    snprintf(msg, sizeof(msg), "--set '%.60s': %.180s", setting,
             why ? why : st.e->msg);
    memcpy(st.e->msg, msg, sizeof(msg));
    return st.e->code;
}

int cfg_parse(struct config *c, const char *text, const char *dir,
              struct err *e)
{
    struct err local = {0};
    struct cfg_src src = {.s = text};
    struct cfg_parse_state st = {c, dir ? dir : "", e ? e : &local, &src};
    int rc;

    err_clear(st.e);
    snprintf(c->dir, sizeof(c->dir), "%s", st.dir);
    rc = cfg_ini(&st, &src);
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

/* The INI file alone, without the files it names. */
static int cfg_load_ini(struct config *c, const char *path, struct err *e)
{
    struct err local = {0};
    struct cfg_src src = {0};
    struct cfg_parse_state st = {c, NULL, e ? e : &local, &src};
    char dir[PATH_MAX];
    int rc;

    err_clear(st.e);
    snprintf(c->path, sizeof(c->path), "%s", path);
    src.f = fopen(path, "r");
    if (!src.f)
        return err_set(e, ERR_INVALID, NULL, "cannot open config '%s': %s",
                       path, strerror(errno));
    /* Relative paths in the file start at its directory, made absolute
     * here: the working directory never matters (a service runs in /). */
    dir_of(path, dir, sizeof(dir));
    if (!realpath(dir, c->dir)) {
        fclose(src.f);
        return err_set(e, ERR_INVALID, NULL, "config '%s': directory: %s", path,
                       strerror(errno));
    }
    st.dir = c->dir;
    rc = cfg_ini(&st, &src);
    fclose(src.f);
    rc = finish(&st, rc);
    return rc;
}

int cfg_load_rules(struct config *c, const char *path, struct err *e)
{
    int rc = cfg_load_ini(c, path, e);

    if (rc)
        return rc;
    if (c->calendar_path[0] && (rc = cal_load(&c->cal, c->calendar_path, e)))
        return rc;
    cfg_publish_calendar(c);
    if (c->rates_path[0] && (rc = rates_load(&c->fees, c->rates_path, e)))
        return rc;
    return 0;
}

int cfg_load(struct config *c, const char *path, struct err *e)
{
    int rc = cfg_load_rules(c, path, e);

    if (!rc && c->sec_mode == CFG_SEC_CURVE)
        rc = load_secret(c, e);
    return rc;
}

void cfg_publish_calendar(struct config *c)
{
    atomic_store_explicit(&c->cal_from, c->cal.first, memory_order_relaxed);
    atomic_store_explicit(&c->cal_until, c->cal.last, memory_order_relaxed);
}

int cfg_calendar_reload(struct config *c, bool *changed, struct err *e)
{
    struct calendar *n;
    int rc;

    if (!c->calendar_path[0])
        return err_set(e, ERR_INVALID, "calendar",
                       "no calendar file is configured ([time] calendar)");
    n = malloc(sizeof(*n));
    if (!n)
        return err_set(e, ERR_UNAVAILABLE, NULL, "out of memory");
    *n = c->cal; /* offset and hours stay; the days are replaced */
    rc = cal_load(n, c->calendar_path, e);
    if (rc == 0) {
        /* the days only: offset_min and the hours, which the HTTP thread
         * reads, are not written */
        *changed = strcmp(n->hash, c->cal.hash) != 0;
        c->cal.first = n->first;
        c->cal.last = n->last;
        c->cal.nspecial = n->nspecial;
        memcpy(c->cal.special_day, n->special_day, sizeof(n->special_day));
        memcpy(c->cal.special_kind, n->special_kind, sizeof(n->special_kind));
        memcpy(c->cal.hash, n->hash, sizeof(n->hash));
        cfg_publish_calendar(c);
    }
    free(n);
    return rc;
}

static int key_listed(const struct cfg_key *keys, int n, const char *key)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(keys[i].key, key))
            return 1;
    return 0;
}

int cfg_keys_reload(struct config *c, int *added, int *removed, struct err *e)
{
    struct config *n = malloc(sizeof(*n));
    int rc;

    if (!n)
        return err_set(e, ERR_UNAVAILABLE, NULL, "out of memory");
    cfg_init(n);
    /* the INI only: a broken calendar or fee file must not hold back a
     * key revocation */
    if ((rc = cfg_load_ini(n, c->path, e)))
        goto out_free;
    for (int i = 0; i < n->nkeys; i++)
        if (!cfg_operator(c, n->keys[i].op, strlen(n->keys[i].op))) {
            rc = err_set(e, ERR_INVALID, "keys",
                         "[keys] %s: not an operator of the running config "
                         "(operators change with a restart)",
                         n->keys[i].op);
            goto out_free;
        }
    *added = *removed = 0;
    for (int i = 0; i < n->nkeys; i++)
        *added += !key_listed(c->keys, c->nkeys, n->keys[i].key);
    for (int i = 0; i < c->nkeys; i++)
        *removed += !key_listed(n->keys, n->nkeys, c->keys[i].key);
    memcpy(c->keys, n->keys, sizeof(c->keys));
    c->nkeys = n->nkeys;
out_free:
    free(n);
    return rc;
}
