/* handlers/units.c - the estate register: estates, buildings, units, who
 * lives where and ownership transfers (R-GEN-01, R-GEN-03), and the unit
 * card query (as of any date). */
#include <string.h>

#include "../projections/units.h"
#include "handlers.h"

const char *const unit_types[] = {"residence", "shop", "office", "parking",
                                  NULL};
const char *const unit_states[] = {"unsold",   "handed_over", "renovating",
                                   "occupied", "vacant",      "rented",
                                   NULL};
const char *const link_roles[] = {"family",   "tenant", "agent",
                                  "merchant", "staff",  NULL};

static int not_found(struct err *e, const char *field, const char *what,
                     const char *key)
{
    return err_set(e, ERR_NOT_FOUND, field, "%s '%s' is not registered", what,
                   key);
}

/* Looks a unit up by the "unit" argument; fills key. */
static int need_unit(struct hctx *h, const struct args *a, char *key,
                     struct codec_doc *d, struct err *e)
{
    int rc;
    arg_copy(a, "unit", key, UNIT_KEY_MAX);
    rc = units_get_unit(h->txn, h->v, key, d);
    if (rc == MDB_NOTFOUND)
        return not_found(e, "unit", "unit", key);
    return rc ? err_set(e, ERR_UNAVAILABLE, NULL, "unit lookup failed") : 0;
}

static int need_person(struct hctx *h, const char *field, const char *id,
                       struct codec_doc *d, struct err *e)
{
    int rc = units_get_person(h->txn, h->v, id, d);
    if (rc == MDB_NOTFOUND)
        return not_found(e, field, "person", id);
    return rc ? err_set(e, ERR_UNAVAILABLE, NULL, "person lookup failed") : 0;
}

int hdl_estate_register(struct hctx *h, const struct args *a, struct err *e)
{
    char code[UNIT_KEY_MAX];
    struct codec_doc d;
    struct cw *w;

    arg_copy(a, "code", code, sizeof(code));
    if (units_get_estate(h->txn, h->v, code, &d) == 0) {
        codec_doc_release(&d);
        return err_set(e, ERR_CONFLICT, "code", "estate '%s' exists", code);
    }
    w = hctx_data_begin(h);
    cw_map(w, 2);
    cw_kstr(w, "estate", code);
    cw_kstrn(w, "name", arg(a, "name")->s, arg(a, "name")->len);
    return emit(h, EV_ESTATE_REGISTERED, "estate:%s", code);
}

int hdl_building_register(struct hctx *h, const struct args *a, struct err *e)
{
    char estate[UNIT_KEY_MAX], building[UNIT_KEY_MAX];
    struct cw *w;
    bool named = arg_has(a, "name");

    arg_copy(a, "estate", estate, sizeof(estate));
    arg_copy(a, "building", building, sizeof(building));
    if (units_get_estate(h->txn, h->v, estate, NULL))
        return not_found(e, "estate", "estate", estate);
    if (units_get_building(h->txn, h->v, estate, building, NULL) == 0) {
        return err_set(e, ERR_CONFLICT, "building", "building '%s/%s' exists",
                       estate, building);
    }
    w = hctx_data_begin(h);
    cw_map(w, named ? 3 : 2);
    cw_kstr(w, "estate", estate);
    cw_kstr(w, "building", building);
    if (named)
        cw_kstrn(w, "name", arg(a, "name")->s, arg(a, "name")->len);
    return emit(h, EV_BUILDING_REGISTERED, "estate:%s", estate);
}

int hdl_unit_register(struct hctx *h, const struct args *a, struct err *e)
{
    char estate[UNIT_KEY_MAX / 4], building[UNIT_KEY_MAX / 4],
        room[UNIT_KEY_MAX / 4], unit[UNIT_KEY_MAX], area[CMD_DEC2_STR];
    struct cw *w;

    arg_copy(a, "estate", estate, sizeof(estate));
    arg_copy(a, "building", building, sizeof(building));
    arg_copy(a, "room", room, sizeof(room));
    if (units_get_building(h->txn, h->v, estate, building, NULL))
        return err_set(e, ERR_NOT_FOUND, "building",
                       "building '%s/%s' is not registered", estate, building);
    snprintf(unit, sizeof(unit), "%s/%s-%s", estate, building, room);
    if (units_get_unit(h->txn, h->v, unit, NULL) == 0) {
        return err_set(e, ERR_CONFLICT, "room", "unit '%s' exists", unit);
    }
    cmd_dec2_format(arg_int(a, "area"), area);
    w = hctx_data_begin(h);
    cw_map(w, 7);
    cw_kstr(w, "unit", unit);
    cw_kstr(w, "estate", estate);
    cw_kstr(w, "building", building);
    cw_kstr(w, "room", room);
    cw_kstr(w, "area", area);
    cw_kstr(w, "type", arg(a, "type")->s);
    cw_kstr(w, "state",
            arg_has(a, "state") ? arg(a, "state")->s : unit_states[0]);
    return emit(h, EV_UNIT_REGISTERED, "unit:%s", unit);
}

