/**
 * The browser test's page (bundled by `run.mjs` with esbuild, `platform: 'browser'`, no externals): the
 * core of openai-resilient wrapping the real `openai` SDK, calling the loopback fault servers whose
 * URLs arrive in the query string (`?retry=…&cache=…&circuit=…&tokens=…`). Every scenario records what it saw in
 * `window.__results`; `run.mjs` asserts on it (and on what each fault server received).
 *
 * Not a vitest test: it runs in Chromium only.
 */

import OpenAI from 'openai';
import { CircuitOpenError, resilient } from '../../src/index.js';

/** What one scenario saw; `error` is set when the scenario itself threw. */
export type ScenarioResult = Record<string, unknown> & { error?: string };

export interface BrowserResults {
  done: boolean;
  env: Record<string, unknown>;
  retry?: ScenarioResult;
  cache?: ScenarioResult;
  circuit?: ScenarioResult;
  tokens?: ScenarioResult;
}

declare global {
  interface Window {
    __results?: BrowserResults;
  }
}

const params = new URLSearchParams(location.search);

function urlOf(name: string): string {
  const url = params.get(name);
  if (!url) throw new Error(`page: missing ?${name}=<fault server URL>`);
  return url;
}

function describe(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { value: String(error) };
  const e = error as Error & { status?: unknown; kind?: unknown };
  return { name: e.name, message: e.message, status: e.status, kind: e.kind };
}

function client(baseURL: string): OpenAI {
  return new OpenAI({ apiKey: 'sk-test', baseURL, dangerouslyAllowBrowser: true });
}

/** (a) 503 then success: the retry event fires once and the call succeeds. */
async function retryScenario(): Promise<ScenarioResult> {
  const ai = resilient(client(urlOf('retry')), { retry: { initialDelay: 20, maxDelay: 200 }, circuitBreaker: false });
  const retries: Record<string, unknown>[] = [];
  let attempts = 0;
  ai.resilience.on('retry', (e) => retries.push({ attempt: e.attempt, kind: e.kind, status: e.status, delay: e.delay }));
  ai.resilience.on('attemptStart', () => attempts++);
  const completion = await ai.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Hello from Chromium' }],
  });
  return {
    instanceOfOpenAI: ai instanceof OpenAI,
    succeeded: true,
    content: completion.choices[0]?.message.content ?? null,
    retries,
    attempts,
  };
}

/** (b) the same embeddings request twice with `cache: true`: the second is a cache hit, no request. */
async function cacheScenario(): Promise<ScenarioResult> {
  const ai = resilient(client(urlOf('cache')), { cache: true });
  const hits: Record<string, unknown>[] = [];
  let misses = 0;
  let attempts = 0;
  ai.resilience.on('cacheHit', (e) => hits.push({ stale: e.stale, shared: e.shared, path: e.path }));
  ai.resilience.on('cacheMiss', () => misses++);
  ai.resilience.on('attemptStart', () => attempts++);
  const request = { model: 'text-embedding-3-small', input: 'cache me in the browser' };
  const first = await ai.embeddings.create(request);
  const attemptsAfterFirst = attempts;
  const second = await ai.embeddings.create(request);
  return {
    hits,
    misses,
    attemptsAfterFirst,
    attempts,
    sameEmbedding: JSON.stringify(first.data) === JSON.stringify(second.data),
    dimensions: first.data[0]?.embedding.length ?? 0,
  };
}

/**
 * (c) two 500s open the breaker (`consecutiveFailures: 2`, no retry); the third call is refused locally
 * (`waitForProbe: 0`: it does not wait for the probe a second later).
 */
async function circuitScenario(): Promise<ScenarioResult> {
  const ai = resilient(client(urlOf('circuit')), { retry: false, circuitBreaker: { consecutiveFailures: 2, waitForProbe: 0 } });
  const opened: Record<string, unknown>[] = [];
  let attempts = 0;
  ai.resilience.on('circuitOpen', (e) => opened.push({ key: e.key, reason: e.reason }));
  ai.resilience.on('attemptStart', () => attempts++);
  const calls: Record<string, unknown>[] = [];
  for (let i = 1; i <= 3; i++) {
    const attemptsBefore = attempts;
    try {
      await ai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `call ${i}` }] });
      calls.push({ call: i, outcome: 'success', attempted: attempts > attemptsBefore });
    } catch (error) {
      calls.push({
        call: i,
        outcome: 'error',
        ...describe(error),
        circuitOpenError: error instanceof CircuitOpenError,
        attempted: attempts > attemptsBefore,
      });
    }
  }
  return { calls, opened, attempts };
}

/**
 * (d) counting tokens without `gpt-tokenizer` (not bundled: the main entry imports it lazily, by a name a
 * page cannot resolve): `tokens: 'auto'` falls back to the estimate, so the pre-flight lets through a
 * request of 360 Japanese characters (91 tokens by the estimate, 327 exactly) under a 200-token window,
 * with no unhandled rejection; a tokenizer passed in (one token a character) refuses it without a request.
 */
async function tokensScenario(): Promise<ScenarioResult> {
  let unhandled = 0;
  const onUnhandled = () => unhandled++;
  window.addEventListener('unhandledrejection', onUnhandled);
  try {
    const messages = [{ role: 'user' as const, content: 'お誕生日おめでとう'.repeat(40) }];
    const auto = resilient(client(urlOf('tokens')), { contextWindows: { 'gpt-4o-mini': 200 } });
    const completion = await auto.chat.completions.create({ model: 'gpt-4o-mini', messages });
    const counted = resilient(client(urlOf('tokens')), {
      contextWindows: { 'gpt-4o-mini': 200 },
      tokens: { tokenizer: { countText: (text) => text.length } },
    });
    const refused = await counted.chat.completions.create({ model: 'gpt-4o-mini', messages }).then(() => undefined, describe);
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { succeeded: typeof completion.choices[0]?.message.content === 'string', refused, unhandled };
  } finally {
    window.removeEventListener('unhandledrejection', onUnhandled);
  }
}

async function run(): Promise<void> {
  const results: BrowserResults = {
    done: false,
    env: {
      userAgent: navigator.userAgent,
      origin: location.origin,
      isSecureContext: globalThis.isSecureContext,
      webCrypto: typeof globalThis.crypto?.subtle?.digest === 'function',
      // Node-only globals must not exist here (and the core must not need them).
      nodeGlobals: ['process', 'Buffer', 'global', 'require'].filter((name) => name in globalThis),
    },
  };
  window.__results = results;
  const scenarios = [
    ['retry', retryScenario],
    ['cache', cacheScenario],
    ['circuit', circuitScenario],
    ['tokens', tokensScenario],
  ] as const;
  for (const [name, scenario] of scenarios) {
    try {
      results[name] = await scenario();
    } catch (error) {
      results[name] = { error: `${(error as Error)?.name ?? 'Error'}: ${(error as Error)?.message ?? String(error)}` };
    }
  }
  results.done = true;
  document.body.textContent = JSON.stringify(results, null, 2);
}

void run();
