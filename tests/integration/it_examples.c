/* tests/integration/it_examples.c - a real example reply for every command
 * of the table, for docs/PROTOCOL.md. One deskd on a manual clock runs a
 * desk's day (and a few weeks) through every command, with fixed command
 * ids, so every reply is the same on every run. The replies (arrays cut
 * to their first EX_ARRAY_MAX items) must equal docs/protocol-examples.json:
 * a change of any reply fails this test until `make docs` writes the file
 * again (DESKD_EXAMPLES_WRITE=1), and docs-check fails until PROTOCOL.md is
 * regenerated from it. Commands only deskd may run (actor system) show the
 * refusal a desk gets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/cmd.h"
#include "desk.h"
#include "harness.h"

#define EX_FILE "docs/protocol-examples.json"
#define EX_ARRAY_MAX 3 /* items kept of any array in an example */
#define EX_VARS_MAX 32
#define EX_BODY_MAX 2048

static struct h_server srv;
static struct h_client cli;

/* One step: actor runs cmd with body ("${NAME}" is replaced by a value
 * saved before); save, when set, keeps the string at path of the reply
 * under that name. */
struct step {
    const char *actor, *cmd, *body, *save, *path;
};

static const struct step steps[] = {
    /* the estate, its units and people (R-GEN-01..03) */
    {"lead1", "estate.register", "{\"code\":\"HY\",\"name\":\"华苑小区\"}",
     NULL, NULL},
    {"lead1", "building.register", "{\"estate\":\"HY\",\"building\":\"3\"}",
     NULL, NULL},
    {"clerk1", "unit.register",
     "{\"estate\":\"HY\",\"building\":\"3\",\"room\":\"1201\",\"area\":"
     "\"120.50\",\"type\":\"residence\"}",
     NULL, NULL},
    {"clerk1", "unit.register",
     "{\"estate\":\"HY\",\"building\":\"3\",\"room\":\"1202\",\"area\":"
     "\"88.00\",\"type\":\"residence\",\"state\":\"handed_over\"}",
     NULL, NULL},
    {"clerk1", "unit.register",
     "{\"estate\":\"HY\",\"building\":\"3\",\"room\":\"P01\",\"area\":"
     "\"12.50\",\"type\":\"parking\"}",
     NULL, NULL},
    {"clerk1", "unit.set_state",
     "{\"unit\":\"HY/3-1201\",\"state\":\"handed_over\"}", NULL, NULL},
    {"clerk1", "person.register",
     "{\"name\":\"王芳\",\"kind\":\"owner\",\"id_no\":\"440301199001011234\","
     "\"phones\":[\"13812345678\"]}",
     "OWNER", "events.0.data.person"},
    {"clerk1", "person.register",
     "{\"name\":\"赵敏\",\"kind\":\"owner\",\"phones\":[\"13912340001\"]}",
     "OWNER2", "events.0.data.person"},
    {"clerk1", "person.register",
     "{\"name\":\"李租户\",\"kind\":\"tenant\",\"phones\":[\"13812341201\"]}",
     "TENANT", "events.0.data.person"},
    {"clerk1", "person.register", "{\"name\":\"陈工\",\"kind\":\"staff\"}",
     "WORKER", "events.0.data.person"},
    {"lead1", "unit.transfer",
     "{\"unit\":\"HY/3-1201\",\"to\":\"${OWNER}\",\"effective\":"
     "\"2026-03-01\"}",
     NULL, NULL},
    {"lead1", "unit.transfer",
     "{\"unit\":\"HY/3-P01\",\"to\":\"${OWNER}\",\"effective\":"
     "\"2026-03-01\"}",
     NULL, NULL},
    {"lead1", "unit.transfer",
     "{\"unit\":\"HY/3-1202\",\"to\":\"${OWNER2}\",\"effective\":"
     "\"2026-03-01\"}",
     NULL, NULL},
    {"clerk1", "unit.link",
     "{\"unit\":\"HY/3-1201\",\"person\":\"${TENANT}\",\"role\":\"tenant\","
     "\"from\":\"2026-03-01\",\"to\":\"2027-02-28\"}",
     NULL, NULL},
    {"clerk1", "unit.link",
     "{\"unit\":\"HY/3-1201\",\"person\":\"${WORKER}\",\"role\":\"staff\","
     "\"from\":\"2026-03-01\"}",
     NULL, NULL},
    {"clerk1", "unit.unlink",
     "{\"unit\":\"HY/3-1201\",\"person\":\"${WORKER}\",\"role\":\"staff\","
     "\"to\":\"2026-03-02\"}",
     NULL, NULL},
    {"clerk1", "query.unit", "{\"unit\":\"HY/3-1201\"}", NULL, NULL},
    {"clerk1", "query.person", "{\"person\":\"${OWNER}\"}", NULL, NULL},
    {"lead1", "person.view_full",
     "{\"person\":\"${OWNER}\",\"reason\":\"业主核对身份证\"}", NULL, NULL},
    {"clerk1", "query.people", "{\"q\":\"王\"}", NULL, NULL},
    /* fees (R-FEE-01..08) */
    {"clerk1", "fee.move_in",
     "{\"unit\":\"HY/3-1202\",\"date\":\"2026-03-02\",\"monthly\":true}", NULL,
     NULL},
    {"lead1", "fee.bill_run", "{\"estate\":\"HY\",\"period\":\"2026-03\"}",
     NULL, NULL},
    {"clerk1", "fee.charge",
     "{\"unit\":\"HY/3-1201\",\"item\":\"copy_a4\",\"quantity\":10}", "CHARGE",
     "events.0.data.bill"},
    {"clerk1", "fee.pay",
     "{\"unit\":\"HY/3-1201\",\"amount\":1000,\"method\":\"cash\","
     "\"book\":\"A01\"}",
     "PAY", "events.0.data.payment"},
    {"lead1", "fee.void_payment",
     "{\"payment\":\"${PAY}\",\"reason\":\"收错房号\"}", NULL, NULL},
    {"mgr1", "fee.waive", "{\"bill\":\"${CHARGE}\",\"reason\":\"首次复印\"}",
     NULL, NULL},
    {"clerk1", "query.receipts", "{\"book\":\"A01\"}", NULL, NULL},
    {"clerk1", "query.takings", "{}", NULL, NULL},
    {"clerk1", "log.read", "{\"from\":1,\"limit\":2}", NULL, NULL},
    /* complaints (R-CMP-01..11) */
    {"clerk1", "complaint.receive",
     "{\"channel\":\"phone\",\"unit\":\"HY/3-1201\",\"name\":\"王\","
     "\"contact\":\"13812345678\",\"what\":\"3号楼电梯停运\",\"wants\":"
     "\"尽快修复\"}",
     "C1", "events.0.data.complaint"},
    {"clerk1", "complaint.classify",
     "{\"complaint\":\"${C1}\",\"category\":2,\"cause\":\"machine\"}", NULL,
     NULL},
    {"clerk1", "complaint.add_complainant",
     "{\"complaint\":\"${C1}\",\"name\":\"李\"}", NULL, NULL},
    {"clerk1", "complaint.claim",
     "{\"complaint\":\"${C1}\",\"claim_fen\":50000}", NULL, NULL},
    {"clerk1", "complaint.dispatch",
     "{\"complaint\":\"${C1}\",\"handler\":\"clerk1\"}", NULL, NULL},
    {"clerk1", "complaint.reply",
     "{\"complaint\":\"${C1}\",\"text\":\"已派维修\"}", NULL, NULL},
    {"clerk1", "complaint.update",
     "{\"complaint\":\"${C1}\",\"text\":\"配件已到\"}", NULL, NULL},
    {"clerk1", "complaint.handle",
     "{\"complaint\":\"${C1}\",\"summary\":\"电梯已修复\"}", NULL, NULL},
    {"clerk1", "complaint.visit",
     "{\"complaint\":\"${C1}\",\"method\":\"phone\",\"result\":"
     "\"satisfied\"}",
     NULL, NULL},
    {"mgr1", "complaint.close", "{\"complaint\":\"${C1}\"}", NULL, NULL},
    {"clerk1", "complaint.reopen",
     "{\"complaint\":\"${C1}\",\"reason\":\"再次停运\"}", NULL, NULL},
    {"clerk1", "person.no_visit",
     "{\"person\":\"${OWNER2}\",\"reason\":\"不希望回访\"}", NULL, NULL},
    {"clerk1", "complaint.escalate",
     "{\"complaint\":\"${C1}\",\"rule\":\"open_10d\",\"due\":"
     "1772500000000}",
     NULL, NULL},
    {"clerk1", "complaint.auto_close",
     "{\"complaint\":\"${C1}\",\"due\":1772500000000}", NULL, NULL},
    {"clerk1", "query.complaints_open", "{\"estate\":\"HY\"}", NULL, NULL},
    {"clerk1", "query.complaint", "{\"complaint\":\"${C1}\"}", NULL, NULL},
    {"clerk1", "query.stocktake", "{}", NULL, NULL},
    /* cards (R-CARD-01..05) */
    {"clerk1", "card.issue",
     "{\"card\":\"IC0001\",\"kind\":\"access\",\"unit\":\"HY/3-1201\","
     "\"holder\":\"${OWNER}\",\"move_in\":true}",
     NULL, NULL},
    {"clerk1", "card.issue",
     "{\"card\":\"PK0007\",\"kind\":\"parking\",\"unit\":\"HY/3-P01\","
     "\"holder\":\"${OWNER}\",\"months\":1,\"book\":\"A01\",\"method\":"
     "\"cash\",\"docs\":[\"id\",\"driving_licence\",\"vehicle_licence\"]}",
     NULL, NULL},
    {"clerk1", "card.renew",
     "{\"card\":\"PK0007\",\"months\":3,\"book\":\"A01\",\"method\":"
     "\"cash\"}",
     NULL, NULL},
    {"clerk1", "card.report_damaged",
     "{\"card\":\"IC0001\",\"new_card\":\"IC0103\"}", NULL, NULL},
    {"clerk1", "card.report_lost",
     "{\"card\":\"IC0103\",\"new_card\":\"IC0102\",\"book\":\"A01\","
     "\"method\":\"cash\"}",
     NULL, NULL},
    {"clerk1", "card.swipe", "{\"card\":\"IC0102\",\"unit\":\"HY/3-\"}", NULL,
     NULL},
    {"clerk1", "query.card_check",
     "{\"card\":\"IC0102\",\"unit\":\"HY/3-1201\"}", NULL, NULL},
    {"lead1", "card.issue",
     "{\"card\":\"ST0003\",\"kind\":\"access\",\"unit\":\"HY/3-1201\","
     "\"holder\":\"${WORKER}\",\"approval\":\"HR-2026-16\"}",
     NULL, NULL},
    {"lead1", "card.format_reissue",
     "{\"card\":\"ST0003\",\"holder\":\"${WORKER}\",\"approval\":"
     "\"HR-2026-17\"}",
     NULL, NULL},
    {"clerk1", "query.card_expiry", "{\"estate\":\"HY\",\"days\":400}", NULL,
     NULL},
    {"clerk1", "query.cards", "{\"unit\":\"HY/3-1201\"}", NULL, NULL},
    {"clerk1", "query.card_quarters", "{\"estate\":\"HY\",\"year\":2026}", NULL,
     NULL},
    {"clerk1", "query.cards_past_lease", "{\"estate\":\"HY\"}", NULL, NULL},
    {"clerk1", "card.return", "{\"card\":\"IC0102\",\"reason\":\"moved out\"}",
     NULL, NULL},
    /* work orders (R-WO-01..04) */
    {"clerk1", "workorder.log",
     "{\"kind\":\"repair\",\"unit\":\"HY/3-1201\",\"name\":\"王\",\"text\":"
     "\"厨房水龙头漏水\"}",
     "W1", "events.0.data.order"},
    {"clerk1", "workorder.dispatch",
     "{\"order\":\"${W1}\",\"to\":\"工程部 张师傅\",\"visit_at\":"
     "\"2026-03-03T10:00:00+08:00\"}",
     NULL, NULL},
    {"clerk1", "workorder.complete",
     "{\"order\":\"${W1}\",\"summary\":\"更换阀芯\",\"category\":\"leak\"}",
     NULL, NULL},
    {"clerk1", "workorder.visit",
     "{\"order\":\"${W1}\",\"result\":\"satisfied\",\"problem\":"
     "\"阀门仍有渗水\"}",
     NULL, NULL},
    {"clerk1", "workorder.notice",
     "{\"order\":\"${W1}\",\"ref\":\"ZG-2026-031\"}", NULL, NULL},
    {"clerk1", "workorder.close", "{\"order\":\"${W1}\"}", NULL, NULL},
    {"clerk1", "workorder.log",
     "{\"kind\":\"message\",\"name\":\"赵\",\"text\":\"地下车库渗水\"}", "W2",
     "events.0.data.order"},
    {"clerk1", "workorder.refer",
     "{\"order\":\"${W2}\",\"reason\":\"需开发商处理\"}", NULL, NULL},
    {"clerk1", "workorder.escalate",
     "{\"order\":\"${W2}\",\"rule\":\"stale\",\"due\":1772500000000}", NULL,
     NULL},
    {"clerk1", "query.work_orders", "{\"estate\":\"HY\"}", NULL, NULL},
    {"clerk1", "query.work_order", "{\"order\":\"${W1}\"}", NULL, NULL},
    /* goods release (R-REL-01..04) */
    {"clerk1", "release.request",
     "{\"unit\":\"HY/3-1201\",\"applicant\":\"${TENANT}\",\"items\":"
     "{\"sofa\":1,\"boxes\":12},\"date\":\"2026-03-02\",\"vehicle\":"
     "\"粤B12345\"}",
     "R1", "events.0.data.pass"},
    {"clerk1", "release.confirm", "{\"pass\":\"${R1}\",\"by\":\"owner\"}", NULL,
     NULL},
    {"clerk1", "release.gate_check", "{\"pass\":\"${R1}\",\"gate\":\"north\"}",
     NULL, NULL},
    {"clerk1", "query.pass", "{\"pass\":\"${R1}\"}", NULL, NULL},
    {"clerk1", "query.passes", "{\"unit_prefix\":\"HY/\"}", NULL, NULL},
    {"clerk1", "query.pass_pending", "{\"unit_prefix\":\"HY/\"}", NULL, NULL},
    {"clerk1", "release.expire", "{\"pass\":\"${R1}\",\"due\":1772497800000}",
     NULL, NULL},
    /* visits (R-VIS-01..04) */
    {"clerk1", "visit.record",
     "{\"unit\":\"HY/3-1201\",\"person\":\"${OWNER}\",\"kind\":\"new_owner\","
     "\"needs\":\"门禁卡不够\",\"actions\":\"已登记补卡\",\"completion\":"
     "\"done\",\"satisfaction\":\"satisfied\"}",
     NULL, NULL},
    {"lead1", "person.set_important",
     "{\"person\":\"${OWNER}\",\"tag\":\"owners_committee\"}", NULL, NULL},
    {"clerk1", "query.visits", "{\"unit\":\"HY/3-1201\"}", NULL, NULL},
    {"clerk1", "query.visits_due", "{\"estate\":\"HY\"}", NULL, NULL},
    {"clerk1", "query.visit_plan", "{\"estate\":\"HY\"}", NULL, NULL},
    {"clerk1", "query.visit_coverage",
     "{\"estate\":\"HY\",\"month\":\"2026-03\"}", NULL, NULL},
    {"clerk1", "query.visit_managers", "{\"month\":\"2026-03\"}", NULL, NULL},
    /* move-in (R-MOV-01..03) */
    {"clerk1", "movein.start",
     "{\"unit\":\"HY/3-1202\",\"applicant\":\"${OWNER2}\",\"applicant_type\":"
     "\"household\",\"documents\":[\"handover_notice\",\"owner_id\","
     "\"family_ids\",\"info_card\",\"photos\",\"bank_card\"]}",
     NULL, NULL},
    {"clerk1", "movein.sign",
     "{\"unit\":\"HY/3-1202\",\"agreements\":[\"service_agreement\","
     "\"covenant\"]}",
     NULL, NULL},
    {"clerk1", "movein.meters",
     "{\"unit\":\"HY/3-1202\",\"water\":\"12.50\",\"electricity\":"
     "\"230.00\"}",
     NULL, NULL},
    {"clerk1", "movein.inspect",
     "{\"unit\":\"HY/3-1202\",\"result\":\"passed\"}", NULL, NULL},
    {"clerk1", "movein.keys", "{\"unit\":\"HY/3-1202\",\"keys\":3}", NULL,
     NULL},
    {"clerk1", "movein.fix_overdue",
     "{\"unit\":\"HY/3-1202\",\"due\":1776731400000}", NULL, NULL},
    {"clerk1", "query.movein", "{\"unit\":\"HY/3-1202\"}", NULL, NULL},
    {"clerk1", "query.moveins", "{}", NULL, NULL},
    /* renovation (R-REN-01..05) */
    {"clerk1", "renovation.file",
     "{\"unit\":\"HY/3-1201\",\"applicant\":\"${OWNER}\",\"contractor\":"
     "\"恒达装饰\",\"in_charge\":\"${WORKER}\",\"items\":[\"floor\","
     "\"kitchen\"],\"documents\":[\"licence\",\"qualification\","
     "\"drawings\",\"worker_list\"],\"start\":\"2026-03-09\",\"end\":"
     "\"2026-05-31\"}",
     "RN", "events.0.data.renovation"},
    {"clerk1", "renovation.pay_deposit",
     "{\"renovation\":\"${RN}\",\"party\":\"owner\",\"book\":\"A01\","
     "\"method\":\"cash\"}",
     NULL, NULL},
    {"clerk1", "renovation.pay_deposit",
     "{\"renovation\":\"${RN}\",\"party\":\"contractor\",\"book\":\"A01\","
     "\"method\":\"cash\"}",
     NULL, NULL},
    {"clerk1", "renovation.pass_issue",
     "{\"renovation\":\"${RN}\",\"pass\":\"W001\",\"worker\":\"张三\"}", NULL,
     NULL},
    {"clerk1", "renovation.inspect",
     "{\"renovation\":\"${RN}\",\"violation\":\"facade\",\"notice\":"
     "\"ZG-2026-03\",\"deadline\":\"2026-03-20\"}",
     "V", "events.1.data.violation"},
    {"clerk1", "renovation.rectify",
     "{\"renovation\":\"${RN}\",\"violation\":\"${V}\"}", NULL, NULL},
    {"lead1", "renovation.extend",
     "{\"renovation\":\"${RN}\",\"end\":\"2026-06-30\",\"reason\":"
     "\"材料延误\"}",
     NULL, NULL},
    {"clerk1", "renovation.pass_return",
     "{\"renovation\":\"${RN}\",\"pass\":\"W001\"}", NULL, NULL},
    {"clerk1", "renovation.complete",
     "{\"renovation\":\"${RN}\",\"result\":\"passed\"}", NULL, NULL},
    {"clerk1", "query.renovations", "{\"unit\":\"HY/\"}", NULL, NULL},
    {"clerk1", "query.renovation", "{\"renovation\":\"${RN}\"}", NULL, NULL},
    {"clerk1", "renovation.expire_term",
     "{\"renovation\":\"${RN}\",\"due\":1782865800000}", NULL, NULL},
    {"clerk1", "renovation.passes_overdue",
     "{\"renovation\":\"${RN}\",\"due\":1782865800000}", NULL, NULL},
    {"clerk1", "renovation.violation_overdue",
     "{\"renovation\":\"${RN}\",\"violation\":\"${V}\",\"due\":"
     "1778459400000}",
     NULL, NULL},
    /* the calendar (R-GEN-05) and deskd's own commands */
    {"clerk1", "query.calendar", "{}", NULL, NULL},
    {"clerk1", "calendar.coverage_ending",
     "{\"covered_until\":\"2026-12-31\",\"warn_days\":60}", NULL, NULL},
    {"clerk1", "calendar.reloaded",
     "{\"file\":\"holidays.tsv\",\"hash\":"
     "\"00000000000000000000000000000000000000000000000000000000000000"
     "00\",\"covered_from\":\"2024-01-01\",\"covered_until\":"
     "\"2027-12-31\",\"special_days\":1,\"previous_hash\":\"\"}",
     NULL, NULL},
    {"clerk1", "security.keys_reloaded",
     "{\"keys\":1,\"added\":1,\"removed\":0}", NULL, NULL},
    /* weeks later: arrears, late fees, refunds, the monthly report */
    {"admin", "clock.set", "{\"to\":\"2026-05-06T09:00:00+08:00\"}", NULL,
     NULL},
    {"clerk1", "fee.notice",
     "{\"unit\":\"HY/3-1201\",\"stage\":\"second\",\"deadline\":"
     "\"2026-05-20\"}",
     NULL, NULL},
    {"mgr1", "fee.extension",
     "{\"unit\":\"HY/3-1201\",\"until\":\"2026-05-31\",\"reason\":"
     "\"住院\"}",
     NULL, NULL},
    {"lead1", "fee.assess_late", "{\"estate\":\"HY\"}", NULL, NULL},
    {"clerk1", "query.overdue", "{\"estate\":\"HY\"}", NULL, NULL},
    {"clerk1", "query.large_debtors", "{\"estate\":\"HY\"}", NULL, NULL},
    {"clerk1", "query.statement", "{\"unit\":\"HY/3-1201\"}", NULL, NULL},
    {"lead1", "renovation.refund", "{\"renovation\":\"${RN}\"}", NULL, NULL},
    {"clerk1", "query.complaint_report", "{\"month\":\"2026-03\"}", NULL, NULL},
    /* move-out (R-MOV-04): 1202's arrears waived by a lead */
    {"lead1", "unit.move_out",
     "{\"unit\":\"HY/3-1202\",\"water\":\"31.25\",\"electricity\":"
     "\"512.00\",\"keys_returned\":3,\"waive_reason\":\"业主出国\"}",
     NULL, NULL},
    /* the shift handover (docs/HANDOVER.md) */
    {"clerk1", "query.handover",
     "{\"from\":\"2026-05-06T08:00:00+08:00\",\"to\":"
     "\"2026-05-06T18:00:00+08:00\"}",
     NULL, NULL},
    {"clerk1", "shift.handover",
     "{\"from\":\"2026-05-06T08:00:00+08:00\",\"to\":"
     "\"2026-05-06T18:00:00+08:00\",\"incoming\":\"lead1\","
     "\"cash_counted\":0}",
     "HO", "events.0.seq"},
    {"lead1", "shift.handover_ack", "{\"handover\":${HO},\"cash_counted\":0}",
     NULL, NULL},
};