int hdl_unit_set_state(struct hctx *h, const struct args *a, struct err *e)
{
    char unit[UNIT_KEY_MAX], from[16];
    const char *to = arg(a, "state")->s;
    struct codec_doc d;
    struct cw *w;
    int rc = need_unit(h, a, unit, &d, e);

    if (rc)
        return rc;
    codec_copy_str(d.obj, "state", from, sizeof(from));
    codec_doc_release(&d);
    if (strcmp(from, to) == 0)
        return err_set(e, ERR_INVALID, "state", "unit '%s' is already %s", unit,
                       to);
    w = hctx_data_begin(h);
    cw_map(w, 3);
    cw_kstr(w, "unit", unit);
    cw_kstr(w, "from", from);
    cw_kstr(w, "to", to);
    return emit(h, EV_UNIT_STATE_CHANGED, "unit:%s", unit);
}

/* R-GEN-02: a tenant's lease has an end, and a landlord who owns the unit
 * when the lease starts. */
static int check_tenant(struct hctx *h, const char *unit, int32_t from,
                        const struct args *a, char landlord[PERSON_ID_MAX],
                        struct err *e)
{
    int32_t since, latest;
    if (!arg_has(a, "to"))
        return err_set(e, ERR_RULE, "to",
                       "R-GEN-02: a tenant link needs the lease end ('to')");
    if (units_owner_on(h->txn, h->v, unit, from, landlord, &since, &latest))
        return err_set(e, ERR_UNAVAILABLE, NULL, "owner lookup failed");
    if (!landlord[0])
        return err_set(e, ERR_RULE, "unit",
                       "R-GEN-02: unit '%s' has no owner on the lease start "
                       "to act as landlord",
                       unit);
    return 0;
}

int hdl_unit_link(struct hctx *h, const struct args *a, struct err *e)
{
    char unit[UNIT_KEY_MAX], person[PERSON_ID_MAX], landlord[PERSON_ID_MAX];
    const char *role = arg(a, "role")->s;
    int32_t from = (int32_t)arg_int(a, "from");
    bool to = arg_has(a, "to");
    struct codec_doc d;
    struct cw *w;
    int rc = need_unit(h, a, unit, &d, e);

    if (rc)
        return rc;
    codec_doc_release(&d);
    arg_copy(a, "person", person, sizeof(person));
    if ((rc = need_person(h, "person", person, &d, e)))
        return rc;
    codec_doc_release(&d);
    if (to && arg_int(a, "to") < from)
        return err_set(e, ERR_INVALID, "to", "'to' is before 'from'");
    landlord[0] = '\0';
    if (!strcmp(role, "tenant") &&
        (rc = check_tenant(h, unit, from, a, landlord, e)))
        return rc;
    if (units_open_link(h->txn, h->v, unit, person, role, &d) == 0) {
        codec_doc_release(&d);
        return err_set(e, ERR_CONFLICT, "person",
                       "person '%s' is already linked to '%s' as %s", person,
                       unit, role);
    }
    w = hctx_data_begin(h);
    cw_map(w, 4 + (to ? 1 : 0) + (landlord[0] ? 1 : 0));
    cw_kstr(w, "unit", unit);
    cw_kstr(w, "person", person);
    cw_kstr(w, "role", role);
    cw_kdate(w, "from", from);
    if (to)
        cw_kdate(w, "to", (int32_t)arg_int(a, "to"));
    if (landlord[0])
        cw_kstr(w, "landlord", landlord);
    return emit(h, EV_PERSON_LINKED, "unit:%s", unit);
}

int hdl_unit_unlink(struct hctx *h, const struct args *a, struct err *e)
{
    char unit[UNIT_KEY_MAX], person[PERSON_ID_MAX], from[DATE_STR_MAX];
    const char *role = arg(a, "role")->s;
    int32_t to = (int32_t)arg_int(a, "to"), f;
    struct codec_doc d;
    struct cw *w;

    arg_copy(a, "unit", unit, sizeof(unit));
    arg_copy(a, "person", person, sizeof(person));
    if (units_open_link(h->txn, h->v, unit, person, role, &d))
        return err_set(e, ERR_NOT_FOUND, "person",
                       "person '%s' has no open %s link to '%s'", person, role,
                       unit);
    codec_copy_str(d.obj, "from", from, sizeof(from));
    codec_doc_release(&d);
    if (date_parse(from, strlen(from), &f) || to < f)
        return err_set(e, ERR_INVALID, "to",
                       "'to' is before the link's start %s", from);
    w = hctx_data_begin(h);
    cw_map(w, 5);
    cw_kstr(w, "unit", unit);
    cw_kstr(w, "person", person);
    cw_kstr(w, "role", role);
    cw_kstr(w, "from", from);
    cw_kdate(w, "to", to);
    return emit(h, EV_PERSON_UNLINKED, "unit:%s", unit);
}

