// End-to-end, in a real (headless Debian) Chromium against the real server: the provincial
// security officer receives shipment ۱۴۰۵-۰۹۲ through the Persian pages, and a visitor on a
// phone uses the public verification page (photo upload and pasted text).
//
// Needs: the skillcard binary (SKILLCARD_BIN, else $CARGO_TARGET_DIR/debug/skillcard, else
// target/debug/skillcard) and /usr/bin/chromium (CHROMIUM_BIN overrides). Run with
// `node --test` from e2e/ (scripts/test does this). A screenshot goes to e2e/out/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const OUT = path.join(HERE, 'out');
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const PASSWORD = 'skillcard-demo';
const TIMEOUT_MS = 15_000;

function skillcardBin() {
  if (process.env.SKILLCARD_BIN) return path.resolve(process.env.SKILLCARD_BIN);
  const targetDir = process.env.CARGO_TARGET_DIR
    ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR)
    : path.join(ROOT, 'target');
  return path.join(targetDir, 'debug', 'skillcard');
}

async function freePort() {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await once(srv, 'close');
  return port;
}

let server; // child process
let serverLog = '';
let tmpDir;
let browser;
let baseUrl;

async function waitForHealth(url, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  let lastErr;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) {
      throw new Error(`skillcard exited with code ${server.exitCode} before it was healthy:\n${serverLog}`);
    }
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return;
      lastErr = new Error(`/health answered ${res.status}`);
    } catch (e) {
      lastErr = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`skillcard not healthy within ${deadlineMs} ms (${lastErr}):\n${serverLog}`);
}

function stopServer() {
  if (server && server.exitCode === null && server.signalCode === null) {
    server.kill('SIGTERM');
    // Make sure it does not outlive the test run even if it ignores SIGTERM.
    const t = setTimeout(() => server.exitCode === null && server.kill('SIGKILL'), 3000);
    t.unref();
  }
}

// Last resort when the runner is interrupted: never leave a server behind.
process.on('exit', () => {
  if (server && server.exitCode === null) server.kill('SIGKILL');
});

before(async () => {
  const bin = skillcardBin();
  assert.ok(fs.existsSync(bin), `skillcard binary not found at ${bin}; run \`cargo build\` or set SKILLCARD_BIN`);
  assert.ok(fs.existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}; install Debian's chromium`);

  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'skillcard-e2e-'));
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  server = spawn(
    bin,
    ['serve', '--demo', '--listen', `127.0.0.1:${port}`, '--secure-cookies', 'false'],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        DATABASE_URL: `sqlite:${path.join(tmpDir, 'e2e.db')}`,
        RUST_LOG: process.env.RUST_LOG || 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  server.stdout.on('data', (d) => (serverLog += d));
  server.stderr.on('data', (d) => (serverLog += d));
  await waitForHealth(baseUrl, 60_000);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
});

after(async () => {
  try {
    if (browser) await browser.close();
  } finally {
    stopServer();
    if (server && server.exitCode === null && server.signalCode === null) {
      await Promise.race([once(server, 'exit'), new Promise((r) => setTimeout(r, 5000))]);
    }
    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
  }
});

async function fillReceipt(page, { counted, missing }) {
  await page.fill('#counted', counted);
  await page.fill('#missing', missing);
  await page.fill('#damaged', '');
  await page.fill('#deliverer_name', 'رضا کریمی');
  await page.fill('#deliverer_title', 'مأمور پست');
  assert.notEqual(await page.inputValue('#receiver_name'), '', 'receiver name should be prefilled');
  await page.fill('#receiver_title', 'مسئول حراست');
  await page.fill('#remarks', 'دو کارت در بسته نبود.');
  await page.getByRole('button', { name: 'ثبت صورت‌جلسه دریافت' }).click();
  await page.waitForLoadState('load');
}

