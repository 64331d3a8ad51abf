/* handlers/cards.c - IC access cards and parking cards (R-CARD-01..04):
 * issue by holder type, renew, report lost or damaged (with a replacement),
 * return, format-and-reissue of staff cards, and the reader's logged swipe.
 * Fees go through the fee machinery: a one-off bill and its payment with a
 * receipt that names the card (R-CARD-02). Validity periods use
 * date_period_end() (R-CARD-03's month rule) for every card. */
#include <string.h>

#include "../projections/cards.h"
#include "../projections/fees.h"
#include "../projections/units.h"
#include "handlers.h"

const char *const card_kinds[] = {"access", "parking", NULL};

/* How the holder stands to the unit on a day. */
struct holder {
    char type[16];     /* owner, family, tenant, merchant, staff, agent */
    int32_t lease_end; /* tenant: the latest lease end at the unit */
};

/* R-CARD-01: the holder must be the owner on day, an occupant linked to
 * the unit on day, or internal staff. */
static int holder_of(struct hctx *h, const char *unit, const char *person,
                     int32_t day, struct holder *ho, struct err *e)
{
    char owner[PERSON_ID_MAX], kind[16], role[16];
    struct codec_doc d;

    if (units_get_person(h->txn, h->v, person, &d))
        return err_set(e, ERR_NOT_FOUND, "holder",
                       "person '%s' is not registered", person);
    codec_copy_str(d.obj, "kind", kind, sizeof(kind));
    codec_doc_release(&d);
    if (unit_relation_on(h, unit, person, day, role, owner, &ho->lease_end))
        return err_set(e, ERR_UNAVAILABLE, NULL, "holder lookup failed");
    if (role[0])
        snprintf(ho->type, sizeof(ho->type), "%s", role);
    else if (!strcmp(kind, "staff"))
        snprintf(ho->type, sizeof(ho->type), "staff");
    else
        return err_set(e, ERR_RULE, "holder",
                       "R-CARD-01: '%s' is neither the owner of '%s' nor "
                       "linked to it today",
                       person, unit);
    if (!strcmp(ho->type, "agent"))
        return err_set(e, ERR_RULE, "holder",
                       "R-CARD-01: an agent gets no card of his own");
    return 0;
}

static int months_for(const struct card_settings *cs, const char *type)
{
    return !strcmp(type, "tenant")     ? cs->tenant_months
           : !strcmp(type, "merchant") ? cs->merchant_months
           : !strcmp(type, "staff")    ? cs->staff_months
                                       : cs->owner_months;
}

static bool has_doc(const struct args *a, const char *doc)
{
    const msgpack_object *l = arg(a, "docs")->o;
    for (uint32_t i = 0; arg_has(a, "docs") && i < l->via.array.size; i++)
        if (codec_obj_is_str(&l->via.array.ptr[i], doc))
            return true;
    return false;
}

/* R-CARD-01 (tenants: lease and ID) and R-CARD-03 (parking: ID, driving
 * licence, vehicle licence; tenants also the lease). */
static int check_docs(const struct args *a, const char *kind, const char *type,
                      struct err *e)
{
    static const char *const access_tenant[] = {"id", "lease", NULL};
    static const char *const parking[] = {"id", "driving_licence",
                                          "vehicle_licence", NULL};
    bool park = !strcmp(kind, "parking"), tenant = !strcmp(type, "tenant");
    const char *const *need = park ? parking : tenant ? access_tenant : NULL;
    const char *rule = park ? "R-CARD-03" : "R-CARD-01";

    for (int i = 0; need && need[i]; i++)
        if (!has_doc(a, need[i]))
            return err_set(e, ERR_RULE, "docs", "%s: document '%s' not shown",
                           rule, need[i]);
    if (park && tenant && !has_doc(a, "lease"))
        return err_set(e, ERR_RULE, "docs",
                       "R-CARD-03: a tenant shows the lease for a parking "
                       "card");
    return 0;
}

/* R-CARD-01: merchants and staff need the department head's approval;
 * staff cards are issued only by a lead. */