/* R-FEE-10: the old owner's fees are settled before the unit changes
 * hands. */
static int transfer_settled(struct hctx *h, const char *unit, const char *owner,
                            struct err *e)
{
    int64_t owed;
    if (fee_owed_by(h, unit, owner, &owed))
        return err_set(e, ERR_UNAVAILABLE, NULL, "arrears lookup failed");
    if (owed > 0)
        return err_set(e, ERR_RULE, "unit",
                       "R-FEE-10: owner '%s' still owes %lld fen on '%s'; "
                       "settle it before the transfer",
                       owner, (long long)owed, unit);
    return 0;
}

/* R-MOV-03: finance and the control room are told of a transfer between
 * owners; desks and dashboards see it on the event feed. */
static int notify_finance(struct hctx *h, const char *unit, const char *from,
                          const char *to, int32_t eff, const struct args *a)
{
    struct cw *w = hctx_data_begin(h);
    cw_map(w, 6);
    cw_kstr(w, "unit", unit);
    cw_kstr(w, "from", from);
    cw_kstr(w, "to", to);
    cw_kdate(w, "effective", eff);
    cw_kobj(w, "title_doc", arg(a, "title_doc")->o);
    cw_str(w, "notified");
    cw_array(w, 2);
    cw_str(w, "finance");
    cw_str(w, "control_room");
    return emit(h, EV_FINANCE_NOTIFIED, "unit:%s", unit);
}

int hdl_unit_transfer(struct hctx *h, const struct args *a, struct err *e)
{
    char unit[UNIT_KEY_MAX], to[PERSON_ID_MAX], owner[PERSON_ID_MAX];
    int32_t eff = (int32_t)arg_int(a, "effective"), since, latest;
    bool doc = arg_has(a, "title_doc");
    struct codec_doc d;
    struct cw *w;
    int rc = need_unit(h, a, unit, &d, e);

    if (rc)
        return rc;
    codec_doc_release(&d);
    arg_copy(a, "to", to, sizeof(to));
    if ((rc = need_person(h, "to", to, &d, e)))
        return rc;
    codec_doc_release(&d);
    if (units_owner_on(h->txn, h->v, unit, eff, owner, &since, &latest))
        return err_set(e, ERR_UNAVAILABLE, NULL, "owner lookup failed");
    if (latest != DATE_NONE && eff < latest)
        return err_set(e, ERR_RULE, "effective",
                       "R-GEN-03: a later transfer is already recorded; "
                       "transfers are entered in date order");
    if (!strcmp(owner, to))
        return err_set(e, ERR_INVALID, "to", "'%s' already owns '%s'", to,
                       unit);
    if (owner[0] && (rc = transfer_settled(h, unit, owner, e)))
        return rc;
    if (owner[0] && !doc)
        return err_set(e, ERR_RULE, "title_doc",
                       "R-MOV-03: the new owner's title document is needed "
                       "for a transfer");
    w = hctx_data_begin(h);
    cw_map(w, 4 + (doc ? 1 : 0));
    cw_kstr(w, "unit", unit);
    if (owner[0])
        cw_kstr(w, "from", owner);
    else
        cw_knil(w, "from");
    cw_kstr(w, "to", to);
    cw_kdate(w, "effective", eff);
    if (doc)
        cw_kstrn(w, "title_doc", arg(a, "title_doc")->s,
                 arg(a, "title_doc")->len);
    if ((rc = emit(h, EV_OWNERSHIP_TRANSFERRED, "unit:%s", unit)))
        return rc;
    return owner[0] ? notify_finance(h, unit, owner, to, eff, a) : 0;
}

struct card_ctx {
    struct hctx *h;
    int32_t day;
    uint32_t n;
};

static void write_person_name(struct hctx *h, const char *person)
{
    struct codec_doc d;
    if (units_get_person(h->txn, h->v, person, &d) == 0) {
        cw_kobj(h->result, "name", codec_get(d.obj, "name"));
        codec_doc_release(&d);
    } else {
        cw_knil(h->result, "name");
    }
}

