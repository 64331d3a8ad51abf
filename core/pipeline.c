/* core/pipeline.c - decode -> authorise -> validate -> dedupe -> expect ->
 * handler -> events -> projections -> reply, for one command in the
 * batch's write txn. Writes nothing when the command fails. */
#include "pipeline.h"

#include "mask.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct operator system_op = {"system", "deskd", ROLE_SYSTEM};

void pipe_init(struct pipeline *p, struct log *l, const struct config *cfg,
               struct clock *clk, const struct views *v)
{
    memset(p, 0, sizeof(*p));
    p->log = l;
    p->cfg = cfg;
    p->clk = clk;
    p->views = v;
    log_batch_init(&p->batch, l, cfg->cal.offset_min);
    hctx_init(&p->h);
    p->test_fail_id = getenv("DESKD_TEST_FAIL_ID");
    cw_init(&p->result);
    cw_init(&p->scratch);
}

void pipe_release(struct pipeline *p)
{
    log_batch_release(&p->batch);
    hctx_release(&p->h);
    cw_release(&p->result);
    cw_release(&p->scratch);
}

void pipe_reply_error(struct cw *reply, const char *id, size_t id_len,
                      const struct err *e)
{
    bool field = e->field[0] != '\0';
    cw_map(reply, 3);
    cw_str(reply, "id");
    if (id)
        cw_strn(reply, id, id_len);
    else
        cw_nil(reply);
    cw_kbool(reply, "ok", false);
    cw_str(reply, "error");
    cw_map(reply, field ? 3 : 2);
    cw_kstr(reply, "code", err_code_name(e->code ? e->code : ERR_UNAVAILABLE));
    cw_kstr(reply, "message", e->msg[0] ? e->msg : "internal error");
    if (field)
        cw_kstr(reply, "field", e->field);
}

/* Hash of what the command means: its name, actor and desk, each field of
 * the table in table order as the table typed it (absent and nil alike;
 * "120.5" and 120.50 the same area; one instant however its offset is
 * written; maps with their keys sorted), and expect with its streams
 * sorted. A retry that a client library encoded differently (key order,
 * number or string forms) is the same command; a changed value is not. */
static void fingerprint(struct pipeline *p, const struct envelope *env,
                        const struct args *a, unsigned char fp[LOG_HASH_LEN])
{
    const struct field *f = a->spec->fields;
    struct cw *w = &p->scratch;
    uint32_t n = 0;

    while (f[n].name)
        n++;
    cw_reset(w);
    cw_array(w, 5);
    cw_str(w, a->spec->name);
    cw_strn(w, env->actor, env->actor_len);
    cw_str(w, env->desk);
    cw_array(w, n);
    for (uint32_t i = 0; i < n; i++) {
        const struct argv *v = &a->v[i];
        if (!v->set)
            cw_nil(w);
        else if (f[i].type == FT_ID || f[i].type == FT_STR ||
                 f[i].type == FT_TEXT)
            cw_strn(w, v->s, v->len);
        else if (f[i].type == FT_STRS || f[i].type == FT_ANY)
            cw_canon(w, v->o);
        else
            cw_int(w, v->i);
    }
    if (env->expect)
        cw_canon(w, env->expect);
    else
        cw_nil(w);
    log_hash(cw_data(w), cw_len(w), fp);
}

/* The fingerprint of command ids recorded before fingerprints were by
 * meaning (the envelope's bytes normalised through msgpack-c): a retry of
 * such a command still matches. */
static void fingerprint_v1(struct pipeline *p, const struct envelope *env,
                           unsigned char fp[LOG_HASH_LEN])
{
    struct cw *w = &p->scratch;
    cw_reset(w);
    cw_array(w, 5);
    cw_strn(w, env->cmd, env->cmd_len);
    cw_strn(w, env->actor, env->actor_len);
    cw_str(w, env->desk);
    if (env->body)
        cw_obj(w, env->body);
    else
        cw_map(w, 0);
    if (env->expect)
        cw_obj(w, env->expect);
    else
        cw_nil(w);
    log_hash(cw_data(w), cw_len(w), fp);
}

