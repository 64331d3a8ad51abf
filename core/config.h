/* core/config.h - deskd.conf (INI, parsed by libinih): endpoints, storage,
 * time and calendar, operators and their roles. Relative paths resolve
 * against the directory of the config file (cfg_load makes it absolute),
 * never the working directory. Errors name the file and line. Unknown
 * sections or keys are errors: a typo must not silently fall back to a
 * default. */
#ifndef DESKD_CONFIG_H
#define DESKD_CONFIG_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "deadline.h"
#include "err.h"
#include "rates.h"

#define CFG_OPERATORS_MAX 512 /* operators in one config */
#define CFG_OP_ID_MAX 32      /* bytes in an operator id, NUL included */
#define CFG_OP_NAME_MAX 64    /* bytes in a display name, NUL included */
#define CFG_EP_MAX 256        /* bytes in an endpoint */
/* data_dir and dashboard_dir when the config names none, relative to its
 * directory */
#define CFG_DATA_DIR "var"
#define CFG_DASHBOARD_DIR "../tools/dashboard"
/* events an SSE client may fall behind before it is dropped (it resumes
 * with Last-Event-ID) */
#define CFG_SSE_LAG_MAX 10000

/* Security (core/bus.c): plain ZeroMQ, or CURVE with a ZAP handler that
 * accepts only the public keys listed under [keys]. */
#define CFG_SEC_PLAIN 0
#define CFG_SEC_CURVE 1
#define CFG_Z85_KEY 40    /* chars in a Z85 CURVE key (32 bytes) */
#define CFG_KEYS_MAX 1024 /* desk keys in one config */
#define CFG_TOKENS_MAX 64 /* HTTP bearer tokens in one config */
#define CFG_TOKEN_MIN 16  /* bytes: shorter tokens are guessable */
#define CFG_TOKEN_MAX 128 /* bytes in a token, NUL excluded */

struct cfg_key {
    char key[CFG_Z85_KEY + 1]; /* Z85 public key */
    char op[CFG_OP_ID_MAX];    /* operator id */
};

struct cfg_token {
    char token[CFG_TOKEN_MAX + 1];
    char op[CFG_OP_ID_MAX];
};

/* Roles are bits so a command table entry can allow several. */
#define ROLES(X)                                                               \
    X(CLERK, 1u << 0, "clerk")                                                 \
    X(CS_LEAD, 1u << 1, "cs_lead")                                             \
    X(MANAGER, 1u << 2, "manager")                                             \
    X(QUALITY, 1u << 3, "quality")                                             \
    X(ADMIN, 1u << 4, "admin")                                                 \
    X(SYSTEM, 1u << 5, "system")                                               \
    X(READER, 1u << 6, "reader")

enum role {
#define X(name, bit, str) ROLE_##name = bit,
    ROLES(X)
#undef X
};
/* reader: a program that only reads (desksink, BI extracts): it may run
 * the queries every desk may run (log.read, query.*), nothing that writes
 * and nothing leads only may see (cmd_authorise). Never in the table. */
#define ROLE_LEADS (ROLE_CS_LEAD | ROLE_MANAGER | ROLE_ADMIN)
#define ROLE_ANY_DESK                                                          \
    (ROLE_CLERK | ROLE_CS_LEAD | ROLE_MANAGER | ROLE_QUALITY | ROLE_ADMIN)

struct operator
{
    char id[CFG_OP_ID_MAX];
    char name[CFG_OP_NAME_MAX];
    unsigned role; /* one enum role bit */
};

/* Channels of R-CMP-01, and the escalation rules of R-CMP-06..09, in the
 * order the rule ids are listed. */
#define CMP_CHANNELS(X)                                                        \
    X(WALK_IN, "walk_in", "same_day")                                          \
    X(PHONE, "phone", "same_day")                                              \
    X(HOTLINE, "hotline", "same_day")                                          \
    X(LETTER, "letter", "workdays:2")                                          \
    X(FAX, "fax", "workdays:2")                                                \
    X(EMAIL, "email", "workdays:2")                                            \
    X(ONLINE, "online", "workday_end")                                         \
    X(PRESS, "press", "same_day")                                              \
    X(HEAD_OFFICE, "head_office", "workdays:1")
#define CMP_RULES(X)                                                           \
    X(MISSED_REPLY, "missed_reply", "0", "cs_lead")                            \
    X(MISSED_RE_REPLY, "missed_re_reply", "0", "cs_lead")                      \
    X(OPEN_10D, "open_10d", "days:10", "manager")                              \
    X(OPEN_15D, "open_15d", "days:15", "branch_gm")                            \
    X(MAJOR, "major", "workdays:1", "quality")                                 \
    X(HOT, "hot", "days:7", "quality")                                         \
    X(UPDATE_DUE, "update_due", "days:3", "cs_lead")                           \
    X(VISIT_DUE, "visit_due", "hours:24", "cs_lead")

