// Customers in headless Chromium against `cjm demo`: search the resolved
// profiles (a Vietnamese name typed without diacritics), open a 360 profile
// with its journey stages and timeline, then make two people share a tablet
// through the real collector so a merge waits in the review queue, approve
// it, split it again from the merge log, and look at the privacy page.
// Screenshots go to e2e/screenshots/customers-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { catalog, cjmBin, freePort, sleep, startDemo, tempDir } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, 'screenshots');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const T = { en: catalog('en'), vi: catalog('vi') };

test('customers in headless Chromium: search, profile, review queue, split, privacy', async (t) => {
  cjmBin();
  try {
    accessSync(chromiumPath, constants.X_OK);
  } catch {
    assert.fail(`no Chromium at ${chromiumPath}: install Debian's chromium (.ci/run does) or set CHROMIUM`);
  }
  mkdirSync(shots, { recursive: true });
  const dir = tempDir(t);
  const { url: base, email, password } = await startDemo(t, dir, await freePort(), 300);

  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  t.after(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'vi-VN' });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const complaints = [];
  page.on('console', (m) => { if (m.type() === 'error') complaints.push(`console: ${m.text()}`); });
  page.on('pageerror', (err) => complaints.push(`page error: ${err.message}`));
  page.on('response', (r) => { if (r.status() >= 400) complaints.push(`HTTP ${r.status()}: ${r.url()}`); });
  page.on('dialog', (d) => d.accept());
  const h1 = async () => (await page.locator('main h1').first().innerText()).trim();

  await t.test('log in', async () => {
    await page.goto(`${base}/login`);
    await page.locator('#email').fill(email);
    await page.locator('#password').fill(password);
    await Promise.all([page.waitForURL(`${base}/`), page.locator('form[action="/login"] button[type="submit"]').click()]);
  });

  let profileURL;
  await t.test('search customers by a name typed without diacritics, open a profile', async () => {
    await page.goto(`${base}/customers`);
    assert.equal(await h1(), T.vi('customers.title'));
    // Wait for the profile index to fill (it follows the event store).
    for (let i = 0; i < 60 && await page.locator('a.cu-name').count() === 0; i++) {
      await sleep(500);
      await page.reload();
    }
    assert.ok(await page.locator('a.cu-name').count() > 0, 'the demo customers are listed');
    await page.screenshot({ path: join(shots, 'customers-list-vi.png'), fullPage: true });
    const first = (await page.locator('a.cu-name .strong').first().innerText()).trim();
    const plain = first.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D');
    await page.locator('#cu-q').fill(plain.split(' ').slice(-2).join(' ').toLowerCase());
    await Promise.all([page.waitForLoadState('load'), page.locator('form[role="search"] button[type="submit"]').first().click()]);
    const names = await page.locator('a.cu-name .strong').allInnerTexts();
    assert.ok(names.some((n) => n.trim() === first), `"${plain}" finds "${first}": ${names.slice(0, 5)}`);
    profileURL = await page.locator('a.cu-name', { hasText: first }).first().getAttribute('href');
    await page.goto(base + profileURL);
    assert.equal(await h1(), first);
    await page.waitForSelector('#cu-timeline-h');
    await page.screenshot({ path: join(shots, 'customers-profile-vi.png'), fullPage: true });
  });

  let writeKey;
  await t.test('two people on one shop tablet wait in the review queue', async () => {
    await page.goto(`${base}/sources`);
    await page.locator('table.table tbody tr td a').first().click();
    writeKey = (await page.locator('#write-key').innerText()).trim();
    const send = async (body) => {
      const r = await fetch(`${base}/v1/identify`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` },
        body: JSON.stringify(body),
      });
      assert.equal(r.status, 200, await r.text());
    };
    const stamp = Date.now();
    await send({ messageId: `e2e-${stamp}-1`, userId: `kh-e2e-an-${stamp}`, anonymousId: `tablet-${stamp}`, traits: { name: 'Trần Thị An', email: `an-${stamp}@example.vn` } });
    await send({ messageId: `e2e-${stamp}-2`, userId: `kh-e2e-binh-${stamp}`, anonymousId: `tablet-${stamp}`, traits: { name: 'Lê Văn Bình', email: `binh-${stamp}@example.vn` } });
    let found = false;
    for (let i = 0; i < 60 && !found; i++) {
      await page.goto(`${base}/customers/reviews`);
      found = (await page.locator('main').innerText()).includes(`kh-e2e-binh-${stamp}`);
      if (!found) await sleep(500);
    }
    assert.ok(found, 'the guarded merge is in the review queue');
    const card = page.locator('section.card', { hasText: `kh-e2e-binh-${stamp}` });
    assert.ok((await card.innerText()).includes(`kh-e2e-an-${stamp}`));
    await page.screenshot({ path: join(shots, 'customers-reviews-vi.png'), fullPage: true });

    // Approve: one profile holds both people's ids; then split it again.
    await Promise.all([page.waitForLoadState('load'), card.locator('form[action$="/approve"] button').click()]);
    // The profile index follows the events in the background: wait for it.
    for (let i = 0; i < 60; i++) {
      await page.goto(`${base}/customers?q=${encodeURIComponent(`an-${stamp}@example.vn`)}`);
      if (await page.locator('a.cu-name').count() > 0) break;
      await sleep(500);
    }
    const href = await page.locator('a.cu-name').first().getAttribute('href');
    await page.goto(`${base}${href}`);
    let text = await page.locator('main').innerText();
    assert.ok(text.includes(`kh-e2e-an-${stamp}`) && text.includes(`kh-e2e-binh-${stamp}`), 'the merged profile lists both userIds');
    await page.goto(`${base}${href}/merges`);
    await page.screenshot({ path: join(shots, 'customers-merges-vi.png'), fullPage: true });
    await Promise.all([page.waitForLoadState('load'), page.locator('form[action*="/split"] button').first().click()]);
    await page.goto(`${base}${href}`);
    text = await page.locator('main').innerText();
    assert.ok(!(text.includes(`kh-e2e-an-${stamp}`) && text.includes(`kh-e2e-binh-${stamp}`)), 'after the split one profile holds one person');
  });

  await t.test('the privacy page in English', async () => {
    await page.locator('form.lang-switch button[value="en"]').click();
    await page.waitForLoadState('load');
    await page.goto(`${base}/privacy`);
    assert.equal(await h1(), T.en('privacy.title'));
    await page.screenshot({ path: join(shots, 'customers-privacy-en.png'), fullPage: true });
    await page.goto(base + profileURL);
    await page.screenshot({ path: join(shots, 'customers-profile-en.png'), fullPage: true });
  });

  await t.test('the browser reported no errors', () => {
    assert.deepEqual(complaints, []);
  });
});