/* A retry: answer with the events the first run wrote. */
static int reply_duplicate(struct pipeline *p, const struct envelope *env,
                           const struct log_cmd_rec *rec, struct cw *reply)
{
    uint32_t n =
        rec->nevents < REPLY_EVENTS_MAX ? rec->nevents : REPLY_EVENTS_MAX;
    cw_map(reply, 6);
    cw_kstrn(reply, "id", env->id, env->id_len);
    cw_kbool(reply, "ok", true);
    cw_kint(reply, "seq", (int64_t)(rec->first_seq + rec->nevents - 1));
    cw_kbool(reply, "duplicate", true);
    cw_kint(reply, "event_count", rec->nevents);
    cw_str(reply, "events");
    cw_array(reply, n);
    for (uint32_t i = 0; i < n; i++) {
        const unsigned char *hash;
        const char *body;
        size_t len;
        int rc = log_get(p->batch.ltxn, p->log, rec->first_seq + i, &hash,
                         &body, &len);
        if (rc)
            return rc;
        cw_raw(reply, body, len);
    }
    p->stats.duplicates++;
    return 0;
}

static int check_expect(struct pipeline *p, const msgpack_object *x,
                        struct err *e)
{
    for (uint32_t i = 0; x && i < x->via.map.size; i++) {
        const msgpack_object *k = &x->via.map.ptr[i].key;
        int64_t want;
        uint64_t have;
        codec_obj_int(&x->via.map.ptr[i].val, &want);
        if (log_stream_version(p->batch.txn, p->log, k->via.str.ptr,
                               k->via.str.size, &have))
            return err_set(e, ERR_UNAVAILABLE, NULL, "stream lookup failed");
        if (have != (uint64_t)want)
            return err_set(e, ERR_CONFLICT, "expect",
                           "stream '%.*s' is at version %llu, expected %lld",
                           (int)k->via.str.size, k->via.str.ptr,
                           (unsigned long long)have, (long long)want);
    }
    return 0;
}

/* Appends the handler's events and applies them to every projection. */
static int append_events(struct pipeline *p, const struct envelope *env,
                         const char *actor, uint64_t *last)
{
    struct hctx *h = &p->h;
    for (size_t i = 0; i < h->nev; i++) {
        const struct hevent *hv = &h->ev[i];
        struct log_event_in in = {hv->type,        hv->stream,
                                  hv->stream_len,  h->now,
                                  hv->occurred_at, actor,
                                  env->desk,       env->id,
                                  env->id_len,     cw_data(&h->data) + hv->off,
                                  hv->len};
        struct codec_doc doc;
        const char *body;
        size_t len;
        int rc = log_append(&p->batch, &in, last, &body, &len);
        if (rc)
            return rc;
        if (codec_doc_parse_trusted(&doc, body, len, NULL))
            return ERR_UNAVAILABLE;
        rc = derived_ops.apply((void *)p->views, p->batch.txn, *last, doc.obj);
        codec_doc_release(&doc);
        if (rc)
            return rc;
    }
    p->stats.events += h->nev;
    return 0;
}

/* A query's result leaves masked (R-GEN-02), whatever the handler wrote:
 * structured personal fields and the numbers in free text, in one place
 * (core/mask.c). The one query that shows a full record
 * (person.view_full) records the view as an event: a result with events
 * is left as the handler wrote it. */
static void reply_ok(struct pipeline *p, const struct envelope *env,
                     size_t first, uint64_t last, bool query, struct cw *reply)
{
    struct hctx *h = &p->h;
    size_t n = h->nev < REPLY_EVENTS_MAX ? h->nev : REPLY_EVENTS_MAX;

    cw_map(reply, 4 + (h->nev ? 1 : 0) + (h->has_result ? 1 : 0));
    cw_kstrn(reply, "id", env->id, env->id_len);
    cw_kbool(reply, "ok", true);
    cw_kint(reply, "seq", (int64_t)last);
    cw_kint(reply, "event_count", (int64_t)h->nev);
    if (h->nev) {
        cw_str(reply, "events");
        cw_array(reply, (uint32_t)n);
        for (size_t i = 0; i < n; i++) {
            const char *body;
            size_t len;
            log_batch_body(&p->batch, first + i, &body, &len);
            cw_raw(reply, body, len);
        }
    }
    if (h->has_result) {
        cw_str(reply, "result");
        if (query && h->nev == 0)
            mask_body(reply, cw_data(&p->result), cw_len(&p->result));
        else
            cw_raw(reply, cw_data(&p->result), cw_len(&p->result));
    }
}

