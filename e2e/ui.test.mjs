// The web UI in headless Chromium against `cjm demo`: log in, watch live
// events arrive without a reload, filter them, switch the language, visit
// every data and settings page in English and Vietnamese, and save full-page
// screenshots to e2e/screenshots/ for a person to look at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { catalog, cjmBin, freePort, startDemo, tempDir } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, 'screenshots');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

const T = { en: catalog('en'), vi: catalog('vi') };

test('web UI in headless Chromium: login, live events, filters, languages, pages', async (t) => {
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
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  // Everything the browser complains about: script errors, CSP violations,
  // failed requests, error statuses of the page's own requests.
  const complaints = [];
  page.on('console', (m) => { if (m.type() === 'error') complaints.push(`console: ${m.text()}`); });
  page.on('pageerror', (err) => complaints.push(`page error: ${err.message}`));
  page.on('requestfailed', (r) => {
    if (!r.failure()?.errorText.includes('ERR_ABORTED')) complaints.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => { if (r.status() >= 400) complaints.push(`HTTP ${r.status()}: ${r.url()}`); });

  const goto = async (path) => {
    const r = await page.goto(base + path);
    assert.equal(r.status(), 200, `GET ${path}: ${r.status()}`);
  };
  const h1 = () => page.locator('main h1').first().innerText();
  const navText = (href) => page.locator(`nav#sidebar a[href="${href}"]`).innerText();
  // setLang presses the language button and waits for the page it leads to.
  const setLang = async (lang) => {
    await page.evaluate(() => { window.e2eBeforeLang = true; });
    await page.locator(`form.lang-switch button[value="${lang}"]`).click();
    await page.waitForFunction(() => !window.e2eBeforeLang);
    await page.waitForLoadState('load');
    assert.equal(await page.locator('html').getAttribute('lang'), lang);
  };
  const rowLabels = () => page.locator('#event-rows .row .cell-label').allInnerTexts();
  const send = async (writeKey, kind, body) => {
    const r = await fetch(`${base}/v1/${kind}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}` },
      body: JSON.stringify(body),
    });
    return { status: r.status, body: await r.json() };
  };

  await t.test('log in through the form', async () => {
    await goto('/events');
    assert.match(page.url(), /\/login\?next=/, 'a page that needs a login sends to /login');
    await page.locator('#email').fill(email);
    await page.locator('#password').fill(password);
    await Promise.all([page.waitForURL(`${base}/events`), page.locator('form[action="/login"] button[type="submit"]').click()]);
    await setLang('en');
    assert.equal(await h1(), T.en('events.title'));
  });

  let writeKey, sourceName, sourceHref;
  await t.test('read a write key on a source page', async () => {
    await goto('/sources');
    const link = page.locator('table.table tbody tr td a').first();
    sourceName = await link.innerText();
    sourceHref = await link.getAttribute('href');
    await link.click();
    await page.waitForURL(base + sourceHref);
    assert.equal(await h1(), sourceName);
    writeKey = (await page.locator('#write-key').innerText()).trim();
    assert.ok(writeKey.length >= 16, `write key ${JSON.stringify(writeKey)}`);
  });

  const name = `E2E Live Check ${Date.now()}`;
  await t.test('demo events are listed; a new event appears without a reload', async () => {
    await goto('/events');
    const labels = await rowLabels();
    assert.ok(labels.length >= 20, `the live page lists ${labels.length} demo events`);
    assert.ok(labels.every((l) => l.trim() !== ''), `every row has an event name: ${JSON.stringify(labels.slice(0, 10))}`);
    await page.evaluate(() => { window.e2eNotReloaded = true; });
    const r = await send(writeKey, 'track', { messageId: `ui-${Date.now()}-1`, userId: 'kh-e2e', event: name, properties: { revenue: 1290000, currency: 'VND' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const row = page.locator('#event-rows .row', { has: page.locator('.cell-label', { hasText: name }) });
    await row.waitFor({ state: 'visible', timeout: 8000 });
    // Checked at once: the next poll, 2 s later, sets the status back to "Live".
    assert.equal(await page.locator('[data-live-text]').innerText(), T.en('events.new_count').replace('%d', '1'));
    assert.equal(await page.evaluate(() => window.e2eNotReloaded), true, 'the page was reloaded');
    assert.match(await row.getAttribute('class'), /is-new/);
    assert.equal((await row.locator('.cell-source').innerText()).trim(), sourceName);
    assert.equal((await row.locator('.cell-user').innerText()).trim(), 'kh-e2e');
    assert.equal((await rowLabels())[0], name, 'the new event is on top');
    await row.locator('summary').click();
    const detail = JSON.parse(await row.locator('pre.json code').innerText());
    assert.equal(detail.event, name);
    assert.deepEqual(detail.properties, { revenue: 1290000, currency: 'VND' });
    await page.screenshot({ path: join(shots, 'events-live-en.png'), fullPage: true });
  });

  await t.test('filter by event name, live updates follow the filter', async () => {
    await page.locator('#f-event').fill(name);
    await Promise.all([page.waitForURL(/\/events\?.*event=/), page.locator('form.filters button[type="submit"]').click()]);
    assert.deepEqual(await rowLabels(), [name]);
    await page.evaluate(() => { window.e2eNotReloaded = true; });
    const other = await send(writeKey, 'track', { messageId: `ui-${Date.now()}-2`, userId: 'kh-e2e', event: 'E2E Other Event' });
    const same = await send(writeKey, 'track', { messageId: `ui-${Date.now()}-3`, userId: 'kh-e2e', event: name });
    assert.equal(other.status, 200);
    assert.equal(same.status, 200);
    await page.locator('#event-rows .row').nth(1).waitFor({ state: 'visible', timeout: 8000 });
    assert.deepEqual(await rowLabels(), [name, name], 'only the matching event arrives');
    assert.equal(await page.evaluate(() => window.e2eNotReloaded), true, 'the page was reloaded');

    await goto('/events?event=Order+Completed');
    const labels = await rowLabels();
    assert.ok(labels.length > 0, 'the demo has Order Completed events');
    assert.deepEqual([...new Set(labels)], ['Order Completed']);
    await page.screenshot({ path: join(shots, 'events-filtered-en.png'), fullPage: true });
  });

  await t.test('a rejected event is listed on the rejected events page', async () => {
    const r = await send(writeKey, 'track', { messageId: `ui-${Date.now()}-bad`, userId: 'kh-e2e', properties: { note: 'no event name' } });
    assert.equal(r.status, 400);
    assert.equal(r.body.error?.code, 'missing_event');
    await goto('/rejected');
    const row = page.locator('details.row', { has: page.locator('code.code-tag', { hasText: 'missing_event' }) }).first();
    await row.waitFor({ state: 'visible' });
    assert.equal((await row.locator('.cell-source').innerText()).trim(), sourceName);
    assert.equal((await row.locator('.reason-text').innerText()).trim(), T.en('reason.missing_event'));
  });

  await t.test('switching the language changes the page text', async () => {
    await goto('/events');
    assert.equal(await navText('/events'), T.en('nav.events'));
    await setLang('vi');
    assert.equal(await navText('/events'), T.vi('nav.events'));
    assert.equal(await h1(), T.vi('events.title'));
    assert.equal(await page.locator('[data-live-text]').innerText(), T.vi('events.live'));
    assert.notEqual(T.vi('nav.events'), T.en('nav.events'));
    await setLang('en');
    assert.equal(await navText('/events'), T.en('nav.events'));
  });

  await t.test('small screen: the navigation is a drawer', async () => {
    const mobile = await browser.newContext({
      viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'vi-VN', storageState: await context.storageState(),
    });
    t.after(() => mobile.close());
    const m = await mobile.newPage();
    m.setDefaultTimeout(10_000);
    m.on('pageerror', (err) => complaints.push(`page error (small screen): ${err.message}`));
    const r = await m.goto(`${base}/events`);
    assert.equal(r.status(), 200);
    const sidebar = m.locator('nav#sidebar');
    assert.equal(await sidebar.isVisible(), false, 'the navigation is hidden on a small screen');
    assert.ok(await m.locator('#event-rows .row').count() > 0);
    await m.screenshot({ path: join(shots, 'events-small-en.png'), fullPage: true });
    await m.locator('[data-menu-toggle]').click();
    await sidebar.locator('a[href="/sources"]').waitFor({ state: 'visible' });
    assert.equal(await m.locator('[data-menu-toggle]').getAttribute('aria-expanded'), 'true');
    // The drawer slides in (a 0.2 s transition): wait until it is all in.
    await m.waitForFunction(() => document.querySelector('nav#sidebar').getBoundingClientRect().left === 0);
    await m.waitForTimeout(250);
    await m.screenshot({ path: join(shots, 'menu-small-en.png') });
    await m.keyboard.press('Escape');
    await sidebar.waitFor({ state: 'hidden' });
  });

  await t.test('every page in both languages (screenshots in e2e/screenshots)', async () => {
    const pages = [
      { file: 'overview', path: '/', title: 'overview.title' },
      { file: 'events', path: '/events', title: 'events.title' },
      { file: 'sources', path: '/sources', title: 'sources.title' },
      { file: 'source', path: sourceHref, heading: sourceName },
      { file: 'rejected', path: '/rejected', title: 'rejected.title' },
      { file: 'users', path: '/settings/users', title: 'users.title' },
      { file: 'apikeys', path: '/settings/api-keys', title: 'apikeys.title' },
      { file: 'workspace', path: '/settings/workspace', title: 'workspace.title' },
      { file: 'journeys', path: '/journeys', title: 'maps.title' },
      { file: 'analytics', path: '/analytics', title: 'analytics.title' },
    ];
    for (const lang of ['en', 'vi']) {
      await goto('/');
      await setLang(lang);
      for (const p of pages) {
        await goto(p.path);
        const want = p.heading ?? T[lang](p.title) + (p.badge ? ` ${T[lang](p.badge)}` : '');
        assert.equal((await h1()).replace(/\s+/g, ' ').trim(), want, `${p.path} in ${lang}`);
        assert.equal(await page.locator('nav#sidebar a[aria-current="page"]').count() <= 1, true);
        if (p.file === 'users') assert.ok((await page.locator('main').innerText()).includes(email), 'the users page lists the demo login');
        if (p.file === 'sources') assert.ok(await page.locator('table.table tbody tr').count() >= 2, 'the demo has several sources');
        await page.screenshot({ path: join(shots, `${p.file}-${lang}.png`), fullPage: true });
      }
    }
    await context.clearCookies();
    await goto('/login');
    await page.screenshot({ path: join(shots, 'login-en.png'), fullPage: true });
  });

  await t.test('the browser reported no errors', () => {
    assert.deepEqual(complaints, []);
  });
});