/* Writes one occupant if the link covers the day (from <= day <= to). */
static int card_link(void *ctx, const msgpack_object *l)
{
    struct card_ctx *c = ctx;
    struct cw *w = c->h->result;
    const char *s;
    size_t n;
    int32_t from, to = INT32_MAX;
    char person[PERSON_ID_MAX];

    if (codec_get_str(l, "from", &s, &n) || date_parse(s, n, &from))
        return 0;
    if (!codec_get_str(l, "to", &s, &n) && date_parse(s, n, &to))
        return 0;
    if (c->day < from || c->day > to)
        return 0;
    codec_copy_str(l, "person", person, sizeof(person));
    cw_map(w, 5);
    cw_kstr(w, "person", person);
    write_person_name(c->h, person);
    cw_kobj(w, "role", codec_get(l, "role"));
    cw_kobj(w, "from", codec_get(l, "from"));
    cw_str(w, "to");
    if (codec_get(l, "to"))
        cw_obj(w, codec_get(l, "to"));
    else
        cw_nil(w);
    c->n++;
    return 0;
}

static int card_owner(struct hctx *h, const char *unit, int32_t day)
{
    char owner[PERSON_ID_MAX];
    int32_t since, latest;
    struct cw *w = h->result;
    int rc = units_owner_on(h->txn, h->v, unit, day, owner, &since, &latest);

    if (rc)
        return rc;
    cw_str(w, "owner");
    if (!owner[0]) {
        cw_nil(w);
        return 0;
    }
    cw_map(w, 3);
    cw_kstr(w, "person", owner);
    write_person_name(h, owner);
    cw_kdate(w, "since", since);
    return 0;
}

/* R-GEN-03: the unit card as of a date: the unit, its owner on that day and
 * everyone linked to it on that day. */
int hdl_query_unit(struct hctx *h, const struct args *a, struct err *e)
{
    char unit[UNIT_KEY_MAX];
    struct card_ctx c = {h, 0, 0};
    struct codec_doc d;
    struct cw *w = h->result;
    size_t at;
    int rc = need_unit(h, a, unit, &d, e);

    if (rc)
        return rc;
    c.day = arg_has(a, "as_of") ? (int32_t)arg_int(a, "as_of") : hdl_today(h);
    cw_map(w, 4);
    cw_kdate(w, "as_of", c.day);
    cw_kobj(w, "unit", d.obj);
    codec_doc_release(&d);
    if ((rc = card_owner(h, unit, c.day)))
        return err_set(e, ERR_UNAVAILABLE, NULL, "owner lookup failed");
    cw_str(w, "occupants");
    at = cw_array_open(w);
    if (units_each_link(h->txn, h->v, unit, card_link, &c))
        return err_set(e, ERR_UNAVAILABLE, NULL, "link lookup failed");
    cw_array_close(w, at, c.n);
    h->has_result = true;
    return 0;
}

/* Link roles in the order unit_relation_on prefers them when a person
 * holds several links covering the same day. */
static const char *const relation_order[] = {"family", "tenant", "merchant",
                                             "agent", "staff"};

struct relation_find {
    const char *person;
    int32_t day;
    int best;          /* index into relation_order, or -1 */
    int32_t lease_end; /* latest end of the person's tenant links */
};

static int relation_link(void *ctx, const msgpack_object *l)
{
    struct relation_find *f = ctx;
    char person[PERSON_ID_MAX], role[16];
    int32_t from, to = INT32_MAX;
    const char *s;
    size_t n;

    codec_copy_str(l, "person", person, sizeof(person));
    if (strcmp(person, f->person) || codec_get_str(l, "from", &s, &n) ||
        date_parse(s, n, &from))
        return 0;
    if (!codec_get_str(l, "to", &s, &n) && date_parse(s, n, &to))
        return 0;
    codec_copy_str(l, "role", role, sizeof(role));
    if (!strcmp(role, "tenant") && to != INT32_MAX &&
        (f->lease_end == DATE_NONE || to > f->lease_end))
        f->lease_end = to;
    if (f->day < from || f->day > to)
        return 0;
    for (int i = 0; i < (int)(sizeof(relation_order) / sizeof(*relation_order));
         i++)
        if (!strcmp(role, relation_order[i]) && (f->best < 0 || i < f->best))
            f->best = i;
    return 0;
}

int unit_relation_on(struct hctx *h, const char *unit, const char *person,
                     int32_t day, char role[16], char owner[PERSON_ID_MAX],
                     int32_t *lease_end)
{
    struct relation_find f = {person, day, -1, DATE_NONE};
    int32_t since, latest;
    int rc = units_owner_on(h->txn, h->v, unit, day, owner, &since, &latest);

    role[0] = '\0';
    if (rc || (rc = units_each_link(h->txn, h->v, unit, relation_link, &f)))
        return rc;
    if (lease_end)
        *lease_end = f.lease_end;
    if (owner[0] && !strcmp(owner, person))
        snprintf(role, 16, "owner");
    else if (f.best >= 0)
        snprintf(role, 16, "%s", relation_order[f.best]);
    return 0;
}
