// tests/e2e/dashboard.test.js - the dashboard in a real browser: starts
// deskd (manual clock, free ports) in a temporary directory, seeds overdue
// fees, complaints and cards with deskctl, opens the page in headless
// Chromium (Debian's /usr/bin/chromium via playwright-core), sends commands
// with deskctl and waits for the page to show them live: the ticker, the
// overdue buckets, a complaint escalated by the manual clock (R-CMP-07) with
// its badge and countdown, the stock-take (R-CMP-06), the category chart
// (R-CMP-11) and a card expiring this month (R-CARD-05), with no contact
// data on the page (R-GEN-02), and the current shift's handover sheet
// (docs/HANDOVER.md). Writes a screenshot to
// $E2E_OUT/dashboard.png. Exits non-zero on any failure.
'use strict';

const { chromium } = require('playwright-core');
const { spawn, execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');
const BUILD = path.resolve(ROOT, process.env.BUILD || 'build');
const DESKD = path.join(BUILD, 'deskd');
const DESKCTL = path.join(BUILD, 'deskctl');
const OUT = path.resolve(ROOT, process.env.E2E_OUT || path.join(BUILD, 'test-output'));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const WAIT_MS = 15000;

function sleep(ms) { return new Promise(r => setTimeout(r, ms)); }

async function waitFor(what, fn) {
  for (let t = 0; t < WAIT_MS; t += 50) {
    const v = fn();
    if (v) return v;
    await sleep(50);
  }
  throw new Error('timed out waiting for ' + what);
}

function writeConfig(dir) {
  const conf = `[deskd]
data_dir = ${dir}/var
commands = tcp://127.0.0.1:*
events = tcp://127.0.0.1:*
http = 127.0.0.1:0
dashboard_dir = ${ROOT}/tools/dashboard
http_actor = dashboard
[time]
clock = manual
manual_start = 2026-03-02T09:00:00+08:00
calendar = ${ROOT}/config/holidays.tsv
[fees]
rates = ${ROOT}/config/fees.tsv
[operators]
admin = admin, 系统管理员
wangf = clerk, 王芳
lina = cs_lead, 李娜
dashboard = clerk, 前台看板
`;
  fs.writeFileSync(path.join(dir, 'deskd.conf'), conf);
}

function endpoints(dir) {
  try {
    const text = fs.readFileSync(path.join(dir, 'var', 'endpoints'), 'utf8');
    const ep = {};
    for (const line of text.split('\n')) {
      const [k, v] = line.split(' ');
      if (k && v) ep[k] = v;
    }
    return ep.commands && ep.http ? ep : null;
  } catch (e) {
    return null;
  }
}

function ctl(ep, actor, ...args) {
  const out = execFileSync(DESKCTL, ['-e', ep.commands, '-a', actor, ...args],
                           { encoding: 'utf8' });
  return JSON.parse(out);
}

// Returns the owner of each room, by room.
function seed(ep) {
  const owners = {};
  ctl(ep, 'lina', 'estate.register', 'code=HY', 'name=华苑小区');
  ctl(ep, 'lina', 'building.register', 'estate=HY', 'building=3');
  const units = [['1201', '120.50'], ['1202', '89.00'], ['1203', '66.30']];
  for (const [room, area] of units) {
    ctl(ep, 'wangf', 'unit.register', 'estate=HY', 'building=3', 'room=' + room,
        'area=' + area, 'type=residence');
    const p = ctl(ep, 'wangf', 'person.register', 'name=业主' + room,
                  'kind=owner', 'phones=1381234' + room);
    const person = p.events[0].data.person;
    owners[room] = person;
    ctl(ep, 'lina', 'unit.transfer', 'unit=HY/3-' + room, 'to=' + person,
        'effective=2025-12-01');
  }
  ctl(ep, 'lina', 'fee.bill_run', 'estate=HY', 'period=2026-03');
  ctl(ep, 'lina', 'fee.bill_run', 'estate=HY', 'period=2026-04');
  ctl(ep, 'admin', 'clock.set', 'to=2026-06-01T09:00:00+08:00');
  ctl(ep, 'wangf', 'fee.pay', 'unit=HY/3-1203', 'amount=16575',
      'method=cash', 'book=A01');
  return owners;
}

// At 2026-06-01 09:00: a tenant whose lease ends 2026-06-20 gets an access
// card (capped at the lease end, R-CARD-01: expires this month) and an
// owner one that runs two years; three complaints: C_lift by phone (reply
// due at the desk's close, 18:00), a letter received 2026-05-20 (last
// month's bar in the chart, open more than 3 days) and a collective one of
// three people (hot, told to 品质部 at once, R-CMP-07).
function seedDesk(ep, owners) {
  const t = ctl(ep, 'wangf', 'person.register', 'name=李租户', 'kind=tenant',
                'phones=13912340001', 'id_no=440301199001011234');
  const tenant = t.events[0].data.person;
  ctl(ep, 'wangf', 'unit.link', 'unit=HY/3-1202', 'person=' + tenant,
      'role=tenant', 'from=2026-03-01', 'to=2026-06-20');
  const c1 = ctl(ep, 'wangf', 'card.issue', 'card=IC0001', 'kind=access',
                 'unit=HY/3-1202', 'holder=' + tenant, 'move_in=true',
                 'docs=id,lease');
  const until = c1.events[c1.events.length - 1].data.until;
  if (until !== '2026-06-20') throw new Error('tenant card until ' + until);
  ctl(ep, 'wangf', 'card.issue', 'card=IC0002', 'kind=access',
      'unit=HY/3-1201', 'holder=' + owners['1201'], 'move_in=true');

  const receive = (...args) =>
    ctl(ep, 'wangf', 'complaint.receive', ...args).events[0].data.complaint;
  const lift = receive('channel=phone', 'unit=HY/3-1201', 'name=王',
                       'contact=13812341201', 'what=3号楼电梯停运',
                       'wants=尽快修复', 'emergency=true');
  ctl(ep, 'wangf', 'complaint.classify', 'complaint=' + lift, 'category=2',
      'cause=machine');
  const wall = receive('channel=letter', 'unit=HY/3-1203', 'what=外墙渗水',
                       'received_at=2026-05-20T10:00:00+08:00');
  ctl(ep, 'wangf', 'complaint.classify', 'complaint=' + wall, 'category=1');
  const noise = receive('channel=walk_in', 'what=夜间施工噪音', 'people=3');
  return { lift, wall, noise, tenant };
}

// The text of one panel.
function panel(page, name) {
  return page.textContent('[data-query="' + name + '"]');
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'deskd-e2e-'));
  let deskd = null, browser = null, ok = false;
  try {
    fs.mkdirSync(path.join(dir, 'var'));
    fs.mkdirSync(OUT, { recursive: true });
    writeConfig(dir);
    const log = fs.openSync(path.join(dir, 'deskd.log'), 'w');
    deskd = spawn(DESKD, ['-c', path.join(dir, 'deskd.conf')],
                  { stdio: ['ignore', log, log] });
    const ep = await waitFor('deskd endpoints', () => endpoints(dir));
    const owners = seed(ep);
    const desk = seedDesk(ep, owners);

    browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--headless', '--disable-gpu',
             '--disable-dev-shm-usage'],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 },
                                         locale: 'zh-CN' });
    const errors = [];
    page.on('pageerror', e => errors.push(String(e)));
    await page.goto('http://' + ep.http + '/', { waitUntil: 'load' });
    await page.waitForSelector('#conn.ok', { timeout: WAIT_MS });
    // R-GEN-04: integer fen shown as yuan with two decimals, exactly
    const shown = await page.evaluate(() =>
      [yuan(123456789), yuan(5), yuan(-150), yuan(0), yuan(100000000000001)]);
    const want = ['¥1,234,567.89', '¥0.05', '-¥1.50', '¥0.00',
                  '¥1,000,000,000,000.01'];
    if (JSON.stringify(shown) !== JSON.stringify(want))
      throw new Error('R-GEN-04: yuan() shows ' + JSON.stringify(shown));
    await page.waitForSelector('[data-query="overdue"][data-state="ok"] .bucket',
                               { timeout: WAIT_MS });
    // every panel has its query and data: no "暂无数据" anywhere
    for (const q of ['calendar', 'complaints_open', 'overdue', 'card_expiry',
                     'stocktake', 'complaint_report', 'handover'])
      await page.waitForSelector('[data-query="' + q + '"][data-state="ok"]',
                                 { timeout: WAIT_MS });
    const none = await page.$$eval('.panel .empty', l => l.map(e =>
      e.closest('.body').dataset.query + ': ' + e.textContent));
    if (none.length) throw new Error('empty panels: ' + none.join('; '));
    // R-GEN-05: the calendar's coverage; on 2026-06-01 no alert yet
    const cal = await page.textContent('[data-query="calendar"]');
    if (!cal.includes('2026-12-31') ||
        (await page.getAttribute('#calendar', 'data-warning')) !== 'false')
      throw new Error('calendar panel: ' + cal);

    // a command from a desk appears live, without reloading
    const before = await page.$$eval('#events li', l => l.length);
    const reply = ctl(ep, 'lina', 'estate.register', 'code=JD',
                      'name=锦都花园');
    const sel = '#events li[data-seq="' + reply.seq + '"]';
    await page.waitForSelector(sel, { timeout: WAIT_MS });
    const text = await page.textContent(sel);
    if (!text.includes('登记小区') || !text.includes('锦都花园'))
      throw new Error('ticker shows: ' + text);
    if ((await page.$$eval('#events li', l => l.length)) <= before)
      throw new Error('ticker did not grow');
    // a payment moves the overdue panel live
    const owed = await page.textContent('[data-query="overdue"]');
    if (!owed.includes('合计 3 户')) throw new Error('overdue shows: ' + owed);
    const paid = ctl(ep, 'wangf', 'fee.pay', 'unit=HY/3-1202',
                     'amount=44500', 'method=cash', 'book=A01');
    await page.waitForSelector('#events li[data-seq="' + paid.seq + '"]',
                               { timeout: WAIT_MS });
    await page.waitForFunction(
      () => document.querySelector('[data-query="overdue"]').textContent
        .includes('合计 2 户'), null, { timeout: WAIT_MS });
    // 交接班 of the shift 08:00-16:00 (docs/HANDOVER.md): cash 165.75 +
    // 445.00 taken since 08:00 (R-GEN-04), two cards issued, three
    // complaints received; the lift's reply due 18:00 is handed to the
    // next shift (16:00-24:00)
    const hoTile = k => '[data-query="handover"] .tile[data-key="' + k +
      '"] .n';
    await page.waitForFunction(sel => {
      const t = document.querySelector(sel);
      return t && t.textContent === '¥610.75';
    }, hoTile('cash_expected'), { timeout: WAIT_MS });
    const ho = await panel(page, 'handover');
    if ((await page.textContent(hoTile('received'))) !== '3' ||
        !ho.includes('06-01 08:00 – 06-01 16:00') || !ho.includes('发卡 2') ||
        !(await page.$('[data-query="handover"] tr[data-key="' + desk.lift +
                       ':missed_reply"]')))
      throw new Error('handover panel: ' + ho);
    // why? on the cash to hand over: the shift's cash payments (R-FEE-03),
    // whose fen sum to it (R-GEN-04), each seq confirmed by log.read
    await page.click('[data-query="handover"] .tile[data-key="cash_expected"]' +
                     ' a.why');
    await page.waitForSelector('#why[data-state="ok"]' +
                               '[data-figure="cash_expected"]',
                               { timeout: WAIT_MS });
    const cash = await page.$$eval('#why tr[data-fen]', l => l.map(r =>
      ({ seq: r.dataset.seq, fen: Number(r.dataset.fen) })));
    const whyCash = await page.textContent('#why');
    if (cash.reduce((n, e) => n + e.fen, 0) !== 61075 ||
        !whyCash.includes('R-FEE-03') || !whyCash.includes('R-GEN-04') ||
        !cash.every(e => ctl(ep, 'admin', 'log.read', 'from=' + e.seq,
          'limit=1').result.events[0].type === 'fee.paid'))
      throw new Error('why cash: ' + JSON.stringify(cash) + ' ' + whyCash);
    await page.click('#why .close');

    // complaints: all three open, the lift's reply due at 18:00 today
    const row = id => '[data-query="complaints_open"] tr[data-complaint="' +
      id + '"]';
    for (const id of [desk.lift, desk.wall, desk.noise])
      await page.waitForSelector(row(id), { timeout: WAIT_MS });
    let lift = await page.textContent(row(desk.lift));
    if (!lift.includes('06-01 18:00') || !lift.includes('首次回复') ||
        !/剩余 \d+时\d\d分\d\d秒/.test(lift) || !lift.includes('紧急') ||
        !lift.includes('设备管理') || lift.includes('升级'))
      throw new Error('lift complaint before 18:00: ' + lift);
    const noise = await page.textContent(row(desk.noise));
    if (!noise.includes('热点') || !noise.includes('品质部') ||
        !noise.includes('3人'))
      throw new Error('hot complaint: ' + noise);
    // R-CMP-07: the reply deadline passes on the manual clock; the
    // escalation to the CS lead shows live, in the row and the ticker
    const moved = ctl(ep, 'admin', 'clock.set',
                      'to=2026-06-01T18:30:00+08:00');
    await page.waitForSelector('#events li[data-seq="' + moved.seq + '"]',
                               { timeout: WAIT_MS });
    await page.waitForFunction(id => [...document.querySelectorAll(
      '#events li[data-type="complaint.escalated"]')].some(li =>
      li.textContent.includes(id + ' · 首次回复') &&
      li.textContent.includes('升级 → 客服主管')), desk.lift,
      { timeout: WAIT_MS });
    await page.waitForFunction(sel => {
      const r = document.querySelector(sel);
      return r && r.textContent.includes('升级·客服主管');
    }, row(desk.lift), { timeout: WAIT_MS });
    lift = await page.textContent(row(desk.lift));
    if (!lift.includes('回复超时') || !/(剩余|已超时) \d+天?\d*时?/.test(lift))
      throw new Error('lift complaint after 18:00: ' + lift);
    const ticker = await page.textContent('#events');
    if (!ticker.includes('升级 → 客服主管'))
      throw new Error('ticker without the escalation: ' + ticker);

    // why? (explain=true over HTTP): the lift's level is explained by its
    // one escalation (R-CMP-07), whose seq log.read confirms
    await page.click(row(desk.lift) + ' a.why[data-figure="level"]');
    await page.waitForSelector('#why[data-state="ok"][data-key="' + desk.lift +
                               '"]', { timeout: WAIT_MS });
    const whySeqs = await page.$$eval('#why tr[data-seq]',
                                      l => l.map(r => r.dataset.seq));
    const whyLevel = await page.textContent('#why');
    const escEv = whySeqs.length === 1 && ctl(ep, 'admin', 'log.read',
      'from=' + whySeqs[0], 'limit=1').result.events[0];
    if (!escEv || escEv.type !== 'complaint.escalated' ||
        escEv.data.complaint !== desk.lift || !whyLevel.includes('R-CMP-07') ||
        !whyLevel.includes('投诉升级'))
      throw new Error('why level: ' + whyLevel);
    // ... and 1201's overdue amount by its two bills of 30,125 fen
    // (120.50 m2 x 250 fen = ¥301.25, R-FEE-02), summing to its ¥602.50
    await page.click('[data-query="overdue"] li[data-unit="HY/3-1201"] a.why');
    await page.waitForSelector('#why[data-state="ok"][data-figure="amount"]',
                               { timeout: WAIT_MS });
    const fens = await page.$$eval('#why table:first-of-type tr[data-fen]',
                                   l => l.map(r => Number(r.dataset.fen)));
    const whyAmount = await page.textContent('#why');
    if (JSON.stringify(fens) !== '[30125,30125]' ||
        !whyAmount.includes('R-FEE-02') || !whyAmount.includes('R-FEE-06') ||
        !whyAmount.includes('¥301.25'))
      throw new Error('why amount: ' + JSON.stringify(fens) + ' ' + whyAmount);

    // stock-take of 2026-06-01: three taken in today (intake counts on the
    // day the desk logs it, so the letter dated 05-20 is one of them),
    // three open, the letter open more than 3 days
    const tile = k => page.textContent(
      '[data-query="stocktake"] .tile[data-key="' + k + '"] .n');
    if ((await tile('received')) !== '3' || (await tile('open')) !== '3' ||
        (await tile('open_3d')) !== '1')
      throw new Error('stock-take: ' + await panel(page, 'stocktake'));
    if (!(await panel(page, 'stocktake')).includes(desk.wall))
      throw new Error('stock-take does not list ' + desk.wall);

    // the chart: June's 设备管理 bar and May's 房屋管理 bar
    const bars = await page.$$eval('[data-query="complaint_report"] rect.bar',
      l => l.map(b => b.dataset.month + '/' + b.dataset.category));
    if (!bars.includes('2026-06/2') || !bars.includes('2026-05/1'))
      throw new Error('chart bars: ' + bars.join(' '));

    // cards: the tenant's card expires 06-20, the owner's in 2028
    const cards = await panel(page, 'card_expiry');
    if (!(await page.$('[data-query="card_expiry"] tr[data-card="IC0001"]')) ||
        !cards.includes('2026-06-20') || !cards.includes('李租户') ||
        cards.includes('IC0002'))
      throw new Error('card panel: ' + cards);

    // R-GEN-02: no phone or ID number anywhere on the page, not even masked
    const body = await page.textContent('body');
    if (/1381234120[0-9]|13912340001|13812341201|4403\d+/.test(body))
      throw new Error('unmasked personal data on page');
    if (/\*\*\*\*/.test(body)) throw new Error('contact field on page');
    // R-GEN-05: within 60 days of the calendar's end, the alert shows and
    // deskd records calendar.coverage_ending (actor system)
    // (the first event after the clock moved, before the escalations)
    const late = ctl(ep, 'admin', 'clock.set', 'to=2026-12-03T09:00:00+08:00');
    await page.waitForSelector('#calendar[data-warning="true"] .alert',
                               { timeout: WAIT_MS });
    const alert = await page.textContent('[data-query="calendar"]');
    if (!alert.includes('仅剩 28 天') || !alert.includes('下一年度'))
      throw new Error('calendar alert: ' + alert);
    const next = ctl(ep, 'admin', 'log.read', 'from=' + (late.seq + 1),
                     'limit=1').result.events[0];
    if (next.type !== 'calendar.coverage_ending' || next.actor !== 'system')
      throw new Error('after clock.set: ' + JSON.stringify(next));
    if (errors.length) throw new Error('page errors: ' + errors.join('; '));
    await sleep(300);
    await page.screenshot({ path: path.join(OUT, 'dashboard.png'),
                            fullPage: true });
    console.log('e2e: dashboard ok; screenshot ' +
                path.join(OUT, 'dashboard.png'));
    ok = true;
  } finally {
    if (browser) await browser.close();
    if (deskd) {
      deskd.kill('SIGTERM');
      await new Promise(r => deskd.exitCode !== null ? r() : deskd.on('exit', r));
    }
    if (!ok) {
      try {
        console.error(fs.readFileSync(path.join(dir, 'deskd.log'), 'utf8'));
      } catch (e) { /* no log */ }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch(e => { console.error('e2e: FAILED: ' + (e.stack || e)); process.exit(1); });
