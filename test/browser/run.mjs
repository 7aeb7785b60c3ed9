/* global console, process, setTimeout, clearTimeout, URL, URLSearchParams, fetch, window */
/**
 * Browser test (plain Node script, not vitest): the core of openai-resilient wrapping the real `openai`
 * SDK in headless Chromium, against loopback fault servers.
 *
 *  1. checks that the core bundles for the browser (`core-bundle.mjs`);
 *  2. bundles `page.ts` (esbuild, `platform: 'browser'`, no externals) and the fault server
 *     (`src/testing`, for Node);
 *  3. starts four fault servers with `cors: true` (one per scenario, scripted up front) and a static
 *     server for the page, on 127.0.0.1 (the page is cross-origin to the fault servers: real CORS);
 *  4. opens the page in Debian's Chromium through playwright-core, waits for `window.__results`;
 *  5. asserts (a) a retried 503, (b) a cache hit, (c) an open circuit, (d) token counting without
 *     gpt-tokenizer (the estimate) and with a tokenizer passed in, from the page's results and from
 *     what each fault server received; prints `browser: N passed, M failed`; exits 0 or 1.
 *
 * `CHROMIUM` overrides the browser (default /usr/bin/chromium). `BROWSER_TEST_TIMEOUT_MS` bounds the
 * whole run (default 120000).
 */
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';
import { browserBuild, checkCoreBundle } from './core-bundle.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const TOTAL_TIMEOUT = Number(process.env.BROWSER_TEST_TIMEOUT_MS ?? 120_000);
const PAGE_TIMEOUT = 30_000;
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const started = Date.now();
const timings = [];
const lap = (label, since) => timings.push(`${label} ${Date.now() - since} ms`);

const watchdog = setTimeout(() => {
  console.error(`browser: FAILED: the run took longer than ${TOTAL_TIMEOUT} ms (BROWSER_TEST_TIMEOUT_MS)`);
  process.exit(1);
}, TOTAL_TIMEOUT);
watchdog.unref();

const cleanups = [];
async function cleanup() {
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch (error) {
      console.error(`browser: cleanup: ${error?.message ?? error}`);
    }
  }
}

function fail(message) {
  const error = new Error(message);
  error.expected = true;
  throw error;
}

async function bundlePage() {
  const t = Date.now();
  const result = await esbuild.build({ ...browserBuild, entryPoints: ['test/browser/page.ts'], sourcemap: 'inline' }).catch((error) => fail(`bundling test/browser/page.ts for the browser failed:\n${error.message}`));
  lap('page bundle', t);
  return result.outputFiles[0].text;
}

/** `src/testing` bundled for Node into a temporary file, so the test needs no build of its own. */
async function loadTesting(dir) {
  const file = join(dir, 'testing.mjs');
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: ['src/testing/index.ts'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: file,
    logLevel: 'silent',
  });
  return import(pathToFileURL(file).href);
}

/** A preflight as Chromium sends it; the server must answer it and must not record it. */
async function checkCors(server, pageOrigin) {
  const response = await fetch(`${server.url}/chat/completions`, {
    method: 'OPTIONS',
    headers: {
      origin: pageOrigin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type,x-stainless-lang',
    },
  });
  await response.arrayBuffer();
  const allowOrigin = response.headers.get('access-control-allow-origin');
  const allowHeaders = response.headers.get('access-control-allow-headers') ?? '';
  const recorded = server.requests.length;
  if (response.status >= 300 || allowOrigin === null || !/authorization|\*/i.test(allowHeaders) || recorded > 0) {
    server.reset();
    server.resetStats();
    fail(
      `the fault server does not support CORS (preflight answered ${response.status}, ` +
        `access-control-allow-origin: ${allowOrigin}, recorded as a request: ${recorded > 0}). ` +
        'Wire src/testing/cors.ts into src/testing/fault-server.ts: `startFaultServer({ cors: true })` must answer ' +
        "OPTIONS preflights with 204 before they reach the fault script, and add 'Access-Control-Allow-Origin: *' to every response.",
    );
  }
}

function startStaticServer(pageJs) {
  const html =
    '<!doctype html><html><head><meta charset="utf-8"><title>openai-resilient browser test</title><link rel="icon" href="data:,">' +
    '<script type="module" src="/page.js"></script></head><body>running…</body></html>';
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(html);
    } else if (path === '/page.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
      res.end(pageJs);
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      const close = () =>
        new Promise((done) => {
          server.close(() => done());
          server.closeAllConnections();
        });
      resolve({ origin: `http://127.0.0.1:${port}`, close });
    });
  });
}

