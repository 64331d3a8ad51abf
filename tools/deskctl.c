/* tools/deskctl.c - the desk client: sends any command from the command
 * table (key=value arguments typed by the table, or a JSON body), prints the
 * reply as JSON; follows the event stream with catch-up and gap recovery;
 * prints help and the protocol reference from the same table. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "../core/bus.h"
#include "../core/cmd.h"
#include "../core/codec_json.h"
#include "../core/pipeline.h"
#include "../core/version.h"
#include "curvecli.h"
#include "follow.h"
#include "sheet.h"

#define DEFAULT_CMD_EP "tcp://127.0.0.1:7700"
#define DEFAULT_PUB_EP "tcp://127.0.0.1:7701"
#define TAIL_IDLE_MS                                                           \
    2000 /* quiet PUB this long: check log.read for a lost tail */

struct opts {
    const char *cmd_ep, *pub_ep, *actor, *desk, *id, *json;
    int timeout_ms;
    long long from;
    long long count;
    /* CURVE: this desk's secret key and deskd's public key, each a Z85
     * key or a file holding one; both or neither */
    const char *secret_key, *server_key;
};

/* Makes s a CURVE client when keys are given. */
static int secure(void *s, const struct opts *o)
{
    if (!o->secret_key && !o->server_key)
        return 0;
    if (!o->secret_key || !o->server_key) {
        fprintf(stderr, "deskctl: CURVE needs --key and --server-key (or "
                        "DESKD_SECRET_KEY and DESKD_SERVER_KEY)\n");
        return -1;
    }
    return curve_client(s, o->secret_key, o->server_key);
}

