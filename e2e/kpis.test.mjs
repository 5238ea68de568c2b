// The KPI dashboard in headless Chromium against `cjm demo`: the AARRR
// cards with their sparklines, the per-channel table, repeat versus new
// customers with the demo's uplift (repeat orders are about 30% larger),
// the settings page, English, and nothing blocked by the CSP.
// Screenshots go to e2e/screenshots/kpis-*.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { catalog, cjmBin, freePort, startDemo, tempDir, openBrowser } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, 'screenshots');
const T = { en: catalog('en'), vi: catalog('vi') };

test('KPI dashboard in headless Chromium: cards, sparklines, channels, repeat vs new, settings, English', async (t) => {
  cjmBin();
  mkdirSync(shots, { recursive: true });
  const dir = tempDir(t);
  const { url: base, email, password } = await startDemo(t, dir, await freePort(), 1500);
  const { context, page, complaints } = await openBrowser(t, { timeout: 30_000 });
  const h1 = async () => (await page.locator('main h1').first().innerText()).trim();

  await t.test('log in', async () => {
    await page.goto(`${base}/login`);
    await page.locator('#email').fill(email);
    await page.locator('#password').fill(password);
    await Promise.all([page.waitForURL(`${base}/`), page.locator('form[action="/login"] button[type="submit"]').click()]);
  });

  await t.test('the dashboard over 90 days', async () => {
    await page.goto(`${base}/analytics/kpis?period=90`);
    assert.equal(await h1(), T.vi('kpi.title'));
    const cards = page.locator('li.kpi-card');
    assert.ok(await cards.count() >= 10, `${await cards.count()} KPI cards`);
    for (const key of ['new_customers', 'conversion_rate', 'aov', 'retention_rate', 'nps', 'ltv']) {
      assert.equal(await page.locator(`li.kpi-card[data-kpi="${key}"]`).count(), 1, `a card for ${key}`);
    }
    // Sparklines are drawn.
    await page.waitForFunction(() => document.querySelectorAll('.kpi-spark canvas').length > 5);
    const ink = await page.locator('.kpi-spark canvas').first().evaluate((c) => {
      const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
      return n;
    });
    assert.ok(ink > 50, `the first sparkline has ${ink} drawn pixels`);
    // The channels table and its CSV button.
    assert.ok(await page.locator('table[data-csv="cjm-kpi-channels.csv"] tbody tr').count() >= 2, 'several acquisition channels');
    // Repeat versus new: the demo's story, repeat orders larger.
    const uplift = await page.locator('.kpi-uplift').innerText();
    const pct = Number((uplift.match(/(\d+(?:,\d+)?)\s*%/) || [])[1]?.replace(',', '.'));
    assert.ok(pct > 10 && pct < 60, `uplift sentence: ${uplift}`);
    await page.screenshot({ path: join(shots, 'kpis-vi.png'), fullPage: true });
  });

  await t.test('the settings page', async () => {
    await page.goto(`${base}/analytics/kpis/settings`);
    assert.equal(await page.locator('main form').count() >= 2, true, 'the settings form and the spend upload');
    await page.screenshot({ path: join(shots, 'kpis-settings-vi.png'), fullPage: true });
  });

  await t.test('in English', async () => {
    await context.addCookies([{ name: 'lang', value: 'en', url: base }]);
    await page.goto(`${base}/analytics/kpis?period=90`);
    assert.equal(await h1(), T.en('kpi.title'));
    await page.screenshot({ path: join(shots, 'kpis-en.png'), fullPage: true });
  });

  await t.test('no console errors, nothing blocked', async () => {
    assert.deepEqual(complaints, []);
  });
});
