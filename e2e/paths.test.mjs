// The paths and retention pages in headless Chromium against `cjm demo`:
// the paths from "Product List Viewed" over five steps drawn as a Sankey
// diagram by Apache ECharts under the strict Content-Security-Policy (the
// canvas must hold a drawing), the top paths table and its CSV, the paths
// of who dropped off a funnel step, the weekly retention heatmap and the
// cohort table, both pages in English and on a phone. Screenshots go to
// e2e/screenshots/paths-*.png and retention-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { catalog, cjmBin, freePort, sleep, startDemo, tempDir, openBrowser } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, 'screenshots');
const T = { en: catalog('en'), vi: catalog('vi') };

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

test('paths and retention in headless Chromium: Sankey, top paths, heatmap, cohorts, English, small screen', async (t) => {
  cjmBin();
  mkdirSync(shots, { recursive: true });
  const start = 'Product List Viewed';
  const channels = readFileSync(join(here, '..', 'demo', 'channels.go'), 'utf8');
  assert.ok(channels.includes(`g.vtrack(v, "${start}")`), `the demo tracks "${start}" (demo/channels.go)`);

  const dir = tempDir(t);
  const { url: base, email, password } = await startDemo(t, dir, await freePort(), 300);
  const { context, page, complaints } = await openBrowser(t, { acceptDownloads: true, timeout: 20_000 });
  const h1 = async () => (await page.locator('main h1').first().innerText()).trim();
  const pathsURL = `${base}/analytics/paths?start=${encodeURIComponent(start)}&length=5&period=90`;
  const retentionURL = `${base}/analytics/retention?interval=week&periods=12&period=90`;
  const topRows = () => page.locator('table[data-csv="cjm-paths-top.csv"] tbody tr');
  const cohortRows = () => page.locator('table[data-csv="cjm-retention.csv"] tbody tr');

  await t.test('log in', async () => {
    await page.goto(`${base}/login`);
    await page.locator('#email').fill(email);
    await page.locator('#password').fill(password);
    await Promise.all([page.waitForURL(`${base}/`), page.locator('form[action="/login"] button[type="submit"]').click()]);
  });

  await t.test('the analytics home and the navigation link both pages', async () => {
    await page.goto(`${base}/analytics`);
    for (const href of ['/analytics/paths', '/analytics/retention']) {
      assert.equal(await page.locator(`.an-card a[href="${href}"]`).count(), 1, `a card links ${href}`);
      assert.equal(await page.locator(`nav#sidebar a[href="${href}"]`).count(), 1, `the navigation links ${href}`);
    }
  });

  await t.test('an empty paths page explains paths and offers an example', async () => {
    await page.locator('nav#sidebar a[href="/analytics/paths"]').click();
    await page.waitForURL(`${base}/analytics/paths`);
    assert.equal(await h1(), T.vi('paths.title'));
    assert.equal(await page.locator('nav#sidebar a[aria-current="page"]').innerText(), T.vi('nav.paths'));
    assert.equal((await page.locator('#an-empty-h').innerText()).trim(), T.vi('paths.what_title'));
    await page.screenshot({ path: join(shots, 'paths-empty-vi.png'), fullPage: true });
    await Promise.all([page.waitForURL(/start=/), page.locator('.an-empty a.btn-primary').click()]);
    await topRows().first().waitFor();
  });

  await t.test(`paths from "${start}" over 5 steps: Sankey, top paths, CSV`, async () => {
    // The analytics index follows the demo's events: wait for paths.
    let n = 0;
    for (let i = 0; i < 60; i++) {
      await page.goto(pathsURL);
      n = await topRows().count();
      if (n > 0) break;
      await sleep(500);
    }
    assert.ok(n > 0, 'the top paths table has rows');
    assert.equal(await page.locator('#an-start').inputValue(), start);
    assert.equal(await page.locator('#an-length').inputValue(), '5');
    const first = await topRows().first().locator('th').getAttribute('data-csv-value');
    assert.ok(first.startsWith(start), `a path starts at the start event: ${first}`);
    const counts = await topRows().evaluateAll((rows) => rows.map((r) => Number(r.cells[1].getAttribute('data-csv-value'))));
    for (let i = 1; i < counts.length; i++) assert.ok(counts[i] <= counts[i - 1], `most common first: ${counts}`);

    const sel = '[data-chart="an-spec-paths"]';
    await page.locator(`${sel} canvas`).first().waitFor();
    await sleep(1500); // the entry animation
    const ink = await canvasInk(page, sel);
    assert.ok(ink.ink > 5000, `the Sankey canvas is drawn on: ${JSON.stringify(ink)}`);
    const spec = JSON.parse(await page.locator('#an-spec-paths').textContent());
    assert.equal(spec.kind, 'sankey');
    assert.ok(spec.nodes.some((x) => x.name === start), 'the first column holds the start event');
    assert.ok(spec.nodes.some((x) => x.name.startsWith(T.vi('paths.stopped'))), 'drop-offs are drawn');
    assert.ok(Math.max(...spec.nodes.map((x) => x.depth)) <= 4, 'five columns');
    await page.screenshot({ path: join(shots, 'paths-vi.png'), fullPage: true });
    const chart = page.locator(sel);
    await chart.scrollIntoViewIfNeeded();
    await chart.screenshot({ path: join(shots, 'paths-sankey-vi.png') });

    // The nodes table, under "show the table", has drop-off counts.
    await page.locator('section[aria-labelledby="an-sankey-h"] details summary').click();
    const nodes = await page.locator('table[data-csv="cjm-paths-nodes.csv"] tbody tr').count();
    assert.ok(nodes >= 5, `nodes listed: ${nodes}`);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator('section[aria-labelledby="an-top-h"] .csv-bar button').click(),
    ]);
    assert.equal(download.suggestedFilename(), 'cjm-paths-top.csv');
    const csv = readFileSync(await download.path(), 'utf8');
    assert.ok(csv.startsWith('\ufeff'), 'the CSV starts with a byte order mark');
    const lines = csv.slice(1).trim().split('\r\n');
    assert.equal(lines.length, n + 1, csv);
    assert.ok(lines[1].startsWith(start), lines[1]);
  });

  await t.test('a funnel step links to the paths of who dropped off', async () => {
    const funnel = `${base}/analytics/funnel?steps=${encodeURIComponent(start)}&steps=${encodeURIComponent('Product Viewed')}&steps=${encodeURIComponent('Order Completed')}&period=90`;
    await page.goto(funnel);
    const link = page.locator('table[data-csv="cjm-funnel.csv"] tbody tr').nth(0).locator('td.an-links a[href^="/analytics/paths?"]');
    await Promise.all([page.waitForURL(/\/analytics\/paths\?.*after_step=1/), link.click()]);
    assert.ok((await page.locator('.alert-info').innerText()).includes(T.vi('paths.after_dropped', 1, start, 2, 'Product Viewed')));
    assert.ok(await topRows().count() > 0, 'the drop-offs have paths');
    assert.equal(await page.locator('#an-start').isDisabled(), true);
    await page.locator('[data-chart="an-spec-paths"] canvas').first().waitFor();
    await sleep(1200);
    await page.screenshot({ path: join(shots, 'paths-after-funnel-vi.png'), fullPage: true });
  });

  await t.test('weekly retention: heatmap, curve, cohorts', async () => {
    await page.locator('nav#sidebar a[href="/analytics/retention"]').click();
    await page.waitForURL(`${base}/analytics/retention`);
    assert.equal(await h1(), T.vi('retention.title'));
    await page.goto(retentionURL);
    const rows = await cohortRows().count();
    assert.ok(rows >= 10, `weekly cohorts over 90 days: ${rows}`);
    const sizes = await cohortRows().evaluateAll((rs) => rs.map((r) => Number(r.cells[1].getAttribute('data-csv-value'))));
    assert.ok(sizes.every((s) => s > 0), `every cohort has people: ${sizes}`);
    // Week 0 of a cohort by any event is everyone; the last cohort has
    // not reached week 1.
    const last = await cohortRows().last().evaluate((r) => [...r.cells].slice(2).map((c) => c.getAttribute('data-csv-value')));
    assert.equal(last[0], '100.0');
    assert.equal(last[1], '', `a period not reached yet is blank: ${last}`);
    assert.match(await page.locator('#an-summary-h + p').innerText(), /^Sau \d+ tuần, [\d,]+% khách còn quay lại\.$/);

    for (const sel of ['[data-chart="an-spec-heatmap"]', '[data-chart="an-spec-curve"]']) {
      await page.locator(`${sel} canvas`).first().waitFor();
    }
    await sleep(1500);
    const ink = await canvasInk(page, '[data-chart="an-spec-heatmap"]');
    assert.ok(ink.ink > 2000, `the heatmap canvas is drawn on: ${JSON.stringify(ink)}`);
    assert.ok((await canvasInk(page, '[data-chart="an-spec-curve"]')).ink > 1000, 'the curve is drawn');
    await page.screenshot({ path: join(shots, 'retention-vi.png'), fullPage: true });
    const chart = page.locator('[data-chart="an-spec-heatmap"]');
    await chart.scrollIntoViewIfNeeded();
    await chart.screenshot({ path: join(shots, 'retention-heatmap-vi.png') });
  });

  await t.test('retention by channel', async () => {
    await page.goto(`${retentionURL}&cohort=channel`);
    const labels = await cohortRows().evaluateAll((rs) => rs.map((r) => r.cells[0].textContent.trim()));
    assert.ok(labels.length >= 2, `cohorts by channel: ${labels}`);
    await page.locator('[data-chart="an-spec-heatmap"] canvas').first().waitFor();
    await sleep(1200);
    await page.screenshot({ path: join(shots, 'retention-channel-vi.png'), fullPage: true });
  });

  await t.test('in English, with an error shown by its field', async () => {
    await page.goto(pathsURL);
    await page.locator('form.lang-switch button[value="en"]').click();
    await page.waitForLoadState('load');
    assert.equal(await h1(), T.en('paths.title'));
    await page.locator('[data-chart="an-spec-paths"] canvas').first().waitFor();
    await sleep(1500);
    assert.ok((await canvasInk(page, '[data-chart="an-spec-paths"]')).ink > 5000);
    await page.screenshot({ path: join(shots, 'paths-en.png'), fullPage: true });

    await page.goto(retentionURL);
    assert.equal(await h1(), T.en('retention.title'));
    assert.match(await page.locator('#an-summary-h + p').innerText(), /^After \d+ weeks?, [\d.]+% of customers come back\.$/);
    await page.locator('[data-chart="an-spec-heatmap"] canvas').first().waitFor();
    await sleep(1500);
    assert.ok((await canvasInk(page, '[data-chart="an-spec-heatmap"]')).ink > 2000);
    await page.screenshot({ path: join(shots, 'retention-en.png'), fullPage: true });

    // A bad cleaning rule: 422 (which the browser logs), the error by the field.
    const before = complaints.length;
    await page.goto(`${pathsURL}&clean=${encodeURIComponent('^/san-pham/(=x')}`);
    const expected = complaints.splice(before);
    assert.ok(expected.length <= 2 && expected.every((c) => c.includes('422')), expected.join('\n'));
    assert.ok((await page.locator('#clean-err').innerText()).includes('^/san-pham/('));
    assert.equal(await page.locator('#an-clean').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('details.an-more').getAttribute('open'), '');
    assert.equal(await page.locator('[data-chart]').count(), 0);
    await page.screenshot({ path: join(shots, 'paths-error-en.png'), fullPage: true });
  });

  await t.test('on a phone the charts fit the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [url, sel, name] of [[pathsURL, '[data-chart="an-spec-paths"]', 'paths-small-en.png'],
      [retentionURL, '[data-chart="an-spec-heatmap"]', 'retention-small-en.png']]) {
      await page.goto(url);
      await page.locator(`${sel} canvas`).first().waitFor();
      await sleep(1200);
      const ink = await canvasInk(page, sel);
      assert.ok(ink.cssWidth <= 390 && ink.cssWidth > 200, `the canvas follows the width: ${JSON.stringify(ink)}`);
      assert.ok(ink.ink > 2000);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `the page does not scroll sideways: ${overflow}px`);
      await page.screenshot({ path: join(shots, name), fullPage: true });
    }
    await page.setViewportSize({ width: 1400, height: 900 });
  });

  await t.test('the browser reported no errors (nothing blocked by the CSP)', () => {
    assert.deepEqual(complaints, []);
  });
});