test('security officer receives shipment ۱۴۰۵-۰۹۲ through the Persian pages', async () => {
  const context = await browser.newContext({ locale: 'fa-IR', viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(TIMEOUT_MS);
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e));
  try {
    // Log in.
    await page.goto(`${baseUrl}/login`);
    assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
    assert.equal(await page.getAttribute('html', 'lang'), 'fa');
    await page.fill('#username', 'security');
    await page.fill('#password', PASSWORD);
    await page.getByRole('button', { name: 'ورود' }).click();
    await page.waitForURL(`${baseUrl}/`);
    assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
    const direction = await page.evaluate(() => getComputedStyle(document.body).direction);
    assert.equal(direction, 'rtl');
    // The Persian web font (fetched by scripts/fetch-fonts, served under /static/fonts) is used.
    const vazirmatn = await page.evaluate(async () => {
      await document.fonts.ready;
      return [...document.fonts].some((f) => f.family.replace(/"/g, '') === 'Vazirmatn' && f.status === 'loaded');
    });
    assert.ok(vazirmatn, 'Vazirmatn was not loaded: run scripts/fetch-fonts');

    // Dashboard: the to-do list links to the shipment waiting to be received.
    const todo = page.getByRole('link', { name: /دریافت محموله ۱۴۰۵-۰۹۲/ });
    await todo.waitFor();
    await todo.click();
    await page.waitForURL(`${baseUrl}/shipments/2`);
    assert.equal((await page.textContent('#status')).trim(), 'در راه');
    fs.mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: path.join(OUT, 'shipment-form.png'), fullPage: true });

    // A wrong count is refused with a Persian message and nothing changes.
    await fillReceipt(page, { counted: '۱۰۰۰', missing: '۱۰۲۰۰۱-۱۰۲۰۰۲' });
    const alert = page.getByRole('alert');
    await alert.waitFor();
    const message = (await alert.textContent()).trim();
    assert.match(message, /تعداد شمارش‌شده/);
    assert.match(message, /برابر نیست/);
    assert.match(message, /۹۹۸/, `expected count (۹۹۸) should appear in Persian digits: ${message}`);
    await page.screenshot({ path: path.join(OUT, 'receipt-error.png'), fullPage: true });
    await page.goto(`${baseUrl}/shipments/2`);
    assert.equal((await page.textContent('#status')).trim(), 'در راه', 'shipment must stay in transit');
    assert.equal(await page.locator('#received-count').count(), 0);

    // The right count, in Persian digits, with two missing serials.
    await fillReceipt(page, { counted: '۹۹۸', missing: '۱۰۲۰۰۱-۱۰۲۰۰۲' });
    await page.waitForURL(`${baseUrl}/shipments/2`);
    assert.equal((await page.textContent('#status')).trim(), 'دریافت‌شده');
    assert.equal((await page.textContent('#received-count')).trim(), '۹۹۸');
    await page.screenshot({ path: path.join(OUT, 'shipment-received.png'), fullPage: true });
    await page.locator('h1').screenshot({ path: path.join(OUT, 'heading.png') });
    await page.locator('.card', { has: page.locator('#received-count') }).screenshot({ path: path.join(OUT, 'receipt-card.png') });

    assert.deepEqual(pageErrors, [], 'no JavaScript errors on the pages');
  } catch (e) {
    try {
      fs.mkdirSync(OUT, { recursive: true });
      await page.screenshot({ path: path.join(OUT, 'failure.png'), fullPage: true });
    } catch {
      // ignore: the original error matters more
    }
    e.message += `\n--- page ${page.url()} ---\n--- server log ---\n${serverLog}`;
    throw e;
  } finally {
    await context.close();
  }
});

test('a visitor on a phone checks a card on the public page, from a photo and from pasted text', async () => {
  const context = await browser.newContext({
    locale: 'fa-IR',
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true,
  });
  context.setDefaultTimeout(TIMEOUT_MS);
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e));
  try {
    await page.goto(`${baseUrl}/verify`);
    assert.equal(await page.getAttribute('html', 'dir'), 'rtl');
    // The photo field asks a phone for its rear camera.
    assert.equal(await page.getAttribute('#photo', 'capture'), 'environment');
    // The page fits the phone's width: nothing scrolls sideways.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);

    // A photo without a QR code (a screenshot of this very page): a Persian error, no verdict.
    const photo = await page.screenshot();
    await page.setInputFiles('#photo', { name: 'card.png', mimeType: 'image/png', buffer: photo });
    await page.getByRole('button', { name: 'بررسی عکس' }).click();
    await page.waitForLoadState('load');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match((await alert.textContent()).trim(), /رمزینه \(QR\) خوانایی پیدا نشد/);
    assert.equal(await page.locator('[data-result]').count(), 0);

    // Pasted text that is not a credential: the verdict says so, in Persian.
    await page.fill('#qr', 'SC1:NOT-A-CARD');
    await page.getByRole('button', { name: 'بررسی کد QR' }).click();
    await page.waitForLoadState('load');
    const verdict = page.locator('[data-result]');
    await verdict.waitFor();
    assert.equal(await verdict.getAttribute('data-result'), 'malformed');
    assert.match((await verdict.textContent()).trim(), /کد یک گواهینامه مهارت نیست/);
    fs.mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: path.join(OUT, 'verify-phone.png'), fullPage: true });
    assert.deepEqual(pageErrors, [], 'no JavaScript errors on the page');
  } catch (e) {
    e.message += `\n--- page ${page.url()} ---\n--- server log ---\n${serverLog}`;
    throw e;
  } finally {
    await context.close();
  }
});
