/* tools/dashboard/app.js - the desk's dashboard: read models from
 * /api/query/<name>, live events from /api/events (Server-Sent Events).
 * No build step, no external code. A query this deskd does not have
 * (unknown_command) shows "暂无数据". Personal data arrives masked from the
 * server (R-GEN-02); nothing here unmasks it, and contact fields (phone,
 * id_no, contact) are never shown at all.
 *
 * Time is the server's: deskd may run on a manual or shifted clock, so
 * countdowns, "today" and "this month" follow the `now` that
 * query.complaints_open returns, not the browser's clock. */
'use strict';

const TICKER_MAX = 50;      // events kept in the ticker
const TICKER_START = 10;    // recent events shown on load
const REFRESH_DELAY = 300;  // ms after an event before the panels reload
const REPORT_MONTHS = 6;    // months in the category chart
const MS_DAY = 86400000;
const MS_HOUR = 3600000;
// 交接班: shifts of SHIFT_HOURS from SHIFT_START o'clock on the server's
// clock (08:00-16:00, 16:00-24:00, 00:00-08:00); 24 is a multiple of it
const SHIFT_START = 8;
const SHIFT_HOURS = 8;
const OVERDUE_LISTED = 5;   // largest debts listed, each with "why"

const TYPE_NAMES = {
  'clock.advanced': '时钟调整',
  'calendar.coverage_ending': '工作日历即将到期',
  'calendar.reloaded': '工作日历已更新',
  'shift.handed_over': '交接班',
  'shift.handover_acknowledged': '接班确认',
  'estate.registered': '登记小区',
  'building.registered': '登记楼栋',
  'unit.registered': '登记房屋',
  'unit.state_changed': '房屋状态变更',
  'person.registered': '登记人员',
  'unit.person_linked': '关联住户',
  'unit.person_unlinked': '解除关联',
  'unit.ownership_transferred': '产权过户',
  'person.data_viewed': '查看完整资料',
  'person.no_visit_requested': '要求不回访',
  'fee.billed': '出账',
  'fee.paid': '收费',
  'receipt.issued': '开具收据',
  'fee.payment_voided': '作废收款',
  'fee.prepayment_applied': '预缴抵扣',
  'fee.start_set': '起征日期',
  'fee.extension_granted': '缓交批准',
  'fee.notice_delivered': '催缴通知',
  'fee.late_fee_assessed': '滞纳金',
  'fee.late_fee_run': '滞纳金核算',
  'fee.waived': '减免',
  'complaint.received': '受理投诉',
  'complaint.classified': '投诉定级',
  'complaint.complainant_added': '追加投诉人',
  'complaint.claimed': '投诉索赔',
  'complaint.dispatched': '投诉派单',
  'complaint.replied': '投诉回复',
  'complaint.updated': '进展通报',
  'complaint.handled': '投诉处理完成',
  'complaint.visited': '投诉回访',
  'complaint.reopened': '投诉重开',
  'complaint.closed': '投诉关闭',
  'complaint.escalated': '投诉升级',
  'card.issued': '发卡',
  'card.renewed': '卡延期',
  'card.reported_lost': '挂失',
  'card.reported_damaged': '坏卡补办',
  'card.returned': '退卡',
  'card.formatted': '格式化重发',
  'card.swiped': '刷卡',
  // deadlines fired by deskd's timers (docs/RENOVATION.md, RELEASE_VISITS.md)
  'renovation.term_expired': '装修超期',
  'renovation.passes_overdue': '施工出入证未交回',
  'renovation.violation_overdue': '违规逾期未整改',
  'release.expired': '放行条过期未用',
  'movein.fix_overdue': '入伙整改逾期',
  'unit.moved_out': '迁出',
  'renovation.deposit_refunded': '装修押金退还',
  'renovation.deposit_withheld': '装修押金暂不退还',
};
// those of them that report a missed deadline: a 逾期 badge in the ticker
const DEADLINE_TYPES = new Set(['renovation.term_expired',
  'renovation.passes_overdue', 'renovation.violation_overdue',
  'release.expired', 'movein.fix_overdue']);

// who an escalation goes to ([complaints] escalate.<rule> = …, <notified>)
const LEVEL_NAMES = {
  cs_lead: '客服主管', manager: '管理处经理', branch_gm: '分公司总经理',
  quality: '品质部',
};
const STATE_NAMES = {
  received: '已受理', dispatched: '已派单', replied: '已回复',
  handled: '已处理', closed: '已关闭',
};
const CHANNEL_NAMES = {
  walk_in: '来访', phone: '电话', hotline: '热线', letter: '信函', fax: '传真',
  email: '邮件', online: '网络', press: '媒体', head_office: '总部转办',
};
const RULE_NAMES = {
  missed_reply: '首次回复', missed_re_reply: '再次回复',
  open_10d: '受理满10天', open_15d: '受理满15天', major: '重大投诉上报',
  hot: '热点投诉上报', update_due: '进展通报', visit_due: '回访',
  auto_close: '自动关闭',
};
const CATEGORY_NAMES = ['未分类', '房屋管理', '设备管理', '安全管理', '环境管理',
                        '综合服务', '业户纠纷', '地产相关', '其它'];