struct var {
    char name[16];
    char value[64];
};

static struct var vars[EX_VARS_MAX];
static int nvars;

/* body with every ${NAME} replaced by its saved value. */
static void expand(const char *body, char *out, size_t cap)
{
    size_t n = 0;

    for (const char *p = body; *p && n + 1 < cap;) {
        const char *end;
        if (p[0] == '$' && p[1] == '{' && (end = strchr(p, '}'))) {
            int i;
            for (i = 0; i < nvars; i++)
                if (strlen(vars[i].name) == (size_t)(end - p - 2) &&
                    !strncmp(vars[i].name, p + 2, (size_t)(end - p - 2)))
                    break;
            if (i == nvars)
                fail_msg("no value saved as %.*s", (int)(end - p - 2), p + 2);
            n += (size_t)snprintf(out + n, cap - n, "%s", vars[i].value);
            p = end + 1;
        } else {
            out[n++] = *p++;
        }
    }
    out[n < cap ? n : cap - 1] = '\0';
}

/* Cuts every array in j to its first EX_ARRAY_MAX items. */
static void trim(json_t *j)
{
    size_t i;
    const char *k;
    json_t *v;

    if (json_is_array(j)) {
        while (json_array_size(j) > EX_ARRAY_MAX)
            json_array_remove(j, json_array_size(j) - 1);
        json_array_foreach(j, i, v) trim(v);
    } else if (json_is_object(j)) {
        json_object_foreach(j, k, v) trim(v);
    }
}