static int write_key(const char *base, const char *ext, const char *key,
                     mode_t mode)
{
    char path[4096];
    FILE *f;
    int fd;
    snprintf(path, sizeof(path), "%s%s", base, ext);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        fprintf(stderr, "deskctl: cannot create '%s': %s\n", path,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    fprintf(f, "%s\n", key);
    return fclose(f) ? -1 : 0;
}

/* keygen [BASE]: a CURVE key pair in Z85; with BASE, written to BASE.key
 * (secret, mode 0600) and BASE.pub, never over existing files. */
static int keygen(const char *base)
{
    char pub[CURVE_KEY + 1], sec[CURVE_KEY + 1];
    if (zmq_curve_keypair(pub, sec)) {
        fprintf(stderr, "deskctl: keygen: %s\n", zmq_strerror(errno));
        return 2;
    }
    if (!base) {
        printf("public %s\nsecret %s\n", pub, sec);
        return 0;
    }
    if (write_key(base, ".key", sec, 0600) ||
        write_key(base, ".pub", pub, 0644))
        return 2;
    printf("public %s\n(secret key in %s.key)\n", pub, base);
    return 0;
}

static const char *ftype_label(enum ftype t)
{
    switch (t) {
#define X(n, s)                                                                \
    case FT_##n:                                                               \
        return s;
        FIELD_TYPES(X)
#undef X
    }
    return "?";
}

static void roles_label(unsigned roles, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
#define X(name, bit, str)                                                      \
    if ((roles & (bit)) && n < cap)                                            \
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", str);
    ROLES(X)
#undef X
}

static void print_fields(FILE *f, const struct cmd_spec *c, bool md)
{
    for (int i = 0; c->fields[i].name; i++) {
        const struct field *fd = &c->fields[i];
        char lim[96] = "";
        if (fd->type == FT_ENUM) {
            size_t n = 0;
            for (int j = 0; fd->choices[j] && n < sizeof(lim); j++)
                n += (size_t)snprintf(lim + n, sizeof(lim) - n, "%s%s",
                                      j ? "|" : "", fd->choices[j]);
        } else if (fd->type == FT_ID || fd->type == FT_STR ||
                   fd->type == FT_TEXT) {
            snprintf(lim, sizeof(lim), "%lld..%lld bytes",
                     (long long)(fd->min ? fd->min : 1), (long long)fd->max);
        } else if (fd->type == FT_INT || fd->type == FT_MONEY ||
                   fd->type == FT_DEC2) {
            snprintf(lim, sizeof(lim), "%lld..%lld%s", (long long)fd->min,
                     (long long)fd->max,
                     fd->type == FT_DEC2 ? " hundredths" : "");
        }
        if (md)
            fprintf(f, "| `%s` | %s | %s | %s | %s |\n", fd->name,
                    ftype_label(fd->type), fd->flags & F_REQ ? "yes" : "", lim,
                    fd->help ? fd->help : "");
        else
            fprintf(f, "    %-18s %-12s %-4s %s%s%s\n", fd->name,
                    ftype_label(fd->type), fd->flags & F_REQ ? "req" : "",
                    fd->help ? fd->help : "", lim[0] ? "  " : "", lim);
    }
}

static void help(FILE *f, const char *only)
{
    char roles[128];
    if (!only)
        fprintf(f,
                "usage: deskctl [-e EP] [-a ACTOR] [--desk D] [--id ID] CMD "
                "[key=value ...] [--json BODY]\n"
                "       deskctl query NAME [key=value ...]\n"
                "       deskctl tail [--events EP] [--from SEQ] [--count N]\n"
                "       deskctl handover --from TIME --to TIME [--desk D] "
                "[--next-to TIME] [--raw]\n"
                "       deskctl help [CMD] | --protocol-md [EXAMPLES.json] | "
                "--man-commands | --version\n"
                "       deskctl keygen [BASE]   (CURVE key pair; BASE.key, "
                "BASE.pub)\n"
                "CURVE: --key SECRET --server-key PUBLIC (Z85 or a file)\n"
                "env: DESKD_ENDPOINT, DESKD_EVENTS, DESKD_ACTOR, "
                "DESKD_SECRET_KEY, DESKD_SERVER_KEY\n\n"
                "commands:\n");
    for (size_t i = 0; i < cmd_table_len; i++) {
        const struct cmd_spec *c = &cmd_table[i];
        if (only && strcmp(only, c->name))
            continue;
        roles_label(c->roles, roles, sizeof(roles));
        fprintf(f, "  %-20s %s\n    roles: %s\n", c->name, c->help, roles);
        if (only) {
            print_fields(f, c, false);
            fprintf(f, "    example: %s\n", c->example);
        }
    }
}

/* The limits table of docs/PROTOCOL.md, from the defaults and constants
 * deskd runs with (one truth: `make docs-check` fails when it drifts). */
static void limits_md(void)
{
    struct config c;
    cfg_init(&c);
    printf("<!-- generated by `deskctl --protocol-md` from the config "
           "defaults and core limits; do not edit -->\n\n");
    printf("| limit | value | set by | why |\n|---|---|---|---|\n");
    printf("| frame | %d bytes, checked before decoding → `bad_request` | "
           "`frame_max` | a desk command is a few hundred bytes |\n",
           c.frame_max);
    printf("| transport | %d bytes (`ZMQ_MAXMSGSIZE`): larger frames drop the "
           "connection | built in | stops a peer from making libzmq buffer "
           "huge messages |\n",
           BUS_TRANSPORT_MAX);
    printf("| frames | one per request (REQ: an empty delimiter and one); "
           "anything else → `bad_request` | built in | one message, one "
           "reply |\n");
    printf("| id | 1–%d bytes of printable UTF-8 with a visible character | "
           "built in | an id must be read back, retried and audited |\n",
           LOG_CMD_ID_MAX);
    printf("| nesting | %d levels | built in | commands are shallow |\n",
           CODEC_DEPTH_MAX);
    printf("| items | %d per array/map, and never more than the frame's "
           "remaining bytes could hold | built in | stops `dd ff ff ff ff` "
           "asking the unpacker for gigabytes |\n",
           CODEC_ITEMS_MAX);
    printf("| strings | %d bytes per string before any field limit; each "
           "field has its own limit in the table | built in | |\n",
           CODEC_STR_MAX);
    printf("| batch | `batch_max` = %d commands per write transaction | "
           "`batch_max` | bounds a transaction's dirty pages |\n",
           c.batch_max);
    printf("| reply events | %d events echoed per reply; more with "
           "`log.read` | built in | bounded replies |\n",
           REPLY_EVENTS_MAX);
    printf("| log.read | %d events or %d bytes per reply | built in | "
           "bounded replies |\n",
           LOG_READ_LIMIT, LOG_READ_BYTES);
    printf("| command queue | %d messages per peer each way (`BUS_HWM`) | "
           "built in | a client that never reads has its replies dropped "
           "past this |\n",
           BUS_HWM);
    printf("| event subscriber queue | `pub_hwm` = %d events | `pub_hwm` | a "
           "subscriber that stalls loses events past this and catches up "
           "with `log.read` |\n",
           c.pub_hwm);
    printf("| SSE lag | `sse_lag_max` = %ld events behind | `sse_lag_max` | a "
           "slow HTTP client is dropped and resumes with Last-Event-ID |\n\n",
           c.sse_lag_max);
}

/* The example of command name from the examples file (written by
 * tests/integration/it_examples.c): its request and the real reply. */
static void print_example(json_t *ex, const struct cmd_spec *c)
{
    json_t *e = json_object_get(ex, c->name);
    char *body, *reply;

    if (!e)
        return;
    body =
        json_dumps(json_object_get(e, "body"), JSON_COMPACT | JSON_SORT_KEYS);
    reply = json_dumps(json_object_get(e, "reply"),
                       JSON_INDENT(2) | JSON_SORT_KEYS);
    printf("Tested example (`tests/integration/it_examples.c`), as `%s`%s:\n\n"
           "```json\n%s\n```\n\nReply (arrays cut to 3 items):\n\n"
           "```json\n%s\n```\n\n",
           json_string_value(json_object_get(e, "actor")),
           c->roles == ROLE_SYSTEM ? " — only deskd runs it (actor `system`); "
                                     "a desk gets this refusal, and the event "
                                     "it writes shows in `log.read`"
                                   : "",
           body ? body : "{}", reply ? reply : "{}");
    free(body);
    free(reply);
}

/* The command reference; with examples (a file written by it_examples),
 * a real reply under each command. */
static void protocol_md(const char *examples)
{
    char roles[128];
    json_t *ex = NULL;

    if (examples) {
        json_error_t je;
        ex = json_load_file(examples, 0, &je);
        if (!ex) {
            fprintf(stderr, "deskctl: %s:%d: %s\n", examples, je.line, je.text);
            exit(1);
        }
    }
    limits_md();
    printf("## Command reference\n\n");
    printf("<!-- generated by `deskctl --protocol-md` from "
           "handlers/commands.c%s; do not edit -->\n\n",
           ex ? " and docs/protocol-examples.json" : "");
    for (size_t i = 0; i < cmd_table_len; i++) {
        const struct cmd_spec *c = &cmd_table[i];
        roles_label(c->roles, roles, sizeof(roles));
        printf("### `%s`\n\n%s\n\nRoles: %s.%s\n\n", c->name, c->help, roles,
               c->flags & CMD_QUERY ? " Query: not deduplicated." : "");
        printf("| field | type | required | limits | meaning |\n"
               "|---|---|---|---|---|\n");
        print_fields(stdout, c, true);
        printf("\nExample body: `%s`\n\n", c->example);
        print_example(ex, c);
    }
    json_decref(ex);
}

/* Text for an mdoc line: backslashes written as \e, and a line that would
 * start with a control character guarded with \&. */
static void mdoc_text(const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", stdout);
    for (; *s; s++)
        if (*s == '\\')
            fputs("\\e", stdout);
        else
            putchar(*s);
    putchar('\n');
}

/* The command list of deskctl(1) (man/deskctl.1.in), from the same table
 * as help and docs/PROTOCOL.md, so the man page cannot drift. */
static void man_commands(void)
{
    char roles[128];
    printf(".\\\" generated by `deskctl --man-commands` from "
           "handlers/commands.c\n.Bl -tag -width Ds\n");
    for (size_t i = 0; i < cmd_table_len; i++) {
        const struct cmd_spec *c = &cmd_table[i];
        roles_label(c->roles, roles, sizeof(roles));
        if (c->flags & CMD_QUERY && !strncmp(c->name, "query.", 6))
            printf(".It Cm query %s\n", c->name + 6);
        else
            printf(".It Cm %s\n", c->name);
        mdoc_text(c->help);
        printf(".br\nRoles: ");
        mdoc_text(roles[0] ? roles : "none (internal)");
    }
    printf(".El\n");
}

static void make_id(char *buf, size_t cap)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(buf, cap, "ctl-%d-%lld%09ld", (int)getpid(), (long long)ts.tv_sec,
             ts.tv_nsec);
}

