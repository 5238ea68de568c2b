// Journey maps in headless Chromium against `cjm demo`: create a map from
// the AARRR template, add a touchpoint with a matcher and a pain point, set
// emotions and see the curve, reorder stages by drag and by keyboard,
// export SVG and PDF, and open the demo's finished maps. Screenshots go to
// e2e/screenshots/map-*.png for a person to look at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { accessSync, constants, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';
import { catalog, cjmBin, freePort, startDemo, tempDir } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const shots = join(here, 'screenshots');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const T = { en: catalog('en'), vi: catalog('vi') };

test('journey maps in headless Chromium: template, edit, reorder, emotions, export', async (t) => {
  cjmBin();
  try {
    accessSync(chromiumPath, constants.X_OK);
  } catch {
    assert.fail(`no Chromium at ${chromiumPath}: install Debian's chromium (.ci/run does) or set CHROMIUM`);
  }
  mkdirSync(shots, { recursive: true });
  const dir = tempDir(t);
  const downloads = tempDir(t, 'cjm-e2e-dl-');
  const { url: base, email, password } = await startDemo(t, dir, await freePort(), 300);

  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  t.after(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'vi-VN', acceptDownloads: true });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const complaints = [];
  page.on('console', (m) => { if (m.type() === 'error' && !expected(m.text())) complaints.push(`console: ${m.text()}`); });
  page.on('pageerror', (err) => complaints.push(`page error: ${err.message}`));
  // The one refusal the test provokes (a broken matcher, 422) is expected.
  const expected = (s) => /422/.test(s);
  page.on('response', (r) => { if (r.status() >= 400 && r.status() !== 422) complaints.push(`HTTP ${r.status()}: ${r.url()}`); });
  page.on('dialog', (d) => d.accept());

  const stageNames = () => page.locator('th.jm-stage .jm-stage-name').allInnerTexts();
  // edited runs action, which posts an edit, and waits for the page to reload.
  const edited = async (action) => {
    await page.evaluate(() => { window.e2eBeforeEdit = true; });
    await action();
    await page.waitForFunction(() => !window.e2eBeforeEdit);
    await page.waitForLoadState('load');
  };

  await t.test('log in and see the demo maps', async () => {
    await page.goto(`${base}/login`);
    await page.locator('#email').fill(email);
    await page.locator('#password').fill(password);
    await Promise.all([page.waitForURL(`${base}/`), page.locator('form[action="/login"] button[type="submit"]').click()]);
    await page.goto(`${base}/journeys`);
    assert.equal((await page.locator('main h1').innerText()).trim(), T.vi('maps.title'));
    const names = await page.locator('.jm-card h2').allInnerTexts();
    assert.ok(names.includes('Chị Lan mua online'), `demo maps listed: ${names}`);
    assert.ok(names.includes('Khách trung thành ở cửa hàng'), `demo maps listed: ${names}`);
    await page.screenshot({ path: join(shots, 'map-list-vi.png'), fullPage: true });
  });

  await t.test('a demo map shows its grid, two emotion curves and evidence', async () => {
    await page.locator('.jm-card h2 a', { hasText: 'Khách trung thành ở cửa hàng' }).click();
    await page.waitForSelector('table.jm-grid');
    assert.equal((await stageNames()).length, 5);
    assert.equal(await page.locator('svg.jm-curve polyline').count(), 2, 'the target and the compared persona each have a curve');
    assert.equal(await page.locator('svg.jm-curve g.jm-point').count(), 10, 'a marker with a shape and label per stage and persona');
    assert.ok(await page.locator('.jm-tp').count() >= 10);
    await page.screenshot({ path: join(shots, 'map-demo-loyal-vi.png'), fullPage: true });
  });

  let mapURL;
  await t.test('create a map from the AARRR template', async () => {
    await page.goto(`${base}/journeys/new`);
    await page.locator('#name').fill('Ứng dụng: khách mới');
    await page.locator('input[name="template"][value="aarrr"]').check();
    await page.screenshot({ path: join(shots, 'map-new-vi.png'), fullPage: true });
    await Promise.all([page.waitForURL(/\/journeys\/map_/), page.locator('form[action="/journeys"] button[type="submit"]').click()]);
    mapURL = page.url();
    assert.deepEqual(await stageNames(), ['Thu hút khách (Acquisition)', 'Kích hoạt (Activation)', 'Giữ chân (Retention)', 'Giới thiệu (Referral)', 'Doanh thu (Revenue)']);
  });

  await t.test('add a touchpoint and a pain point inline', async () => {
    const cell = page.locator('td.jm-dropzone[data-stage="activation"]');
    await cell.locator('button.jm-add').click();
    await edited(async () => {
      await page.keyboard.type('Đăng ký bằng Zalo');
      await page.keyboard.press('Enter');
    });
    assert.ok(await page.locator('td.jm-dropzone[data-stage="activation"] .jm-tp-name', { hasText: 'Đăng ký bằng Zalo' }).count() === 1);
    const painCell = page.locator('tr.jm-row-pain_points td').nth(1);
    await painCell.locator('button.jm-add').click();
    await edited(async () => {
      await page.keyboard.type('Mã OTP đến chậm, khách bỏ cuộc');
      await page.keyboard.press('Enter');
    });
    assert.equal(await page.locator('tr.jm-row-pain_points td').nth(1).locator('.jm-note').innerText().then((s) => s.includes('Mã OTP đến chậm')), true);
    // Edit the stage's customer goal by keyboard: focus, Enter, type, Enter.
    await page.locator('#ed-stage-activation-goal').focus();
    await page.keyboard.press('Enter');
    await edited(async () => {
      await page.keyboard.type('Dùng thử được ngay, không phải chờ');
      await page.keyboard.press('Enter');
    });
    assert.equal((await page.locator('#ed-stage-activation-goal').innerText()).trim(), 'Dùng thử được ngay, không phải chờ');
    assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), 'ed-stage-activation-goal', 'focus comes back after the save');
  });

  await t.test('give the touchpoint a matcher', async () => {
    const tp = page.locator('.jm-tp', { hasText: 'Đăng ký bằng Zalo' });
    await Promise.all([page.waitForURL(/\/part\/touchpoint:/), tp.locator('a', { hasText: T.vi('map.details') }).click()]);
    await page.locator('#tp-channel').selectOption('zalo');
    await edited(() => page.locator('form', { has: page.locator('#tp-channel') }).locator('button').click());
    await page.locator('#match').fill('source: Zalo OA\nany:\n  - event: OA Followed\n  - event: Signed Up\n');
    await edited(() => page.locator('form[action$="/match"] button[type="submit"]').click());
    assert.ok((await page.locator('#match').inputValue()).includes('OA Followed'));
    // A broken matcher is refused with the reason and the text kept.
    await page.locator('#match').fill('event: Signed Up\nwhere:\n  - {field: total, op: gt, value: 5}\n');
    await page.locator('form[action$="/match"] button[type="submit"]').click();
    await page.waitForSelector('.alert-error');
    assert.match(await page.locator('.alert-error').innerText(), /where\[0\]\.field/);
    await page.screenshot({ path: join(shots, 'map-touchpoint-vi.png'), fullPage: true });
    await page.goto(mapURL);
    const card = page.locator('.jm-tp', { hasText: 'Đăng ký bằng Zalo' });
    assert.ok((await card.innerText()).includes(T.vi('tpchannel.zalo')));
    assert.equal(await card.locator('.jm-flag-ok').count(), 1, 'the card shows it has a matcher');
  });

  await t.test('set emotions and see the curve', async () => {
    for (const [stage, score] of [['acquisition', '1'], ['activation', '-2'], ['retention', '0']]) {
      await edited(() => page.locator(`select[data-emotion="${stage}"][data-field="emotion"]`).selectOption(score));
    }
    const scores = await page.locator('svg.jm-curve g.jm-point').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-score')));
    assert.deepEqual(scores, ['1', '-2', '0']);
    const points = await page.locator('svg.jm-curve polyline').getAttribute('points');
    assert.equal(points.split(' ').length, 3);
    // Shapes differ by score, not only colour: +1 a circle, -2 a filled triangle, 0 a diamond.
    assert.equal(await page.locator('g.jm-point[data-score="1"] circle').count(), 1);
    assert.equal(await page.locator('g.jm-point[data-score="-2"] path.mk-fill').count(), 1);
  });

  await t.test('reorder stages by drag and by keyboard', async () => {
    // Mouse drags need both ends on screen: a tall window shows the grid whole.
    await page.setViewportSize({ width: 1440, height: 2200 });
    await edited(() => page.locator('th.jm-stage[data-stage="retention"] .jm-stage-no').dragTo(page.locator('th.jm-stage[data-stage="acquisition"] .jm-stage-no')));
    let names = await stageNames();
    assert.equal(names[0], 'Giữ chân (Retention)', `after the drag: ${names}`);
    const right = page.locator(`th.jm-stage[data-stage="retention"] button[aria-label="${T.vi('map.move_right', 'Giữ chân (Retention)')}"]`);
    await right.focus();
    await edited(() => page.keyboard.press('Enter'));
    names = await stageNames();
    assert.equal(names[1], 'Giữ chân (Retention)', `after the keyboard move: ${names}`);
    // A touchpoint dragged into another stage moves there.
    await edited(() => page.locator('.jm-tp', { hasText: 'Đăng ký bằng Zalo' }).locator('.jm-icon').dragTo(page.locator('td.jm-dropzone[data-stage="acquisition"]')));
    assert.equal(await page.locator('td.jm-dropzone[data-stage="acquisition"] .jm-tp', { hasText: 'Đăng ký bằng Zalo' }).count(), 1);
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.screenshot({ path: join(shots, 'map-aarrr-vi.png'), fullPage: true });
  });

  await t.test('export SVG and PDF', async () => {
    await page.locator('details.jm-menu summary').click();
    const [svgDl] = await Promise.all([page.waitForEvent('download'), page.locator('details.jm-menu a[href$="/export/svg"]').click()]);
    const svgPath = join(downloads, 'map.svg');
    await svgDl.saveAs(svgPath);
    const svg = readFileSync(svgPath, 'utf8');
    assert.match(svg, /^<\?xml|^<svg/);
    for (const s of ['Kích hoạt (Activation)', 'Đăng ký bằng Zalo', 'Mã OTP đến chậm']) assert.ok(svg.includes(s), `the SVG has ${s}`);
    const [pdfDl] = await Promise.all([page.waitForEvent('download'), page.locator('details.jm-menu a[href$="/export/pdf"]').click()]);
    const pdfPath = join(downloads, 'map.pdf');
    await pdfDl.saveAs(pdfPath);
    assert.equal(readFileSync(pdfPath).subarray(0, 5).toString(), '%PDF-');
    let text;
    try {
      text = execFileSync('pdftotext', [pdfPath, '-'], { encoding: 'utf8' });
    } catch (err) {
      t.diagnostic(`pdftotext not available (${err.message}); the PDF's text is not checked`);
    }
    if (text !== undefined) assert.ok(text.includes('Kích hoạt'), 'the PDF has the stage names as text');
    try {
      execFileSync('pdftoppm', ['-png', '-r', '50', '-f', '1', '-l', '1', pdfPath, join(shots, 'map-aarrr-pdf')]);
    } catch (err) {
      t.diagnostic(`pdftoppm not available (${err.message}); no picture of the PDF`);
    }
    const [pngDl] = await Promise.all([page.waitForEvent('download'), page.locator('details.jm-menu a[href$="/export/png"]').click()]);
    const pngPath = join(shots, 'map-aarrr-export.png');
    await pngDl.saveAs(pngPath);
    assert.equal(readFileSync(pngPath).subarray(1, 4).toString(), 'PNG');
  });

  await t.test('the table view and the English UI', async () => {
    await page.goto(`${mapURL}?view=table`);
    assert.ok(await page.locator('table.jm-table caption').count() === 5);
    await page.locator('form.lang-switch button[value="en"]').click();
    await page.waitForLoadState('load');
    await page.goto(mapURL);
    assert.equal((await page.locator('tr.jm-row-pain_points th').innerText()).trim(), T.en('lane.pain_points'));
    await page.screenshot({ path: join(shots, 'map-aarrr-en.png'), fullPage: true });
  });

  await t.test('versions list every save and show the changes', async () => {
    await page.goto(`${mapURL}/versions`);
    assert.ok(await page.locator('table.table tbody tr').count() >= 8);
    await page.locator('table.table tbody tr').first().locator('a').first().click();
    await page.waitForSelector('.jm-changes, main p.muted');
    await page.screenshot({ path: join(shots, 'map-version-en.png'), fullPage: true });
  });

  await t.test('the browser reported no errors', () => {
    assert.deepEqual(complaints, []);
  });
});