enum cmp_channel {
#define X(n, s, d) CH_##n,
    CMP_CHANNELS(X)
#undef X
        CH_COUNT
};
enum cmp_rule {
#define X(n, s, d, r) RULE_##n,
    CMP_RULES(X)
#undef X
        RULE_COUNT
};

/* One escalation rule, "escalate.<rule> = <deadline>, <notified>", as the
 * complaints and work orders sections state them. */
struct esc_rule {
    struct deadline after; /* from its trigger; for major/hot, the
                              deadline given to the notified party */
    char notify[48];       /* role(s) or party notified */
};

struct complaint_settings {
    struct deadline reply[CH_COUNT]; /* first reply (R-CMP-04) */
    int re_reply_max_workdays;       /* agreed re-reply at most (3) */
    struct esc_rule rule[RULE_COUNT];
    int64_t major_claim_fen; /* 100000: 1,000 yuan */
    int hot_complainants;    /* 3 */
    int hot_window_days;     /* 30 */
    int auto_close_days;     /* 7 (R-CMP-09) */
};

/* IC and parking cards (R-CARD-01..05): validity per holder type in
 * months, free move-in cards, the free-replacement window, the expiry
 * schedule's default horizon. */
struct card_settings {
    int owner_months;       /* 24 (owner and family: 2 years) */
    int tenant_months;      /* 12, never past the lease end */
    int merchant_months;    /* 12 */
    int staff_months;       /* 12 (free) */
    int move_in_free;       /* 3 free cards per unit at move-in */
    int damage_free_months; /* 1: free replacement within a month */
    int expiry_days;        /* 30: the schedule's default N */
};

/* Customer visits (R-VIS-01..04): when a new owner's first visit is due
 * and its hard limit, the second visit's offset and window, the office
 * manager's monthly minimum. */
struct visit_settings {
    int new_owner_months;     /* 1: visited within a month of moving in */
    int new_owner_max_months; /* 3: at most */
    int second_after_months;  /* 1: the second visit about a month later */
    int second_window_days;   /* 7: listed this many days before it is due,
                                 overdue this many days after */
    int manager_min_monthly;  /* 2 households a month (R-VIS-02) */
};

/* Renovation (R-REN-02, R-REN-03, R-REN-05): the longest term and
 * extension, the deposits in fen, the working days before a refund. */
struct renovation_settings {
    int term_months;            /* 3 */
    int extension_months;       /* 3 at a time */
    int64_t owner_deposit;      /* 100000: 1,000 yuan */
    int64_t contractor_deposit; /* 100000 */
    int64_t self_deposit;       /* 200000 when the owner does it himself */
    int refund_workdays;        /* 7 after the completion inspection passes */
};

extern const char *const cmp_channel_names[];
extern const char *const cmp_rule_names[];

/* Work orders (R-WO-01..04): return-visit deadlines by category and the
 * escalation rules, same form as the complaints'. */
#define WO_CATEGORIES(X)                                                       \
    X(SAFETY, "safety", "days:2")                                              \
    X(LEAK, "leak", "days:3")                                                  \
    X(OTHER, "other", "days:7")
#define WO_RULES(X)                                                            \
    X(STALE, "stale", "days:3", "cs_lead")                                     \
    X(VISIT_DUE, "visit_due", "0", "cs_lead")                                  \
    X(NOTICE_DUE, "notice_due", "hours:24", "cs_lead")                         \
    X(UNSOLVED, "unsolved", "0", "cs_lead, dept_head")

enum wo_category {
#define X(n, s, d) WOC_##n,
    WO_CATEGORIES(X)
#undef X
        WOC_COUNT
};
enum wo_rule {
#define X(n, s, d, r) WOR_##n,
    WO_RULES(X)
#undef X
        WOR_COUNT
};

struct workorder_settings {
    struct deadline visit[WOC_COUNT]; /* return visit after completion */
    struct esc_rule rule[WOR_COUNT];
};

extern const char *const wo_category_names[];
extern const char *const wo_rule_names[];

