/* tests/integration/it_security.c - authenticated desks: deskd with
 * [security] mode = curve runs a ZAP handler that admits only the keys
 * listed under [keys], takes the operator from the key (an envelope actor
 * that differs is forbidden), reloads the keys on SIGHUP (revocation, an
 * event of its own) and still serves plain mode when chosen. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "harness.h"

#define KEY 41        /* a Z85 key and its NUL */
#define QUIET_MS 1500 /* how long "no reply" is waited for */
#define RELOAD_WAIT_MS 10000

struct pair {
    char pub[KEY], sec[KEY];
};

static struct h_server srv;
static struct pair server, k_admin, k_clerk, k_lead, k_mgr, k_clerk2, k_other;
static char keydir[256] = "/tmp/deskd-keys-XXXXXX";
static char secret_path[300];

static void keypair(struct pair *p)
{
    assert_int_equal(zmq_curve_keypair(p->pub, p->sec), 0);
}

static struct h_keys keys_of(const struct pair *p)
{
    struct h_keys k = {server.pub, p->sec};
    return k;
}

/* A client of the curve server that gives up on a reply after QUIET_MS. */
static void open_as(struct h_client *c, const struct pair *p)
{
    struct h_keys k = keys_of(p);
    int ms = QUIET_MS;
    assert_int_equal(h_client_open_keys(c, srv.cmd_ep, &k), 0);
    zmq_setsockopt(c->sock, ZMQ_RCVTIMEO, &ms, sizeof(ms));
}

static int setup(void **state)
{
    char ini[4096];
    FILE *f;
    (void)state;

    keypair(&server);
    keypair(&k_admin);
    keypair(&k_clerk);
    keypair(&k_lead);
    keypair(&k_mgr);
    keypair(&k_clerk2);
    keypair(&k_other);
    if (!mkdtemp(keydir))
        return -1;
    snprintf(secret_path, sizeof(secret_path), "%s/server.key", keydir);
    f = fopen(secret_path, "w");
    if (!f)
        return -1;
    fprintf(f, "%s\n", server.sec);
    fclose(f);
    snprintf(ini, sizeof(ini),
             "[security]\nmode = curve\nsecret_key = %s\n"
             "[keys]\nadmin = %s\nclerk1 = %s\nlead1 = %s\nmgr1 = %s\n"
             "clerk2 = %s\n",
             secret_path, k_admin.pub, k_clerk.pub, k_lead.pub, k_mgr.pub,
             k_clerk2.pub);
    {
        struct h_opts o = {.operators = "clerk2 = clerk, Lin Xiao\n",
                           .extra_ini = ini};
        return h_server_start_opts(&srv, &o);
    }
}

static int teardown(void **state)
{
    char path[300];
    int rc;
    (void)state;
    rc = h_server_stop(&srv); /* a clean exit: no sanitizer report */
    h_server_cleanup(&srv);
    unlink(secret_path);
    snprintf(path, sizeof(path), "%s", keydir);
    rmdir(path);
    return rc;
}

static int64_t log_count(void)
{
    struct h_client c;
    struct h_keys k = keys_of(&k_admin);
    int64_t n;
    assert_int_equal(h_client_open_keys(&c, srv.cmd_ep, &k), 0);
    n = h_log_count(&c);
    h_client_close(&c);
    return n;
}

/* A listed key works, and the event records the key's operator. */
static void test_listed_key_acts_as_its_operator(void **state)
{
    struct h_client c;
    struct h_reply r;
    (void)state;

    open_as(&c, &k_clerk);
    assert_int_equal(h_cmdf(&c, &r, "clerk1", "person.register",
                            "{\"name\":\"Zhao Lei\",\"kind\":\"owner\"}"),
                     0);
    if (!r.ok)
        fail_msg("refused: %s", h_reply_text(&r));
    assert_string_equal(h_reply_str(&r, "events.0.actor"), "clerk1");
    h_reply_release(&r);
    h_client_close(&c);
}

/* An unlisted key fails the handshake: no reply, nothing written. So does a
 * client without CURVE. */
