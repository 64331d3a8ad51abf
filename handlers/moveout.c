/* handlers/moveout.c - a unit's move-out (迁出/退房), the reverse of
 * move-in (R-MOV-04, proposed next to R-MOV-01..03): one command checks
 * every rule and writes its events, or writes nothing. Final meter
 * readings are recorded; the fees of the payer are settled unless a cs_lead
 * or manager waives the arrears (recorded in the event); every active card
 * of the unit is returned first (card.return) and every key handed over at
 * move-in comes back; the mover's link to the unit ends on the day, which
 * is what lets query.unit as_of answer who lived there when; the unit
 * becomes vacant. */
#include <string.h>

#include "../projections/cards.h"
#include "../projections/movein.h"
#include "../projections/units.h"
#include "handlers.h"

struct mo_cards {
    char first[CARD_ID_MAX];
    unsigned n;
};

static int active_card(void *ctx, const struct card_rec *r)
{
    struct mo_cards *c = ctx;
    if (strcmp(r->status, "active"))
        return 0;
    if (!c->n++)
        memcpy(c->first, r->card, sizeof(c->first));
    return 0;
}

/* R-MOV-04: arrears of the payer block the move-out unless waived by a
 * lead; owed is what was waived (0 when settled). */
static int check_arrears(struct hctx *h, const struct args *a, const char *unit,
                         const char *payer, int64_t *owed, struct err *e)
{
    if (fee_owed_by(h, unit, payer, owed))
        return err_set(e, ERR_UNAVAILABLE, NULL, "arrears lookup failed");
    if (*owed <= 0) {
        *owed = 0;
        return 0;
    }
    if (!arg_has(a, "waive_reason"))
        return err_set(e, ERR_RULE, "unit",
                       "R-MOV-04: '%s' still owes %lld fen on '%s'; settle it "
                       "or have a cs_lead or manager waive it",
                       payer, (long long)*owed, unit);
    if (!cmd_role_allows(h->op, ROLE_CS_LEAD | ROLE_MANAGER))
        return err_set(e, ERR_FORBIDDEN, "waive_reason",
                       "R-MOV-04: only a cs_lead or manager waives arrears at "
                       "move-out");
    return 0;
}

/* R-MOV-04: cards returned, keys returned. */
static int check_returns(struct hctx *h, const struct args *a, const char *unit,
                         struct err *e)
{
    struct mo_cards c = {"", 0};
    int64_t keys = 0;
    struct codec_doc d;

    if (cards_each_of_unit(h->txn, h->v, unit, active_card, &c) < 0)
        return err_set(e, ERR_UNAVAILABLE, NULL, "card lookup failed");
    if (c.n)
        return err_set(
            e, ERR_RULE, "unit",
            "R-MOV-04: %u card(s) of '%s' not returned (first '%s'): "
            "card.return them first",
            c.n, unit, c.first);
    if (movein_get(h->txn, h->v, unit, &d) == 0) {
        codec_get_int(d.obj, "keys", &keys);
        codec_doc_release(&d);
    }
    if (arg_int(a, "keys_returned") < keys)
        return err_set(e, ERR_RULE, "keys_returned",
                       "R-MOV-04: %lld key(s) of '%s' were handed over at "
                       "move-in, %lld returned",
                       (long long)keys, unit,
                       (long long)arg_int(a, "keys_returned"));
    return 0;
}

static int end_link(struct hctx *h, const char *unit, const char *person,
                    const char *role, const char *from)
{
    struct cw *w = hctx_data_begin(h);
    cw_map(w, 5);
    cw_kstr(w, "unit", unit);
    cw_kstr(w, "person", person);
    cw_kstr(w, "role", role);
    cw_kstr(w, "from", from);
    cw_kdate(w, "to", hdl_today(h));
    return emit(h, EV_PERSON_UNLINKED, "unit:%s", unit);
}

static int set_vacant(struct hctx *h, const char *unit, const char *from)
{
    struct cw *w = hctx_data_begin(h);
    cw_map(w, 3);
    cw_kstr(w, "unit", unit);
    cw_kstr(w, "from", from);
    cw_kstr(w, "to", "vacant");
    return emit(h, EV_UNIT_STATE_CHANGED, "unit:%s", unit);
}

int hdl_unit_move_out(struct hctx *h, const struct args *a, struct err *e)
{
    char unit[UNIT_KEY_MAX], state[16],
        person[PERSON_ID_MAX] = "", payer[PERSON_ID_MAX], from[DATE_STR_MAX],
        buf[CMD_DEC2_STR];
    const char *role = arg_has(a, "role") ? arg(a, "role")->s : NULL;
    int32_t since, latest;
    int64_t owed = 0;
    struct codec_doc d;
    struct cw *w;
    size_t mo;
    int rc;

    arg_copy(a, "unit", unit, sizeof(unit));
    if (units_get_unit(h->txn, h->v, unit, &d))
        return err_set(e, ERR_NOT_FOUND, "unit", "unit '%s' is not registered",
                       unit);
    codec_copy_str(d.obj, "state", state, sizeof(state));
    codec_doc_release(&d);
    if (!strcmp(state, "vacant"))
        return err_set(e, ERR_CONFLICT, "unit", "unit '%s' is already vacant",
                       unit);
    if (arg_has(a, "person") != (role != NULL))
        return err_set(e, ERR_INVALID, role ? "person" : "role",
                       "'person' and 'role' go together");
    if (role) {
        arg_copy(a, "person", person, sizeof(person));
        if (units_open_link(h->txn, h->v, unit, person, role, &d))
            return err_set(e, ERR_NOT_FOUND, "person",
                           "person '%s' has no open %s link to '%s'", person,
                           role, unit);
        codec_copy_str(d.obj, "from", from, sizeof(from));
        codec_doc_release(&d);
    }
    if (units_owner_on(h->txn, h->v, unit, hdl_today(h), payer, &since,
                       &latest))
        return err_set(e, ERR_UNAVAILABLE, NULL, "owner lookup failed");
    if (role && !strcmp(role, "tenant"))
        memcpy(payer, person, sizeof(payer));
    if (payer[0] && (rc = check_arrears(h, a, unit, payer, &owed, e)))
        return rc;
    if ((rc = check_returns(h, a, unit, e)))
        return rc;

    w = hctx_data_begin(h);
    mo = cw_map_open(w);
    cw_kstr(w, "unit", unit);
    if (person[0])
        cw_kstr(w, "person", person);
    else
        cw_knil(w, "person");
    if (role)
        cw_kstr(w, "role", role);
    else
        cw_knil(w, "role");
    cmd_dec2_format(arg_int(a, "water"), buf);
    cw_kstr(w, "water", buf);
    cmd_dec2_format(arg_int(a, "electricity"), buf);
    cw_kstr(w, "electricity", buf);
    cw_kint(w, "keys_returned", arg_int(a, "keys_returned"));
    cw_kstr(w, "payer", payer);
    cw_kint(w, "arrears_waived", owed);
    if (owed) {
        cw_kobj(w, "waive_reason", arg(a, "waive_reason")->o);
        cw_kstr(w, "waived_by", h->op->id);
    } else {
        cw_knil(w, "waive_reason");
        cw_knil(w, "waived_by");
    }
    cw_kdate(w, "date", hdl_today(h));
    cw_map_close(w, mo, 11);
    if ((rc = emit(h, EV_UNIT_MOVED_OUT, "unit:%s", unit)))
        return rc;
    if (role && (rc = end_link(h, unit, person, role, from)))
        return rc;
    if ((rc = set_vacant(h, unit, state)))
        return rc;
    return ren_settle_deposit(h, unit, e);
}
