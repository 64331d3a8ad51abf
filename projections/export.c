/* projections/export.c - projection tables as JSON lines or CSV, personal
 * data masked (R-GEN-02; the full record is person.view_full's, recorded). */
#include "export.h"

#include <jansson.h>
#include <string.h>

#include "../core/codec_json.h"
#include "../core/log.h"
#include "../core/mask.h"
#include "projections.h"

#define COLS_MAX 128 /* distinct fields per table in a CSV export */
#define KEY_TEXT_MAX 2048

/* Field labels as the front desk names them (物业客服前台). */
static const struct {
    const char *field, *label;
} labels[] = {
    {"key", "键"},
    {"estate", "小区"},
    {"building", "楼栋"},
    {"room", "房间"},
    {"unit", "房号"},
    {"area", "建筑面积"},
    {"type", "类型"},
    {"state", "状态"},
    {"name", "名称"},
    {"person", "人员"},
    {"people", "人员"},
    {"kind", "类别"},
    {"role", "身份"},
    {"phones", "电话"},
    {"bill", "账单号"},
    {"item", "收费项目"},
    {"period", "账期"},
    {"amount", "金额(分)"},
    {"balance", "余额(分)"},
    {"debit", "应收(分)"},
    {"credit", "实收(分)"},
    {"settled", "已结清"},
    {"due", "应缴日期"},
    {"date", "日期"},
    {"method", "支付方式"},
    {"payer", "缴费人"},
    {"payment", "缴费单号"},
    {"receipt_book", "收据本"},
    {"receipt_no", "收据号"},
    {"desk", "前台"},
    {"actor", "操作员"},
    {"seq", "事件序号"},
    {"version", "版本"},
    {"recorded", "记录时间"},
    {"complaint", "投诉单号"},
    {"category", "投诉类别"},
    {"channel", "来源渠道"},
    {"level", "等级"},
    {"handler", "处理人"},
    {"received", "受理时间"},
    {"reply_due", "回复期限"},
    {"visit_due", "回访期限"},
    {"visit_result", "回访结果"},
    {"closed", "关闭时间"},
    {"escalations", "升级次数"},
    {"reopen_count", "重开次数"},
    {"anonymous", "匿名"},
    {"emergency", "紧急"},
    {"count", "数量"},
    {"rule", "规则"},
    {"cmd", "命令"},
    {"ref", "关联"},
};

const char *proj_field_label(const char *field)
{
    for (size_t i = 0; i < sizeof(labels) / sizeof(*labels); i++)
        if (!strcmp(labels[i].field, field))
            return labels[i].label;
    return NULL;
}

/* Key bytes as text: 0 -> '|', valid UTF-8 kept, other bytes \xNN. */
static void key_text(const MDB_val *k, char *out, size_t cap)
{
    const unsigned char *p = k->mv_data;
    size_t o = 0, n = k->mv_size;

    for (size_t i = 0; i < n && o + 5 < cap;) {
        unsigned char c = p[i];
        size_t len = c < 0x80         ? 1
                     : (c >> 5) == 6  ? 2
                     : (c >> 4) == 14 ? 3
                     : (c >> 3) == 30 ? 4
                                      : 0;
        bool ok = len > 0 && i + len <= n && (c >= 0x20 || c == 0) && c != 0x7f;
        for (size_t j = 1; ok && j < len; j++)
            ok = (p[i + j] & 0xc0) == 0x80;
        if (ok && c == 0) {
            out[o++] = '|';
        } else if (ok && o + len < cap) {
            memcpy(out + o, p + i, len);
            o += len;
        } else {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
            len = 1;
        }
        i += len;
    }
    out[o] = '\0';
}

/* The record as a JSON object with "key" first. */
static json_t *record(const MDB_val *k, const MDB_val *v)
{
    char kt[KEY_TEXT_MAX];
    struct codec_doc d;
    json_t *j = json_object(), *val;

    key_text(k, kt, sizeof(kt));
    json_object_set_new(j, "key", json_string(kt));
    if (codec_doc_parse_trusted(&d, v->mv_data, v->mv_size, NULL)) {
        json_object_set_new(j, "value", json_null());
        return j;
    }
    val = codec_to_json(d.obj);
    codec_doc_release(&d);
    mask_json(val); /* R-GEN-02: exports are lists too */
    if (json_is_object(val))
        json_object_update(j, val);
    else
        json_object_set(j, "value", val);
    json_decref(val);
    return j;
}

struct cols {
    const char *name[COLS_MAX];
    char *owned[COLS_MAX];
    size_t n;
};

static void cols_add(struct cols *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(c->name[i], name))
            return;
    if (c->n < COLS_MAX) {
        c->owned[c->n] = strdup(name);
        c->name[c->n] = c->owned[c->n];
        c->n++;
    }
}

static int find_table(const char *table, struct err *e)
{
    for (int i = 0; i < DB_COUNT; i++)
        if (!strcmp(proj_db_names[i], table))
            return i;
    return err_set(e, ERR_NOT_FOUND, "table", "no table '%s'", table);
}

int proj_export_table(const char *dir, const char *table, enum audit_fmt fmt,
                      FILE *out, uint64_t *count, struct progress *p,
                      struct err *e)
{
    struct cols cols = {{0}, {0}, 0};
    struct log l;
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_val k, v;
    int t = find_table(table, e), rc;

    *count = 0;
    if (t < 0)
        return t;
    if ((rc = log_open(&l, dir, 0, true, e)))
        return rc;
    if ((rc = log_derived_begin(&l, &txn, e)))
        goto out_log;
    if ((rc = log_dbi(txn, table, false, &dbi, e)))
        goto out_txn;
    mdb_cursor_open(txn, dbi, &cur);
    {
        MDB_stat st;
        mdb_stat(txn, dbi, &st);
        progress_begin(p, "exporting", "records", st.ms_entries);
    }
    if (fmt == AUDIT_CSV) { /* first pass: the columns */
        const char *key;
        json_t *val;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            json_t *j = record(&k, &v);
            json_object_foreach(j, key, val) cols_add(&cols, key);
            json_decref(j);
        }
        if (cols.n == 0)
            cols_add(&cols, "key");
        for (size_t c = 0; c < cols.n; c++) {
            if (c)
                fputc(',', out);
            audit_csv_header(out, proj_field_label(cols.name[c]), cols.name[c]);
        }
        fputs("\r\n", out);
    }
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        json_t *j = record(&k, &v);
        if (fmt == AUDIT_JSONL) {
            json_dumpf(j, out, JSON_COMPACT | JSON_PRESERVE_ORDER);
            fputc('\n', out);
        } else {
            for (size_t c = 0; c < cols.n; c++) {
                if (c)
                    fputc(',', out);
                audit_csv_json(out, json_object_get(j, cols.name[c]));
            }
            fputs("\r\n", out);
        }
        json_decref(j);
        progress_update(p, ++*count);
    }
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND)
        progress_end(p);
    else
        progress_abort(p);
    rc = rc == MDB_NOTFOUND ? 0
                            : err_set(e, ERR_UNAVAILABLE, NULL, "read '%s': %s",
                                      table, mdb_strerror(rc));
    for (size_t c = 0; c < cols.n; c++)
        free(cols.owned[c]);
out_txn:
    mdb_txn_abort(txn);
out_log:
    log_close(&l);
    return rc;
}