/* Handler and what follows it; the envelope and args are valid. */
/* Command errors are ERR_* codes; LMDB and errno failures are batch-wide. */
static bool batch_fatal(int rc)
{
    return rc > 0 || rc < ERR_UNAVAILABLE - 100;
}

static int run(struct pipeline *p, const struct envelope *env,
               const struct cmd_spec *spec, const struct args *a,
               const struct operator* op, struct cw *reply, struct err *e)
{
    struct hctx *h = &p->h;
    struct log_cmd_rec rec = {0};
    unsigned char fp[LOG_HASH_LEN];
    bool dedupe = !(spec->flags & CMD_QUERY);
    size_t first = p->batch.nevents;
    uint64_t last = p->batch.next_seq - 1;
    int rc;

    if (dedupe) {
        fingerprint(p, env, a, fp);
        rc = log_cmd_get(p->batch.txn, p->log, env->id, env->id_len, &rec);
        if (rc == 0 && memcmp(fp, rec.fp, LOG_HASH_LEN) != 0) {
            unsigned char v1[LOG_HASH_LEN];
            fingerprint_v1(p, env, v1);
            if (memcmp(v1, rec.fp, LOG_HASH_LEN) != 0)
                return err_set(e, ERR_CONFLICT, "id",
                               "id '%.*s' was used for a different command",
                               (int)env->id_len, env->id);
        }
        if (rc == 0)
            return reply_duplicate(p, env, &rec, reply);
        if (rc != MDB_NOTFOUND)
            return err_set(e, ERR_UNAVAILABLE, NULL, "id lookup failed");
    }
    if ((rc = check_expect(p, env->expect, e)))
        return rc;
    hctx_reset(h);
    cw_reset(&p->result);
    h->txn = p->batch.txn;
    h->ltxn = p->batch.ltxn;
    h->v = p->views;
    h->log = p->log;
    h->cfg = p->cfg;
    h->cal = &p->cfg->cal; /* the writer's: a reload runs on this thread */
    h->clk = p->clk;
    h->now = clock_now(p->clk);
    h->op = op;
    h->desk = env->desk;
    h->next_seq = p->batch.next_seq;
    h->result = &p->result;
    if ((rc = spec->run(h, a, e)))
        return e->code ? rc : err_set(e, ERR_UNAVAILABLE, NULL, "failed");
    /* Any failure here may leave some of the command's events (or
     * projection writes) in the txn: the whole batch is abandoned, so
     * nothing partial can commit (EIO when the code is a command one). */
    if ((rc = append_events(p, env, op->id, &last)))
        return batch_fatal(rc) ? rc : EIO;
    if (p->test_fail_id && strlen(p->test_fail_id) == env->id_len &&
        !memcmp(p->test_fail_id, env->id, env->id_len))
        return EIO; /* as a projection's write error would, events in */
    if (dedupe && h->nev) {
        memcpy(rec.fp, fp, LOG_HASH_LEN);
        rec.first_seq = last - h->nev + 1;
        rec.nevents = (uint32_t)h->nev;
        if ((rc = log_batch_cmd(&p->batch, env->id, env->id_len, &rec)))
            return rc;
    }
    reply_ok(p, env, first, last, !dedupe, reply);
    p->stats.ok++;
    return 0;
}

