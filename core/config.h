/* core/config.h - deskd.conf (INI, parsed by libinih): endpoints, storage,
 * time and calendar, operators and their roles. Relative paths resolve
 * against the directory of the config file. Unknown sections or keys are
 * errors: a typo must not silently fall back to a default. */
#ifndef DESKD_CONFIG_H
#define DESKD_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "calendar.h"
#include "err.h"
#include "rates.h"

#define CFG_OPERATORS_MAX 512 /* operators in one config */
#define CFG_OP_ID_MAX 32      /* bytes in an operator id, NUL included */
#define CFG_OP_NAME_MAX 64    /* bytes in a display name, NUL included */
#define CFG_EP_MAX 256        /* bytes in an endpoint */

/* Roles are bits so a command table entry can allow several. */
#define ROLES(X)                                                               \
    X(CLERK, 1u << 0, "clerk")                                                 \
    X(CS_LEAD, 1u << 1, "cs_lead")                                             \
    X(MANAGER, 1u << 2, "manager")                                             \
    X(QUALITY, 1u << 3, "quality")                                             \
    X(ADMIN, 1u << 4, "admin")                                                 \
    X(SYSTEM, 1u << 5, "system")

enum role {
#define X(name, bit, str) ROLE_##name = bit,
    ROLES(X)
#undef X
};
#define ROLE_ANY_DESK                                                          \
    (ROLE_CLERK | ROLE_CS_LEAD | ROLE_MANAGER | ROLE_QUALITY | ROLE_ADMIN)

struct operator
{
    char id[CFG_OP_ID_MAX];
    char name[CFG_OP_NAME_MAX];
    unsigned role; /* one enum role bit */
};

struct config {
    char path[PATH_MAX];
    char dir[PATH_MAX]; /* directory of the config file */
    char data_dir[PATH_MAX];
    char cmd_ep[CFG_EP_MAX];
    char pub_ep[CFG_EP_MAX];
    char http_ep[CFG_EP_MAX];
    size_t map_size;  /* bytes, initial LMDB map size; grows on demand */
    int batch_max;    /* commands per write transaction */
    int frame_max;    /* bytes in one command frame */
    int sync_wait_us; /* wait this long for a next batch before an explicit
                         flush of the held one (0 = flush at once) */
    bool clock_manual;
    int64_t manual_start; /* ms; 0 = the real time at start */
    char calendar_path[PATH_MAX];
    struct calendar cal;
    char rates_path[PATH_MAX];
    struct fee_settings fees;
    int nops;
    struct operator ops[CFG_OPERATORS_MAX];
};

/* Defaults for everything, no operators, calendar without special days. */
void cfg_init(struct config *c);
/* Parses the file and loads the calendar it names. */
int cfg_load(struct config *c, const char *path, struct err *e);
/* Parses INI text (tests, fuzzing). dir is where relative paths start. */
int cfg_parse(struct config *c, const char *text, const char *dir,
              struct err *e);

/* The operator with this id, or NULL. Points into c. */
const struct operator*
    cfg_operator(const struct config *c, const char *id, size_t len);
/* "clerk" -> ROLE_CLERK; 0 if unknown. */
unsigned cfg_role_parse(const char *s);
const char *cfg_role_name(unsigned role);

#endif
