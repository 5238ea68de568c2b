// Segment's Node client (@segment/analytics-node) against the real collector:
// 10,000 track/identify/page calls, the server SIGKILLed once mid-stream and
// restarted on the same port and data directory; every message must be
// stored exactly once, as sent.
//
// What analytics-node 3.1.0 does (src/plugins/segmentio/publisher.ts): a
// batch is sent when it holds flushAt events or flushInterval ms after its
// first; each batch is its own concurrent request. Network errors, 5xx
// (except 501, 505, 511), 408, 410, 429 and 460 are retried, other 4xx drop
// the batch; a retry waits backoff(attempt) = (1..2) x 500 ms x 2^attempt, and
// after maxRetries counted retries the batch is dropped (the callback gets
// the error). closeAndFlush waits for every pending event, retries included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Analytics } from '@segment/analytics-node';
import { cjmBin, createSource, exportJsonl, freePort, sleep, startServer, tempDir, within } from './lib.mjs';

const N = 10_000;
const trackNames = ['Product Viewed', 'Product Added', 'Checkout Started', 'Order Completed'];

const id = (n) => `node-e2e-${String(n).padStart(5, '0')}`;
const user = (n) => `kh-${String(n % 500).padStart(4, '0')}`;
const trackProps = (n) => ({
  n, sku: `TUI-${String(n % 97).padStart(3, '0')}`, price: 1290000 + n, currency: 'VND',
  title: 'Túi xách da “Mây” — size M', tags: ['túi', 'da'], nested: { color: 'nâu', size: 'M' },
});

// message is the call the test makes for n: mostly track, every tenth an
// identify, every tenth a page.
function message(n) {
  switch (n % 10) {
    case 7:
      return { type: 'identify', params: { messageId: id(n), userId: user(n), traits: { name: 'Nguyễn Thị Mai', email: `${user(n)}@example.vn` } } };
    case 9:
      return { type: 'page', params: { messageId: id(n), anonymousId: `anon-${n}`, name: 'Trang chủ', properties: { path: '/', title: 'Mây Boutique' } } };
    default:
      return { type: 'track', params: { messageId: id(n), userId: user(n), event: trackNames[n % trackNames.length], properties: trackProps(n) } };
  }
}

