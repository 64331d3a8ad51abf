/* projections/units.c - read model of the estate register (R-GEN-01..03):
 * sub-dbs estates, buildings, units, people, unit_links, unit_owners. The
 * ownership history keeps every transfer so "who owned 3-1201 on
 * 2026-04-15" is a seek, never a replay. Writes only from apply(). */
#include "units.h"

#include <endian.h>
#include <string.h>

#include "../core/date.h"

#define LINK_KEY_MAX (UNIT_KEY_MAX + PERSON_ID_MAX + 16 + 8)

static size_t copy_key(char *dst, size_t cap, const msgpack_object *data,
                       const char *key)
{
    return codec_copy_str(data, key, dst, cap);
}

/* Stores the event's data map itself as the record. */
static int put_data(MDB_txn *txn, const struct views *v, enum proj_db db,
                    const struct event *ev, const char *key)
{
    struct cw w;
    int rc;
    cw_init(&w);
    cw_obj(&w, ev->data);
    rc = proj_put(txn, v->dbi[db], key, strlen(key), &w);
    cw_release(&w);
    return rc;
}

static size_t link_key(unsigned char *k, const char *unit, const char *person,
                       const char *role, int32_t from)
{
    size_t n = 0, l;
    l = strlen(unit) + 1;
    memcpy(k + n, unit, l), n += l;
    l = strlen(person) + 1;
    memcpy(k + n, person, l), n += l;
    l = strlen(role) + 1;
    memcpy(k + n, role, l), n += l;
    proj_key_day(k + n, from);
    return n + 4;
}

static int link_parts(const msgpack_object *d, char *unit, char *person,
                      char *role, int32_t *from)
{
    const char *s;
    size_t n;
    copy_key(unit, UNIT_KEY_MAX, d, "unit");
    copy_key(person, PERSON_ID_MAX, d, "person");
    copy_key(role, 16, d, "role");
    if (codec_get_str(d, "from", &s, &n) || date_parse(s, n, from))
        return ERR_UNAVAILABLE;
    return 0;
}

static int apply_link(MDB_txn *txn, const struct views *v,
                      const struct event *ev)
{
    char unit[UNIT_KEY_MAX], person[PERSON_ID_MAX], role[16];
    unsigned char k[LINK_KEY_MAX];
    int32_t from;
    struct cw w;
    int rc = link_parts(ev->data, unit, person, role, &from);
    size_t kl;

    if (rc)
        return rc;
    kl = link_key(k, unit, person, role, from);
    cw_init(&w);
    cw_obj(&w, ev->data);
    rc = proj_put(txn, v->dbi[DB_LINKS], k, kl, &w);
    cw_release(&w);
    return rc;
}

/* The unlink event names the link by its from date; set its end. */
static int apply_unlink(MDB_txn *txn, const struct views *v,
                        const struct event *ev)
{
    char unit[UNIT_KEY_MAX], person[PERSON_ID_MAX], role[16];
    unsigned char k[LINK_KEY_MAX];
    int32_t from;
    const msgpack_object *to = codec_get(ev->data, "to");
    int rc = link_parts(ev->data, unit, person, role, &from);

    if (rc || !to)
        return rc ? rc : ERR_UNAVAILABLE;
    return proj_update_field(txn, v->dbi[DB_LINKS], k,
                             link_key(k, unit, person, role, from), "to", to);
}

static int apply_transfer(MDB_txn *txn, const struct views *v,
                          const struct event *ev)
{
    char unit[UNIT_KEY_MAX];
    unsigned char k[UNIT_KEY_MAX + 1 + 4 + 8];
    int32_t day;
    const char *s;
    size_t n, l = copy_key(unit, sizeof(unit), ev->data, "unit") + 1;
    struct cw w;
    int rc;

    if (codec_get_str(ev->data, "effective", &s, &n) || date_parse(s, n, &day))
        return ERR_UNAVAILABLE;
    memcpy(k, unit, l);
    proj_key_day(k + l, day);
    proj_key_u64(k + l + 4, ev->seq);
    cw_init(&w);
    cw_obj(&w, ev->data);
    rc = proj_put(txn, v->dbi[DB_OWNERS], k, l + 12, &w);
    cw_release(&w);
    return rc;
}

