// SPDX-License-Identifier: GPL-2.0
// Drives Debian's Chromium through the load balancer against the example chat
// (examples/websocket-app): two pages whose WebSockets land on different servers, a message typed
// in one shows in both, and with --kill the server of the first page is killed and the page must
// come back through the load balancer on the survivor and chat again. Run by tests/60-example.bats.
//
//   node chat.mjs --url http://127.0.0.1:PORT/ws --screenshot OUT.png [--kill s1=PID,s2=PID]
//
// Prints "# ..." progress lines (bats shows them on failure) and exits 0 on success, 1 on a failed
// check, 2 on bad usage. Never downloads a browser: playwright-core only drives the one given.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const STEP_MS = 15000;

const { values: opt } = parseArgs({
  options: {
    url: { type: 'string' },
    screenshot: { type: 'string' },
    kill: { type: 'string' },
  },
});
if (!opt.url || !opt.screenshot) {
  console.error('usage: chat.mjs --url URL --screenshot OUT.png [--kill NAME=PID,...]');
  process.exit(2);
}
// "s1=123,s2=456": the pid of each app server, by the name its pages show.
const pids = Object.fromEntries(
  (opt.kill || '')
    .split(',')
    .filter(Boolean)
    .map((kv) => kv.split('='))
    .map(([k, v]) => [k, Number(v)]),
);

const note = (msg) => console.log(`# ${msg}`);
class CheckFailed extends Error {}
const check = (ok, msg) => {
  if (!ok) throw new CheckFailed(msg);
};

// Resolves to the name of the server that answered once the page's WebSocket is open and the
// server said hello; expectNot makes it wait for a server other than that one (after a reconnect).
async function serverOf(page, expectNot = null) {
  await page.waitForFunction(
    (not) => {
      const state = document.getElementById('state').dataset.state;
      const server = document.getElementById('server').textContent;
      return state === 'open' && server !== '-' && server !== not;
    },
    expectNot,
    { timeout: STEP_MS * 2 },
  );
  return page.locator('#server').textContent();
}

async function openPage(ctx, log) {
  const page = await ctx.newPage();
  page.on('console', (m) => log.push(`console ${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.push(`page error: ${e.message}`));
  page.on('websocket', (ws) => {
    log.push(`websocket ${ws.url()}`);
    ws.on('close', () => log.push(`websocket closed ${ws.url()}`));
  });
  const resp = await page.goto(opt.url, { timeout: STEP_MS });
  check(resp && resp.ok(), `GET ${opt.url}: ${resp ? resp.status() : 'no response'}`);
  return page;
}

async function send(page, text) {
  await page.fill('#message', text);
  await page.click('#sendBtn');
}

async function expectLine(page, name, text) {
  await page
    .locator('#output div', { hasText: text })
    .first()
    .waitFor({ timeout: STEP_MS })
    .catch(() => {
      throw new CheckFailed(`page ${name} never showed "${text}"`);
    });
}

// One picture of both pages side by side, composed in a third page from their own screenshots
// (no further request to the load balancer).
async function screenshotBoth(ctx, pages, path) {
  const shots = [];
  for (const p of pages) shots.push((await p.screenshot()).toString('base64'));
  const board = await ctx.newPage();
  await board.setViewportSize({ width: 1300, height: 470 });
  await board.setContent(
    '<body style="margin:0;display:flex;gap:10px;background:#888">' +
      shots.map((b) => `<img style="width:640px" src="data:image/png;base64,${b}">`).join('') +
      '</body>',
  );
  await board.screenshot({ path, fullPage: true });
  await board.close();
}

async function main() {
  const profile = mkdtempSync(join(tmpdir(), 'wsplice-chromium-'));
  const log = [];
  let ctx;
  try {
    // A persistent context is how playwright takes a --user-data-dir of our own: a fresh profile,
    // so no cache or service worker from an earlier run answers instead of the load balancer.
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 640, height: 460 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    note(`chromium ${ctx.browser()?.version() ?? '(persistent context)'}`);

    const a = await openPage(ctx, log);
    const serverA = await serverOf(a);
    note(`page A: tunnel to ${serverA}`);

    // Round robin counts every request of the backend, the page's GET as well as the upgrade, so
    // the second page's tunnel can land on the first one's server. The page's Reconnect button
    // opens a new tunnel, one request, so the balancer's next turn is the other server.
    const b = await openPage(ctx, log);
    let serverB = await serverOf(b);
    note(`page B: tunnel to ${serverB}`);
    for (let i = 0; i < 3 && serverB === serverA; i++) {
      await b.click('#reconnectBtn');
      serverB = await serverOf(b);
      note(`page B, after Reconnect: tunnel to ${serverB}`);
    }
    check(serverB !== serverA, `both pages' tunnels went to ${serverA}`);

    const msg1 = `hello from A via ${serverA} ${Date.now()}`;
    await send(a, msg1);
    await expectLine(a, 'A', `Received: ${msg1}`);
    await expectLine(b, 'B', `Received: ${msg1}`);
    note(`"${msg1}" reached both pages`);

    const msg2 = `and back from B via ${serverB}`;
    await send(b, msg2);
    await expectLine(a, 'A', `Received: ${msg2}`);
    await expectLine(b, 'B', `Received: ${msg2}`);
    note(`"${msg2}" reached both pages`);

    if (opt.kill) {
      const pid = pids[serverA];
      check(pid > 0, `no pid given for ${serverA} in --kill ${opt.kill}`);
      note(`killing ${serverA} (pid ${pid}) under page A`);
      process.kill(pid, 'SIGKILL');
      const again = await serverOf(a, serverA).catch(() => {
        throw new CheckFailed(`page A did not reconnect to a server other than ${serverA}`);
      });
      note(`page A reconnected to ${again}`);
      check(again === serverB, `page A reconnected to ${again}, expected ${serverB}`);
      const msg3 = `A again, now via ${again}`;
      await send(a, msg3);
      await expectLine(a, 'A', `Received: ${msg3}`);
      await expectLine(b, 'B', `Received: ${msg3}`);
      note(`"${msg3}" reached both pages`);
    }

    await screenshotBoth(ctx, [a, b], opt.screenshot);
    note(`screenshot: ${opt.screenshot}`);
  } catch (err) {
    for (const line of log) note(line);
    if (ctx) {
      const pages = ctx.pages();
      for (let i = 0; i < pages.length; i++) {
        const text = await pages[i].locator('body').innerText().catch(() => '?');
        note(`page ${i} text: ${text.replace(/\n/g, ' | ')}`);
      }
      await screenshotBoth(ctx, pages, opt.screenshot).catch(() => {});
    }
    throw err;
  } finally {
    if (ctx) await ctx.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}

// The caller has its own timeout; this one makes a hung browser a clear failure, not a kill.
setTimeout(() => {
  console.error('chat.mjs: timed out after 120 s');
  process.exit(1);
}, 120000).unref();

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`not ok: ${err instanceof CheckFailed ? err.message : err.stack}`);
    process.exit(1);
  },
);