static int exec_env(struct pipeline *p, struct envelope *env,
                    const struct operator* op, struct cw *reply)
{
    struct err e = {0};
    const struct cmd_spec *spec = cmd_find(env->cmd, env->cmd_len);
    struct args a;
    int rc;

    if (!spec) {
        err_set(&e, ERR_UNKNOWN_COMMAND, "cmd", "no command '%.*s'",
                (int)env->cmd_len, env->cmd);
        goto fail;
    }
    if (!op) {
        err_set(&e, ERR_FORBIDDEN, "actor", "unknown operator '%.*s'",
                (int)env->actor_len, env->actor);
        goto fail;
    }
    if (p->unavailable[0] && !(spec->flags & CMD_QUERY)) {
        err_set(&e, ERR_UNAVAILABLE, NULL, "%s", p->unavailable);
        goto fail;
    }
    if (cmd_authorise(spec, op, &e) ||
        cmd_args_parse(spec, env->body, p->cfg->cal.offset_min, &a, &e))
        goto fail;
    rc = run(p, env, spec, &a, op, reply, &e);
    if (rc && batch_fatal(rc))
        return rc;
    if (rc)
        goto fail;
    return 0;
fail:
    p->stats.failed++;
    pipe_reply_error(reply, env->id, env->id_len, &e);
    return 0;
}

/* The operator of the command: the envelope's actor, which under CURVE
 * must be the authenticated one (roles come from the key's operator). */
static const struct operator* who(struct pipeline *p,
                                  const struct envelope *env, const char *auth,
                                  struct err *e)
{
    const struct operator* op =
        cfg_operator(p->cfg, env->actor, env->actor_len);
    if (!auth)
        return op;
    if (!*auth) {
        err_set(e, ERR_FORBIDDEN, NULL,
                "the key of this connection is no longer listed");
        return NULL;
    }
    if (strlen(auth) != env->actor_len ||
        memcmp(auth, env->actor, env->actor_len)) {
        err_set(e, ERR_FORBIDDEN, "actor",
                "actor '%.*s' is not the authenticated operator '%s'",
                (int)env->actor_len, env->actor, auth);
        return NULL;
    }
    return op;
}

int pipe_exec(struct pipeline *p, const char *frame, size_t len,
              const char *auth, struct cw *reply)
{
    const struct operator* op = NULL;
    struct envelope env;
    struct err e = {0};
    int rc;

    if (len > (size_t)p->cfg->frame_max) {
        err_set(&e, ERR_BAD_REQUEST, NULL,
                "frame of %zu bytes exceeds the limit of %d", len,
                p->cfg->frame_max);
        pipe_reply_error(reply, NULL, 0, &e);
        p->stats.failed++;
        return 0;
    }
    if (cmd_envelope_parse(&env, frame, len, &e)) {
        pipe_reply_error(reply, env.id, env.id_len, &e);
        cmd_envelope_release(&env);
        p->stats.failed++;
        return 0;
    }
    if (env.id_len >= sizeof(PIPE_SYSTEM_ID) - 1 &&
        !memcmp(env.id, PIPE_SYSTEM_ID, sizeof(PIPE_SYSTEM_ID) - 1))
        err_set(&e, ERR_BAD_REQUEST, "id",
                "command ids starting with '%s' are deskd's own",
                PIPE_SYSTEM_ID);
    else
        op = who(p, &env, auth, &e);
    if (e.code) {
        pipe_reply_error(reply, env.id, env.id_len, &e);
        cmd_envelope_release(&env);
        p->stats.failed++;
        return 0;
    }
    rc = exec_env(p, &env, op, reply);
    cmd_envelope_release(&env);
    return rc;
}

int pipe_exec_system(struct pipeline *p, const char *cmd_id, const char *cmd,
                     const msgpack_object *body, struct cw *reply)
{
    struct envelope env;
    struct cw w;
    struct err e = {0};
    int rc;

    cw_init(&w);
    cw_map(&w, 4);
    cw_kstr(&w, "id", cmd_id);
    cw_kstr(&w, "cmd", cmd);
    cw_kstr(&w, "actor", system_op.id);
    cw_str(&w, "body");
    cw_obj(&w, body);
    rc = cmd_envelope_parse(&env, cw_data(&w), cw_len(&w), &e);
    DESK_ASSERT(rc == 0);
    rc = exec_env(p, &env, &system_op, reply);
    cmd_envelope_release(&env);
    cw_release(&w);
    return rc;
}
