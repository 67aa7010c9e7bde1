// End-to-end, in a real (headless Debian) Chromium against the real server: the provincial
// security officer receives shipment ۱۴۰۵-۰۹۲ through the Persian pages, a damaged card and a
// replacement go through every office and HQ back to a reprint through the pages (the chip
// written by the workstation command), a visitor on a phone uses the public verification
// page (photo upload and pasted text), and an examiner corrects a candidate the day before the
// exam and is refused on the exam day.
//
// Needs: the skillcard binary (SKILLCARD_BIN, else $CARGO_TARGET_DIR/debug/skillcard, else
// target/debug/skillcard) and /usr/bin/chromium (CHROMIUM_BIN overrides). Run with
// `node --test` from e2e/ (scripts/test does this). A screenshot goes to e2e/out/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
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
    [
      'serve', '--demo', '--listen', `127.0.0.1:${port}`, '--secure-cookies', 'false',
      '--key-dir', path.join(tmpDir, 'keys'),
    ],
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

// --- The API, for setting up what the pages then take over ---------------------------------

async function api(method, p, token, body) {
  const res = await fetch(`${baseUrl}${p}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const tokens = {};
async function token(user) {
  tokens[user] ??= (await api('POST', '/api/v1/tokens', null, { username: user, password: PASSWORD })).token;
  return tokens[user];
}

/** The chip UID of a development card of the file back end (as `FileWriter::uid` makes it). */
function devUid(name) {
  return '04' + crypto.createHash('sha256').update(`skillcard-dev-card:${name}`).digest('hex').slice(0, 12);
}

/** The issuance workstation: `skillcard card write` writes the chip and reports the read-back. */
async function writeChip(args, card) {
  const cardDir = path.join(tmpDir, 'cards');
  await new Promise((resolve, reject) =>
    execFile(
      skillcardBin(),
      ['card', 'write', '--server', baseUrl, ...args, '--card-dir', cardDir, '--card', card],
      { env: { ...process.env, SKILLCARD_TOKEN: tokens.clerk } },
      (err, stdout, stderr) => (err ? reject(new Error(`card write: ${err.message}\n${stderr}`)) : resolve(stdout)),
    ),
  );
}

/** Two approved, passing candidates with certificates and registered cards. */
async function twoRegisteredCards() {
  await token('clerk');
  const province = (await api('GET', '/api/v1/me', await token('head'))).province_id;
  const trade = await api('POST', '/api/v1/trades', await token('hq'), { standard_code: '7421-99', title: 'برق‌کار صنعتی' });
  const centre = await api('POST', '/api/v1/centres', await token('head'), {
    province_id: province, code: 'ESF-E2E', name: 'مرکز آزمون شماره ۹', kind: 'public',
  });
  const examiner = await token('examiner');
  let list = await api('POST', '/api/v1/exam-lists', examiner, { centre_id: centre.id, trade_id: trade.id, exam_date: '۱۴۰۵/۰۹/۱۰' });
  const people = [
    ['0499370899', 'سارا', 'رحیمی', 'حسن', '۱۳۸۰/۰۱/۱۵', '70'],
    ['1234567891', 'مهدی', 'نوری', 'علی', '۱۳۸۲/۱۲/۰۱', '80'],
  ];
  for (const [national_id, first_name, last_name, father_name, birth_date, written_score] of people) {
    list = await api('POST', `/api/v1/exam-lists/${list.id}/candidates`, examiner, {
      national_id, first_name, last_name, father_name, birth_date, written_score,
    });
  }
  await api('POST', `/api/v1/exam-lists/${list.id}/scores`, examiner, {
    scores: people.map(([national_id]) => ({ national_id, score: '85' })),
  });
  await api('POST', `/api/v1/exam-lists/${list.id}/submit`, examiner, {});
  list = await api('POST', `/api/v1/exam-lists/${list.id}/check`, await token('officer'), { accept: true });
  for (const e of list.entries) {
    await api('POST', `/api/v1/exam-entries/${e.id}/decision`, await token('head'), { approve: true });
  }
  await api('PUT', '/api/v1/fees', await token('hq'), { kind: 'issuance', amount_rial: 1_500_000 });
  await api('PUT', '/api/v1/fees', await token('hq'), { kind: 'replacement', amount_rial: 800_000 });
  const out = [];
  for (const [n, e] of list.entries.entries()) {
    await api('POST', `/api/v1/candidates/${e.candidate_id}/payments`, tokens.clerk, { reference: `E2E-${n}`, amount_rial: 1_500_000 });
    const v = await api('POST', `/api/v1/candidates/${e.candidate_id}/certificate`, tokens.clerk, { confirm: true });
    await writeChip(['--certificate', String(v.certificate.id)], `first-${n}`);
    const { items: [p] } = await api('GET', '/api/v1/prints?status=printing', tokens.clerk);
    await api('POST', `/api/v1/prints/${p.id}/inspection`, tokens.clerk, { sound: true });
    await api('POST', `/api/v1/prints/${p.id}/register`, tokens.clerk, {});
    out.push({ candidate: e.candidate_id, first: e.first_name, last: e.last_name });
  }
  return out;
}

// --- The pages ------------------------------------------------------------------------------

const sessions = {};
const pageErrors = [];

/** Clicks a form's button and waits for the page it leads to. */
async function submit(page, button) {
  await Promise.all([page.waitForEvent('load'), button.click()]);
}

async function as(user) {
  if (!sessions[user]) {
    const context = await browser.newContext({ locale: 'fa-IR', viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(TIMEOUT_MS);
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e));
    await page.goto(`${baseUrl}/login`);
    await page.fill('#username', user);
    await page.fill('#password', PASSWORD);
    await page.getByRole('button', { name: 'ورود' }).click();
    await page.waitForURL(`${baseUrl}/`);
    sessions[user] = { context, page };
  }
  return sessions[user].page;
}

async function caseStatus(page) {
  return page.getAttribute('#status', 'data-status');
}

/** A case page as `user`: the step's form is there, submitted after `fill`; the status moves on. */
async function caseStep(user, caseUrl, step, button, expected, fill = async () => {}) {
  const page = await as(user);
  await page.goto(caseUrl);
  const form = page.locator(`form[data-step="${step}"]`);
  assert.equal(await form.count(), 1, `${user} should see the ${step} form on ${caseUrl}`);
  await fill(page);
  await submit(page, form.getByRole('button', { name: button }));
  assert.equal(page.url(), caseUrl);
  assert.equal(await caseStatus(page), expected, `${step} by ${user}`);
}

const MINUTES = { name: 'minutes.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n% signed minutes, scanned\n') };

async function sendAndAuthorize(caseUrl, letterNo) {
  // The clerk waits: the page says for whom.
  const clerk = await as('clerk');
  await clerk.goto(caseUrl);
  assert.equal(await clerk.locator('form[data-step]').count(), 0);
  assert.ok(await clerk.locator('[data-waiting="send_to_hq"]').count(), 'the clerk sees what the case waits for');
  fs.mkdirSync(OUT, { recursive: true });
  await clerk.screenshot({ path: path.join(OUT, `case-waiting-${caseUrl.split('/').pop()}.png`), fullPage: true });
  await caseStep('dg', caseUrl, 'send_to_hq', 'ثبت نامه و ارسال به ستاد', 'sent_to_hq', async (page) => {
    await page.fill('#letter_no', letterNo);
    await page.fill('#letter_date', '۱۴۰۵/۰۹/۰۵');
    await page.setInputFiles('#minutes-scan', MINUTES);
  });
  await caseStep('hq', caseUrl, 'record_arrival', 'نامه و کارت‌های اصلی دریافت شد', 'at_hq');
  await caseStep('hq', caseUrl, 'authorize_reprint', 'صدور مجوز چاپ مجدد', 'authorized');
}

/** The clerk's to-do for the reprint, the print, the workstation's chip, inspection, registration. */
async function reprintFromTheDashboard(holder, card) {
  const page = await as('clerk');
  await page.goto(`${baseUrl}/`);
  const todo = page.getByRole('link', { name: new RegExp(`چاپ کارت گواهینامه .*${holder}`) });
  await todo.waitFor();
  await submit(page, todo);
  assert.match(page.url(), /\/issuance\/\d+#card-prints$/);
  const issuanceUrl = page.url().replace(/#.*$/, '');
  await page.fill('#chip_uid', devUid(card));
  await submit(page, page.locator('form[data-step="start_print"]').getByRole('button', { name: 'شروع چاپ کارت' }));
  const hint = page.locator('[data-step="write_chip"]');
  const printId = (await hint.getAttribute('data-of')).replace('print-', '');
  await writeChip(['--print', printId], card);
  await page.goto(issuanceUrl);
  assert.equal(await page.locator('[data-step="write_chip"]').count(), 0, 'the chip is written');
  await submit(page, page.locator('form[data-step="record_inspection"]').getByRole('button'));
  await submit(page, page.locator('form[data-step="register_serial"]').getByRole('button'));
  assert.equal((await page.textContent(`#print-${printId} .print-status`)).trim(), 'ثبت‌شده');
  return page;
}

test('a damaged card and a replacement go back to a reprint through the pages', async () => {
  try {
    const [damaged, replaced] = await twoRegisteredCards();

    // the clerk reports the card damaged from the certificate's page.
    const clerk = await as('clerk');
    await clerk.goto(`${baseUrl}/issuance/${damaged.candidate}`);
    await submit(clerk, clerk.locator('a[data-step="open_damage_case"]'));
    await clerk.selectOption('#cause-card', 'chip_fault');
    await submit(clerk, clerk.locator('form[data-step="open_damage_case"]').getByRole('button'));
    assert.match(clerk.url(), /\/cases\/\d+$/);
    const damageUrl = clerk.url();
    assert.equal(await caseStatus(clerk), 'open');
    // No print before HQ's authorisation: the page says why.
    await clerk.goto(`${baseUrl}/issuance/${damaged.candidate}`);
    assert.equal(await clerk.locator('form[data-step="start_print"]').count(), 0);
    assert.match(await clerk.textContent('[data-no-print]'), /ستاد|چاپ مجدد/);

    await caseStep('officer', damageUrl, 'review_damage', 'ثبت نتیجه بررسی', 'reviewed', async (page) => {
      await page.fill('#outcome', 'تراشه پاسخ نمی‌دهد؛ ارسال به ستاد');
    });
    await sendAndAuthorize(damageUrl, '۱۲۳/ص');
    const reprinted = await reprintFromTheDashboard(`${damaged.first} ${damaged.last}`, 'reprint-1');
    fs.mkdirSync(OUT, { recursive: true });
    await reprinted.screenshot({ path: path.join(OUT, 'reprint-registered.png'), fullPage: true });

    // Note 4: a replacement with a corrected first name, through the board and HQ.
    await clerk.goto(`${baseUrl}/issuance/${replaced.candidate}`);
    await submit(clerk, clerk.locator('a[data-step="request_replacement"]'));
    await clerk.fill('#reason', 'اشتباه در نام');
    await clerk.fill('#first_name', 'مهدیار');
    await submit(clerk, clerk.locator('form[data-step="request_replacement"]').getByRole('button', { name: 'ثبت درخواست تعویض' }));
    assert.match(clerk.url(), /\/cases\/\d+$/);
    const replacementUrl = clerk.url();
    assert.equal(await caseStatus(clerk), 'requested');
    await caseStep('board', replacementUrl, 'decide_replacement', 'تأیید تعویض', 'approved');
    await caseStep('officer', replacementUrl, 'void_card', 'ابطال کارت قبلی', 'voided');
    await caseStep('clerk', replacementUrl, 'pay_replacement_fee', 'ثبت پرداخت', 'paid', async (page) => {
      await page.fill('#reference', 'FEE-E2E-1');
    });
    await sendAndAuthorize(replacementUrl, '۱۲۴/ص');
    const page = await reprintFromTheDashboard(`مهدیار ${replaced.last}`, 'reprint-2');
    // The correction is on the record the new card was printed from.
    assert.match(await page.textContent('h1'), /مهدیار/);
    await page.screenshot({ path: path.join(OUT, 'replacement-registered.png'), fullPage: true });
    assert.deepEqual(pageErrors, [], 'no JavaScript errors on the pages');
  } catch (e) {
    e.message += `\n--- server log ---\n${serverLog}`;
    throw e;
  } finally {
    for (const { context } of Object.values(sessions)) await context.close();
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

/** Today in Tehran plus `days`, as the Solar Hijri date a user types (1405/09/12). */
function jalali(days) {
  const when = new Date(Date.now() + days * 86_400_000);
  const parts = new Intl.DateTimeFormat('en-u-ca-persian-nu-latn', {
    timeZone: 'Asia/Tehran', year: 'numeric', month: '2-digit', day: '2-digit',
  }).formatToParts(when);
  const part = (type) => parts.find((p) => p.type === type).value.replace(/\D/g, '');
  return `${part('year')}/${part('month')}/${part('day')}`;
}

test('an examiner corrects a candidate the day before the exam, and is refused on the exam day (R-9.1)', async () => {
  const province = (await api('GET', '/api/v1/me', await token('head'))).province_id;
  const trade = await api('POST', '/api/v1/trades', await token('hq'), { standard_code: '7231-98', title: 'مکانیک خودرو' });
  const centre = await api('POST', '/api/v1/centres', await token('head'), {
    province_id: province, code: 'ESF-R91', name: 'مرکز آزمون شماره ۱۱', kind: 'public',
  });
  const examiner = await token('examiner');
  const lists = {};
  for (const [key, days, nationalId] of [['tomorrow', 1, '0012345679'], ['today', 0, '0067749828']]) {
    const list = await api('POST', '/api/v1/exam-lists', examiner, { centre_id: centre.id, trade_id: trade.id, exam_date: jalali(days) });
    lists[key] = await api('POST', `/api/v1/exam-lists/${list.id}/candidates`, examiner, {
      national_id: nationalId, first_name: 'زهرا', last_name: 'احمدي', father_name: 'محمد',
      birth_date: '۱۳۷۹/۰۵/۲۰', written_score: '70',
    });
  }
  const context = await browser.newContext({ locale: 'fa-IR', viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(TIMEOUT_MS);
  const page = await context.newPage();
  try {
    await page.goto(`${baseUrl}/login`);
    await page.fill('#username', 'examiner');
    await page.fill('#password', PASSWORD);
    await page.getByRole('button', { name: 'ورود' }).click();
    await page.waitForURL(`${baseUrl}/`);

    // The day before the exam: the form is on the row, prefilled; the correction is recorded.
    const tomorrow = lists.tomorrow;
    const entry = tomorrow.entries[0];
    await page.goto(`${baseUrl}/exams/${tomorrow.id}`);
    const details = page.locator(`details[data-step="correct_candidate"][data-of="entry-${entry.id}"]`);
    await details.locator('summary').click();
    assert.equal(await page.inputValue(`#last-${entry.id}`), 'احمدی');
    await page.fill(`#last-${entry.id}`, 'احمدی‌نژاد');
    await page.fill(`#why-${entry.id}`, 'درخواست داوطلب: نام خانوادگی ناقص ثبت شده بود');
    await submit(page, details.getByRole('button', { name: 'ثبت اصلاح' }));
    assert.match(page.url(), new RegExp(`/exams/${tomorrow.id}#entry-of-${entry.candidate_id}$`));
    assert.match(await page.textContent(`#entry-of-${entry.candidate_id}`), /احمدی‌نژاد/);

    // On the exam day the page offers no correction, and a correction sent anyway is refused
    // with the clause and the replacement road named.
    const today = lists.today;
    const todayEntry = today.entries[0];
    await page.goto(`${baseUrl}/exams/${today.id}`);
    assert.equal(await page.locator('details[data-step="correct_candidate"]').count(), 0);
    const csrf = await page.getAttribute('input[name="_csrf"]', 'value');
    await Promise.all([
      page.waitForEvent('load'),
      page.evaluate(({ action, csrf }) => {
        const form = document.createElement('form');
        form.method = 'post';
        form.action = action;
        for (const [name, value] of [['_csrf', csrf], ['last_name', 'احمدی‌نژاد'], ['reason', 'درخواست داوطلب']]) {
          const input = document.createElement('input');
          input.name = name;
          input.value = value;
          form.append(input);
        }
        document.body.append(form);
        form.submit();
      }, { action: `/exams/candidates/${todayEntry.candidate_id}/correction`, csrf }),
    ]);
    const body = await page.textContent('body');
    assert.match(body, /بند ۹-۱/);
    assert.match(body, /تبصره ۴/);
    fs.mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: path.join(OUT, 'correction-refused.png'), fullPage: true });
  } catch (e) {
    e.message += `\n--- page ${page.url()} ---\n--- server log ---\n${serverLog}`;
    throw e;
  } finally {
    await context.close();
  }
});
