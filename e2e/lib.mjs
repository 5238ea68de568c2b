// Shared helpers of the end-to-end tests: the real cjm binary (CJM_BIN) run
// as child processes on 127.0.0.1, on throwaway data directories.
import { spawn, execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

export { sleep };

// within resolves as promise does, or rejects with what once ms have passed.
export async function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// cjmBin is the binary under test; a missing one fails the test with the reason.
export function cjmBin() {
  const bin = process.env.CJM_BIN;
  if (!bin) {
    throw new Error('CJM_BIN is not set: build the binary and run `CJM_BIN=/path/to/cjm npm test` (scripts/test does it)');
  }
  try {
    accessSync(bin, constants.X_OK);
  } catch (err) {
    throw new Error(`CJM_BIN=${bin} is not an executable file: ${err.message}`);
  }
  return bin;
}

// tempDir makes a directory removed when the test ends.
export function tempDir(t, prefix = 'cjm-e2e-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// freePort returns a loopback port free right now; tests keep it across restarts.
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// runCjm runs a short cjm command to completion and returns its exit code and output.
export function runCjm(args, { timeout = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile(cjmBin(), args, { timeout, maxBuffer: 512 * 1024 * 1024, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        reject(new Error(`cjm ${args.join(' ')}: ${err.message}${err.killed ? ` (killed after ${timeout} ms)` : ''}\n${stderr}`));
        return;
      }
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
  });
}

// createSource runs `cjm source create --json` and returns the source.
export async function createSource(dir, name) {
  const r = await runCjm(['source', 'create', '--data', dir, '--name', name, '--channel', 'website', '--json']);
  if (r.code !== 0) throw new Error(`source create: exit ${r.code}\n${r.stderr}`);
  const src = JSON.parse(r.stdout);
  if (!src.write_key) throw new Error(`source create printed no write_key: ${r.stdout}`);
  return src;
}

// exportJsonl runs `cjm export --format jsonl` (the server must be stopped)
// and returns the messages.
export async function exportJsonl(dir) {
  const r = await runCjm(['export', '--data', dir, '--format', 'jsonl']);
  if (r.code !== 0) throw new Error(`export: exit ${r.code}\n${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean).map((line, i) => {
    try {
      return JSON.parse(line);
    } catch (err) {
      throw new Error(`export line ${i + 1}: ${err.message}: ${line}`);
    }
  });
}

// Child is a long-running cjm process (serve or demo).
export class Child {
  constructor(args) {
    this.args = args;
    this.output = '';
    this.stdout = '';
    this.proc = spawn(cjmBin(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout.setEncoding('utf8');
    this.proc.stderr.setEncoding('utf8');
    this.proc.stdout.on('data', (s) => { this.stdout += s; this.output += s; });
    this.proc.stderr.on('data', (s) => { this.output += s; });
    this.exit = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => resolve({ code, signal }));
    });
    this.exited = false;
    this.exit.then(() => { this.exited = true; });
  }

  get pid() { return this.proc.pid; }

  // waitFor waits until stdout matches re and returns the match.
  async waitFor(re, timeoutMs = 60_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.stdout.match(re);
      if (m) return m;
      if (this.exited) throw new Error(`cjm ${this.args[0]} exited before printing ${re}:\n${this.output}`);
      if (Date.now() > deadline) throw new Error(`cjm ${this.args[0]} did not print ${re} within ${timeoutMs} ms:\n${this.output}`);
      await sleep(20);
    }
  }

  // waitHealthy waits until GET base/healthz answers 200.
  async waitHealthy(base, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    let last;
    for (;;) {
      if (this.exited) throw new Error(`cjm ${this.args[0]} exited before it was healthy:\n${this.output}`);
      try {
        const r = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) });
        if (r.ok) return;
        last = `status ${r.status}`;
      } catch (err) {
        last = err.cause?.code ?? err.message;
      }
      if (Date.now() > deadline) throw new Error(`${base} not healthy after ${timeoutMs} ms (${last}):\n${this.output}`);
      await sleep(20);
    }
  }

  // kill sends SIGKILL and waits for the process to be gone.
  async kill() {
    if (!this.exited) this.proc.kill('SIGKILL');
    return this.exit;
  }

  // stop sends SIGTERM and waits at most limitMs for the exit; it returns
  // the exit code and how long it took.
  async stop(limitMs = 15_000) {
    const start = Date.now();
    this.proc.kill('SIGTERM');
    try {
      const r = await within(this.exit, limitMs, `cjm ${this.args[0]} exit after SIGTERM`);
      return { ...r, ms: Date.now() - start };
    } catch (err) {
      this.proc.kill('SIGKILL');
      throw new Error(`${err.message}:\n${this.output}`);
    }
  }
}

// startServer runs `cjm serve` on dir and port and waits until it is healthy;
// the test's end kills it if it still runs.
export async function startServer(t, dir, port) {
  const base = `http://127.0.0.1:${port}`;
  const child = new Child(['serve', '--data', dir, '--addr', `127.0.0.1:${port}`]);
  t.after(() => child.kill());
  child.base = base;
  await child.waitHealthy(base);
  return child;
}

// startDemo runs `cjm demo` and returns it with the URL and login it prints.
export async function startDemo(t, dir, port, customers = 300) {
  const child = new Child(['demo', '--data', dir, '--customers', String(customers), '--live=false', '--addr', `127.0.0.1:${port}`]);
  t.after(() => child.kill());
  const [, url] = await child.waitFor(/cjm is running at (http:\/\/\S+)/);
  const [, email, password] = await child.waitFor(/Demo login: (\S+) \/ (\S+)/);
  await child.waitHealthy(url);
  return { child, url, email, password };
}

// catalog reads the UI text of lang from the Go catalog (i18n/LANG.go and
// i18n/LANG_*.go), so the tests follow the translations instead of copying
// them. It returns a lookup that fails the test on a missing key.
export function catalog(lang) {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'i18n');
  const out = {};
  for (const f of readdirSync(dir)) {
    if (f !== `${lang}.go` && !(f.startsWith(`${lang}_`) && f.endsWith('.go'))) continue;
    const src = readFileSync(join(dir, f), 'utf8');
    for (const m of src.matchAll(/"([\w.-]+)":\s*("(?:[^"\\]|\\.)*")/g)) out[m[1]] = JSON.parse(m[2]);
  }
  return (key, ...args) => {
    if (!(key in out)) throw new Error(`i18n has no ${key} in ${lang}`);
    if (args.length === 0) return out[key];
    let i = 0;
    return out[key].replace(/%[sd]/g, (m) => (i < args.length ? String(args[i++]) : m));
  };
}

// openBrowser launches Debian's Chromium (or $CHROMIUM) for test t, closed
// after it, with one page whose console errors and warnings, page errors
// and HTTP errors are collected in complaints (a test ends by checking
// there are none).
export async function openBrowser(t, { viewport = { width: 1400, height: 900 }, locale = 'vi-VN', acceptDownloads = false, timeout = 20_000 } = {}) {
  const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
  try {
    accessSync(chromiumPath, constants.X_OK);
  } catch {
    assert.fail(`no Chromium at ${chromiumPath}: install Debian's chromium (.ci/run does) or set CHROMIUM`);
  }
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  t.after(() => browser.close());
  const context = await browser.newContext({ viewport, locale, acceptDownloads });
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  const complaints = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') complaints.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (err) => complaints.push(`page error: ${err.message}`));
  page.on('response', (r) => { if (r.status() >= 400) complaints.push(`HTTP ${r.status()}: ${r.url()}`); });
  return { browser, context, page, complaints };
}
