/* projections/visits.c - read model of customer visits (R-VIS-01..04).
 * Owns sub-dbs visits, unit_visits, visit_marks, visitor_months and
 * important_people. Reads only the event and its own tables, so a replay
 * reproduces them. */
#include "visits.h"

#include <string.h>

#include "../core/date.h"
#include "units.h"

#define VKEY_MAX (UNIT_KEY_MAX + PERSON_ID_MAX + 24 + 8) /* any key here */
#define VACANT_KIND "vacant_inspection"

static int32_t day_of(const msgpack_object *m, const char *key)
{
    const char *s;
    size_t n;
    int32_t d;
    if (codec_get_str(m, key, &s, &n) || date_parse(s, n, &d))
        return DATE_NONE;
    return d;
}

/* unit \0 person \0 kind */
static size_t mark_key(unsigned char *k, const char *unit, const char *person,
                       const char *kind)
{
    size_t n = 0, l;
    l = strlen(unit) + 1;
    memcpy(k + n, unit, l), n += l;
    l = strlen(person) + 1;
    memcpy(k + n, person, l), n += l;
    l = strlen(kind);
    memcpy(k + n, kind, l), n += l;
    return n;
}

static int parse_mark(const msgpack_object *o, struct visit_mark *m)
{
    m->first = day_of(o, "first");
    m->last = day_of(o, "last");
    m->count = 0;
    codec_get_int(o, "count", &m->count);
    return m->first == DATE_NONE ? ERR_UNAVAILABLE : 0;
}

/* Visits are recorded in any date order: first/last are min/max. */
static int bump_mark(MDB_txn *txn, const struct views *v, const char *unit,
                     const char *person, const char *kind, int32_t day)
{
    unsigned char k[VKEY_MAX];
    size_t kl = mark_key(k, unit, person, kind);
    struct visit_mark m = {day, day, 0};
    struct codec_doc d;
    struct cw w;
    int rc = proj_get(txn, v->dbi[DB_VISIT_MARKS], k, kl, &d);

    if (rc == 0) {
        rc = parse_mark(d.obj, &m);
        codec_doc_release(&d);
        if (rc)
            return rc;
        m.first = day < m.first ? day : m.first;
        m.last = day > m.last ? day : m.last;
    } else if (rc != MDB_NOTFOUND) {
        return rc;
    }
    cw_init(&w);
    cw_map(&w, 3);
    cw_kdate(&w, "first", m.first);
    cw_kdate(&w, "last", m.last);
    cw_kint(&w, "count", m.count + 1);
    rc = proj_put(txn, v->dbi[DB_VISIT_MARKS], k, kl, &w);
    cw_release(&w);
    return rc;
}

static void month_key(unsigned char *k, int32_t day)
{
    int y, m, d;
    date_to_ymd(day, &y, &m, &d);
    proj_key_day(k, date_from_ymd(y, m, 1));
}

static int bump_visitor(MDB_txn *txn, const struct views *v, const char *op,
                        int32_t day, bool household)
{
    unsigned char k[4 + 64];
    size_t ol = strlen(op);
    int64_t visits = 0, households = 0;
    struct codec_doc d;
    struct cw w;
    int rc;

    if (ol > 64)
        return ERR_UNAVAILABLE;
    month_key(k, day);
    memcpy(k + 4, op, ol);
    rc = proj_get(txn, v->dbi[DB_VISITOR_MONTHS], k, 4 + ol, &d);
    if (rc == 0) {
        codec_get_int(d.obj, "visits", &visits);
        codec_get_int(d.obj, "households", &households);
        codec_doc_release(&d);
    } else if (rc != MDB_NOTFOUND) {
        return rc;
    }
    cw_init(&w);
    cw_map(&w, 3);
    cw_kstr(&w, "operator", op);
    cw_kint(&w, "visits", visits + 1);
    cw_kint(&w, "households", households + (household ? 1 : 0));
    rc = proj_put(txn, v->dbi[DB_VISITOR_MONTHS], k, 4 + ol, &w);
    cw_release(&w);
    return rc;
}

static int apply_visit(MDB_txn *txn, const struct views *v,
                       const struct event *ev)
{
    char id[VISIT_ID_MAX], unit[UNIT_KEY_MAX], person[PERSON_ID_MAX], kind[24],
        op[64];
    unsigned char k[VKEY_MAX];
    int32_t day = day_of(ev->data, "date");
    size_t ul;
    bool household;
    struct cw w;
    int rc;

    codec_copy_str(ev->data, "visit", id, sizeof(id));
    codec_copy_str(ev->data, "unit", unit, sizeof(unit));
    codec_copy_str(ev->data, "person", person, sizeof(person));
    codec_copy_str(ev->data, "kind", kind, sizeof(kind));
    codec_copy_str(ev->data, "visitor", op, sizeof(op));
    if (!id[0] || !unit[0] || day == DATE_NONE)
        return ERR_UNAVAILABLE;
    household = strcmp(kind, VACANT_KIND) != 0;
    cw_init(&w);
    cw_obj(&w, ev->data);
    rc = proj_put(txn, v->dbi[DB_VISITS], id, strlen(id), &w);
    ul = strlen(unit) + 1;
    memcpy(k, unit, ul);
    proj_key_day(k + ul, day);
    proj_key_u64(k + ul + 4, ev->seq);
    if (!rc)
        rc = proj_put(txn, v->dbi[DB_UNIT_VISITS], k, ul + 12, &w);
    cw_release(&w);
    if (rc || (rc = bump_mark(txn, v, unit, person, kind, day)))
        return rc;
    if (household &&
        (rc = bump_mark(txn, v, unit, person, VISIT_KIND_ANY, day)))
        return rc;
    return bump_visitor(txn, v, op, day, household);
}