static void test_unknown_key_gets_no_reply(void **state)
{
    struct h_client c;
    struct h_reply r;
    int64_t before = log_count();
    int ms = QUIET_MS;
    (void)state;

    open_as(&c, &k_other);
    assert_int_equal(h_cmdf(&c, &r, "clerk1", "person.register",
                            "{\"name\":\"Intruder\",\"kind\":\"owner\"}"),
                     -1);
    h_reply_release(&r);
    h_client_close(&c);

    assert_int_equal(h_client_open(&c, srv.cmd_ep), 0);
    zmq_setsockopt(c.sock, ZMQ_RCVTIMEO, &ms, sizeof(ms));
    assert_int_equal(h_cmdf(&c, &r, "admin", "person.register",
                            "{\"name\":\"Plain\",\"kind\":\"owner\"}"),
                     -1);
    h_reply_release(&r);
    h_client_close(&c);
    assert_int_equal(log_count(), before);
}

/* Known key, another operator in the envelope: forbidden, nothing written. */
static void test_actor_must_be_the_keys_operator(void **state)
{
    struct h_client c;
    struct h_reply r;
    int64_t before = log_count();
    (void)state;

    open_as(&c, &k_clerk);
    assert_int_equal(h_cmdf(&c, &r, "mgr1", "estate.register",
                            "{\"code\":\"SX\",\"name\":\"SX\"}"),
                     0);
    assert_false(r.ok);
    assert_string_equal(r.code, "forbidden");
    assert_string_equal(r.field, "actor");
    h_reply_release(&r);
    h_client_close(&c);
    assert_int_equal(log_count(), before);
}

/* Roles come from the key's operator: a clerk's key cannot run a manager's
 * command; the manager's key can. */
static void test_clerk_key_cannot_run_manager_command(void **state)
{
    struct h_client c;
    struct h_reply r;
    int64_t before = log_count();
    (void)state;

    open_as(&c, &k_clerk);
    assert_int_equal(h_cmdf(&c, &r, "clerk1", "estate.register",
                            "{\"code\":\"SY\",\"name\":\"SY\"}"),
                     0);
    assert_false(r.ok);
    assert_string_equal(r.code, "forbidden");
    h_reply_release(&r);
    h_client_close(&c);
    assert_int_equal(log_count(), before);

    open_as(&c, &k_mgr);
    assert_int_equal(h_cmdf(&c, &r, "mgr1", "estate.register",
                            "{\"code\":\"SY\",\"name\":\"SY\"}"),
                     0);
    if (!r.ok)
        fail_msg("manager refused: %s", h_reply_text(&r));
    assert_string_equal(h_reply_str(&r, "events.0.actor"), "mgr1");
    h_reply_release(&r);
    h_client_close(&c);
}

/* Events go out on the CURVE PUB: a listed key's subscriber gets them. */
static void test_listed_subscriber_gets_events(void **state)
{
    struct h_sub sub;
    struct h_client c;
    struct h_reply r;
    struct h_keys k = keys_of(&k_lead);
    struct timespec pause = {0, 200 * 1000000L};
    char topic[64];
    json_t *ev = NULL;
    int64_t seq;
    (void)state;

    assert_int_equal(h_sub_open_keys(&sub, srv.pub_ep, "estate.", &k), 0);
    nanosleep(&pause, NULL); /* handshake and subscription reach deskd */
    open_as(&c, &k_lead);
    assert_int_equal(h_cmdf(&c, &r, "lead1", "estate.register",
                            "{\"code\":\"SZ\",\"name\":\"SZ\"}"),
                     0);
    assert_true(r.ok);
    seq = h_reply_int(&r, "events.0.seq", -1);
    h_reply_release(&r);
    /* events are published once the LMDB log holds them, after the
     * replies: an earlier test's may come first */
    for (int i = 0; i < 8; i++) {
        assert_int_equal(h_sub_recv(&sub, topic, sizeof(topic), &ev, 5000), 0);
        if (json_integer_value(json_object_get(ev, "seq")) >= seq)
            break;
        json_decref(ev);
        ev = NULL;
    }
    assert_non_null(ev);
    assert_int_equal(json_integer_value(json_object_get(ev, "seq")), seq);
    assert_string_equal(topic, "estate.registered");
    assert_string_equal(json_string_value(json_object_get(ev, "actor")),
                        "lead1");
    json_decref(ev);
    h_client_close(&c);
    h_sub_close(&sub);
}

