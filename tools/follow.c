/* tools/follow.c - the subscriber recipe of docs/SUBSCRIBERS.md, once. */
#include "follow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "curvecli.h"

#define FOLLOW_SUB_HWM 100000 /* PUB messages queued here before drops */

static int secure(void *s, const struct follow_opts *o)
{
    if (!o->secret_key && !o->server_key)
        return 0;
    if (!o->secret_key || !o->server_key) {
        fprintf(stderr, "follow: CURVE needs a secret key and the server's "
                        "public key\n");
        return -1;
    }
    return curve_client(s, o->secret_key, o->server_key);
}

static void *socket_to(struct follow *f, int type, const char *ep)
{
    void *s = zmq_socket(f->ctx, type);
    int linger = 0, hwm = FOLLOW_SUB_HWM;
    if (!s)
        return NULL;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &f->o.timeout_ms, sizeof(f->o.timeout_ms));
    if (type == ZMQ_SUB) {
        zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof(hwm));
        zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0);
    }
    if (secure(s, &f->o) || zmq_connect(s, ep)) {
        fprintf(stderr, "follow: cannot connect to %s: %s\n", ep,
                zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    return s;
}

int follow_open(struct follow *f, void *ctx, const struct follow_opts *o,
                int64_t next, follow_take_fn take, void *arg)
{
    memset(f, 0, sizeof(*f));
    f->o = *o;
    f->ctx = ctx;
    f->next = next;
    f->take = take;
    f->arg = arg;
    /* 1. subscribe first: from now on an event is delivered or shows as
     * a gap */
    if (!(f->sub = socket_to(f, ZMQ_SUB, o->pub_ep)) ||
        !(f->dealer = socket_to(f, ZMQ_DEALER, o->cmd_ep))) {
        follow_close(f);
        return -1;
    }
    return 0;
}

void follow_close(struct follow *f)
{
    if (f->sub)
        zmq_close(f->sub);
    if (f->dealer)
        zmq_close(f->dealer);
    f->sub = f->dealer = NULL;
    free(f->reply);
    f->reply = NULL;
    f->reply_cap = 0;
}

/* One log.read; on success *d holds the reply (release it). A reply to an
 * earlier call that timed out is skipped by its id. */
static int log_read(struct follow *f, int64_t from, int limit,
                    struct codec_doc *d)
{
    char id[64];
    struct cw w;
    zmq_msg_t m;
    int rc = -1;

    snprintf(id, sizeof(id), "follow-%d-%lx-%lu", (int)getpid(),
             (unsigned long)(uintptr_t)f, ++f->calls);
    cw_init(&w);
    cw_map(&w, 4);
    cw_kstr(&w, "id", id);
    cw_kstr(&w, "cmd", "log.read");
    cw_kstr(&w, "actor", f->o.actor);
    cw_str(&w, "body");
    cw_map(&w, 2);
    cw_kint(&w, "from", from);
    cw_kint(&w, "limit", limit);
    if (zmq_send(f->dealer, cw_data(&w), cw_len(&w), 0) < 0) {
        cw_release(&w);
        return -1;
    }
    cw_release(&w);
    zmq_msg_init(&m);
    for (;;) {
        const char *rid;
        size_t rl;
        int n = zmq_msg_recv(&m, f->dealer, 0);
        if (n < 0)
            break; /* timeout: deskd is down or busy */
        if ((size_t)n > f->reply_cap) {
            char *p = realloc(f->reply, (size_t)n);
            if (!p)
                break;
            f->reply = p;
            f->reply_cap = (size_t)n;
        }
        /* the doc points into the bytes: keep them past the message */
        memcpy(f->reply, zmq_msg_data(&m), (size_t)n);
        if (codec_doc_parse_trusted(d, f->reply, (size_t)n, NULL))
            continue;
        if (!codec_get_str(d->obj, "id", &rid, &rl) && rl == strlen(id) &&
            !memcmp(rid, id, rl)) {
            rc = 0;
            break;
        }
        codec_doc_release(d); /* an old reply */
    }
    zmq_msg_close(&m);
    if (rc) {
        /* a late reply must not wait in this socket: start a new one */
        zmq_close(f->dealer);
        f->dealer = socket_to(f, ZMQ_DEALER, f->o.cmd_ep);
        return -1;
    }
    bool ok = false;
    codec_get_bool(d->obj, "ok", &ok);
    if (!ok) {
        const msgpack_object *err = codec_get(d->obj, "error");
        const char *msg = "";
        size_t ml = 0;
        codec_get_str(err, "message", &msg, &ml);
        fprintf(stderr, "follow: log.read refused: %.*s\n", (int)ml, msg);
        codec_doc_release(d);
        return -1;
    }
    return 0;
}

/* Takes the events of one log.read page in order; *got = how many. */
static int take_page(struct follow *f, const msgpack_object *evs, int64_t upto,
                     int64_t *got)
{
    for (uint32_t i = 0;
         evs && evs->type == MSGPACK_OBJECT_ARRAY && i < evs->via.array.size;
         i++) {
        const msgpack_object *ev = &evs->via.array.ptr[i];
        int64_t seq;
        if (codec_get_int(ev, "seq", &seq) || seq != f->next ||
            (upto && seq > upto))
            break;
        if (f->take(f->arg, ev, seq))
            return -2;
        f->next = seq + 1;
        (*got)++;
    }
    return 0;
}

int64_t follow_catch_up(struct follow *f, int64_t upto)
{
    int64_t total = 0;
    for (;;) {
        struct codec_doc d;
        int64_t got = 0, limit = FOLLOW_PAGE;
        int rc;
        if (upto && upto - f->next + 1 < limit)
            limit = upto - f->next + 1;
        if (limit <= 0)
            return total;
        if (!f->dealer || log_read(f, f->next, (int)limit, &d))
            return -1;
        rc = take_page(f, codec_get(codec_get(d.obj, "result"), "events"), upto,
                       &got);
        codec_doc_release(&d);
        if (rc)
            return rc;
        total += got;
        if (!got)
            return total;
    }
}

int follow_poll(struct follow *f, int timeout_ms)
{
    zmq_pollitem_t it = {f->sub, 0, ZMQ_POLLIN, 0};
    struct codec_doc d;
    zmq_msg_t topic, body;
    int64_t seq = 0;
    int rc = 1, more = 0;
    size_t ml = sizeof(more);

    if (zmq_poll(&it, 1, timeout_ms) <= 0)
        return 0;
    zmq_msg_init(&topic);
    zmq_msg_init(&body);
    if (zmq_msg_recv(&topic, f->sub, ZMQ_DONTWAIT) < 0 ||
        zmq_getsockopt(f->sub, ZMQ_RCVMORE, &more, &ml) || !more ||
        zmq_msg_recv(&body, f->sub, ZMQ_DONTWAIT) < 0 ||
        codec_doc_parse_trusted(&d, zmq_msg_data(&body), zmq_msg_size(&body),
                                NULL))
        goto out; /* not an event: ignore it */
    if (!codec_get_int(d.obj, "seq", &seq) && seq >= f->next) {
        if (seq > f->next) { /* a gap: dropped, or still catching up */
            int64_t n = follow_catch_up(f, seq - 1);
            if (n < 0)
                rc = (int)n;
        }
        if (rc == 1 && seq == f->next) {
            if (f->take(f->arg, d.obj, seq))
                rc = -2;
            else
                f->next = seq + 1;
        }
    } /* else a duplicate of what catch-up took */
    codec_doc_release(&d);
out:
    zmq_msg_close(&topic);
    zmq_msg_close(&body);
    return rc;
}

int64_t follow_last_seq(struct follow *f)
{
    struct codec_doc d;
    int64_t last = -1;
    if (!f->dealer || log_read(f, 1, 1, &d))
        return -1;
    if (codec_get_int(codec_get(d.obj, "result"), "last_seq", &last))
        last = -1;
    codec_doc_release(&d);
    return last;
}