static int check_approval(struct hctx *h, const struct args *a,
                          const char *type, struct err *e)
{
    bool staff = !strcmp(type, "staff");
    if ((staff || !strcmp(type, "merchant")) && !arg_has(a, "approval"))
        return err_set(e, ERR_RULE, "approval",
                       "R-CARD-01: a %s card needs the department head's "
                       "approval",
                       type);
    if (staff && !cmd_role_allows(h->op, ROLE_LEADS))
        return err_set(e, ERR_FORBIDDEN, "holder",
                       "R-CARD-01: staff cards are issued only by the "
                       "customer-service lead");
    return 0;
}

/* A card about to be issued. */
struct issue {
    char card[CARD_ID_MAX], kind[16], unit[UNIT_KEY_MAX];
    char holder[PERSON_ID_MAX], type[16], free[16];
    char replaces[CARD_ID_MAX], approval[64];
    int32_t from, until, anchor;
    int64_t months, fee, qty;
    const char *item; /* fee item when fee > 0 */
};

/* R-CARD-02: the fee as a bill paid at once, its receipt naming the
 * card. */
static int take_fee(struct hctx *h, const struct args *a, const char *unit,
                    const char *payer, const char *item, int64_t amount,
                    int64_t qty, const char *card, struct err *e)
{
    char book[32], bill[BILL_ID_MAX];
    int rc;

    if (!arg_has(a, "book") || !arg_has(a, "method"))
        return err_set(e, ERR_INVALID, arg_has(a, "book") ? "method" : "book",
                       "R-CARD-02: card '%s' costs %lld fen: give 'book' and "
                       "'method' for its receipt",
                       card, (long long)amount);
    arg_copy(a, "book", book, sizeof(book));
    if ((rc = fee_emit_charge(h,
                              &(struct fee_charge){unit, payer, item, amount,
                                                   qty, hdl_today(h), NULL,
                                                   "card", card},
                              bill)))
        return rc;
    return fee_take_payment(h,
                            &(struct fee_take){unit, payer, arg(a, "method")->s,
                                               book, bill, amount, "card",
                                               card},
                            e);
}

static int emit_issued(struct hctx *h, const struct args *a,
                       const struct issue *is, struct err *e)
{
    struct cw *w;
    int rc;

    if (is->fee > 0 && (rc = take_fee(h, a, is->unit, is->holder, is->item,
                                      is->fee, is->qty, is->card, e)))
        return rc;
    w = hctx_data_begin(h);
    cw_map(w, 14);
    cw_kstr(w, "card", is->card);
    cw_kstr(w, "kind", is->kind);
    cw_kstr(w, "unit", is->unit);
    cw_kstr(w, "holder", is->holder);
    cw_kstr(w, "holder_type", is->type);
    cw_kdate(w, "from", is->from);
    cw_kdate(w, "until", is->until);
    cw_kdate(w, "anchor", is->anchor);
    cw_kint(w, "months", is->months);
    cw_kint(w, "fee", is->fee);
    cw_kstr(w, "free", is->free);
    cw_kstr(w, "approval", is->approval);
    cw_kstr(w, "replaces", is->replaces);
    cw_kdate(w, "date", hdl_today(h));
    return emit(h, EV_CARD_ISSUED, "card:%s", is->card);
}

/* A card number never comes back once used; a lost one is revoked for
 * good (R-CARD-04). */
static int card_number_free(struct hctx *h, const char *field, const char *card,
                            struct err *e)
{
    struct card_rec r;
    if (cards_get(h->txn, h->v, card, &r))
        return 0;
    if (!strcmp(r.status, "lost"))
        return err_set(e, ERR_RULE, field,
                       "R-CARD-04: card '%s' was reported lost and is "
                       "revoked for good",
                       card);
    return err_set(e, ERR_CONFLICT, field,
                   "card '%s' is already in the register", card);
}

struct free_count {
    int n;
};

static int count_move_in(void *ctx, const struct card_rec *r)
{
    struct free_count *c = ctx;
    c->n += !strcmp(r->free, "move_in");
    return 0;
}

/* R-CARD-02: staff cards are free; the first move_in_free cards of a unit
 * at move-in are free; every other card costs the ic_card rate. */