/* Rewrites the config without clerk2's key. */
static void drop_key_from_config(const char *pub)
{
    char *text, *at;
    long n;
    FILE *f = fopen(srv.config, "r+");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    text = calloc(1, (size_t)n + 1);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    at = strstr(text, pub);
    assert_non_null(at);
    memset(at, ' ', strlen(pub)); /* "clerk2 =     " lists no key */
    rewind(f);
    assert_int_equal(fwrite(text, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    free(text);
}

static int find_reload(json_t *ev, void *arg)
{
    json_t **found = arg;
    if (!strcmp(json_string_value(json_object_get(ev, "type")),
                "security.keys_reloaded")) {
        json_decref(*found);
        *found = json_incref(ev);
    }
    return 0;
}

/* SIGHUP reloads the keys: the reload is an event (actor system, counts);
 * the revoked key is refused on its open connection and at a new
 * handshake; other keys keep working. */
static void test_revoked_key_refused_after_sighup(void **state)
{
    struct h_client c, old, adm;
    struct h_reply r;
    struct h_keys ka = keys_of(&k_admin);
    json_t *reload = NULL;
    int64_t before;
    (void)state;

    open_as(&old, &k_clerk2);
    assert_int_equal(
        h_cmdf(&old, &r, "clerk2", "query.people", "{\"q\":\"Zhao\"}"), 0);
    if (!r.ok)
        fail_msg("clerk2 before revocation: %s", h_reply_text(&r));
    h_reply_release(&r);

    drop_key_from_config(k_clerk2.pub);
    assert_int_equal(kill(srv.pid, SIGHUP), 0);
    assert_int_equal(h_client_open_keys(&adm, srv.cmd_ep, &ka), 0);
    for (int waited = 0; !reload && waited < RELOAD_WAIT_MS; waited += 50) {
        struct timespec t = {0, 50 * 1000000L};
        assert_true(h_log_all(&adm, find_reload, &reload) >= 0);
        if (!reload)
            nanosleep(&t, NULL);
    }
    assert_non_null(reload);
    assert_string_equal(json_string_value(json_object_get(reload, "actor")),
                        "system");
    assert_int_equal(json_integer_value(h_json_path(reload, "data.removed")),
                     1);
    assert_int_equal(json_integer_value(h_json_path(reload, "data.keys")), 4);
    json_decref(reload);
    h_client_close(&adm);

    before = log_count();
    assert_int_equal(h_cmdf(&old, &r, "clerk2", "person.register",
                            "{\"name\":\"Late\",\"kind\":\"owner\"}"),
                     0);
    assert_false(r.ok);
    assert_string_equal(r.code, "forbidden");
    h_reply_release(&r);
    h_client_close(&old);

    open_as(&c, &k_clerk2);
    assert_int_equal(h_cmdf(&c, &r, "clerk2", "person.register",
                            "{\"name\":\"Later\",\"kind\":\"owner\"}"),
                     -1);
    h_reply_release(&r);
    h_client_close(&c);
    assert_int_equal(log_count(), before);

    open_as(&c, &k_clerk);
    assert_int_equal(
        h_cmdf(&c, &r, "clerk1", "query.people", "{\"q\":\"Zhao\"}"), 0);
    assert_true(r.ok);
    h_reply_release(&r);
    h_client_close(&c);
}

/* Plain mode, chosen explicitly, still serves clients without keys. */
static void test_plain_mode_still_works(void **state)
{
    struct h_server p;
    struct h_client c;
    struct h_reply r;
    (void)state;

    assert_int_equal(h_server_start(&p, "[security]\nmode = plain\n"), 0);
    assert_int_equal(h_client_open(&c, p.cmd_ep), 0);
    assert_int_equal(h_cmdf(&c, &r, "clerk1", "person.register",
                            "{\"name\":\"Qian Yu\",\"kind\":\"owner\"}"),
                     0);
    assert_true(r.ok);
    assert_string_equal(h_reply_str(&r, "events.0.actor"), "clerk1");
    h_reply_release(&r);
    h_client_close(&c);
    assert_int_equal(h_server_stop(&p), 0);
    h_server_cleanup(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listed_key_acts_as_its_operator),
        cmocka_unit_test(test_unknown_key_gets_no_reply),
        cmocka_unit_test(test_actor_must_be_the_keys_operator),
        cmocka_unit_test(test_clerk_key_cannot_run_manager_command),
        cmocka_unit_test(test_listed_subscriber_gets_events),
        cmocka_unit_test(test_revoked_key_refused_after_sighup),
        cmocka_unit_test(test_plain_mode_still_works),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