struct config {
    char path[PATH_MAX];
    char dir[PATH_MAX]; /* directory of the config file */
    char data_dir[PATH_MAX];
    char cmd_ep[CFG_EP_MAX];
    char pub_ep[CFG_EP_MAX];
    char http_ep[CFG_EP_MAX];
    size_t map_size;       /* bytes, initial LMDB map size; grows on demand */
    int batch_max;         /* commands per write transaction */
    int frame_max;         /* bytes in one command frame */
    int sync_wait_us;      /* wait this long for a next batch before an explicit
                              flush of the held one (0 = flush at once) */
    size_t journal_bytes;  /* the log's journal (core/journal.h): its size;
                              0: none, replies wait for the LMDB commit */
    int log_commit_ms;     /* with a journal: the LMDB log is committed
                              this long after the first record it would
                              carry was journaled (sooner on demand) */
    int derived_commit_ms; /* derived state's txn is committed this long
                              after it began (once its segments in flight
                              are in the log; 0: after every log commit);
                              HTTP queries and checkpoints ask for it
                              sooner (core/fresh.h) */
    /* checkpoints of derived state (log_checkpoint): after this many
     * events applied since the last one, or this many seconds since it
     * (and at least one event); 0 turns either trigger off */
    long checkpoint_events;
    long checkpoint_interval_s;
    bool clock_manual;
    int64_t manual_start; /* ms; 0 = the real time at start */
    char calendar_path[PATH_MAX];
    struct calendar cal; /* the writer thread's; swapped by a reload */
    int cal_warn_days;   /* warn this many days before the coverage ends
                            (0: never); [time] calendar_warn_days */
    /* cal.first/last as the HTTP thread may read them (a reload changes
     * them under it): relaxed atomics, stored by cfg_publish_calendar */
    _Atomic int32_t cal_from, cal_until;
    char rates_path[PATH_MAX];
    struct fee_settings fees;
    struct complaint_settings cmp;
    struct workorder_settings wo;
    struct card_settings cards;
    struct visit_settings visits;
    struct renovation_settings ren;
    int nops;
    struct operator ops[CFG_OPERATORS_MAX];
    /* HTTP (core/http.c); http_ep "off" disables it */
    char dashboard_dir[PATH_MAX];   /* static files of the dashboard */
    char http_actor[CFG_OP_ID_MAX]; /* operator of requests naming none */
    long sse_lag_max;
    int pub_hwm; /* events queued per subscriber before PUB drops */
    /* [security], [keys] and [http_tokens] (docs/SECURITY.md) */
    int sec_mode;      /* CFG_SEC_PLAIN or CFG_SEC_CURVE */
    bool sec_mode_set; /* named in the config (not the default) */
    char sec_secret_path[PATH_MAX];
    char sec_secret[CFG_Z85_KEY + 1]; /* the server's secret key (Z85) */
    int nkeys;
    struct cfg_key keys[CFG_KEYS_MAX];
    int ntokens;
    struct cfg_token tokens[CFG_TOKENS_MAX];
};

/* Looks up the operator of a desk's CURVE public key (Z85, 40 chars);
 * NULL when the key is not listed. Points into c. */
const char *cfg_key_operator(const struct config *c, const char *z85);
/* The operator of an HTTP bearer token, or NULL. Points into c. */
const struct operator*
    cfg_token_operator(const struct config *c, const char *token, size_t len);
/* SIGHUP: parses c->path again and takes its [keys] (nothing else). The
 * keys must name operators of the running config. *added / *removed count
 * the keys that appeared / went away. On error c is unchanged. */
int cfg_keys_reload(struct config *c, int *added, int *removed, struct err *e);
/* SIGHUP: loads the file named by calendar_path again (a new year's
 * official schedule) into c->cal, keeping the offset and desk hours, and
 * publishes its coverage. *changed says whether the file's hash differs
 * from the one loaded before. On error c is unchanged. */
int cfg_calendar_reload(struct config *c, bool *changed, struct err *e);
/* Stores c->cal's coverage in cal_from / cal_until. */
void cfg_publish_calendar(struct config *c);

/* True if s is 40 characters of the Z85 alphabet (a 32-byte key). */
bool cfg_z85_key_ok(const char *s, size_t n);

/* Defaults for everything, no operators, calendar without special days. */
void cfg_init(struct config *c);
/* Parses the file and loads the calendar it names. */
int cfg_load(struct config *c, const char *path, struct err *e);
/* The same without the CURVE secret key: for tools that only apply the
 * rules (deskaudit whatif), run by users who may not read the key. */
int cfg_load_rules(struct config *c, const char *path, struct err *e);
/* Parses INI text (tests, fuzzing). dir is where relative paths start. */
int cfg_parse(struct config *c, const char *text, const char *dir,
              struct err *e);

/* One "section.key=value" applied to a loaded config through the same
 * entry handler as the file (deskaudit whatif --set): an unknown key or a
 * bad value is ERR_INVALID naming the setting. A late_fee.<item> policy
 * replaces the file's one for that item. */
int cfg_override(struct config *c, const char *setting, struct err *e);
/* The operator with this id, or NULL. Points into c. */
const struct operator*
    cfg_operator(const struct config *c, const char *id, size_t len);
/* "clerk" -> ROLE_CLERK; 0 if unknown. */
unsigned cfg_role_parse(const char *s);
const char *cfg_role_name(unsigned role);

#endif
