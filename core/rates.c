/* core/rates.c - parses and looks up the fee schedule. */
#include "rates.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "date.h"

#define RATES_FILE_MAX (256 * 1024) /* bytes in the schedule file */
#define FIELDS 5

static const char *const basis_names[] = {
#define X(n, s) s,
    RATE_BASES(X)
#undef X
};

const char *rate_basis_name(enum rate_basis b)
{
    return basis_names[b];
}

void rates_init(struct fee_settings *f)
{
    memset(f, 0, sizeof(*f));
    f->due_day = 15;
    f->prepay_months = 3;
    f->large_debtor_fen = 300000; /* 3,000 yuan */
}

static int split(char *line, char *fld[FIELDS])
{
    int n = 0;
    for (char *save = NULL, *t = strtok_r(line, "\t", &save); t && n < FIELDS;
         t = strtok_r(NULL, "\t", &save))
        fld[n++] = t;
    return n;
}

static int parse_rate(struct rate *r, char *line, const char *name, int ln,
                      struct err *e)
{
    char *fld[FIELDS], *end;
    int i;

    if (split(line, fld) != FIELDS)
        return err_set(e, ERR_INVALID, NULL,
                       "%s:%d: expected 5 tab-separated "
                       "fields",
                       name, ln);
    if (strlen(fld[0]) >= RATE_ITEM_MAX || strlen(fld[1]) >= RATE_TYPE_MAX ||
        !fld[0][0] || !fld[1][0])
        return err_set(e, ERR_INVALID, NULL,
                       "%s:%d: item or unit type too "
                       "long",
                       name, ln);
    strcpy(r->item, fld[0]);
    strcpy(r->unit_type, fld[1]);
    if (date_parse(fld[2], strlen(fld[2]), &r->effective))
        return err_set(e, ERR_INVALID, NULL, "%s:%d: bad date '%s'", name, ln,
                       fld[2]);
    errno = 0;
    r->amount = strtoll(fld[3], &end, 10);
    if (errno || *end || end == fld[3] || r->amount < 0)
        return err_set(e, ERR_INVALID, NULL,
                       "%s:%d: amount '%s' is not whole "
                       "fen",
                       name, ln, fld[3]);
    for (i = 0; i < (int)(sizeof(basis_names) / sizeof(*basis_names)); i++)
        if (!strcmp(fld[4], basis_names[i]))
            break;
    if (i == (int)(sizeof(basis_names) / sizeof(*basis_names)))
        return err_set(e, ERR_INVALID, NULL, "%s:%d: unknown basis '%s'", name,
                       ln, fld[4]);
    r->basis = (enum rate_basis)i;
    return 0;
}

static int cmp_rate(const void *a, const void *b)
{
    const struct rate *x = a, *y = b;
    int c = strcmp(x->item, y->item);
    if (!c)
        c = strcmp(x->unit_type, y->unit_type);
    if (!c)
        c = (x->effective > y->effective) - (x->effective < y->effective);
    return c;
}

int rates_parse(struct fee_settings *f, const char *buf, size_t len,
                const char *name, struct err *e)
{
    char line[512];
    size_t at = 0;
    int ln = 0;

    f->nrates = 0;
    while (at < len) {
        const char *s = buf + at, *nl = memchr(s, '\n', len - at);
        size_t n = nl ? (size_t)(nl - s) : len - at;
        at += n + (nl ? 1 : 0);
        ln++;
        if (n && s[n - 1] == '\r')
            n--;
        if (n == 0 || s[0] == '#')
            continue;
        if (n >= sizeof(line))
            return err_set(e, ERR_INVALID, NULL, "%s:%d: line too long", name,
                           ln);
        if (f->nrates >= RATES_MAX)
            return err_set(e, ERR_INVALID, NULL, "%s:%d: more than %d rates",
                           name, ln, RATES_MAX);
        memcpy(line, s, n);
        line[n] = '\0';
        if (parse_rate(&f->rates[f->nrates], line, name, ln, e))
            return e ? e->code : ERR_INVALID;
        f->nrates++;
    }
    qsort(f->rates, (size_t)f->nrates, sizeof(*f->rates), cmp_rate);
    return 0;
}

int rates_load(struct fee_settings *f, const char *path, struct err *e)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    size_t n;
    int rc;

    if (!fp)
        return err_set(e, ERR_INVALID, NULL,
                       "cannot open fee schedule '%s': "
                       "%s",
                       path, strerror(errno));
    buf = malloc(RATES_FILE_MAX);
    n = buf ? fread(buf, 1, RATES_FILE_MAX, fp) : 0;
    rc = buf ? rates_parse(f, buf, n, path, e)
             : err_set(e, ERR_UNAVAILABLE, NULL, "out of memory");
    free(buf);
    fclose(fp);
    return rc;
}

int rates_parse_late(struct fee_settings *f, const char *item, const char *spec)
{
    struct late_policy p = {0};
    if (f->nlate >= LATE_POLICIES_MAX || strlen(item) >= RATE_ITEM_MAX ||
        sscanf(spec, "grace=%d daily_bp=%d cap_bp=%d", &p.grace_days,
               &p.daily_bp, &p.cap_bp) != 3 ||
        p.grace_days < 0 || p.daily_bp <= 0 || p.cap_bp <= 0)
        return -1;
    strcpy(p.item, item);
    f->late[f->nlate++] = p;
    return 0;
}

static const struct rate *find_type(const struct fee_settings *f,
                                    const char *item, const char *type,
                                    int32_t day)
{
    const struct rate *best = NULL;
    for (int i = 0; i < f->nrates; i++) {
        const struct rate *r = &f->rates[i];
        if (!strcmp(r->item, item) && !strcmp(r->unit_type, type) &&
            r->effective <= day)
            best = r; /* sorted by effective: the last one wins */
    }
    return best;
}

const struct rate *rates_find(const struct fee_settings *f, const char *item,
                              const char *unit_type, int32_t day)
{
    const struct rate *r = find_type(f, item, unit_type, day);
    return r ? r : find_type(f, item, "*", day);
}

const struct late_policy *rates_late(const struct fee_settings *f,
                                     const char *item)
{
    for (int i = 0; i < f->nlate; i++)
        if (!strcmp(f->late[i].item, item))
            return &f->late[i];
    return NULL;
}

int fees_due_in(int due_day, int y, int m)
{
    return due_day == FEES_DUE_LAST ? date_days_in_month(y, m) : due_day;
}