/* The examples as they are written to EX_FILE: one line per command, in
 * table order, {"actor", "body", "reply"}. */
static char *examples_text(json_t *ex)
{
    size_t cap = 1 << 20, n = 0;
    char *out = malloc(cap);
    bool first = true;

    assert_non_null(out);
    n += (size_t)snprintf(out + n, cap - n, "{\n");
    for (size_t i = 0; i < cmd_table_len; i++) {
        json_t *e = json_object_get(ex, cmd_table[i].name);
        char *line;
        size_t len;
        if (!e)
            continue;
        line = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
        assert_non_null(line);
        len = strlen(line) + strlen(cmd_table[i].name) + 16;
        while (n + len + 8 > cap) {
            cap *= 2;
            out = realloc(out, cap);
            assert_non_null(out);
        }
        n += (size_t)snprintf(out + n, cap - n, "%s\"%s\": %s",
                              first ? "" : ",\n", cmd_table[i].name, line);
        first = false;
        free(line);
    }
    snprintf(out + n, cap - n, "\n}\n");
    return out;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;

    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Every command has an example; the text equals EX_FILE (or is written
 * to it when DESKD_EXAMPLES_WRITE is set). */
static void test_protocol_examples(void **state)
{
    json_t *ex = json_object();
    char body[EX_BODY_MAX], env[EX_BODY_MAX + 256], *text, *file;
    const char *w = getenv("DESKD_EXAMPLES_WRITE");
    (void)state;

    for (size_t i = 0; i < sizeof(steps) / sizeof(*steps); i++) {
        const struct step *s = &steps[i];
        struct h_reply r;
        json_t *req, *reply;

        expand(s->body, body, sizeof(body));
        snprintf(env, sizeof(env),
                 "{\"id\":\"doc-%03zu\",\"cmd\":\"%s\",\"actor\":\"%s\","
                 "\"body\":%s}",
                 i + 1, s->cmd, s->actor, body);
        assert_int_equal(h_call(&cli, env, &r), 0);
        if (w && *w && !r.ok) /* on purpose for deskd's own commands */
            fprintf(stderr, "note: %s refused: %s\n", s->cmd, r.message);
        if (s->save) {
            const char *v = h_reply_str(&r, s->path);
            char num[24]; /* an integer (a seq) is saved as its digits */
            if (!v && json_is_integer(h_reply_get(&r, s->path))) {
                snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                         json_integer_value(h_reply_get(&r, s->path)));
                v = num;
            }
            if (!v)
                fail_msg("%s: no %s in %s", s->cmd, s->path, h_reply_text(&r));
            assert_true(nvars < EX_VARS_MAX);
            snprintf(vars[nvars].name, sizeof(vars[nvars].name), "%s", s->save);
            snprintf(vars[nvars].value, sizeof(vars[nvars].value), "%s", v);
            nvars++;
        }
        if (!json_object_get(ex, s->cmd)) {
            req = json_loads(body, 0, NULL);
            assert_non_null(req);
            reply = json_deep_copy(h_reply_json(&r));
            trim(reply);
            json_object_set_new(ex, s->cmd,
                                json_pack("{s:s,s:o,s:o}", "actor", s->actor,
                                          "body", req, "reply", reply));
        }
        h_reply_release(&r);
    }
    for (size_t i = 0; i < cmd_table_len; i++)
        if (!json_object_get(ex, cmd_table[i].name))
            fail_msg("no example for %s: add a step to %s", cmd_table[i].name,
                     __FILE__);
    text = examples_text(ex);
    json_decref(ex);
    if (w && *w) {
        FILE *f = fopen(EX_FILE, "w");
        assert_non_null(f);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
    } else {
        file = read_all(EX_FILE);
        if (!file || strcmp(file, text)) {
            fprintf(stderr, "%s is stale (or missing): run make docs\n",
                    EX_FILE);
            free(file);
            free(text);
            fail();
        }
        free(file);
    }
    free(text);
}

static int setup(void **state)
{
    struct h_opts o = {.manual_start = "2026-03-02T09:00:00+08:00",
                       .extra_ini = "[time]\ncalendar_warn_days = 60\n"
                                    "[fees]\nlate_fee.property_fee = grace=30 "
                                    "daily_bp=5 cap_bp=1000"};
    (void)state;
    return desk_start(&srv, &cli, &o);
}

static int teardown(void **state)
{
    (void)state;
    return desk_stop(&srv, &cli);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_protocol_examples),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
