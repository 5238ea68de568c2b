// The live journey map in headless Chromium against `cjm demo`: open the
// demo map "Chị Lan mua online", follow its link to the live numbers, look
// at all time, check the stage numbers and that every chart drew, narrow
// to a persona, switch to English and a phone's width, with no console or
// CSP error on the way. Screenshots go to e2e/screenshots/livemap-*.png
// for a person to look at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { catalog, cjmBin, freePort, startDemo, tempDir, openBrowser } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, 'screenshots');
const T = { en: catalog('en'), vi: catalog('vi') };

test('the live journey map in headless Chromium', async (t) => {
  cjmBin();
  mkdirSync(shots, { recursive: true });
  const dir = tempDir(t);
  const { url: base, email, password } = await startDemo(t, dir, await freePort(), 300);

  const { context, page, complaints } = await openBrowser(t, { viewport: { width: 1440, height: 900 }, timeout: 20_000 });

  // stages reads each stage's customers and go-on rate from the grid.
  const stages = () => page.locator('[data-stage-customers]').evaluateAll((els) => els.map((el) => ({
    key: el.getAttribute('data-stage-customers'),
    customers: Number(el.getAttribute('data-value')),
    next: (document.querySelector(`[data-stage-next="${el.getAttribute('data-stage-customers')}"]`) || {}).textContent || '',
  })));
  // chartsDrawn waits for every chart's canvas and counts the non-blank
  // pixels of each.
  const chartsDrawn = async () => {
    await page.waitForFunction(() => {
      const boxes = [...document.querySelectorAll('[data-chart]')];
      return boxes.length > 0 && boxes.every((b) => b.querySelector('canvas'));
    });
    await page.waitForTimeout(1500); // the charts' entry animation
    return page.locator('[data-chart]').evaluateAll((boxes) => boxes.map((b) => {
      const c = b.querySelector('canvas');
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let ink = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 235 || d[i + 1] < 235 || d[i + 2] < 235)) ink++;
      return { id: b.getAttribute('data-chart'), ink, width: c.width };
    }));
  };

  await t.test('from the demo map to its live numbers', async () => {
    await page.goto(`${base}/login`);
    await page.locator('#email').fill(email);
    await page.locator('#password').fill(password);
    await Promise.all([page.waitForURL(`${base}/`), page.locator('form[action="/login"] button[type="submit"]').click()]);
    await page.goto(`${base}/journeys`);
    await Promise.all([page.waitForURL(/\/journeys\/map_/), page.locator('.jm-card h2 a', { hasText: 'Chị Lan mua online' }).click()]);
    // The measured row fills in from the live numbers of the last 30 days.
    await page.waitForFunction(() => [...document.querySelectorAll('tr.jm-measured [data-measure]')].some((el) => el.textContent.trim() !== '—'));
    const measured = await page.locator('tr.jm-measured [data-measure]').allInnerTexts();
    assert.ok(measured.some((s) => s.includes(T.vi('livemap.measure_next', '').trim())), `measured row: ${measured}`);
    assert.equal(await page.locator('tr.jm-measured a[href$="/live"]').count(), 1, 'the measured row links to the live page');
    await page.locator('.jm-scroll').screenshot({ path: join(shots, 'livemap-measured-row-vi.png') });
    await Promise.all([page.waitForURL(/\/live$/), page.locator('.jm-toolbar a[href$="/live"]').click()]);
    assert.equal((await page.locator('main h1').innerText()).trim(), T.vi('livemap.heading'));
  });

  await t.test('all time: stage numbers and charts', async () => {
    await page.locator('#lm-period').selectOption('all');
    await Promise.all([page.waitForURL(/period=all/), page.locator('form.lm-form button[type="submit"]').click()]);
    const st = await stages();
    assert.ok(st.length >= 4, `stages: ${JSON.stringify(st)}`);
    assert.ok(st[0].customers > 50, `the first stage has customers: ${JSON.stringify(st)}`);
    for (const s of st.slice(0, -1)) assert.match(s.next, /^\d+,\d%$/, `go-on rate of ${s.key}: ${s.next}`);
    // Decreasing-ish: customers also enter later stages on their own (a
    // purchase in a store or on a marketplace), but the later half of the
    // journey has fewer customers than the earlier half, and the last stage
    // fewer than the first.
    const mean = (xs) => xs.reduce((a, s) => a + s.customers, 0) / xs.length;
    const half = Math.floor(st.length / 2);
    assert.ok(mean(st.slice(-half)) < mean(st.slice(0, half)), `stages: ${JSON.stringify(st)}`);
    assert.ok(st[st.length - 1].customers < st[0].customers, `stages: ${JSON.stringify(st)}`);
    const charts = await chartsDrawn();
    assert.equal(charts.length, 3, JSON.stringify(charts));
    for (const c of charts) assert.ok(c.ink > 500, `chart ${c.id} drew (${c.ink} non-blank pixels)`);
    // The emotion lane: the map's line and the surveys' line.
    assert.equal(await page.locator('svg.jm-curve polyline.curve-main').count(), 1);
    assert.equal(await page.locator('svg.jm-curve polyline.curve-measured').count(), 1, 'the demo has survey answers');
    assert.ok(await page.locator('table[data-csv]').count() >= 4);
    assert.ok(await page.locator('.csv-bar button').count() >= 4, 'CSV buttons');
    await page.screenshot({ path: join(shots, 'livemap-vi.png'), fullPage: true });
    // The end of the stage grid, scrolled sideways.
    await page.locator('.lm-scroll').evaluate((el) => { el.scrollLeft = el.scrollWidth; });
    await page.locator('.lm-scroll').screenshot({ path: join(shots, 'livemap-grid-end-vi.png') });
  });

  await t.test('a persona narrows the numbers', async () => {
    const all = (await stages())[0].customers;
    await page.locator('#lm-persona').fill('office');
    await Promise.all([page.waitForURL(/persona=office/), page.locator('form.lm-form button[type="submit"]').click()]);
    const st = await stages();
    assert.ok(st[0].customers > 0 && st[0].customers < all, `office ${st[0].customers} of ${all}`);
    assert.ok(page.url().includes('period=all'), 'the period stays in the shareable URL');
  });

  await t.test('in English, and on a phone', async () => {
    await Promise.all([page.waitForLoadState('load'), page.locator('form.lang-switch button[value="en"]').click()]);
    await page.waitForSelector('form.lm-form');
    assert.equal((await page.locator('main h1').innerText()).trim(), T.en('livemap.heading'));
    assert.ok(page.url().includes('persona=office'), `the filters stay: ${page.url()}`);
    const st = await stages();
    for (const s of st.slice(0, -1)) assert.match(s.next, /^\d+\.\d%$/, `English go-on rate of ${s.key}: ${s.next}`);
    await chartsDrawn();
    await page.screenshot({ path: join(shots, 'livemap-en.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(600);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 1, `the page scrolls sideways by ${overflow}px on a phone`);
    await page.screenshot({ path: join(shots, 'livemap-small-en.png'), fullPage: true });
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  await t.test('no console or CSP errors', () => {
    assert.deepEqual(complaints, []);
  });
});