/* One request/reply over a DEALER. Returns the reply (caller frees) or
 * NULL on timeout. */
static json_t *call(void *ctx, const struct opts *o, json_t *env)
{
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0, n;
    struct cw w;
    char *buf = malloc(1 << 24);
    json_t *reply = NULL;
    struct codec_doc d;

    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &o->timeout_ms, sizeof(o->timeout_ms));
    if (secure(s, o)) {
        zmq_close(s);
        free(buf);
        return NULL;
    }
    zmq_connect(s, o->cmd_ep);
    cw_init(&w);
    codec_from_json(env, &w);
    zmq_send(s, cw_data(&w), cw_len(&w), 0);
    n = zmq_recv(s, buf, 1 << 24, 0);
    if (n > 0 && n <= (1 << 24) &&
        codec_doc_parse_trusted(&d, buf, (size_t)n, NULL) == 0) {
        reply = codec_to_json(d.obj);
        codec_doc_release(&d);
    }
    cw_release(&w);
    free(buf);
    zmq_close(s);
    return reply;
}

static json_t *envelope(const struct opts *o, const char *cmd, json_t *body)
{
    char id[80];
    json_t *env = json_object();
    if (o->id)
        snprintf(id, sizeof(id), "%s", o->id);
    else
        make_id(id, sizeof(id));
    json_object_set_new(env, "id", json_string(id));
    json_object_set_new(env, "cmd", json_string(cmd));
    json_object_set_new(env, "actor", json_string(o->actor));
    if (o->desk)
        json_object_set_new(env, "desk", json_string(o->desk));
    json_object_set_new(env, "body", body);
    return env;
}