test('analytics-node: 10,000 messages, server SIGKILLed and restarted mid-stream, each stored once', async (t) => {
  cjmBin();
  const dir = tempDir(t);
  const { write_key: writeKey } = await createSource(dir, 'Node');
  const port = await freePort();
  let server = await startServer(t, dir, port);

  // The real fetch, counting network errors and the messages the collector
  // answers as already stored (a batch it stored before the kill whose
  // answer never reached the client).
  let netErrors = 0;
  let duplicates = 0;
  const countingFetch = async (url, init) => {
    let r;
    try {
      r = await fetch(url, init);
    } catch (err) {
      netErrors++;
      throw err;
    }
    const text = await r.text();
    try {
      duplicates += JSON.parse(text).duplicates ?? 0;
    } catch {
      // not JSON: the client sees the status
    }
    return new Response(text, { status: r.status, statusText: r.statusText, headers: r.headers });
  };
  const analytics = new Analytics({
    writeKey, host: server.base, maxRetries: 10, flushAt: 100, flushInterval: 50, httpClient: countingFetch,
  });
  // Requests and retries as the client's emitter reports them; a batch is
  // named by its first messageId (a retry sends the same body).
  const attempts = new Map();
  const statuses = {};
  analytics.on('http_request', ({ body }) => {
    const first = JSON.parse(body).batch[0].messageId;
    attempts.set(first, (attempts.get(first) ?? 0) + 1);
  });
  analytics.on('http_response', ({ status }) => { statuses[status] = (statuses[status] ?? 0) + 1; });

  const acked = new Map();
  const failed = [];
  let ackedCount = 0;
  let onAcked;
  const ackedEnough = new Promise((resolve) => { onAcked = resolve; });
  const callback = (mid) => (err) => {
    if (err) {
      failed.push(`${mid}: ${err.message ?? err}`);
      return;
    }
    acked.set(mid, (acked.get(mid) ?? 0) + 1);
    if (++ackedCount === 3000) onAcked();
  };

  const start = Date.now();
  let enqueued = 0;
  const producer = (async () => {
    for (let n = 0; n < N; n++) {
      const { type, params } = message(n);
      analytics[type](params, callback(params.messageId));
      enqueued++;
      // Send over about 2 s, so the client keeps sending while the server is
      // down and after it is back.
      if (n % 100 === 99) await sleep(20);
    }
  })();

  await within(ackedEnough, 60_000, '3,000 messages acknowledged');
  const atKill = { ms: Date.now() - start, acked: ackedCount, enqueued };
  await server.kill();
  const t0 = Date.now();
  await sleep(500); // down on purpose, long enough for several batches to fail
  server = await startServer(t, dir, port);
  const restartMs = Date.now() - t0;
  t.diagnostic(`SIGKILLed the server at ${atKill.ms} ms with ${atKill.acked} acknowledged and ${atKill.enqueued} enqueued; back after ${restartMs} ms (500 ms down on purpose)`);

  await producer;
  await analytics.closeAndFlush({ timeout: 90_000 });
  const sentMs = Date.now() - start;
  const stop = await server.stop();
  assert.equal(stop.code, 0, `server exit after SIGTERM: code ${stop.code} signal ${stop.signal}\n${server.output}`);

  // How the client retried.
  const retried = [...attempts.values()].filter((a) => a > 1).length;
  const most = Math.max(...attempts.values());
  t.diagnostic(`analytics-node: ${N} messages in ${sentMs} ms: ${[...attempts.values()].reduce((a, b) => a + b, 0)} requests for ${attempts.size} batches, ` +
    `${retried} batches retried, at most ${most} attempts; ${netErrors} network errors; responses ${JSON.stringify(statuses)}, ` +
    `${duplicates} messages answered as duplicates; server exited 0 ${stop.ms} ms after SIGTERM`);

  assert.equal(failed.length, 0, `the Segment client gave up on ${failed.length} messages (retries exhausted or closeAndFlush timed out), e.g. ${failed.slice(0, 5).join('; ')}`);
  assert.ok(atKill.enqueued < N, 'the kill came after every message was enqueued: it did not hit the stream mid-way');
  assert.ok(retried > 0, 'no batch was retried although the server was killed: the kill missed the stream');
  for (let n = 0; n < N; n++) {
    assert.equal(acked.get(id(n)), 1, `client callback for ${id(n)} ran ${acked.get(id(n)) ?? 0} times without error, want 1`);
  }

  const msgs = await exportJsonl(dir);
  const byId = new Map();
  const problems = [];
  for (const m of msgs) {
    if (byId.has(m.messageId)) problems.push(`${m.messageId} stored more than once`);
    byId.set(m.messageId, m);
  }
  for (let n = 0; n < N; n++) {
    const { type, params } = message(n);
    const m = byId.get(params.messageId);
    if (!m) {
      problems.push(`${params.messageId} (${type}) not stored`);
      continue;
    }
    byId.delete(params.messageId);
    try {
      assert.equal(m.type, type);
      if (type === 'track') {
        assert.equal(m.event, params.event);
        assert.equal(m.userId, params.userId);
        assert.deepEqual(m.properties, params.properties);
      } else if (type === 'identify') {
        assert.equal(m.userId, params.userId);
        assert.deepEqual(m.traits, params.traits);
      } else {
        assert.equal(m.name, params.name);
        assert.equal(m.anonymousId, params.anonymousId);
        assert.deepEqual(m.properties, params.properties);
      }
      assert.equal(m.context?.library?.name, '@segment/analytics-node');
    } catch (err) {
      problems.push(`${params.messageId}: ${err.message.split('\n')[0]} (stored ${JSON.stringify(m)})`);
    }
  }
  for (const mid of byId.keys()) problems.push(`export holds ${mid}, which the test never sent`);
  assert.equal(msgs.length, N, `export holds ${msgs.length} messages, want ${N}; ${problems.slice(0, 10).join('; ')}`);
  assert.deepEqual(problems.slice(0, 10), [], `${problems.length} problems`);
});