const CARD_KINDS = { access: '门禁卡', parking: '停车卡' };
const HOLDER_TYPES = {
  owner: '业主', family: '家属', tenant: '租户', merchant: '商户',
  agent: '委托人', staff: '员工',
};
const BUCKETS = [['1-30', '1–30天'], ['31-60', '31–60天'],
                 ['61-90', '61–90天'], ['>90', '90天以上']];
const PALETTE = ['#9e9e9e', '#1565c0', '#e65100', '#c62828', '#2e7d32',
                 '#6a1b9a', '#00838f', '#9e9d24', '#4e342e'];

function esc(s) {
  return String(s == null ? '' : s).replace(/[&<>"']/g, c => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'
  }[c]));
}

// Integer fen shown as yuan with two decimals (R-GEN-04): whole yuan and
// fen are split with integer arithmetic, never a division in floating
// point; thousands are grouped with commas.
function yuan(fen) {
  const n = Math.trunc(Number(fen || 0));
  const a = Math.abs(n);
  const whole = String(Math.trunc(a / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return (n < 0 ? '-¥' : '¥') + whole + '.' + String(a % 100).padStart(2, '0');
}

function empty(el, text) {
  el.innerHTML = '<div class="empty">' + esc(text || '暂无数据') + '</div>';
}

function badge(cls, text, title) {
  return '<span class="badge ' + cls + '"' +
    (title ? ' title="' + esc(title) + '"' : '') + '>' + esc(text) + '</span>';
}

// ---- the server's clock ----

let clockSkew = 0;     // server clock minus browser clock, ms
let serverToday = '';  // YYYY-MM-DD as the server's calendar has it
let serverNowIso = ''; // the server's `now`, as it sent it
let serverOffset = null; // its UTC offset, minutes

function setServerNow(iso) {
  const t = Date.parse(iso), m = /([+-])(\d\d):?(\d\d)$/.exec(iso || '');
  if (isNaN(t)) return;
  clockSkew = t - Date.now();
  serverToday = iso.slice(0, 10);
  serverNowIso = iso;
  serverOffset = m ? (m[1] === '-' ? -1 : 1) * (m[2] * 60 + Number(m[3]))
    : /Z$/.test(iso) ? 0 : null;
}

// HH:MM:SS on the server's clock and in its time zone
function serverClock() {
  const now = serverNow();
  if (serverOffset == null)
    return new Date(now).toLocaleTimeString('zh-CN', { hour12: false });
  return new Date(now + serverOffset * 60000).toISOString().slice(11, 19);
}


function serverNow() { return Date.now() + clockSkew; }

function today() {
  if (serverToday) return serverToday;
  const d = new Date();
  return d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0') +
    '-' + String(d.getDate()).padStart(2, '0');
}

// "2026-06" and n months before it
function monthsBack(month, n) {
  const [y, m] = month.split('-').map(Number);
  const out = [];
  for (let i = n - 1; i >= 0; i--) {
    const k = y * 12 + (m - 1) - i;
    out.push(Math.floor(k / 12) + '-' + String(k % 12 + 1).padStart(2, '0'));
  }
  return out;
}

function daysInMonth(month) {
  const [y, m] = month.split('-').map(Number);
  return new Date(Date.UTC(y, m, 0)).getUTCDate();
}

async function query(name, params) {
  const qs = params ? '?' + new URLSearchParams(params).toString() : '';
  try {
    const r = await fetch('api/query/' + name + qs, { cache: 'no-store' });
    const j = await r.json();
    if (j.ok) return { ok: true, result: j.result, seq: j.seq };
    return { ok: false, code: j.error && j.error.code,
             message: j.error && j.error.message };
  } catch (e) {
    return { ok: false, code: 'unavailable', message: String(e) };
  }
}

// ---- panels ----

function countdown(deadline) {
  const t = Date.parse(deadline);
  if (isNaN(t)) return '—';
  return '<span class="countdown" data-deadline="' + t + '"></span>';
}

function tickCountdowns() {
  const now = serverNow();
  for (const el of document.querySelectorAll('.countdown[data-deadline]')) {
    let ms = Number(el.dataset.deadline) - now;
    const late = ms < 0;
    ms = Math.abs(ms);
    const d = Math.floor(ms / MS_DAY), h = Math.floor(ms / 3600000) % 24;
    const m = Math.floor(ms / 60000) % 60, s = Math.floor(ms / 1000) % 60;
    const txt = (d ? d + '天' : '') + h + '时' + String(m).padStart(2, '0') +
      '分' + (d ? '' : String(s).padStart(2, '0') + '秒');
    el.textContent = late ? '已超时 ' + txt : '剩余 ' + txt;
    el.classList.toggle('late', late);
    el.classList.toggle('soon', !late && ms < 4 * 3600000);
  }
}

// "2026-06-01T18:00:00.000+08:00" -> "06-01 18:00" (the server's own time)
function shortTime(iso) {
  return iso ? String(iso).slice(5, 16).replace('T', ' ') : '—';
}

function complaintBadges(c) {
  const b = [];
  if (c.level_name)
    b.push(badge('bad', '升级·' + (LEVEL_NAMES[c.level_name] || c.level_name),
                 '第 ' + c.level + ' 级升级'));
  if (c.major) b.push(badge('bad', '重大') + badge('warn', '品质部', '已报品质部'));
  if (c.hot) b.push(badge('warn', '热点') +
                    (c.major ? '' : badge('warn', '品质部', '已报品质部')));
  if (c.emergency) b.push(badge('bad', '紧急'));
  if (c.reply_overdue) b.push(badge('bad', '回复超时'));
  else if (c.overdue) b.push(badge('bad', '超时'));
  if (c.people > 1) b.push(badge('info', c.people + '人'));
  if (c.reopen_count) b.push(badge('warn', '重开' + c.reopen_count + '次'));
  if (Array.isArray(c.provisional) && c.provisional.length)
    b.push(badge('warn', '暂定', '时限超出工作日历覆盖范围，按无节假日推算：' +
                 c.provisional.map(r => RULE_NAMES[r] || r).join('、')));
  return b.join('') || badge('ok', '正常');
}

// R-GEN-05: the working calendar's coverage; an alert when it ends within
// calendar_warn_days (docs/CALENDAR.md).
function renderCalendar(el, res) {
  const sec = el.closest('section');
  if (!res || !res.covered_until) {
    if (sec) sec.dataset.warning = 'true';
    el.innerHTML = '<p class="alert">' + badge('bad', '日历') +
      ' 未载入节假日安排：按工作日计算的时限均为暂定。</p>';
    return;
  }
  if (sec) sec.dataset.warning = res.warning ? 'true' : 'false';
  const range = '工作日历覆盖 ' + esc(res.covered_from) + ' 至 ' +
    esc(res.covered_until);
  if (!res.warning) {
    el.innerHTML = '<p class="calendar-ok">' + badge('ok', '日历') + ' ' +
      range + '（剩余 ' + esc(res.days_left) + ' 天）</p>';
    return;
  }
  el.innerHTML = '<p class="alert">' + badge('bad', '日历将到期') + ' ' +
    range + (res.days_left >= 0 ? '，仅剩 ' + esc(res.days_left) + ' 天'
                               : '，已过期 ' + esc(-res.days_left) + ' 天') +
    '。请在国务院办公厅公布后载入下一年度官方节假日安排（编辑节假日文件后发送 ' +
    'SIGHUP，见 docs/CALENDAR.md）；超出覆盖范围的时限标为“暂定”。</p>';
}

function renderComplaints(el, res) {
  const list = (res && Array.isArray(res.items) ? res.items : []).slice();
  if (!list.length) return empty(el, '暂无未结投诉');
  const due = c => c.next_deadline ? Date.parse(c.next_deadline) : Infinity;
  list.sort((a, b) => due(a) - due(b));
  let html = '<table class="complaints"><tr><th>编号</th><th>房屋</th>' +
    '<th>事由</th><th>类别</th><th>渠道</th><th>状态</th><th>受理</th>' +
    '<th>下一时限</th><th>倒计时</th><th>升级 · 标记</th></tr>';
  for (const c of list) {
    const rule = c.next_rule ? (RULE_NAMES[c.next_rule] || c.next_rule) : '';
    html += '<tr data-complaint="' + esc(c.complaint) + '"><td>' +
      esc(c.complaint) + '</td><td>' + esc(c.unit || '—') +
      '</td><td class="issue" title="' + esc(c.issue) + '">' + esc(c.issue) +
      '</td><td>' + esc(c.category_name || '未分类') + '</td><td>' +
      esc(CHANNEL_NAMES[c.channel] || c.channel || '') + '</td><td>' +
      esc(STATE_NAMES[c.state] || c.state) + '</td><td>' +
      esc(shortTime(c.received)) + '</td><td>' +
      (c.next_deadline ? esc(shortTime(c.next_deadline)) +
        (rule ? ' <small>' + esc(rule) + '</small>' : '') +
        whyLink('complaint', c.complaint, 'next_deadline') : '—') +
      '</td><td>' + (c.next_deadline ? countdown(c.next_deadline) : '—') +
      '</td><td class="badges">' + complaintBadges(c) +
      (c.level ? whyLink('complaint', c.complaint, 'level') : '') +
      '</td></tr>';
  }
  el.innerHTML = html + '</table>';
  const n = document.getElementById('complaints-count');
  if (n) n.textContent = res.count != null ? res.count : list.length;
  tickCountdowns();
}

function renderOverdue(el, res) {
  const list = res && Array.isArray(res.units) ? res.units : [];
  if (!list.length) return empty(el, '暂无欠费');
  const by = {};
  for (const [k] of BUCKETS) by[k] = { n: 0, amount: 0 };
  for (const u of list) {
    const b = by[u.bucket] || (by[u.bucket] = { n: 0, amount: 0 });
    b.n++;
    b.amount += Number(u.amount || 0);
  }
  let html = '<div class="buckets">';
  for (const [k, label] of BUCKETS)
    html += '<div class="bucket' + (k === '>90' ? ' b90' : '') + '"><div>' +
      esc(label) + '</div><div class="n">' + by[k].n + '</div><div class="amt">' +
      yuan(by[k].amount) + '</div></div>';
  html += '</div><p>合计 ' + list.length + ' 户，' + yuan(res.total) + '</p>';
  // the largest debts, each with the events behind its amount
  const top = list.slice().sort((a, b) => b.amount - a.amount)
    .slice(0, OVERDUE_LISTED);
  html += '<ul class="debts">' + top.map(u => '<li data-unit="' +
    esc(u.unit) + '">' + esc(u.unit) + ' <b>' + yuan(u.amount) + '</b> ' +
    esc(u.days_overdue) + '天' +
    whyLink('overdue', u.unit + '|' + u.payer, 'amount') + '</li>').join('') +
    '</ul>';
  // R-FEE-06: the deadline a second notice set, per unit
  const dl = list.filter(u => u.notice_deadline);
  if (dl.length)
    html += '<ul class="deadlines">' + dl.map(u => '<li data-unit="' +
      esc(u.unit) + '">' + esc(u.unit) + ' 二次催缴限期 <b>' +
      esc(u.notice_deadline) + '</b>（' + yuan(u.amount) + '，' +
      (Array.isArray(u.bills) ? u.bills.length : 0) + ' 笔）</li>').join('') +
      '</ul>';
  el.innerHTML = html;
}

// Cards that run out between today and the month's end (R-CARD-05), so
// the desk can remind holders. Name only: never phone or ID.
function cardParams() {
  const d = today(), month = d.slice(0, 7);
  const left = daysInMonth(month) - Number(d.slice(8, 10));
  return { as_of: d, days: Math.max(1, left) };
}

function renderCards(el, res) {
  const month = today().slice(0, 7);
  const all = res && Array.isArray(res.cards) ? res.cards : [];
  const list = all.filter(c => String(c.until || '').slice(0, 7) === month);
  if (!list.length) return empty(el, '本月无到期卡');
  let html = '<table class="cards"><tr><th>卡号</th><th>房屋</th>' +
    '<th>持卡人</th><th>到期</th><th class="num">剩余</th></tr>';
  for (const c of list)
    html += '<tr data-card="' + esc(c.card) + '"><td>' + esc(c.card) +
      ' <small>' + esc(CARD_KINDS[c.kind] || c.kind) + '</small></td><td>' +
      esc(c.unit) + '</td><td>' + esc(c.name || c.holder) +
      (c.holder_type ? ' <small>' +
        esc(HOLDER_TYPES[c.holder_type] || c.holder_type) + '</small>' : '') +
      '</td><td>' + esc(c.until) + '</td><td class="num">' +
      (c.days_left <= 7 ? badge('warn', c.days_left + '天')
                        : esc(c.days_left + '天')) + '</td></tr>';
  if (res.truncated)
    html += '<tr><td colspan="5">共 ' + esc(res.count) + ' 张，仅列前 ' +
      all.length + ' 张</td></tr>';
  el.innerHTML = html + '</table>';
}

// 日盘点 (R-CMP-06): today's intake and closures, what is still open.
function renderStocktake(el, res) {
  if (!res || res.open == null) return empty(el);
  const tiles = [['received', '今日受理'], ['handled', '今日处理'],
                 ['closed', '今日关闭'], ['open', '未结'],
                 ['open_3d', '超3天']];
  let html = '<div class="tiles">';
  for (const [k, label] of tiles)
    html += '<div class="tile' + (k === 'open_3d' && res[k] ? ' bad' : '') +
      '" data-key="' + k + '"><div class="n">' + esc(res[k]) +
      '</div><div>' + esc(label) + '</div></div>';
  html += '</div><p class="meta">盘点日 ' + esc(res.date) +
    (Array.isArray(res.open_3d_ids) && res.open_3d_ids.length
      ? '　超3天：' + res.open_3d_ids.map(esc).join('、') : '') + '</p>';
  el.innerHTML = html;
}

// Stacked bars: one query.complaint_report per month (by_category of the
// complaints received in it, as known now), one colour per category.
async function loadReport() {
  const months = monthsBack(today().slice(0, 7), REPORT_MONTHS);
  const rs = await Promise.all(months.map(m => query('complaint_report',
    serverNowIso ? { month: m, as_of: serverNowIso } : { month: m })));
  const bad = rs.find(r => !r.ok);
  if (bad) return bad;
  return { ok: true, result: rs.map(r => r.result) };
}

function renderReport(el, reports) {
  const cats = new Map();  // category -> name, in category order
  let total = 0;
  for (const r of reports)
    for (const c of r.by_category || [])
      if (c.count) { cats.set(c.category, c.name); total += c.count; }
  if (!total) return empty(el, '近' + reports.length + '个月暂无投诉');
  const order = [...cats.keys()].sort((a, b) => a - b);
  const count = (r, cat) => {
    const c = (r.by_category || []).find(x => x.category === cat);
    return c ? c.count : 0;
  };
  const max = Math.max(1, ...reports.map(r => r.received || 0));
  const W = 900, H = 220, L = 30, B = 24, T = 18;
  const slot = (W - L) / reports.length, bw = Math.min(60, slot * 0.5);
  let svg = '<svg viewBox="0 0 ' + W + ' ' + H + '" width="100%" height="' +
    H + '" role="img" aria-label="投诉分类月度图">';
  svg += '<line x1="' + L + '" y1="' + (H - B) + '" x2="' + W + '" y2="' +
    (H - B) + '" stroke="#999"/>';
  reports.forEach((r, i) => {
    const x = L + (i + 0.5) * slot - bw / 2;
    let y = H - B;
    for (const cat of order) {
      const n = count(r, cat);
      if (!n) continue;
      const h = n / max * (H - B - T);
      svg += '<rect class="bar" data-month="' + esc(r.month) +
        '" data-category="' + cat + '" x="' + x + '" y="' + (y - h) +
        '" width="' + bw + '" height="' + h + '" fill="' +
        PALETTE[cat % PALETTE.length] + '"><title>' +
        esc(r.month + ' ' + cats.get(cat) + '：' + n + ' 件') + '</title></rect>';
      y -= h;
    }
    svg += '<text x="' + (x + bw / 2) + '" y="' + (H - 8) +
      '" text-anchor="middle">' + esc(r.month) + '</text>';
    svg += '<text x="' + (x + bw / 2) + '" y="' + (y - 4) +
      '" text-anchor="middle" class="total">' + (r.received || 0) + '</text>';
  });
  svg += '</svg>';
  const legend = '<div class="legend">' + order.map(cat => '<span><i style="' +
    'background:' + PALETTE[cat % PALETTE.length] + '"></i>' +
    esc(cats.get(cat)) + '</span>').join('') + '</div>';
  const cur = reports[reports.length - 1], k = cur.kpi || {};
  const pct = p => p && p.den ? p.percent + '%（' + p.num + '/' + p.den + '）'
    : '—';
  const kpi = '<p class="meta">本月 ' + esc(cur.month) + '：受理 ' +
    esc(cur.received) + ' · 结案 ' + esc(cur.closed) + ' · 重大 ' +
    esc(cur.major) + ' · 热点 ' + esc(cur.hot) + ' · 重开 ' +
    esc(cur.reopened) + '　当日登记 ' + pct(k.recorded_same_day) +
    ' · 按时回复 ' + pct(k.replied_in_time) + ' · 按时回访 ' +
    pct(k.visits_in_time) + '</p>';
  el.innerHTML = svg + legend + kpi;
}

// What a timer of the next shift will do (cmd of deadlines_next)
const DEADLINE_CMDS = {
  'complaint.escalate': '投诉时限', 'complaint.auto_close': '投诉自动关闭',
  'workorder.escalate': '工单时限', 'renovation.expire_term': '装修到期',
  'renovation.passes_overdue': '出入证交回', 'release.expire': '放行条过期',
  'renovation.violation_overdue': '违规整改期限',
  'movein.fix_overdue': '入伙整改期限',
};
const METHOD_NAMES = { cash: '现金', debit: '刷卡', transfer: '转账', pos: 'POS' };

// ms (UTC) as ISO 8601 in the server's time zone
function serverIso(ms) {
  const off = serverOffset || 0, a = Math.abs(off);
  return new Date(ms + off * 60000).toISOString().slice(0, 19) +
    (off < 0 ? '-' : '+') + String(Math.trunc(a / 60)).padStart(2, '0') +
    ':' + String(a % 60).padStart(2, '0');
}

// The current shift [from, to) on the server's clock; ?desk= on the page
// keeps one desk's sheet, else every desk's.
function handoverParams() {
  const off = (serverOffset || 0) * 60000, local = serverNow() + off;
  const day = Math.floor(local / MS_DAY) * MS_DAY;
  const k = Math.floor((local - day - SHIFT_START * MS_HOUR) /
                       (SHIFT_HOURS * MS_HOUR));
  const from = day + (SHIFT_START + k * SHIFT_HOURS) * MS_HOUR - off;
  const p = { from: serverIso(from),
              to: serverIso(from + SHIFT_HOURS * MS_HOUR) };
  const desk = new URLSearchParams(location.search).get('desk');
  if (desk) p.desk = desk;
  return p;
}

// 交接班 (docs/HANDOVER.md): the current shift's sheet so far, money in
// integer fen shown as yuan (R-GEN-04); the deadlines the next shift
// inherits, keys, cards, passes and the return visits waiting (R-WO-03).
function renderHandover(el, res) {
  if (!res || !res.money) return empty(el);
  const m = res.money, len = k => (res[k] || []).length;
  const tiles = [['cash_expected', '应交现金', yuan(m.cash_expected)],
                 ['paid', '收款 ' + m.payments + ' 笔', yuan(m.paid_fen)],
                 ['received', '受理投诉', res.complaints_received],
                 ['open', '未结投诉', len('complaints_open')],
                 ['escalations', '升级', len('escalations')],
                 ['next', '下一班时限', len('deadlines_next')],
                 ['visits', '待回访', len('return_visits')]];
  // the sheet's window: what a 为什么? link asks the same query for
  const sheet = res.from + '|' + res.to + '|' + (res.desk || '');
  let html = '<div class="tiles wide">';
  for (const [k, label, v] of tiles)
    html += '<div class="tile' + (k === 'escalations' && v ? ' bad' : '') +
      '" data-key="' + k + '"><div class="n">' + esc(v) + '</div><div>' +
      esc(label) + (k === 'cash_expected' ?
        whyLink('handover', sheet, 'cash_expected') : '') + '</div></div>';
  html += '</div><p class="meta">班次 ' + esc(shortTime(res.from)) + ' – ' +
    esc(shortTime(res.to)) + ' · ' + esc(res.desk || '全部前台') + '　净收 ' +
    Object.keys(METHOD_NAMES).map(k => METHOD_NAMES[k] + ' ' +
      yuan((m.net_by_method || {})[k])).join(' · ') +
    (m.voids ? '　作废 ' + m.voids + ' 笔 ' + yuan(m.voided_fen) : '') + '</p>';
  const next = res.deadlines_next || [];
  if (next.length) {
    html += '<table class="handover"><tr><th>下一班时限（至 ' +
      esc(shortTime(res.next_to)) + '）</th><th>事项</th><th>对象</th></tr>';
    for (const d of next) {
      const a = d.about || {};
      const what = (DEADLINE_CMDS[d.cmd] || d.cmd) +
        (a.rule ? '·' + (RULE_NAMES[a.rule] || a.rule) : '');
      const who = a.complaint || a.order || a.renovation || a.pass || a.unit ||
        '';
      html += '<tr data-key="' + esc(d.key) + '"><td>' + esc(shortTime(d.due)) +
        whyLink('handover', sheet + '|' + d.key, 'due') + '</td><td>' +
        esc(what) + '</td><td>' + esc(who) +
        (a.violation ? ' / ' + esc(a.violation) : '') + '</td></tr>';
    }
    html += '</table>';
  } else {
    html += '<p class="meta">下一班（至 ' + esc(shortTime(res.next_to)) +
      '）无到期时限</p>';
  }
  const visits = res.return_visits || [];
  if (visits.length)
    html += '<p class="meta">待回访：' + visits.map(v => esc(v.order) + ' ' +
      esc(v.unit) + '（' + esc(shortTime(v.visit_due)) + ' 前）').join('、') +
      '</p>';
  const keys = (k) => (res[k] || []).reduce((n, r) => n + (r.keys || 0), 0);
  html += '<p class="meta">发卡 ' + len('cards_issued') + ' · 挂失 ' +
    len('cards_lost') + ' · 钥匙发出 ' + keys('keys_handed') + ' 把 · 收回 ' +
    keys('keys_returned') + ' 把 · 放行条 ' + len('release_passes') + '</p>';
  el.innerHTML = html;
}

// ---- why: the events and rules behind a figure (explain=true) ----

const FIGURE_NAMES = {
  amount: '欠费金额', stage: '催缴阶段', level: '升级级别',
  reply_due: '首次回复时限', next_deadline: '下一时限',
  cash_expected: '应交现金', due: '下一班时限',
};

function whyLink(kind, key, figure) {
  return ' <a href="#" class="why" data-why="' + esc(kind) + '" data-key="' +
    esc(key) + '" data-figure="' + esc(figure) + '">为什么?</a>';
}

// The rows of one explanation: event (seq, type, time) or fact, rule id,
// what, and the amount it adds or takes.
function whyTable(list) {
  let html = '<table class="why-list"><tr><th>事件</th><th>类型</th>' +
    '<th>时间</th><th>规则</th><th>说明</th><th>金额</th></tr>';
  for (const e of list || [])
    html += '<tr' + (e.seq != null ? ' data-seq="' + esc(e.seq) + '"' : '') +
      (e.fen != null ? ' data-fen="' + esc(e.fen) + '"' : '') + '><td>' + (e.seq != null ? '#' + esc(e.seq) : '—') + '</td><td>' +
      esc(TYPE_NAMES[e.type] || ({ rule: '规则', config: '配置',
                                   calendar: '工作日历' })[e.type] || e.type) +
      '</td><td>' + esc(e.at ? shortTime(e.at) : '') + '</td><td>' +
      esc(e.rule) + '</td><td>' + esc(e.what) + '</td><td class="num">' +
      (e.fen != null ? yuan(e.fen) : '') + '</td></tr>';
  return html + '</table>';
}

// Fetches the figure's query with explain=true over HTTP and shows why.
async function showWhy(kind, key, figure) {
  const box = document.getElementById('why');
  const body = box.querySelector('.body');
  let why = null, title = key;
  box.hidden = false;
  box.dataset.state = 'loading';
  if (kind === 'overdue') {
    const [unit, payer] = key.split('|');
    const m = /^([^/]+)\/(.+)-[^-]+$/.exec(unit);
    const r = await query('overdue', m ? { estate: m[1], building: m[2],
                                           explain: true } : { explain: true });
    const row = r.ok && (r.result.units || []).find(u => u.unit === unit &&
                                                    u.payer === payer);
    why = row && row.why;
    title = unit;
  } else if (kind === 'handover') {
    // from|to|desk, and the timer's key for a deadline of the next shift
    const [from, to, desk, timer] = key.split('|');
    const p = { from: from, to: to, explain: true };
    if (desk) p.desk = desk;
    const r = await query('handover', p);
    if (timer) {
      const d = r.ok && (r.result.deadlines_next || []).find(x =>
        x.key === timer);
      why = d && d.why;
      title = timer;
    } else {
      why = r.ok && r.result.money && r.result.money.why;
      title = shortTime(from) + ' – ' + shortTime(to);
    }
  } else {
    const r = await query('complaint', { complaint: key, explain: true });
    why = r.ok && r.result.complaint && r.result.complaint.why;
  }
  box.dataset.key = key;
  box.dataset.figure = figure;
  box.querySelector('.what').textContent = title + ' · ' +
    (FIGURE_NAMES[figure] || figure);
  if (!why || !why[figure]) {
    box.dataset.state = 'error';
    return empty(body, '暂无说明');
  }
  let html = whyTable(why[figure]);
  if (figure === 'next_deadline' && why.reply_due && why.reply_due !== why[figure])
    html += '<h3>' + esc(FIGURE_NAMES.reply_due) + '</h3>' +
      whyTable(why.reply_due);
  if (figure === 'amount' && why.stage)
    html += '<h3>' + esc(FIGURE_NAMES.stage) + '</h3>' + whyTable(why.stage);
  body.innerHTML = html;
  box.dataset.state = 'ok';
}

document.addEventListener('click', e => {
  const a = e.target.closest && e.target.closest('a.why');
  if (a) {
    e.preventDefault();
    showWhy(a.dataset.why, a.dataset.key, a.dataset.figure);
  } else if (e.target.closest && e.target.closest('#why .close')) {
    e.preventDefault();
    document.getElementById('why').hidden = true;
  }
});

const PANELS = [
  { query: 'calendar', render: renderCalendar },
  { query: 'handover', render: renderHandover, params: handoverParams },
  { query: 'overdue', render: renderOverdue },
  { query: 'card_expiry', render: renderCards, params: cardParams },
  { query: 'stocktake', render: renderStocktake,
    params: () => ({ date: today() }) },
  { query: 'complaint_report', render: renderReport, load: loadReport },
];

function show(p, r) {
  const el = document.querySelector('[data-query="' + p.query + '"]');
  if (!r.ok) {
    el.dataset.state = r.code || 'error';
    return empty(el, r.code === 'unknown_command' ? '暂无数据'
      : '暂无数据（' + (r.message || r.code) + '）');
  }
  el.dataset.state = 'ok';
  try {
    p.render(el, r.result);
  } catch (e) {
    el.dataset.state = 'error';
    empty(el, '暂无数据（' + e + '）');
  }
}

async function refreshOnce() {
  // first: the open list, whose `now` sets the clock the rest follows
  const open = { query: 'complaints_open', render: renderComplaints };
  const r = await query('complaints_open');
  if (r.ok && r.result) setServerNow(r.result.now);
  show(open, r);
  await Promise.all(PANELS.map(async p => {
    show(p, p.load ? await p.load()
                   : await query(p.query, p.params && p.params()));
  }));
  document.getElementById('updated').textContent =
    serverClock() +
    (serverToday ? '（' + serverToday + '）' : '');
}

// One refresh at a time; a request during one runs another after it, so
// the page never stops short of the newest event.
let refreshing = false, refreshAgain = false;
async function refresh() {
  if (refreshing) { refreshAgain = true; return; }
  refreshing = true;
  try {
    do {
      refreshAgain = false;
      await refreshOnce();
    } while (refreshAgain);
  } finally {
    refreshing = false;
  }
}

let refreshTimer = null;
function refreshSoon() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => { refreshTimer = null; refresh(); },
                            REFRESH_DELAY);
}