static int access_fee(struct hctx *h, const struct args *a, struct issue *is,
                      const char *unit_type, struct err *e)
{
    struct free_count c = {0};
    const struct rate *r;

    if (!strcmp(is->type, "staff")) {
        snprintf(is->free, sizeof(is->free), "staff");
        return 0;
    }
    if (arg_has(a, "move_in") && arg_int(a, "move_in")) {
        if (cards_each_of_unit(h->txn, h->v, is->unit, count_move_in, &c))
            return err_set(e, ERR_UNAVAILABLE, NULL, "card lookup failed");
        if (c.n < h->cfg->cards.move_in_free) {
            snprintf(is->free, sizeof(is->free), "move_in");
            return 0;
        }
    }
    r = rates_find(&h->cfg->fees, "ic_card", unit_type, hdl_today(h));
    if (!r)
        return err_set(e, ERR_UNAVAILABLE, NULL,
                       "no 'ic_card' rate in the fee schedule");
    is->item = "ic_card";
    is->fee = r->amount;
    is->qty = 1;
    return 0;
}

/* R-CARD-03: a parking card is paid rent for its months. */
static int parking_fee(struct hctx *h, struct issue *is, int64_t months,
                       const char *unit_type, struct err *e)
{
    const struct rate *r =
        rates_find(&h->cfg->fees, "parking_rent", unit_type, hdl_today(h));
    if (!r)
        return err_set(e, ERR_INVALID, "unit",
                       "no parking rent for a %s unit: parking cards are for "
                       "parking spaces",
                       unit_type);
    is->item = "parking_rent";
    is->fee = r->amount * months;
    is->qty = months;
    return 0;
}

/* Validity from today: the holder type's months (R-CARD-01), a tenant's
 * capped at the lease end; a parking card's paid months (R-CARD-03). */
static void validity(struct hctx *h, struct issue *is, const struct holder *ho)
{
    is->from = is->anchor = hdl_today(h);
    if (!strcmp(is->kind, "access"))
        is->months = months_for(&h->cfg->cards, is->type);
    is->until = date_period_end(is->from, (int)is->months);
    if (!strcmp(is->kind, "access") && !strcmp(is->type, "tenant") &&
        ho->lease_end != DATE_NONE && ho->lease_end < is->until)
        is->until = ho->lease_end;
}

int hdl_card_issue(struct hctx *h, const struct args *a, struct err *e)
{
    struct issue is = {0};
    struct holder ho;
    struct codec_doc d;
    char unit_type[16];
    int rc;

    arg_copy(a, "card", is.card, sizeof(is.card));
    arg_copy(a, "kind", is.kind, sizeof(is.kind));
    arg_copy(a, "unit", is.unit, sizeof(is.unit));
    arg_copy(a, "holder", is.holder, sizeof(is.holder));
    if (arg_has(a, "approval"))
        arg_copy(a, "approval", is.approval, sizeof(is.approval));
    if ((rc = card_number_free(h, "card", is.card, e)))
        return rc;
    if (units_get_unit(h->txn, h->v, is.unit, &d))
        return err_set(e, ERR_NOT_FOUND, "unit", "unit '%s' is not registered",
                       is.unit);
    codec_copy_str(d.obj, "type", unit_type, sizeof(unit_type));
    codec_doc_release(&d);
    if ((rc = holder_of(h, is.unit, is.holder, hdl_today(h), &ho, e)))
        return rc;
    snprintf(is.type, sizeof(is.type), "%s", ho.type);
    if ((rc = check_approval(h, a, is.type, e)) ||
        (rc = check_docs(a, is.kind, is.type, e)))
        return rc;
    is.months = arg_has(a, "months") ? arg_int(a, "months") : 1;
    validity(h, &is, &ho);
    rc = !strcmp(is.kind, "parking")
             ? parking_fee(h, &is, is.months, unit_type, e)
             : access_fee(h, a, &is, unit_type, e);
    return rc ? rc : emit_issued(h, a, &is, e);
}