static int apply_important(MDB_txn *txn, const struct views *v,
                           const struct event *ev)
{
    char person[PERSON_ID_MAX], tag[32];
    MDB_val k;
    struct cw w;
    int rc;

    codec_copy_str(ev->data, "person", person, sizeof(person));
    codec_copy_str(ev->data, "tag", tag, sizeof(tag));
    k = (MDB_val){strlen(person), person};
    if (!strcmp(tag, "none")) {
        rc = mdb_del(txn, v->dbi[DB_IMPORTANT], &k, NULL);
        return rc == MDB_NOTFOUND ? 0 : rc;
    }
    cw_init(&w);
    cw_map(&w, 2);
    cw_kstr(&w, "tag", tag);
    cw_kdate(&w, "since", ev->recorded_day);
    rc = proj_put(txn, v->dbi[DB_IMPORTANT], person, strlen(person), &w);
    cw_release(&w);
    return rc;
}

int proj_visits_apply(MDB_txn *txn, const struct views *v,
                      const struct event *ev)
{
    switch (ev->type) {
    case EV_VISIT_RECORDED:
        return apply_visit(txn, v, ev);
    case EV_IMPORTANT_SET:
        return apply_important(txn, v, ev);
    default:
        return 0;
    }
}

int visits_mark(MDB_txn *txn, const struct views *v, const char *unit,
                const char *person, const char *kind, struct visit_mark *m)
{
    unsigned char k[VKEY_MAX];
    struct codec_doc d;
    int rc;

    if (strlen(unit) + strlen(person) + strlen(kind) + 2 > sizeof(k))
        return MDB_NOTFOUND;
    rc = proj_get(txn, v->dbi[DB_VISIT_MARKS], k,
                  mark_key(k, unit, person, kind), &d);
    if (rc)
        return rc;
    rc = parse_mark(d.obj, m);
    codec_doc_release(&d);
    return rc;
}

int visits_count_unit(MDB_txn *txn, const struct views *v, const char *unit,
                      int32_t first, int32_t last, int64_t *n)
{
    unsigned char k[UNIT_KEY_MAX + 12];
    size_t ul = strlen(unit) + 1;
    MDB_cursor *cur;
    MDB_val key = {ul + 4, k}, val;
    int rc;

    *n = 0;
    if (ul > UNIT_KEY_MAX)
        return 0;
    memcpy(k, unit, ul);
    proj_key_day(k + ul, first);
    if ((rc = mdb_cursor_open(txn, v->dbi[DB_UNIT_VISITS], &cur)))
        return rc;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        struct codec_doc d;
        char kind[24];
        if (key.mv_size != ul + 12 || memcmp(key.mv_data, unit, ul) ||
            proj_key_get_day((const unsigned char *)key.mv_data + ul) > last)
            break;
        if (codec_doc_parse_trusted(&d, val.mv_data, val.mv_size, NULL))
            continue;
        codec_copy_str(d.obj, "kind", kind, sizeof(kind));
        codec_doc_release(&d);
        if (strcmp(kind, VACANT_KIND))
            (*n)++;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int visits_each_of_unit(MDB_txn *txn, const struct views *v, const char *unit,
                        proj_each_fn fn, void *ctx)
{
    return proj_each(txn, v->dbi[DB_UNIT_VISITS], unit, strlen(unit) + 1, fn,
                     ctx);
}

int visits_each_visitor_month(MDB_txn *txn, const struct views *v,
                              int32_t month_first, proj_each_fn fn, void *ctx)
{
    unsigned char k[4];
    proj_key_day(k, month_first);
    return proj_each(txn, v->dbi[DB_VISITOR_MONTHS], k, 4, fn, ctx);
}

int visits_visitor_month(MDB_txn *txn, const struct views *v,
                         int32_t month_first, const char *op,
                         int64_t *households)
{
    unsigned char k[4 + 64];
    size_t ol = strlen(op);
    struct codec_doc d;
    int rc;

    *households = 0;
    if (ol > 64)
        return 0;
    proj_key_day(k, month_first);
    memcpy(k + 4, op, ol);
    rc = proj_get(txn, v->dbi[DB_VISITOR_MONTHS], k, 4 + ol, &d);
    if (rc)
        return rc == MDB_NOTFOUND ? 0 : rc;
    codec_get_int(d.obj, "households", households);
    codec_doc_release(&d);
    return 0;
}

int visits_important(MDB_txn *txn, const struct views *v, const char *person,
                     char *tag, size_t cap)
{
    struct codec_doc d;
    int rc = proj_get(txn, v->dbi[DB_IMPORTANT], person, strlen(person), &d);

    tag[0] = '\0';
    if (rc)
        return rc == MDB_NOTFOUND ? 0 : rc;
    codec_copy_str(d.obj, "tag", tag, cap);
    codec_doc_release(&d);
    return 0;
}