// ---- live events ----

function summary(type, ev) {
  const d = ev.data || {};
  const parts = [];
  for (const k of ['unit', 'renovation', 'pass', 'violation', 'estate',
                   'building', 'complaint', 'card',
                   'person', 'name', 'category', 'bill', 'amount', 'receipt',
                   'to', 'until', 'covered_until'])
    if (d[k] != null && typeof d[k] !== 'object')
      parts.push(k === 'amount' ? yuan(d[k])
        : k === 'category' && type.startsWith('complaint.')
          ? CATEGORY_NAMES[d[k]] || String(d[k]) : String(d[k]));
  if (type === 'complaint.escalated' && d.rule)
    parts.push(RULE_NAMES[d.rule] || d.rule);
  return parts.slice(0, 4).join(' · ');
}

function addEvent(type, e) {
  let ev;
  try { ev = JSON.parse(e.data); } catch (x) { return; }
  const list = document.getElementById('events');
  const li = document.createElement('li');
  const d = ev.data || {};
  li.className = 'fresh';
  li.dataset.seq = e.lastEventId;
  li.dataset.type = type;
  const time = (ev.recorded_at || '').slice(11, 19);
  li.innerHTML = '<span class="seq">#' + esc(e.lastEventId) + ' ' + esc(time) +
    '</span><span class="type">' + esc(TYPE_NAMES[type] || type) +
    '</span><span>' + esc(summary(type, ev)) + '</span>' +
    (type === 'complaint.escalated'
      ? ' ' + badge('bad', '升级 → ' +
                    (LEVEL_NAMES[d.notify] || d.notify || ''))
      : DEADLINE_TYPES.has(type)
        ? ' ' + badge('bad', d.provisional ? '逾期 (暂定)' : '逾期') : '');
  list.prepend(li);
  setTimeout(() => li.classList.remove('fresh'), 3000);
  while (list.children.length > TICKER_MAX) list.lastChild.remove();
  document.getElementById('last-seq').textContent = e.lastEventId;
  refreshSoon();
}

async function connect() {
  let types = Object.keys(TYPE_NAMES);
  try {
    const meta = await (await fetch('api/meta', { cache: 'no-store' })).json();
    if (meta.ok && Array.isArray(meta.events)) types = meta.events;
  } catch (e) { /* fall back to the types known here */ }
  // Start with the last few events; after a drop the browser resumes with
  // Last-Event-ID by itself (the server prefers it to ?from=).
  let from = 0;
  try {
    const h = await (await fetch('healthz', { cache: 'no-store' })).json();
    from = Math.max(1, (h.last_seq || 0) - TICKER_START + 1);
  } catch (e) { /* live only */ }
  const conn = document.getElementById('conn');
  const es = new EventSource(from ? 'api/events?from=' + from : 'api/events');
  es.onopen = () => { conn.textContent = '实时'; conn.className = 'badge ok'; };
  es.onerror = () => { conn.textContent = '重连中'; conn.className = 'badge warn'; };
  for (const t of types) es.addEventListener(t, e => addEvent(t, e));
  window.deskFeed = es;
}

refresh();
connect();
setInterval(tickCountdowns, 1000);
setInterval(refresh, 60000); // deadlines and "today" move without events
