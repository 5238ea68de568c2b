import { chromium } from 'playwright-core';
const base = process.argv[2], out = process.argv[3];
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu','--disable-background-networking','--disable-component-update','--disable-sync','--no-first-run'] });
const p = await b.newPage({ viewport: { width: 1400, height: 900 } });
await p.goto(base + '/login');
await p.fill('input[name=email]', 'demo@cjm.local');
await p.fill('input[name=password]', 'demo1234');
await p.press('input[name=password]', 'Enter');
await p.waitForLoadState('networkidle');
for (const path of ['/', '/events', '/sources']) {
  await p.goto(base + path); await p.waitForLoadState('networkidle');
  await p.screenshot({ path: `${out}${path.replace(/\//g,'_') || '_'}.png`, fullPage: false });
}
await b.close();