static int send_command(void *ctx, const struct opts *o, const char *cmd,
                        int argc, char **argv)
{
    const struct cmd_spec *c = cmd_find(cmd, strlen(cmd));
    json_t *body = o->json ? json_loads(o->json, 0, NULL) : json_object();
    json_t *reply;
    int ok;

    if (!body || !json_is_object(body)) {
        fprintf(stderr, "deskctl: --json must be a JSON object\n");
        return 2;
    }
    for (int i = 0; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "deskctl: expected key=value, got '%s'\n", argv[i]);
            return 2;
        }
        *eq = '\0';
        json_object_set_new(body, argv[i],
                            codec_json_typed(c, argv[i], eq + 1));
    }
    body = envelope(o, cmd, body);
    reply = call(ctx, o, body);
    json_decref(body);
    if (!reply) {
        fprintf(stderr, "deskctl: no reply from %s within %d ms\n", o->cmd_ep,
                o->timeout_ms);
        return 2;
    }
    json_dumpf(reply, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
    putchar('\n');
    ok = json_is_true(json_object_get(reply, "ok"));
    json_decref(reply);
    return ok ? 0 : 1;
}

/* deskctl handover --from T --to T [--desk D] [--next-to T] [--raw]:
 * query.handover for the desk (the envelope's desk too), printed as a
 * sheet; --raw (or a refusal) prints the reply as JSON like any command. */
