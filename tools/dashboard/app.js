/* tools/dashboard/app.js - the desk's dashboard: read models from
 * /api/query/<name>, live events from /api/events (Server-Sent Events).
 * No build step, no external code. A query this deskd does not have yet
 * (unknown_command) shows "暂无数据". Personal data arrives masked from the
 * server (R-GEN-02); nothing here unmasks or adds any. */
'use strict';

const TICKER_MAX = 50;      // events kept in the ticker
const TICKER_START = 10;    // recent events shown on load
const REFRESH_DELAY = 300;  // ms after an event before the panels reload

const TYPE_NAMES = {
  'clock.advanced': '时钟调整',
  'estate.registered': '登记小区',
  'building.registered': '登记楼栋',
  'unit.registered': '登记房屋',
  'unit.state_changed': '房屋状态变更',
  'person.registered': '登记人员',
  'unit.person_linked': '关联住户',
  'unit.person_unlinked': '解除关联',
  'unit.ownership_transferred': '产权过户',
  'person.data_viewed': '查看完整资料',
  'fee.billed': '出账',
  'fee.paid': '收费',
  'receipt.issued': '开具收据',
  'fee.payment_voided': '作废收款',
  'fee.prepayment_applied': '预缴抵扣',
  'fee.start_set': '起征日期',
  'fee.extension_granted': '缓交批准',
  'fee.notice_delivered': '催缴通知',
  'fee.late_fee_assessed': '滞纳金',
  'fee.waived': '减免',
  'complaint.received': '受理投诉',
  'complaint.classified': '投诉定级',
  'complaint.dispatched': '投诉派单',
  'complaint.replied': '投诉回复',
  'complaint.handled': '投诉处理完成',
  'complaint.visited': '投诉回访',
  'complaint.reopened': '投诉重开',
  'complaint.closed': '投诉关闭',
  'complaint.escalated': '投诉升级',
};

const BUCKETS = [['1-30', '1–30天'], ['31-60', '31–60天'],
                 ['61-90', '61–90天'], ['>90', '90天以上']];
const PALETTE = ['#1565c0', '#e65100', '#2e7d32', '#6a1b9a', '#c62828',
                 '#00838f', '#9e9d24', '#4e342e', '#37474f', '#ad1457'];

function esc(s) {
  return String(s == null ? '' : s).replace(/[&<>"']/g, c => ({
    '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'
  }[c]));
}

