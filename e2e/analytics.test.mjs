// The analytics pages in headless Chromium against `cjm demo`: the home of
// the analyses, the funnel's empty state and its one-click example, a
// four-step shopping funnel of the demo shop drawn by Apache ECharts under
// the strict Content-Security-Policy (the canvas must hold a drawing), its
// table (counts that never grow from one step to the next) and CSV
// download, the people who dropped off, the page in English and on a phone.
// Screenshots go to e2e/screenshots/analytics-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { catalog, cjmBin, freePort, sleep, startDemo, tempDir, openBrowser } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, 'screenshots');
const T = { en: catalog('en'), vi: catalog('vi') };

// The demo shop's web and app shopping events, read from the demo package
// so the test follows the data set.
function demoEvents() {
  const src = readFileSync(join(here, '..', 'demo', 'channels.go'), 'utf8');
  return new Set([...src.matchAll(/g\.vtrack\(v, "([^"]+)"\)/g)].map((m) => m[1]));
}

// canvasInk counts the pixels of a chart's canvas that are drawn on.
async function canvasInk(page, selector) {
  return page.locator(`${selector} canvas`).first().evaluate((c) => {
    const ctx = c.getContext('2d');
    const { data } = ctx.getImageData(0, 0, c.width, c.height);
    let ink = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0 && !(data[i - 3] > 250 && data[i - 2] > 250 && data[i - 1] > 250)) ink++;
    return { ink, width: c.width, height: c.height, cssWidth: c.clientWidth };
  });
}

test('analytics in headless Chromium: home, funnel chart and table, people, English, small screen', async (t) => {
  cjmBin();
  mkdirSync(shots, { recursive: true });
  const events = demoEvents();
  const steps = ['Product Viewed', 'Product Added', 'Checkout Started', 'Order Completed'];
  for (const s of steps) assert.ok(events.has(s), `the demo tracks "${s}" (demo/channels.go)`);

  const dir = tempDir(t);
  const { url: base, email, password } = await startDemo(t, dir, await freePort(), 300);
  const { context, page, complaints } = await openBrowser(t, { acceptDownloads: true, timeout: 20_000 });
  const h1 = async () => (await page.locator('main h1').first().innerText()).trim();
  const funnelURL = `${base}/analytics/funnel?${steps.map((s) => `steps=${encodeURIComponent(s)}`).join('&')}&period=90`;
  const counts = async () => (await page.locator('table[data-csv="cjm-funnel.csv"] tbody tr').evaluateAll((rows) =>
    rows.map((r) => Number(r.cells[1].getAttribute('data-csv-value')))));

  await t.test('log in', async () => {
    await page.goto(`${base}/login`);
    await page.locator('#email').fill(email);
    await page.locator('#password').fill(password);
    await Promise.all([page.waitForURL(`${base}/`), page.locator('form[action="/login"] button[type="submit"]').click()]);
  });

  await t.test('the analytics home lists the analyses', async () => {
    await page.locator('nav#sidebar a[href="/analytics"]').click();
    await page.waitForURL(`${base}/analytics`);
    assert.equal(await h1(), T.vi('analytics.title'));
    assert.equal(await page.locator('nav#sidebar a[aria-current="page"]').innerText(), T.vi('nav.analytics_home'));
    const cards = await page.locator('.an-card h2').allInnerTexts();
    assert.ok(cards.some((c) => c.includes(T.vi('analytics.card_funnels'))), cards.join(' | '));
    assert.ok(cards.some((c) => c.includes(T.vi('analytics.card_live'))), cards.join(' | '));
    await page.screenshot({ path: join(shots, 'analytics-home-vi.png'), fullPage: true });
  });

  await t.test('an empty funnel explains itself and offers an example', async () => {
    await page.locator('.an-card a[href="/analytics/funnel"]').click();
    await page.waitForURL(`${base}/analytics/funnel`);
    assert.equal(await h1(), T.vi('funnel.title'));
    await page.locator('#an-empty-h').waitFor();
    assert.equal(await page.locator('#an-empty-h').innerText(), T.vi('funnel.what_title'));
    await page.screenshot({ path: join(shots, 'analytics-funnel-empty-vi.png'), fullPage: true });
    // The example is a funnel of the two most frequent events.
    await Promise.all([page.waitForURL(/steps=/), page.locator('.an-empty a.btn-primary').click()]);
    const example = await counts();
    assert.equal(example.length, 2, 'the example has two steps');
  });

  await t.test('a four-step shopping funnel: chart, table, CSV', async () => {
    // The analytics index and identity resolution follow the demo's events:
    // wait until the funnel has entrants.
    let c = [];
    for (let i = 0; i < 60; i++) {
      await page.goto(funnelURL);
      c = await counts();
      if (c[0] > 0) break;
      await sleep(500);
    }
    assert.equal(c.length, 4, 'four steps in the table');
    assert.ok(c[0] > 0, `people entered the funnel: ${c}`);
    for (let i = 1; i < c.length; i++) assert.ok(c[i] <= c[i - 1], `step ${i + 1} has no more people than step ${i}: ${c}`);
    assert.ok(c[3] < c[0], `some dropped off: ${c}`);
    // The step inputs show the funnel.
    assert.deepEqual(await page.locator('input[name="steps"]').evaluateAll((is) => is.map((i) => i.value).filter(Boolean)), steps);

    // ECharts drew the funnel on a canvas (the script ran under the CSP).
    await page.locator('[data-chart="an-spec-funnel"] canvas').waitFor();
    await sleep(1200); // the entry animation
    const ink = await canvasInk(page, '[data-chart="an-spec-funnel"]');
    assert.ok(ink.ink > 5000, `the funnel canvas is drawn on: ${JSON.stringify(ink)}`);
    const label = await page.locator('[data-chart="an-spec-funnel"]').getAttribute('aria-label');
    assert.ok(label && label.includes('4'), `the chart is described: ${label}`);
    for (const sel of ['[data-chart="an-spec-over"]', '[data-chart="an-spec-ttc"]']) {
      assert.ok((await canvasInk(page, sel)).ink > 500, `${sel} is drawn`);
    }
    await page.screenshot({ path: join(shots, 'analytics-funnel-vi.png'), fullPage: true });
    // A tooltip (plain text drawn on the canvas: no HTML, no inline style).
    const chart = page.locator('[data-chart="an-spec-funnel"]');
    await chart.scrollIntoViewIfNeeded();
    const box = await chart.boundingBox();
    await chart.hover({ position: { x: box.width * 0.4, y: box.height * 0.6 } });
    await sleep(400);
    await chart.screenshot({ path: join(shots, 'analytics-funnel-tooltip-vi.png') });

    // The table's CSV button downloads the numbers.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('section[aria-labelledby="an-funnel-h"] .csv-bar button').click(),
    ]);
    assert.equal(download.suggestedFilename(), 'cjm-funnel.csv');
    const csv = readFileSync(await download.path(), 'utf8');
    assert.ok(csv.startsWith('\ufeff'), 'the CSV starts with a byte order mark');
    const lines = csv.slice(1).trim().split('\r\n');
    assert.equal(lines.length, 5, csv);
    assert.ok(lines[0].startsWith(`${T.vi('funnel.col_step')},`), lines[0]);
    assert.deepEqual(lines.slice(1).map((l) => Number(l.split(',')[1])), c);
    assert.equal(lines[1].split(',')[0], steps[0]);
  });

  await t.test('the people who dropped off after step 2', async () => {
    await page.goto(funnelURL);
    const link = page.locator('table[data-csv="cjm-funnel.csv"] tbody tr').nth(1).locator('td.an-links a').nth(1);
    await Promise.all([page.waitForURL(/\/analytics\/funnel\/people\?/), link.click()]);
    assert.ok((await h1()).startsWith(T.vi('funnel.step_n', 2)));
    const people = page.locator('main table tbody tr td:first-child a');
    assert.ok(await people.count() > 0, 'people are listed');
    const href = await people.first().getAttribute('href');
    assert.match(href, /^\/customers(\/|\?q=)/);
    await page.screenshot({ path: join(shots, 'analytics-people-vi.png'), fullPage: true });
    const csv = await (await page.request.get(base + await page.locator('a[href*="format=csv"]').getAttribute('href'))).text();
    assert.ok(csv.startsWith('\ufeffid,profile_id,user_id,anonymous_id,session,step,status'), csv.slice(0, 200));
    assert.ok(csv.trim().split('\n').length - 1 >= await people.count(), 'the CSV has everyone on the page');
    await page.goto(base + href);
    assert.equal(page.url().startsWith(`${base}/customers`), true);
  });

  await t.test('a funnel filtered by channel, with the filter as a removable chip', async () => {
    await page.goto(funnelURL);
    const all = await counts();
    await page.locator('details.an-filter > summary').click();
    const channel = page.locator('select[name="channel"]');
    const values = await channel.locator('option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
    assert.ok(values.length > 0, 'the channels of the demo sources are offered');
    await channel.selectOption(values[0]);
    await page.locator('input[name="segment"]').fill('context.campaign.source=facebook');
    await Promise.all([page.waitForURL(/channel=/), page.locator('form.an-form button[type="submit"]').click()]);
    assert.match(page.url(), /segment=context\.campaign\.source%3Dfacebook/);
    const narrowed = await counts();
    assert.equal(narrowed.length, 4);
    for (let i = 0; i < 4; i++) assert.ok(narrowed[i] <= all[i], `the filter narrows step ${i + 1}: ${narrowed} of ${all}`);
    const chips = page.locator('.an-chips a.an-chip');
    assert.equal(await chips.count(), 2, 'a chip per filter');
    assert.ok(await page.locator('details.an-filter').evaluate((d) => d.open), 'the filter block is open');
    await page.screenshot({ path: join(shots, 'analytics-filter-vi.png'), fullPage: true });
    await Promise.all([page.waitForURL((u) => !u.search.includes('channel=')), chips.first().click()]);
    assert.ok(page.url().includes('segment='), 'the other filter stays');
    assert.equal(await page.locator('.an-chips a.an-chip').count(), 1);
  });

  await t.test('in English, with an error shown by its field', async () => {
    await page.goto(funnelURL);
    await page.locator('form.lang-switch button[value="en"]').click();
    await page.waitForLoadState('load');
    assert.equal(await h1(), T.en('funnel.title'));
    await page.locator('[data-chart="an-spec-funnel"] canvas').waitFor();
    await sleep(1200);
    assert.ok((await canvasInk(page, '[data-chart="an-spec-funnel"]')).ink > 5000);
    await page.screenshot({ path: join(shots, 'analytics-funnel-en.png'), fullPage: true });

    // A bad window: the page answers 422 (which the browser logs) and
    // says what is wrong next to the field.
    const before = complaints.length;
    await page.goto(`${funnelURL}&window=0`);
    const expected = complaints.splice(before);
    assert.ok(expected.length <= 2 && expected.every((c) => c.includes('422')), expected.join('\n'));
    assert.equal((await page.locator('#window-err').innerText()).trim(), T.en('funnel.err_window'));
    assert.equal(await page.locator('#an-window').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('[data-chart]').count(), 0);
  });

  await t.test('on a phone the charts fit the screen', async () => {
    await page.goto(funnelURL);
    await page.locator('[data-chart="an-spec-funnel"] canvas').waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
    await sleep(600);
    const ink = await canvasInk(page, '[data-chart="an-spec-funnel"]');
    assert.ok(ink.cssWidth <= 390 && ink.cssWidth > 200, `the canvas follows the width: ${JSON.stringify(ink)}`);
    assert.ok(ink.ink > 2000);
    await page.screenshot({ path: join(shots, 'analytics-funnel-small-en.png'), fullPage: true });
    await page.setViewportSize({ width: 1400, height: 900 });
  });

  await t.test('with reduced motion the charts are drawn at once', async () => {
    await page.emulateMedia({ reducedMotion: 'reduce' });
    await page.goto(funnelURL);
    await page.locator('[data-chart="an-spec-funnel"] canvas').waitFor();
    await sleep(100);
    assert.ok((await canvasInk(page, '[data-chart="an-spec-funnel"]')).ink > 5000);
    await page.emulateMedia({ reducedMotion: null });
  });

  await t.test('the browser reported no errors (nothing blocked by the CSP)', () => {
    assert.deepEqual(complaints, []);
  });
});