/** A scenario's checks: `check(cond, message)` collects the failures. */
function checker() {
  const failures = [];
  return {
    failures,
    check(condition, message) {
      if (!condition) failures.push(message);
    },
  };
}

function assertRetry(r, server) {
  const { check, failures } = checker();
  if (r?.error || r === undefined) return [`the page's scenario threw: ${r?.error ?? 'no result'}`];
  const sent = server.requestsTo('/chat/completions');
  check(r.instanceOfOpenAI === true, 'resilient(client) is not an instance of OpenAI in the page');
  check(r.succeeded === true && typeof r.content === 'string', `the call did not succeed (content ${JSON.stringify(r.content)})`);
  check(r.retries.length === 1, `expected 1 retry event, the page saw ${r.retries.length}: ${JSON.stringify(r.retries)}`);
  const [retry] = r.retries;
  check(retry?.status === 503 && retry?.kind === 'overloaded', `the retry event is not for a 503 overloaded: ${JSON.stringify(retry)}`);
  check(r.attempts === 2, `expected 2 attempts, the page saw ${r.attempts}`);
  check(sent.length === 2, `expected the fault server to receive 2 chat requests (503, then 200), it received ${sent.length}`);
  check(sent.every((q) => q.method === 'POST'), `non-POST requests reached the server: ${sent.map((q) => q.method)}`);
  return failures;
}

function assertCache(r, server) {
  const { check, failures } = checker();
  if (r?.error || r === undefined) return [`the page's scenario threw: ${r?.error ?? 'no result'}`];
  const sent = server.requestsTo('/embeddings');
  check(r.hits.length === 1, `expected 1 cacheHit event, the page saw ${r.hits.length}`);
  check(r.hits[0]?.stale === false, `the cache hit is stale: ${JSON.stringify(r.hits[0])}`);
  check(r.misses === 1, `expected 1 cacheMiss event (the first call), the page saw ${r.misses}`);
  check(r.attemptsAfterFirst === 1 && r.attempts === 1, `expected 1 attempt in all (the second call answered from the cache), the page saw ${r.attempts}`);
  check(r.sameEmbedding === true && r.dimensions > 0, 'the cached embedding differs from the first answer');
  check(sent.length === 1, `expected the fault server to receive 1 embeddings request, it received ${sent.length}`);
  return failures;
}

function assertCircuit(r, server) {
  const { check, failures } = checker();
  if (r?.error || r === undefined) return [`the page's scenario threw: ${r?.error ?? 'no result'}`];
  const sent = server.requestsTo('/chat/completions');
  const [c1, c2, c3] = r.calls;
  for (const [i, c] of [c1, c2].entries()) {
    check(
      c?.outcome === 'error' && c.status === 500 && c.circuitOpenError === false && c.attempted === true,
      `call ${i + 1} should fail with the upstream 500 after a request: ${JSON.stringify(c)}`,
    );
  }
  check(
    c3?.outcome === 'error' && c3.circuitOpenError === true && c3.name === 'CircuitOpenError' && c3.kind === 'circuit_open',
    `call 3 should fail with CircuitOpenError: ${JSON.stringify(c3)}`,
  );
  check(c3?.attempted === false, 'call 3 made an attempt although the circuit was open');
  check(
    r.opened.length === 1 && r.opened[0].reason === 'consecutive_failures',
    `expected 1 circuitOpen event (consecutive_failures), the page saw ${JSON.stringify(r.opened)}`,
  );
  check(sent.length === 2, `expected the fault server to receive 2 requests (the third refused locally), it received ${sent.length}`);
  return failures;
}

function assertTokens(r, server) {
  const { check, failures } = checker();
  if (r.error) return [r.error];
  const sent = server.requests;
  check(r.succeeded === true, "tokens: 'auto' without gpt-tokenizer did not let the request through on the estimate");
  check(r.unhandled === 0, `tokens: ${r.unhandled} unhandled rejection(s) from the failed lazy import`);
  check(r.refused?.kind === 'context_length_exceeded', `tokens: the tokenizer passed in did not refuse the request: ${JSON.stringify(r.refused)}`);
  check(sent.length === 1, `tokens: expected the fault server to receive 1 request (the second refused before sending), it received ${sent.length}`);
  return failures;
}