function yuan(fen) {
  const n = Number(fen || 0);
  return '¥' + (n / 100).toLocaleString('zh-CN', {
    minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

function empty(el, text) {
  el.innerHTML = '<div class="empty">' + esc(text || '暂无数据') + '</div>';
}

// The first array in a result (the rows), whatever the query calls it.
function rows(result, names) {
  if (Array.isArray(result)) return result;
  if (!result || typeof result !== 'object') return [];
  for (const n of names) if (Array.isArray(result[n])) return result[n];
  for (const k of Object.keys(result))
    if (Array.isArray(result[k])) return result[k];
  return [];
}

function pick(o, names) {
  for (const n of names) if (o && o[n] != null && o[n] !== '') return o[n];
  return null;
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
  if (isNaN(t)) return '<span>—</span>';
  return '<span class="countdown" data-deadline="' + t + '"></span>';
}

function tickCountdowns() {
  const now = Date.now();
  for (const el of document.querySelectorAll('.countdown[data-deadline]')) {
    let ms = Number(el.dataset.deadline) - now;
    const late = ms < 0;
    ms = Math.abs(ms);
    const d = Math.floor(ms / 86400000), h = Math.floor(ms / 3600000) % 24;
    const m = Math.floor(ms / 60000) % 60, s = Math.floor(ms / 1000) % 60;
    const txt = (d ? d + '天' : '') + h + '时' + String(m).padStart(2, '0') +
      '分' + (d ? '' : String(s).padStart(2, '0') + '秒');
    el.textContent = late ? '已超时 ' + txt : '剩余 ' + txt;
    el.classList.toggle('late', late);
    el.classList.toggle('soon', !late && ms < 4 * 3600000);
  }
}

function renderComplaints(el, res) {
  const list = rows(res, ['complaints', 'open', 'items']);
  if (!list.length) return empty(el, '暂无未结投诉');
  let html = '<table><tr><th>编号</th><th>房屋</th><th>类别</th>' +
    '<th>渠道</th><th>状态</th><th>时限</th><th>倒计时</th><th>升级</th></tr>';
  for (const c of list) {
    const due = pick(c, ['next_due', 'due', 'reply_due', 'deadline',
                         'respond_by']);
    const esc_n = Array.isArray(c.escalations) ? c.escalations.length
      : Number(pick(c, ['escalations', 'level']) || 0);
    const badges = [];
    if (esc_n) badges.push('<span class="badge bad">已升级 ' + esc_n + '</span>');
    if (c.major) badges.push('<span class="badge bad">重大</span>');
    if (c.hot) badges.push('<span class="badge warn">热点</span>');
    html += '<tr><td>' + esc(pick(c, ['complaint', 'id'])) + '</td><td>' +
      esc(c.unit) + '</td><td>' + esc(c.category) + '</td><td>' +
      esc(c.channel) + '</td><td>' + esc(c.state) + '</td><td>' +
      esc(due || '—') + '</td><td>' + (due ? countdown(due) : '—') +
      '</td><td>' + (badges.join('') || '<span class="badge ok">正常</span>') +
      '</td></tr>';
  }
  el.innerHTML = html + '</table>';
  tickCountdowns();
}

function renderOverdue(el, res) {
  const list = rows(res, ['units']);
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
  el.innerHTML = html;
}

function renderCards(el, res) {
  const list = rows(res, ['cards', 'expiring', 'items']);
  if (!list.length) return empty(el, '本月无到期门禁卡');
  let html = '<table><tr><th>卡号</th><th>房屋</th><th>持卡人</th>' +
    '<th>到期</th></tr>';
  for (const c of list)
    html += '<tr><td>' + esc(pick(c, ['card', 'id', 'no'])) + '</td><td>' +
      esc(c.unit) + '</td><td>' + esc(pick(c, ['holder', 'name', 'person'])) +
      '</td><td>' + esc(pick(c, ['expires', 'expiry', 'valid_until', 'to'])) +
      '</td></tr>';
  el.innerHTML = html + '</table>';
}

function renderStocktake(el, res) {
  const list = rows(res, ['items', 'lines', 'stock']);
  if (!list.length) return empty(el, '今日尚未盘点');
  let html = '<table><tr><th>物品</th><th class="num">账面</th>' +
    '<th class="num">实盘</th><th class="num">差异</th></tr>';
  for (const s of list) {
    const book = pick(s, ['book', 'expected', 'system']);
    const counted = pick(s, ['counted', 'actual', 'count']);
    const diff = book != null && counted != null ? counted - book
      : pick(s, ['diff', 'difference']);
    html += '<tr><td>' + esc(pick(s, ['item', 'name'])) + '</td><td class="num">' +
      esc(book) + '</td><td class="num">' + esc(counted) + '</td><td class="num">' +
      (diff ? '<span class="badge bad">' + esc(diff) + '</span>' : esc(diff)) +
      '</td></tr>';
  }
  el.innerHTML = html + '</table>';
}

// Stacked bars: months along x, one colour per category.
function renderReport(el, res) {
  const list = rows(res, ['months', 'rows', 'items']);
  const data = [];   // {month, category, count}
  for (const r of list) {
    const month = pick(r, ['month', 'period']);
    if (r.categories && typeof r.categories === 'object' &&
        !Array.isArray(r.categories)) {
      for (const [cat, n] of Object.entries(r.categories))
        data.push({ month, category: cat, count: Number(n) });
    } else if (Array.isArray(r.categories)) {
      for (const c of r.categories)
        data.push({ month, category: pick(c, ['category', 'name']),
                    count: Number(pick(c, ['count', 'n']) || 0) });
    } else {
      data.push({ month, category: pick(r, ['category']) || '其他',
                  count: Number(pick(r, ['count', 'n']) || 0) });
    }
  }
  if (!data.length) return empty(el);
  const months = [...new Set(data.map(d => d.month))].sort();
  const cats = [...new Set(data.map(d => d.category))];
  const total = m => data.filter(d => d.month === m)
    .reduce((a, d) => a + d.count, 0);
  const max = Math.max(1, ...months.map(total));
  const W = 900, H = 220, L = 40, B = 24, bw = Math.min(60,
    (W - L) / months.length * 0.6);
  let svg = '<svg viewBox="0 0 ' + W + ' ' + H + '" width="100%" height="' +
    H + '" role="img" aria-label="投诉分类月度图">';
  svg += '<line x1="' + L + '" y1="' + (H - B) + '" x2="' + W + '" y2="' +
    (H - B) + '" stroke="#999"/>';
  months.forEach((m, i) => {
    const x = L + (i + 0.5) * (W - L) / months.length - bw / 2;
    let y = H - B;
    cats.forEach((c, k) => {
      const n = data.filter(d => d.month === m && d.category === c)
        .reduce((a, d) => a + d.count, 0);
      const h = n / max * (H - B - 16);
      if (n) svg += '<rect x="' + x + '" y="' + (y - h) + '" width="' + bw +
        '" height="' + h + '" fill="' + PALETTE[k % PALETTE.length] +
        '"><title>' + esc(m + ' ' + c + '：' + n) + '</title></rect>';
      y -= h;
    });
    svg += '<text x="' + (x + bw / 2) + '" y="' + (H - 8) +
      '" text-anchor="middle">' + esc(m) + '</text>';
    svg += '<text x="' + (x + bw / 2) + '" y="' + (y - 3) +
      '" text-anchor="middle">' + total(m) + '</text>';
  });
  svg += '</svg><div class="legend">' + cats.map((c, k) => '<span><i style="' +
    'background:' + PALETTE[k % PALETTE.length] + '"></i>' + esc(c) +
    '</span>').join('') + '</div>';
  el.innerHTML = svg;
}

function monthRange() {
  const d = new Date();
  const ym = d.getFullYear() + '-' + String(d.getMonth() + 1).padStart(2, '0');
  return ym;
}

const PANELS = [
  { query: 'complaints_open', render: renderComplaints },
  { query: 'overdue', render: renderOverdue },
  { query: 'card_expiry', render: renderCards, params: () => ({ month: monthRange() }) },
  { query: 'stocktake', render: renderStocktake },
  { query: 'complaint_report', render: renderReport },
];

async function refresh() {
  await Promise.all(PANELS.map(async p => {
    const el = document.querySelector('[data-query="' + p.query + '"]');
    let r = await query(p.query, p.params && p.params());
    // a query that takes no such argument: ask again without it
    if (!r.ok && r.code === 'invalid' && p.params) r = await query(p.query);
    if (!r.ok) {
      el.dataset.state = r.code || 'error';
      return empty(el, r.code === 'unknown_command' ? '暂无数据'
        : '暂无数据（' + (r.message || r.code) + '）');
    }
    el.dataset.state = 'ok';
    try { p.render(el, r.result); } catch (e) { empty(el); }
  }));
  document.getElementById('updated').textContent =
    new Date().toLocaleTimeString('zh-CN', { hour12: false });
}

let refreshTimer = null;
function refreshSoon() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => { refreshTimer = null; refresh(); },
                            REFRESH_DELAY);
}

// ---- live events ----

function summary(ev) {
  const d = ev.data || {};
  const parts = [];
  for (const k of ['unit', 'estate', 'building', 'complaint', 'person',
                   'name', 'category', 'bill', 'amount', 'receipt', 'to'])
    if (d[k] != null && typeof d[k] !== 'object')
      parts.push(k === 'amount' ? yuan(d[k]) : String(d[k]));
  return parts.slice(0, 4).join(' · ');
}

function addEvent(type, e) {
  let ev;
  try { ev = JSON.parse(e.data); } catch (x) { return; }
  const list = document.getElementById('events');
  const li = document.createElement('li');
  li.className = 'fresh';
  li.dataset.seq = e.lastEventId;
  li.dataset.type = type;
  const time = (ev.recorded_at || '').slice(11, 19);
  li.innerHTML = '<span class="seq">#' + esc(e.lastEventId) + ' ' + esc(time) +
    '</span><span class="type">' + esc(TYPE_NAMES[type] || type) +
    '</span><span>' + esc(summary(ev)) + '</span>' +
    (type === 'complaint.escalated' ? ' <span class="badge bad">升级</span>' : '');
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
