// The insights page in headless Chromium against `cjm demo`: the feed of
// findings surfaces the demo's stories — the login wall (a change point in
// Product List Viewed → Product Viewed on the website), the double-day sale
// (a spike) and, over all time, the overloaded hotline (a spike of
// abandoned calls) — each card links to the funnel that shows it, the
// table of the findings downloads as CSV, the page works in English and on
// a phone, and nothing is blocked by the Content-Security-Policy.
// Screenshots go to e2e/screenshots/insights-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { catalog, cjmBin, freePort, startDemo, tempDir, openBrowser } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, 'screenshots');
const T = { en: catalog('en'), vi: catalog('vi') };

test('insights in headless Chromium: the demo stories, links, table, English, small screen', async (t) => {
  cjmBin();
  mkdirSync(shots, { recursive: true });
  const dir = tempDir(t);
  // Enough customers for the hotline's abandoned calls to stand out.
  const { url: base, email, password } = await startDemo(t, dir, await freePort(), 3000);
  const { context, page, complaints } = await openBrowser(t, { acceptDownloads: true, timeout: 30_000 });
  const h1 = async () => (await page.locator('main h1').first().innerText()).trim();
  const cards = (kind) => page.locator(`ol.ins-feed > li[data-kind="${kind}"]`);

  await t.test('log in', async () => {
    await page.goto(`${base}/login`);
    await page.locator('#email').fill(email);
    await page.locator('#password').fill(password);
    await Promise.all([page.waitForURL(`${base}/`), page.locator('form[action="/login"] button[type="submit"]').click()]);
  });

  await t.test('the navigation and the analytics home lead to the insights', async () => {
    await page.goto(`${base}/analytics`);
    await Promise.all([page.waitForURL(`${base}/analytics/insights`), page.locator(`main a[href="/analytics/insights"]`).click()]);
    assert.equal(await h1(), T.vi('insights.title'));
    assert.equal(await page.locator('nav#sidebar a[href="/analytics/insights"]').getAttribute('aria-current'), 'page');
  });

  await t.test('the last 90 days: the login wall and the sale', async () => {
    assert.equal(await page.locator('#ins-period').inputValue(), '90');
    assert.ok(await page.locator('.ins-how').isVisible());
    // The login wall: the conversion from the product list to a product
    // fell on the website.
    const wall = cards('change').filter({ hasText: 'Product List Viewed → Product Viewed' });
    assert.ok(await wall.count() >= 1, 'a change point in Product List Viewed → Product Viewed');
    const sentences = await wall.locator('.ins-sentence').allInnerTexts();
    assert.ok(sentences.some((s) => s.includes('giảm từ') && /nguồn|thiết bị/.test(s)), sentences.join('\n'));
    assert.ok(sentences.some((s) => /\d{2}\/\d{2}\/\d{4}/.test(s) && /\d+%/.test(s)), sentences.join('\n'));
    // The double-day sale: a spike of visits and orders on the same days.
    assert.ok(await cards('spike').count() >= 1, 'a spike card');
    const spike = cards('spike').first();
    assert.match(await spike.locator('.ins-sentence').innerText(), /tăng vọt/);
    assert.equal(await spike.locator('.ins-bars .ins-bar-row').count(), 2);
    await page.screenshot({ path: join(shots, 'insights-top-vi.png') });
    await page.screenshot({ path: join(shots, 'insights-vi.png'), fullPage: true });
    await wall.first().screenshot({ path: join(shots, 'insights-card-change-vi.png') });
    await spike.screenshot({ path: join(shots, 'insights-card-spike-vi.png') });
  });

  await t.test('a change point links to its funnel by day', async () => {
    const wall = cards('change').filter({ hasText: 'Product List Viewed → Product Viewed' }).first();
    const link = wall.locator('.ins-links a', { hasText: T.vi('insights.link_funnel') });
    const href = await link.getAttribute('href');
    const q = new URL(href, base).searchParams;
    assert.deepEqual(q.getAll('steps'), ['Product List Viewed', 'Product Viewed']);
    assert.equal(q.get('period'), 'custom');
    assert.equal(q.get('interval'), 'day');
    assert.match(q.get('from'), /^\d{4}-\d{2}-\d{2}$/);
    await Promise.all([page.waitForURL(/\/analytics\/funnel\?/), link.click()]);
    assert.equal(await h1(), T.vi('funnel.title'));
    await page.locator('[data-chart="an-spec-over"] canvas').waitFor();
    assert.equal(await page.locator('.field-error').count(), 0);
    await page.goBack();
  });

  await t.test('the table of the findings downloads as CSV', async () => {
    const n = await page.locator('ol.ins-feed > li').count();
    await page.locator('.ins-table-card details summary').click();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('.ins-table-card .csv-bar button').click(),
    ]);
    assert.equal(download.suggestedFilename(), 'cjm-insights.csv');
    const csv = readFileSync(await download.path(), 'utf8');
    assert.ok(csv.startsWith('\ufeff'));
    const lines = csv.slice(1).trim().split('\r\n');
    assert.equal(lines.length, n + 1, 'a line a finding');
    assert.ok(lines[0].startsWith(`${T.vi('insights.col_rank')},${T.vi('insights.col_kind')},`), lines[0]);
    assert.ok(lines.some((l) => l.includes('Product List Viewed → Product Viewed')), 'the change point is in the CSV');
  });

  await t.test('all time: the overloaded hotline', async () => {
    await page.locator('#ins-period').selectOption('all');
    await Promise.all([page.waitForURL(/period=all/), page.locator('form.ins-form button[type="submit"]').click()]);
    const hotline = cards('spike').filter({ hasText: 'Call Abandoned' });
    assert.ok(await hotline.count() >= 1, 'a spike of Call Abandoned');
    const events = hotline.first().locator('.ins-links a', { hasText: T.vi('insights.link_events') });
    assert.match(await events.getAttribute('href'), /^\/events\?event=Call\+Abandoned$/);
    await hotline.first().screenshot({ path: join(shots, 'insights-card-hotline-vi.png') });
  });

  await t.test('in English', async () => {
    await page.goto(`${base}/analytics/insights`);
    await page.locator('form.lang-switch button[value="en"]').click();
    await page.waitForLoadState('load');
    assert.equal(await h1(), T.en('insights.title'));
    const wall = cards('change').filter({ hasText: 'Product List Viewed → Product Viewed' });
    assert.ok(await wall.count() >= 1);
    assert.match(await wall.first().locator('.ins-sentence').innerText(), /fell from \d+% to \d+% as of [A-Z][a-z]{2} \d{1,2}, \d{4}/);
    assert.ok(await wall.first().locator('.ins-links a', { hasText: T.en('insights.link_funnel') }).count() === 1);
    assert.match(await cards('spike').first().locator('.ins-sentence').innerText(), /spiked/);
    await page.screenshot({ path: join(shots, 'insights-en.png'), fullPage: true });
  });

  await t.test('dates in the wrong order are shown by their field', async () => {
    const before = complaints.length;
    await page.goto(`${base}/analytics/insights?period=custom&from=2026-09-02&to=2026-09-01`);
    const expected = complaints.splice(before);
    assert.ok(expected.length <= 2 && expected.every((c) => c.includes('422')), expected.join('\n'));
    assert.equal((await page.locator('#to-err').innerText()).trim(), T.en('funnel.err_date_order'));
    assert.equal(await page.locator('#ins-to').getAttribute('aria-invalid'), 'true');
    assert.ok(await page.locator('#ins-to').isVisible(), 'the custom dates show');
    assert.equal(await page.locator('ol.ins-feed').count(), 0);
    await page.screenshot({ path: join(shots, 'insights-error-en.png'), fullPage: true });
  });

  await t.test('on a phone the cards fit the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/analytics/insights`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow}px`);
    await page.screenshot({ path: join(shots, 'insights-small-en.png'), fullPage: false });
    await page.setViewportSize({ width: 1400, height: 900 });
  });

  await t.test('the browser reported no errors (nothing blocked by the CSP)', () => {
    assert.deepEqual(complaints, []);
  });
});
