// UiBrowserIT's hands on the browser: headless Chromium through playwright-core, driven by one JSON command per
// line on standard input, each answered by one JSON line on standard output ({"ok":true,...} or
// {"ok":false,"error":...}). Every wait has a deadline given by the test. Diagnostics go to standard error.
//   {"cmd":"open","url":U}                      load the page
//   {"cmd":"waitLeader","not":ID,"timeoutMs":N} until the page names a leader other than ID (null: any), whose own
//                                               row says leader; answers {leader, term}
//   {"cmd":"waitRole","member":ID,"role":R,"timeoutMs":N}   until that member's row shows role R
//   {"cmd":"transfer","to":ID,"timeoutMs":N}    pick ID, press the transfer button, wait for the result: {text}
//   {"cmd":"waitState","state":S,"timeoutMs":N} until the connection badge's state is S (live, auth, down...)
//   {"cmd":"token","token":T,"timeoutMs":N}     enter T in the token form (opened first if hidden) and use it
//   {"cmd":"visible","selector":S}              whether S is shown: {visible}
//   {"cmd":"waitFor","selector":S,"timeoutMs":N}   until S is shown
//   {"cmd":"screenshot","path":P}               the whole page as PNG
//   {"cmd":"quit"}
'use strict';

const readline = require('readline');
const { chromium } = require('playwright-core');

const executablePath = process.env.UI_CHROMIUM || '/usr/bin/chromium';
let browser;
let page;

function answer(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

async function leaderShown(not, timeoutMs) {
  const handle = await page.waitForFunction((excluded) => {
    const el = document.getElementById('leader');
    const id = el && el.dataset.leader;
    if (!id || id === excluded) {
      return null;
    }
    const row = document.querySelector('#members tr[data-member="' + CSS.escape(id) + '"]');
    if (!row || row.dataset.role !== 'leader') {
      return null;
    }
    return { leader: id, term: Number(el.dataset.term) };
  }, not || null, { timeout: timeoutMs, polling: 100 });
  return handle.jsonValue();
}

async function run(c) {
  switch (c.cmd) {
    case 'open':
      if (!browser) {
        browser = await chromium.launch({ executablePath, headless: true,
          args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
        const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
        page = await context.newPage();
        page.on('console', (m) => process.stderr.write('[page console] ' + m.type() + ': ' + m.text() + '\n'));
        page.on('pageerror', (e) => process.stderr.write('[page error] ' + e + '\n'));
      }
      await page.goto(c.url, { waitUntil: 'load', timeout: 20000 });
      return { title: await page.title() };
    case 'waitLeader':
      return leaderShown(c.not, c.timeoutMs);
    case 'waitRole':
      await page.waitForFunction((a) => {
        const row = document.querySelector('#members tr[data-member="' + CSS.escape(a.member) + '"]');
        return row && row.dataset.role === a.role;
      }, { member: c.member, role: c.role }, { timeout: c.timeoutMs, polling: 100 });
      return {};
    case 'transfer': {
      await page.waitForSelector('#transfer-panel:not([hidden])', { timeout: c.timeoutMs });
      await page.waitForFunction((to) => Array.prototype.some.call(document.getElementById('transfer-to').options,
        (o) => o.value === to), c.to, { timeout: c.timeoutMs, polling: 100 });
      await page.selectOption('#transfer-to', c.to);
      await page.click('#transfer', { timeout: c.timeoutMs });
      await page.waitForFunction(() => {
        const r = document.getElementById('transfer-result');
        return r && !r.hidden && /^(\d{3} |request failed)/.test(r.textContent);
      }, null, { timeout: c.timeoutMs, polling: 100 });
      return { text: await page.textContent('#transfer-result') };
    }
    case 'waitState':
      await page.waitForSelector('#connection[data-state="' + c.state + '"]', { timeout: c.timeoutMs });
      return {};
    case 'token':
      if (await page.isHidden('#token-panel')) {
        await page.click('#token-change', { timeout: c.timeoutMs });
      }
      await page.fill('#token', c.token, { timeout: c.timeoutMs });
      await page.click('#token-form button[type="submit"]', { timeout: c.timeoutMs });
      return {};
    case 'visible':
      return { visible: await page.isVisible(c.selector) };
    case 'waitFor':
      await page.waitForSelector(c.selector, { timeout: c.timeoutMs });
      return {};
    case 'screenshot':
      await page.screenshot({ path: c.path, fullPage: true });
      return {};
    case 'quit':
      if (browser) {
        await browser.close();
      }
      answer({ ok: true });
      process.exit(0);
      return {};
    default:
      throw new Error('unknown command ' + c.cmd);
  }
}

const lines = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on('line', (line) => {
  if (!line.trim()) {
    return;
  }
  queue = queue.then(async () => {
    try {
      const result = await run(JSON.parse(line));
      answer(Object.assign({ ok: true }, result));
    } catch (e) {
      let state = '';
      try {
        state = page ? await page.evaluate(() => document.getElementById('connection').textContent + ' | leader='
          + document.getElementById('leader').dataset.leader + ' | rows=' + Array.prototype.map.call(
          document.querySelectorAll('#members tbody tr'), (r) => r.dataset.member + ':' + r.dataset.role).join(',')) : '';
      } catch (ignored) {
        // the page is gone
      }
      answer({ ok: false, error: String(e && e.message || e), page: state });
    }
  });
});
lines.on('close', () => {
  queue.then(() => (browser ? browser.close() : null)).then(() => process.exit(0));
});