/* The card named by field, which must still be valid to act on. */
static int need_active(struct hctx *h, const struct args *a, struct card_rec *r,
                       struct err *e)
{
    char card[CARD_ID_MAX];
    arg_copy(a, "card", card, sizeof(card));
    if (cards_get(h->txn, h->v, card, r))
        return err_set(e, ERR_NOT_FOUND, "card", "card '%s' is not registered",
                       card);
    if (!strcmp(r->status, "lost"))
        return err_set(e, ERR_RULE, "card",
                       "R-CARD-04: card '%s' was reported lost and is "
                       "revoked for good",
                       card);
    if (strcmp(r->status, "active"))
        return err_set(e, ERR_CONFLICT, "card", "card '%s' is %s", card,
                       r->status);
    return 0;
}

static const char *unit_type_of(struct hctx *h, const char *unit, char *buf,
                                size_t cap)
{
    struct codec_doc d;
    buf[0] = '\0';
    if (units_get_unit(h->txn, h->v, unit, &d) == 0) {
        codec_copy_str(d.obj, "type", buf, cap);
        codec_doc_release(&d);
    }
    return buf;
}

/* Access: another term of the holder type's months from the day after
 * the current end (or from today when it has lapsed), a tenant's capped
 * at the lease end; free. Parking: more paid months counted from the
 * anchor while the card runs on without a gap, else from today. */
static int renew_term(struct hctx *h, const struct args *a,
                      const struct card_rec *r, const struct holder *ho,
                      struct issue *is, struct err *e)
{
    int32_t today = hdl_today(h);
    char type[16];
    int64_t n;

    is->from = r->until >= today ? r->until + 1 : today;
    if (!strcmp(r->kind, "access")) {
        is->anchor = is->from;
        is->months = months_for(&h->cfg->cards, ho->type);
        is->until = date_period_end(is->from, (int)is->months);
        if (!strcmp(ho->type, "tenant") && ho->lease_end < is->until)
            is->until = ho->lease_end;
        if (is->until <= r->until)
            return err_set(e, ERR_RULE, "card",
                           "R-CARD-01: the lease at '%s' ends before the "
                           "card does; extend the lease first",
                           r->unit);
        return 0;
    }
    n = arg_has(a, "months") ? arg_int(a, "months") : 1;
    is->anchor = r->until + 1 >= today ? r->anchor : today;
    is->months = (r->until + 1 >= today ? r->months : 0) + n;
    is->until = date_period_end(is->anchor, (int)is->months);
    return parking_fee(h, is, n, unit_type_of(h, r->unit, type, sizeof(type)),
                       e);
}

int hdl_card_renew(struct hctx *h, const struct args *a, struct err *e)
{
    struct card_rec r;
    struct holder ho;
    struct issue is = {0};
    struct cw *w;
    int rc = need_active(h, a, &r, e);

    if (rc || (rc = holder_of(h, r.unit, r.holder, hdl_today(h), &ho, e)) ||
        (rc = renew_term(h, a, &r, &ho, &is, e)))
        return rc;
    if (is.fee > 0 && (rc = take_fee(h, a, r.unit, r.holder, is.item, is.fee,
                                     is.qty, r.card, e)))
        return rc;
    w = hctx_data_begin(h);
    cw_map(w, 9);
    cw_kstr(w, "card", r.card);
    cw_kstr(w, "unit", r.unit);
    cw_kstr(w, "holder", r.holder);
    cw_kdate(w, "from", is.from);
    cw_kdate(w, "until", is.until);
    cw_kdate(w, "anchor", is.anchor);
    cw_kint(w, "months", is.months);
    cw_kint(w, "fee", is.fee);
    cw_kdate(w, "date", hdl_today(h));
    return emit(h, EV_CARD_RENEWED, "card:%s", r.card);
}

/* Ends a card: lost, damaged, returned or formatted. */
static int emit_end(struct hctx *h, enum ev_type t, const struct card_rec *r,
                    const char *k, const msgpack_object *v)
{
    struct cw *w = hctx_data_begin(h);
    cw_map(w, 4 + (k ? 1 : 0));
    cw_kstr(w, "card", r->card);
    cw_kstr(w, "unit", r->unit);
    cw_kstr(w, "holder", r->holder);
    cw_kdate(w, "date", hdl_today(h));
    if (k)
        cw_kobj(w, k, v);
    return emit(h, t, "card:%s", r->card);
}

/* The replacement for card r under the number in new_card: same holder,
 * unit and end of validity. */
