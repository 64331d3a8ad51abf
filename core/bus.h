/* core/bus.h - the ZeroMQ side: a ROUTER for commands and queries, a PUB for
 * events, both driven from the libevent loop through ZMQ_FD. ZMQ_FD is
 * edge-triggered: the owner must drain until bus_readable() is false, and
 * check again after sending, or the loop can hang with messages queued. */
#ifndef DESKD_BUS_H
#define DESKD_BUS_H

#include <event2/event.h>
#include <stdbool.h>
#include <zmq.h>

#include "config.h"
#include "err.h"

#define BUS_HWM 100000              /* messages queued per peer before drops */
#define BUS_TRANSPORT_MAX (1 << 20) /* bytes: larger frames drop the peer */

/* ZAP (RFC 27): libzmq asks this inproc endpoint about every CURVE
 * handshake; the handler on deskd's loop answers from [keys]. */
#define BUS_ZAP_EP "inproc://zeromq.zap.01"
#define BUS_ZAP_DOMAIN "deskd"
/* Connection metadata set by the ZAP reply: the peer's public key (Z85),
 * so a key revoked by a reload is refused on connections already open. */
#define BUS_PROP_KEY "Deskd-Key"

struct bus {
    void *ctx;
    void *router;
    void *pub;
    int feed_fd; /* eventfd: events are durable (bus_feed_wake); -1 unset */
    struct event *ev;
    const struct config *cfg; /* keys are read per handshake (reloadable) */
    void *zap;                /* REP on BUS_ZAP_EP; NULL in plain mode */
    struct event *zap_ev;
    uint64_t zap_ok, zap_refused;
    char cmd_ep[CFG_EP_MAX]; /* as bound (wildcard ports resolved) */
    char pub_ep[CFG_EP_MAX];
};

/* A command as received: the peer's routing id (kept for the reply), whether
 * it came from a REQ socket (empty delimiter), and the frame. */
#define BUS_FRAMES_KEPT 3 /* frame sizes looked at; more is more */

struct bus_msg {
    zmq_msg_t id;
    zmq_msg_t body;
    bool req;
    /* the message broke the frame rules (bus_frame_rule): it gets one
     * bad_request reply and nothing else happens */
    bool bad_frames;
    /* CURVE only: what the ZAP handler said at the handshake (User-Id =
     * the operator id, and the key); both "" in plain mode */
    char user[CFG_OP_ID_MAX];
    char key[CFG_Z85_KEY + 1];
};

/* The frame rules of the command socket, after the peer's id: one frame
 * (DEALER), or an empty delimiter and one frame (REQ). Given the sizes of
 * the n frames, returns the index of the command frame, or -1 when the
 * message breaks the rules; *req says whether the reply needs a delimiter
 * (the first frame was empty). */
int bus_frame_rule(const size_t *sizes, size_t n, bool *req);

/* Binds both sockets and arms on_ready for the command socket. In CURVE
 * mode (cfg->sec_mode) both sockets are CURVE servers with cfg->sec_secret
 * and the ZAP handler runs on base; cfg must outlive the bus. */
int bus_open(struct bus *b, const struct config *cfg, struct event_base *base,
             event_callback_fn on_ready, void *arg, struct err *e);
void bus_close(struct bus *b);

/* Non-blocking receive: 0 and m filled, or -1 when nothing is waiting.
 * Frames of unexpected shape are dropped. */
int bus_recv(struct bus *b, struct bus_msg *m);
/* Sends reply to m's peer and releases m's id. The body must have been
 * released with bus_msg_body_done() already or is released here. */
void bus_reply(struct bus *b, struct bus_msg *m, const char *data, size_t len);
void bus_msg_body_done(struct bus_msg *m);
void bus_msg_release(struct bus_msg *m);
bool bus_readable(struct bus *b);
/* Waits up to timeout_us for a command to arrive; true if one is waiting. */
bool bus_wait(struct bus *b, int timeout_us);
/* Two frames: topic (the event type) and the body. Never blocks: a slow
 * subscriber loses messages past its HWM and recovers them with log.read. */
void bus_publish(struct bus *b, const char *topic, const char *body,
                 size_t len);
/* The in-process feed (deskd's HTTP thread): an eventfd the writer signals
 * once per batch of events made durable. Its reader reads the events from
 * the log, so a wake-up carries nothing and many make one. */
void bus_feed_wake(struct bus *b);
/* The fd to watch for readability (any thread). */
int bus_feed_fd(const struct bus *b);
/* Clears the feed without blocking; true if a wake-up was waiting. */
bool bus_feed_drain(const struct bus *b);

#endif
