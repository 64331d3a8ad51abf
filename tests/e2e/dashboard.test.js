// tests/e2e/dashboard.test.js - the dashboard in a real browser: starts
// deskd (manual clock, free ports) in a temporary directory, seeds overdue
// fees with deskctl, opens the page in headless Chromium (Debian's
// /usr/bin/chromium via playwright-core), sends a command with deskctl and
// waits for the page to show it live. Writes a screenshot to
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

function seed(ep) {
  ctl(ep, 'lina', 'estate.register', 'code=HY', 'name=华苑小区');
  ctl(ep, 'lina', 'building.register', 'estate=HY', 'building=3');
  const units = [['1201', '120.50'], ['1202', '89.00'], ['1203', '66.30']];
  for (const [room, area] of units) {
    ctl(ep, 'wangf', 'unit.register', 'estate=HY', 'building=3', 'room=' + room,
        'area=' + area, 'type=residence');
    const p = ctl(ep, 'wangf', 'person.register', 'name=业主' + room,
                  'kind=owner', 'phones=1381234' + room);
    const person = p.events[0].data.person;
    ctl(ep, 'lina', 'unit.transfer', 'unit=HY/3-' + room, 'to=' + person,
        'effective=2025-12-01');
  }
  ctl(ep, 'lina', 'fee.bill_run', 'estate=HY', 'period=2026-03');
  ctl(ep, 'lina', 'fee.bill_run', 'estate=HY', 'period=2026-04');
  ctl(ep, 'admin', 'clock.set', 'to=2026-06-01T09:00:00+08:00');
  ctl(ep, 'wangf', 'fee.pay', 'unit=HY/3-1203', 'amount=16575',
      'method=cash', 'book=A01');
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
    seed(ep);

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
    await page.waitForSelector('[data-query="overdue"][data-state="ok"] .bucket',
                               { timeout: WAIT_MS });
    // queries this deskd does not have yet: shown as "暂无数据"
    const cmp = await page.textContent('[data-query="complaints_open"]');
    if (!/暂无/.test(cmp)) throw new Error('complaints panel: ' + cmp);

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
    // R-GEN-02: no phone number unmasked anywhere on the page
    const body = await page.textContent('body');
    if (/1381234120[0-9]/.test(body)) throw new Error('unmasked phone on page');
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