int proj_units_apply(MDB_txn *txn, const struct views *v,
                     const struct event *ev)
{
    char a[UNIT_KEY_MAX], b[UNIT_KEY_MAX], key[2 * UNIT_KEY_MAX + 2];

    switch (ev->type) {
    case EV_ESTATE_REGISTERED:
        copy_key(a, sizeof(a), ev->data, "estate");
        return put_data(txn, v, DB_ESTATES, ev, a);
    case EV_BUILDING_REGISTERED:
        copy_key(a, sizeof(a), ev->data, "estate");
        copy_key(b, sizeof(b), ev->data, "building");
        snprintf(key, sizeof(key), "%s/%s", a, b);
        return put_data(txn, v, DB_BUILDINGS, ev, key);
    case EV_UNIT_REGISTERED:
        copy_key(a, sizeof(a), ev->data, "unit");
        return put_data(txn, v, DB_UNITS, ev, a);
    case EV_UNIT_STATE_CHANGED:
        copy_key(a, sizeof(a), ev->data, "unit");
        return proj_update_field(txn, v->dbi[DB_UNITS], a, strlen(a), "state",
                                 codec_get(ev->data, "to"));
    case EV_PERSON_REGISTERED:
        copy_key(a, sizeof(a), ev->data, "person");
        return put_data(txn, v, DB_PEOPLE, ev, a);
    case EV_PERSON_LINKED:
        return apply_link(txn, v, ev);
    case EV_PERSON_UNLINKED:
        return apply_unlink(txn, v, ev);
    case EV_OWNERSHIP_TRANSFERRED:
        return apply_transfer(txn, v, ev);
    default:
        return 0;
    }
}

static int get_str_key(MDB_txn *txn, MDB_dbi dbi, const char *key,
                       struct codec_doc *doc)
{
    return proj_get(txn, dbi, key, strlen(key), doc);
}

int units_get_estate(MDB_txn *txn, const struct views *v, const char *estate,
                     struct codec_doc *doc)
{
    return get_str_key(txn, v->dbi[DB_ESTATES], estate, doc);
}

int units_get_building(MDB_txn *txn, const struct views *v, const char *estate,
                       const char *building, struct codec_doc *doc)
{
    char key[2 * UNIT_KEY_MAX + 2];
    snprintf(key, sizeof(key), "%s/%s", estate, building);
    return get_str_key(txn, v->dbi[DB_BUILDINGS], key, doc);
}

int units_get_unit(MDB_txn *txn, const struct views *v, const char *unit,
                   struct codec_doc *doc)
{
    return get_str_key(txn, v->dbi[DB_UNITS], unit, doc);
}

int units_get_person(MDB_txn *txn, const struct views *v, const char *person,
                     struct codec_doc *doc)
{
    return get_str_key(txn, v->dbi[DB_PEOPLE], person, doc);
}

/* Walks unit's transfers in effective-day order. */
int units_owner_on(MDB_txn *txn, const struct views *v, const char *unit,
                   int32_t day, char owner[PERSON_ID_MAX], int32_t *since,
                   int32_t *latest)
{
    size_t l = strlen(unit) + 1;
    MDB_cursor *cur;
    MDB_val k = {l, (void *)unit}, val;
    int rc = mdb_cursor_open(txn, v->dbi[DB_OWNERS], &cur);

    owner[0] = '\0';
    *since = *latest = DATE_NONE;
    if (rc)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &val, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
        struct codec_doc d;
        int32_t eff;
        if (k.mv_size != l + 12 || memcmp(k.mv_data, unit, l) != 0)
            break;
        eff = proj_key_get_day((const unsigned char *)k.mv_data + l);
        *latest = eff;
        if (eff > day)
            continue;
        if (codec_doc_parse_trusted(&d, val.mv_data, val.mv_size, NULL))
            continue;
        codec_copy_str(d.obj, "to", owner, PERSON_ID_MAX);
        *since = eff;
        codec_doc_release(&d);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

int units_each_link(MDB_txn *txn, const struct views *v, const char *unit,
                    units_link_fn fn, void *ctx)
{
    return proj_each(txn, v->dbi[DB_LINKS], unit, strlen(unit) + 1, fn, ctx);
}

int units_each_unit(MDB_txn *txn, const struct views *v, const char *prefix,
                    units_unit_fn fn, void *ctx)
{
    return proj_each(txn, v->dbi[DB_UNITS], prefix, strlen(prefix), fn, ctx);
}

int units_each_person(MDB_txn *txn, const struct views *v, units_person_fn fn,
                      void *ctx)
{
    return proj_each(txn, v->dbi[DB_PEOPLE], "", 0, fn, ctx);
}

int units_open_link(MDB_txn *txn, const struct views *v, const char *unit,
                    const char *person, const char *role, struct codec_doc *doc)
{
    unsigned char k[LINK_KEY_MAX];
    size_t plen = link_key(k, unit, person, role, 0) - 4;
    MDB_cursor *cur;
    MDB_val key = {plen, k}, val;
    int rc = mdb_cursor_open(txn, v->dbi[DB_LINKS], &cur), found = 0;

    if (rc)
        return rc;
    for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
        if (key.mv_size != plen + 4 || memcmp(key.mv_data, k, plen) != 0)
            break;
        if (found)
            codec_doc_release(doc), found = 0;
        if (codec_doc_parse_trusted(doc, val.mv_data, val.mv_size, NULL))
            continue;
        found = 1;
        if (codec_get(doc->obj, "to")) /* closed: keep looking */
            codec_doc_release(doc), found = 0;
    }
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    return found ? 0 : MDB_NOTFOUND;
}