static int replacement(struct hctx *h, const struct args *a,
                       const struct card_rec *r, bool free_ok, struct err *e)
{
    struct issue is = {0};
    char type[16];
    const struct rate *rt;
    int rc;

    arg_copy(a, "new_card", is.card, sizeof(is.card));
    if ((rc = card_number_free(h, "new_card", is.card, e)))
        return rc;
    memcpy(is.kind, r->kind, sizeof(is.kind));
    memcpy(is.unit, r->unit, sizeof(is.unit));
    memcpy(is.holder, r->holder, sizeof(is.holder));
    memcpy(is.type, r->holder_type, sizeof(is.type));
    memcpy(is.replaces, r->card, sizeof(is.replaces));
    is.from = hdl_today(h);
    is.until = r->until > is.from ? r->until : is.from;
    is.anchor = r->anchor;
    is.months = r->months;
    if (free_ok || !strcmp(r->holder_type, "staff")) {
        snprintf(is.free, sizeof(is.free), "replacement");
        return emit_issued(h, a, &is, e);
    }
    rt = rates_find(&h->cfg->fees, "ic_card",
                    unit_type_of(h, r->unit, type, sizeof(type)), is.from);
    if (!rt)
        return err_set(e, ERR_UNAVAILABLE, NULL,
                       "no 'ic_card' rate in the fee schedule");
    is.item = "ic_card";
    is.fee = rt->amount;
    is.qty = 1;
    return emit_issued(h, a, &is, e);
}

/* R-CARD-04: revoked at once and for good; a replacement (new_card) is
 * paid (R-CARD-02). */
int hdl_card_report_lost(struct hctx *h, const struct args *a, struct err *e)
{
    struct card_rec r;
    int rc = need_active(h, a, &r, e);
    if (rc)
        return rc;
    if (arg_has(a, "new_card")) {
        char nc[CARD_ID_MAX];
        arg_copy(a, "new_card", nc, sizeof(nc));
        if ((rc = card_number_free(h, "new_card", nc, e)))
            return rc;
    }
    if ((rc = emit_end(h, EV_CARD_LOST, &r,
                       arg_has(a, "new_card") ? "new_card" : NULL,
                       arg(a, "new_card")->o)))
        return rc;
    return arg_has(a, "new_card") ? replacement(h, a, &r, false, e) : 0;
}

/* R-CARD-02: a card broken not by the holder is replaced free within
 * damage_free_months of issue; after that, or the holder's fault, paid. */
int hdl_card_report_damaged(struct hctx *h, const struct args *a, struct err *e)
{
    struct card_rec r;
    bool fault = arg_has(a, "holder_fault") && arg_int(a, "holder_fault");
    int months = h->cfg->cards.damage_free_months;
    bool free_ok;
    char nc[CARD_ID_MAX];
    int rc = need_active(h, a, &r, e);

    if (rc)
        return rc;
    arg_copy(a, "new_card", nc, sizeof(nc));
    if ((rc = card_number_free(h, "new_card", nc, e)))
        return rc;
    free_ok = !fault && months > 0 &&
              hdl_today(h) <= date_period_end(r.issued, months);
    {
        struct cw *w = hctx_data_begin(h);
        cw_map(w, 7);
        cw_kstr(w, "card", r.card);
        cw_kstr(w, "unit", r.unit);
        cw_kstr(w, "holder", r.holder);
        cw_kdate(w, "date", hdl_today(h));
        cw_kstr(w, "new_card", nc);
        cw_kbool(w, "holder_fault", fault);
        cw_kbool(w, "free_replacement", free_ok);
        if ((rc = emit(h, EV_CARD_DAMAGED, "card:%s", r.card)))
            return rc;
    }
    return replacement(h, a, &r, free_ok, e);
}

int hdl_card_return(struct hctx *h, const struct args *a, struct err *e)
{
    struct card_rec r;
    int rc = need_active(h, a, &r, e);
    if (rc)
        return rc;
    return emit_end(h, EV_CARD_RETURNED, &r,
                    arg_has(a, "reason") ? "reason" : NULL,
                    arg(a, "reason")->o);
}

