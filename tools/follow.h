/* tools/follow.h - following a deskd's events without loss or doubles, as
 * docs/SUBSCRIBERS.md tells every client: subscribe first, catch up with
 * log.read, then follow PUB, dropping duplicates and filling gaps with
 * log.read (zguide Clone). Shared by deskctl tail and desksink. */
#ifndef DESKD_FOLLOW_H
#define DESKD_FOLLOW_H

#include <stdint.h>

#include "../core/codec.h"

#define FOLLOW_PAGE 1000 /* events per log.read (deskd's most) */

struct follow_opts {
    const char *cmd_ep, *pub_ep; /* deskd's command and event sockets */
    const char *actor;           /* operator running log.read */
    /* CURVE: this client's secret key and deskd's public key (Z85 or a
     * file holding one, see curvecli.h); both or neither */
    const char *secret_key, *server_key;
    int timeout_ms; /* wait for one log.read reply */
};

/* Takes event seq (the next one, always in order); returns 0 to go on,
 * nonzero to stop (follow_catch_up and follow_poll then return -2). */
typedef int (*follow_take_fn)(void *arg, const msgpack_object *ev, int64_t seq);

struct follow {
    struct follow_opts o;
    void *ctx, *sub, *dealer;
    int64_t next; /* the next seq to take; the caller may move it back */
    follow_take_fn take;
    void *arg;
    unsigned long calls;
    char *reply; /* the last log.read reply (a parsed doc points into it) */
    size_t reply_cap;
};

/* Opens the SUB (subscribed to everything) and the DEALER on ctx; next is
 * the first seq wanted. 0, or -1 with a message on stderr. */
int follow_open(struct follow *f, void *ctx, const struct follow_opts *o,
                int64_t next, follow_take_fn take, void *arg);
void follow_close(struct follow *f);

/* log.read from f->next, page after page, taking each event, until a page
 * comes back empty or upto (0: no bound) is taken. Returns how many were
 * taken, -1 when deskd did not answer in time or refused, -2 when take
 * said stop. */
int64_t follow_catch_up(struct follow *f, int64_t upto);

/* Waits up to timeout_ms for one PUB message and takes it, after reading
 * any gap before it with log.read; a duplicate is dropped. 1 when a
 * message came, 0 when none did (quiet: the caller runs follow_catch_up
 * now and then, events dropped at the very end show no gap), -1 / -2 as
 * follow_catch_up. */
int follow_poll(struct follow *f, int timeout_ms);

/* deskd's last seq (log.read's last_seq), or -1 without an answer. */
int64_t follow_last_seq(struct follow *f);

#endif