static int handover(void *ctx, struct opts *o, int argc, char **argv)
{
    static const struct option hopts[] = {
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"desk", required_argument, NULL, 'd'},
        {"next-to", required_argument, NULL, 'n'},
        {"raw", no_argument, NULL, 'r'},
        {NULL, 0, NULL, 0}};
    const char *from = NULL, *to = NULL, *next_to = NULL;
    json_t *body, *env, *reply;
    int c, ok, raw = 0;

    while ((c = getopt_long(argc, argv, "+", hopts, NULL)) != -1) {
        if (c == 'f')
            from = optarg;
        else if (c == 't')
            to = optarg;
        else if (c == 'd')
            o->desk = optarg;
        else if (c == 'n')
            next_to = optarg;
        else if (c == 'r')
            raw = 1;
        else
            return 2;
    }
    if (!from || !to || optind < argc) {
        fprintf(stderr, "usage: deskctl handover --from TIME --to TIME "
                        "[--desk D] [--next-to TIME] [--raw]\n");
        return 2;
    }
    body = json_object();
    json_object_set_new(body, "from", json_string(from));
    json_object_set_new(body, "to", json_string(to));
    if (next_to)
        json_object_set_new(body, "next_to", json_string(next_to));
    if (o->desk)
        json_object_set_new(body, "desk", json_string(o->desk));
    env = envelope(o, "query.handover", body);
    reply = call(ctx, o, env);
    json_decref(env);
    if (!reply) {
        fprintf(stderr, "deskctl: no reply from %s within %d ms\n", o->cmd_ep,
                o->timeout_ms);
        return 2;
    }
    ok = json_is_true(json_object_get(reply, "ok"));
    if (raw || !ok) {
        json_dumpf(reply, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
        putchar('\n');
    } else {
        sheet_print(stdout, json_object_get(reply, "result"));
    }
    json_decref(reply);
    return ok ? 0 : 1;
}

struct tail_ctx {
    const struct opts *o;
    long long printed;
};

/* Prints one event as a JSON line; stops after --count. */
static int print_event(void *arg, const msgpack_object *ev, int64_t seq)
{
    struct tail_ctx *t = arg;
    json_t *j;
    (void)seq;
    if (t->o->count && t->printed >= t->o->count)
        return 1;
    j = codec_to_json(ev);
    json_dumpf(j, stdout, JSON_COMPACT | JSON_SORT_KEYS);
    putchar('\n');
    fflush(stdout);
    json_decref(j);
    t->printed++;
    return t->o->count && t->printed >= t->o->count;
}

/* Every event from --from (0: from now), then live: the recipe of
 * docs/SUBSCRIBERS.md in tools/follow.c. */