/* R-CARD-01: a staff card (returned or still active) is formatted and
 * issued again to another member of staff; a lost one never is
 * (R-CARD-04). */
int hdl_card_format_reissue(struct hctx *h, const struct args *a, struct err *e)
{
    struct issue is = {0};
    struct card_rec r;
    struct holder ho;
    int rc;

    arg_copy(a, "card", is.card, sizeof(is.card));
    if (cards_get(h->txn, h->v, is.card, &r))
        return err_set(e, ERR_NOT_FOUND, "card", "card '%s' is not registered",
                       is.card);
    if (!strcmp(r.status, "lost"))
        return err_set(e, ERR_RULE, "card",
                       "R-CARD-04: card '%s' was reported lost and is "
                       "revoked for good",
                       is.card);
    if (strcmp(r.holder_type, "staff") ||
        (strcmp(r.status, "active") && strcmp(r.status, "returned")))
        return err_set(e, ERR_CONFLICT, "card",
                       "only an active or returned staff card is formatted "
                       "and reissued");
    arg_copy(a, "holder", is.holder, sizeof(is.holder));
    if ((rc = holder_of(h, r.unit, is.holder, hdl_today(h), &ho, e)))
        return rc;
    if (strcmp(ho.type, "staff"))
        return err_set(e, ERR_RULE, "holder",
                       "R-CARD-01: '%s' is not internal staff", is.holder);
    memcpy(is.kind, r.kind, sizeof(is.kind));
    memcpy(is.unit, r.unit, sizeof(is.unit));
    snprintf(is.type, sizeof(is.type), "staff");
    snprintf(is.free, sizeof(is.free), "staff");
    arg_copy(a, "approval", is.approval, sizeof(is.approval));
    is.months = 1; /* a parking card starts a fresh month */
    validity(h, &is, &ho);
    if ((rc = emit_end(h, EV_CARD_FORMATTED, &r, NULL, NULL)))
        return rc;
    return emit_issued(h, a, &is, e);
}

/* Whether card r (NULL: unknown) opens unit on day; the reason when not.
 * unit may be the card's unit or a building/estate prefix ending in '-'
 * or '/'. */
const char *card_verdict(const struct card_rec *r, const char *unit,
                         int32_t day, char *buf, size_t cap)
{
    size_t ul = strlen(unit);
    char d[DATE_STR_MAX];
    if (!r)
        return "unknown card";
    if (!strcmp(r->status, "lost"))
        return "R-CARD-04: reported lost, revoked for good";
    if (strcmp(r->status, "active")) {
        snprintf(buf, cap, "card was %s", r->status);
        return buf;
    }
    if (strcmp(r->unit, unit) &&
        !(ul && (unit[ul - 1] == '-' || unit[ul - 1] == '/') &&
          !strncmp(r->unit, unit, ul))) {
        snprintf(buf, cap, "card is for '%s'", r->unit);
        return buf;
    }
    if (day < r->from) {
        date_format(r->from, d);
        snprintf(buf, cap, "not valid before %s", d);
        return buf;
    }
    if (day > r->until) {
        date_format(r->until, d);
        snprintf(buf, cap, "expired on %s", d);
        return buf;
    }
    return NULL;
}

/* The reader's swipe, logged: granted or refused with the reason. */
int hdl_card_swipe(struct hctx *h, const struct args *a, struct err *e)
{
    char card[CARD_ID_MAX], unit[UNIT_KEY_MAX], buf[96];
    struct card_rec r;
    const char *why;
    struct cw *w;
    bool known;

    (void)e;
    arg_copy(a, "card", card, sizeof(card));
    arg_copy(a, "unit", unit, sizeof(unit));
    known = cards_get(h->txn, h->v, card, &r) == 0;
    why = card_verdict(known ? &r : NULL, unit, hdl_today(h), buf, sizeof(buf));
    w = hctx_data_begin(h);
    cw_map(w, 5);
    cw_kstr(w, "card", card);
    cw_kstr(w, "unit", unit);
    cw_kbool(w, "granted", why == NULL);
    cw_kstr(w, "reason", why ? why : "");
    cw_kdate(w, "date", hdl_today(h));
    return emit(h, EV_CARD_SWIPED, "card:%s", card);
}