async function main() {
  const t0 = Date.now();
  const core = await checkCoreBundle();
  for (const line of core.lines) console.log(`browser: ${line}`);
  lap('core bundle check', t0);
  if (!core.ok) fail('the core does not bundle for the browser (see above)');

  const pageJs = await bundlePage();

  const dir = await mkdtemp(join(tmpdir(), 'openai-resilient-browser-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const t1 = Date.now();
  const { startFaultServer, faults } = await loadTesting(dir);
  const servers = {};
  for (const name of ['retry', 'cache', 'circuit', 'tokens']) {
    servers[name] = await startFaultServer({ cors: true });
    cleanups.push(() => servers[name].close());
  }
  const site = await startStaticServer(pageJs);
  cleanups.push(() => site.close());
  for (const server of Object.values(servers)) await checkCors(server, site.origin);
  servers.retry.enqueueFor('/chat/completions', faults.overloaded());
  servers.circuit.enqueueFor('/chat/completions', faults.serverError(500), faults.serverError(500));
  lap('servers', t1);

  const t2 = Date.now();
  const userDataDir = await mkdtemp(join(tmpdir(), 'openai-resilient-chromium-'));
  cleanups.push(() => rm(userDataDir, { recursive: true, force: true }));
  const context = await chromium
    .launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, timeout: 30_000 })
    .catch((error) => fail(`could not start Chromium at ${CHROMIUM} (run .ci/browser.sh to install it):\n${error.message}`));
  cleanups.push(() => context.close());
  lap('chromium launch', t2);

  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') pageErrors.push(`console.error: ${msg.text()}`);
  });

  const t3 = Date.now();
  const query = new URLSearchParams(Object.entries(servers).map(([name, s]) => [name, s.url]));
  await page.goto(`${site.origin}/?${query}`);
  const finished = await page
    .waitForFunction(() => window.__results?.done === true, null, { timeout: PAGE_TIMEOUT })
    .then(() => true, () => false);
  const results = await page.evaluate(() => window.__results);
  lap('page run', t3);
  if (!finished) {
    fail(
      `the page did not finish within ${PAGE_TIMEOUT} ms; results so far: ${JSON.stringify(results)}` +
        (pageErrors.length > 0 ? `\n${pageErrors.join('\n')}` : ''),
    );
  }

  console.log(`browser: ${results.env.userAgent.match(/(Headless)?Chrome\/[\d.]+/)?.[0] ?? results.env.userAgent}, page ${results.env.origin}, secure context ${results.env.isSecureContext}, WebCrypto ${results.env.webCrypto}`);
  const outcomes = [
    ['(a) a retried 503', assertRetry(results.retry, servers.retry), () => `1 retry event (503 overloaded, ${results.retry.retries[0].delay} ms), call succeeded, 2 requests`],
    ['(b) a cache hit', assertCache(results.cache, servers.cache), () => '1 cacheMiss + 1 cacheHit, 1 embeddings request'],
    ['(c) an open circuit', assertCircuit(results.circuit, servers.circuit), () => '500, 500, then CircuitOpenError without a request; 1 circuitOpen event'],
    ['(d) counting tokens', assertTokens(results.tokens, servers.tokens), () => "'auto' without gpt-tokenizer: the estimate, no unhandled rejection; a tokenizer passed in refuses over the window"],
  ];
  let passed = 0;
  for (const [name, failures, summary] of outcomes) {
    if (failures.length === 0) {
      passed++;
      console.log(`browser:   ok    ${name}: ${summary()}`);
    } else {
      console.log(`browser:   FAIL  ${name}:`);
      for (const f of failures) console.log(`browser:           ${f}`);
    }
  }
  if (pageErrors.length > 0 && passed < outcomes.length) {
    for (const e of pageErrors) console.log(`browser:   page  ${e}`);
  }
  console.log(`browser: ${passed} passed, ${outcomes.length - passed} failed (${timings.join(', ')}; total ${Date.now() - started} ms)`);
  return passed === outcomes.length;
}

let ok = false;
try {
  ok = await main();
} catch (error) {
  console.error(`browser: FAILED: ${error.expected ? error.message : (error?.stack ?? error)}`);
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
process.exitCode = ok ? 0 : 1;