static int tail(void *ctx, struct opts *o)
{
    struct follow_opts fo = {o->cmd_ep,     o->pub_ep,     o->actor,
                             o->secret_key, o->server_key, o->timeout_ms};
    struct tail_ctx t = {o, 0};
    struct follow f;
    int64_t n;

    if (follow_open(&f, ctx, &fo, o->from, print_event, &t))
        return 2;
    if (o->from <= 0) {
        int64_t last = follow_last_seq(&f);
        if (last < 0) {
            fprintf(stderr, "deskctl: no reply from %s\n", o->cmd_ep);
            follow_close(&f);
            return 2;
        }
        f.next = last + 1;
    }
    n = follow_catch_up(&f, 0);
    while (n != -2) {
        /* quiet: events dropped at the very end show no gap until the
         * next one, so ask log.read */
        n = follow_poll(&f, TAIL_IDLE_MS);
        if (n == 0)
            n = follow_catch_up(&f, 0);
    }
    follow_close(&f);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"endpoint", required_argument, NULL, 'e'},
        {"events", required_argument, NULL, 'E'},
        {"actor", required_argument, NULL, 'a'},
        {"desk", required_argument, NULL, 'd'},
        {"id", required_argument, NULL, 'i'},
        {"json", required_argument, NULL, 'j'},
        {"timeout", required_argument, NULL, 't'},
        {"from", required_argument, NULL, 'f'},
        {"count", required_argument, NULL, 'n'},
        {"protocol-md", no_argument, NULL, 'P'},
        {"man-commands", no_argument, NULL, 'M'},
        {"key", required_argument, NULL, 'k'},
        {"server-key", required_argument, NULL, 'K'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}};
    struct opts o = {getenv("DESKD_ENDPOINT"),
                     getenv("DESKD_EVENTS"),
                     getenv("DESKD_ACTOR"),
                     NULL,
                     NULL,
                     NULL,
                     10000,
                     0,
                     0,
                     getenv("DESKD_SECRET_KEY"),
                     getenv("DESKD_SERVER_KEY")};
    void *ctx;
    int c, rc;

    if (!o.cmd_ep)
        o.cmd_ep = DEFAULT_CMD_EP;
    if (!o.pub_ep)
        o.pub_ep = DEFAULT_PUB_EP;
    if (!o.actor)
        o.actor = "admin";
    while ((c = getopt_long(argc, argv, "+e:a:h", lopts, NULL)) != -1) {
        switch (c) {
        case 'e':
            o.cmd_ep = optarg;
            break;
        case 'E':
            o.pub_ep = optarg;
            break;
        case 'a':
            o.actor = optarg;
            break;
        case 'd':
            o.desk = optarg;
            break;
        case 'i':
            o.id = optarg;
            break;
        case 'j':
            o.json = optarg;
            break;
        case 't':
            o.timeout_ms = atoi(optarg);
            break;
        case 'f':
            o.from = atoll(optarg);
            break;
        case 'n':
            o.count = atoll(optarg);
            break;
        case 'P': /* --protocol-md [EXAMPLES.json] */
            protocol_md(optind < argc ? argv[optind] : NULL);
            return 0;
        case 'M':
            man_commands();
            return 0;
        case 'k':
            o.secret_key = optarg;
            break;
        case 'K':
            o.server_key = optarg;
            break;
        case 'h':
            help(stdout, NULL);
            return 0;
        case 'V':
            printf("deskctl %s\n", DESKD_VERSION);
            return 0;
        default:
            help(stderr, NULL);
            return 2;
        }
    }
    if (optind >= argc) {
        help(stderr, NULL);
        return 2;
    }
    if (!strcmp(argv[optind], "help")) {
        help(stdout, optind + 1 < argc ? argv[optind + 1] : NULL);
        return 0;
    }
    if (!strcmp(argv[optind], "keygen"))
        return keygen(optind + 1 < argc ? argv[optind + 1] : NULL);
    ctx = zmq_ctx_new();
    if (!strcmp(argv[optind], "tail")) {
        /* options may follow the verb too */
        optind++;
        while ((c = getopt_long(argc, argv, "+e:a:", lopts, NULL)) != -1) {
            if (c == 'f')
                o.from = atoll(optarg);
            else if (c == 'n')
                o.count = atoll(optarg);
            else if (c == 'E')
                o.pub_ep = optarg;
            else if (c == 'e')
                o.cmd_ep = optarg;
        }
        rc = tail(ctx, &o);
    } else if (!strcmp(argv[optind], "handover")) {
        optind++;
        rc = handover(ctx, &o, argc, argv);
    } else if (!strcmp(argv[optind], "query") && optind + 1 < argc) {
        char name[CMD_NAME_MAX + 8];
        snprintf(name, sizeof(name), "query.%s", argv[optind + 1]);
        rc = send_command(ctx, &o, name, argc - optind - 2, argv + optind + 2);
    } else {
        rc = send_command(ctx, &o, argv[optind], argc - optind - 1,
                          argv + optind + 1);
    }
    zmq_ctx_term(ctx);
    return rc;
}
