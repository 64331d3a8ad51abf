/* handlers/people.c - people at the desk (R-GEN-02): owners, family,
 * tenants, merchants, agents, staff. Lists show ID numbers and phones
 * masked; the full record is shown only to the roles the command table
 * allows, and every full view is itself recorded as an event. */
#include <string.h>

#include "../projections/units.h"
#include "handlers.h"

#define SEARCH_RESULTS_MAX 50 /* people in one search reply */

const char *const person_kinds[] = {"owner", "family", "tenant", "merchant",
                                    "agent", "staff",  NULL};

static void copy_arg_kv(struct cw *w, const struct args *a, const char *k)
{
    const struct argv *v = arg(a, k);
    cw_kobj(w, k, v->o);
}

/* R-GEN-02: merchants need a verified business licence; agents need the
 * owner's written authorisation. */
static int check_kind(const struct args *a, struct err *e)
{
    const char *kind = arg(a, "kind")->s;
    if (!strcmp(kind, "merchant") &&
        !(arg_has(a, "licence_verified") && arg_int(a, "licence_verified")))
        return err_set(e, ERR_RULE, "licence_verified",
                       "R-GEN-02: a merchant needs a verified business "
                       "licence");
    if (!strcmp(kind, "agent") && !arg_has(a, "authorisation"))
        return err_set(e, ERR_RULE, "authorisation",
                       "R-GEN-02: an agent needs the owner's written "
                       "authorisation");
    return 0;
}

int hdl_person_register(struct hctx *h, const struct args *a, struct err *e)
{
    static const char *const optional[] = {"id_no",
                                           "phones",
                                           "emergency_name",
                                           "emergency_phone",
                                           "licence_verified",
                                           "authorisation",
                                           "note"};
    char id[PERSON_ID_MAX];
    struct cw *w;
    size_t at;
    uint32_t n = 3;
    int rc = check_kind(a, e);

    if (rc)
        return rc;
    /* Ids come from the log position: unique, and replay never re-decides
     * them. */
    snprintf(id, sizeof(id), "P%llu", (unsigned long long)h->next_seq);
    w = hctx_data_begin(h);
    at = cw_map_open(w);
    cw_kstr(w, "person", id);
    copy_arg_kv(w, a, "name");
    copy_arg_kv(w, a, "kind");
    for (size_t i = 0; i < sizeof(optional) / sizeof(*optional); i++) {
        if (!arg_has(a, optional[i]))
            continue;
        copy_arg_kv(w, a, optional[i]);
        n++;
    }
    cw_map_close(w, at, n);
    return emit(h, EV_PERSON_REGISTERED, "person:%s", id);
}

/* Writes a person with every personal value masked (R-GEN-02: ID,
 * phones, emergency contact), the keys as core/mask.c names them. */
static void write_masked(struct cw *w, const msgpack_object *p)
{
    size_t at = cw_map_open(w);
    for (uint32_t i = 0; i < p->via.map.size; i++)
        mask_msgpack_kv(w, &p->via.map.ptr[i].key, &p->via.map.ptr[i].val);
    cw_kbool(w, "masked", true);
    cw_map_close(w, at, p->via.map.size + 1);
}

static int load_person(struct hctx *h, const struct args *a,
                       struct codec_doc *d, char id[PERSON_ID_MAX],
                       struct err *e)
{
    arg_copy(a, "person", id, PERSON_ID_MAX);
    if (units_get_person(h->txn, h->v, id, d))
        return err_set(e, ERR_NOT_FOUND, "person",
                       "person '%s' is not registered", id);
    return 0;
}

int hdl_query_person(struct hctx *h, const struct args *a, struct err *e)
{
    char id[PERSON_ID_MAX];
    struct codec_doc d;
    int rc = load_person(h, a, &d, id, e);
    if (rc)
        return rc;
    write_masked(h->result, d.obj);
    codec_doc_release(&d);
    h->has_result = true;
    return 0;
}

/* R-GEN-02: the full record, for the roles the table allows; the view is
 * recorded (who saw whose data, when, why). */
int hdl_person_view_full(struct hctx *h, const struct args *a, struct err *e)
{
    char id[PERSON_ID_MAX];
    struct codec_doc d;
    struct cw *w;
    int rc = load_person(h, a, &d, id, e);

    if (rc)
        return rc;
    cw_obj(h->result, d.obj);
    codec_doc_release(&d);
    h->has_result = true;
    w = hctx_data_begin(h);
    cw_map(w, 3);
    cw_kstr(w, "person", id);
    cw_kstr(w, "viewer", h->op->id);
    copy_arg_kv(w, a, "reason");
    return emit(h, EV_PERSON_DATA_VIEWED, "person:%s", id);
}

struct search_ctx {
    struct cw *w;
    const char *q;
    size_t qlen;
    uint32_t n;
};

static bool contains(const char *s, size_t n, const char *q, size_t qlen)
{
    for (size_t i = 0; i + qlen <= n; i++)
        if (memcmp(s + i, q, qlen) == 0)
            return true;
    return false;
}

/* Matches a name substring or the last digits of a phone. */
static int search_one(void *ctx, const msgpack_object *p)
{
    struct search_ctx *c = ctx;
    const msgpack_object *phones = codec_get(p, "phones");
    const char *s;
    size_t n;
    bool hit =
        !codec_get_str(p, "name", &s, &n) && contains(s, n, c->q, c->qlen);

    for (uint32_t i = 0;
         !hit && phones && phones->type == MSGPACK_OBJECT_ARRAY &&
         i < phones->via.array.size;
         i++) {
        const msgpack_object *x = &phones->via.array.ptr[i];
        hit = c->qlen >= 4 && x->via.str.size >= c->qlen &&
              memcmp(x->via.str.ptr + x->via.str.size - c->qlen, c->q,
                     c->qlen) == 0;
    }
    if (!hit)
        return 0;
    write_masked(c->w, p);
    return ++c->n >= SEARCH_RESULTS_MAX;
}

int hdl_query_people(struct hctx *h, const struct args *a, struct err *e)
{
    struct search_ctx c = {h->result, arg(a, "q")->s, arg(a, "q")->len, 0};
    size_t at;

    cw_map(h->result, 2);
    cw_str(h->result, "people");
    at = cw_array_open(h->result);
    if (units_each_person(h->txn, h->v, search_one, &c))
        return err_set(e, ERR_UNAVAILABLE, NULL, "search failed");
    cw_array_close(h->result, at, c.n);
    cw_kbool(h->result, "truncated", c.n >= SEARCH_RESULTS_MAX);
    h->has_result = true;
    return 0;
}
