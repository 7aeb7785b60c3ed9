// Exact token counting's cost (issue 27): counting a 1 KB, 100 KB and 1 MB chat prompt by gpt-tokenizer
// (the `openai-resilient/tokens` entry, as the client counts after its lazy load) and by the estimate,
// against the built dist/. `countingRun()` is called by the `budgets` case (bench/budgets.js); run alone,
// `node bench/budgets-counting.js` prints the rows (after `npm run build`).
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { median, round } from './report.js';

const MODEL = 'gpt-4.1-mini';
const SIZES = [
  ['1 KB', 1_024],
  ['100 KB', 100 * 1_024],
  ['1 MB', 1_024 * 1_024],
];

// Realistic chat text: English sentences of a support conversation, with numbers, code and punctuation,
// drawn by a seeded generator (not one sentence repeated, which the tokenizer's cache would flatter).
const SUBJECTS = ['The deployment', 'Our billing export', 'The nightly job', 'Your API key', 'The retry policy', 'This endpoint', 'The customer', 'A rate limit'];
const VERBS = ['failed again after', 'has been timing out since', 'returned a 429 during', 'was migrated before', 'needs a review of', 'keeps retrying on', 'logged a warning about', 'stopped responding after'];
const OBJECTS = ['the 3.2.1 release', 'yesterday\'s outage', 'the `max_tokens` change', 'invoice #48213', 'the EU region failover', 'a burst of 1,200 requests', 'the new webhook handler', 'the schema migration'];
const TAILS = ['Can you check the logs?', 'Here is the error: `ECONNRESET` at 14:03 UTC.', 'We expected about 40 ms per call.', 'Please advise — this blocks the launch!', 'I attached the trace (id 9f2c-77ab).', 'Is there a workaround for now?', 'Thanks in advance.', 'See `config.yaml`, line 42.'];

function* sentences(seed) {
  let state = seed;
  const next = (list) => {
    state = (Math.imul(state, 1_103_515_245) + 12_345) >>> 0;
    return list[state % list.length];
  };
  for (;;) yield `${next(SUBJECTS)} ${next(VERBS)} ${next(OBJECTS)}. ${next(TAILS)} `;
}

/** A chat request of about `bytes` bytes of text: a system message and user/assistant turns of ~600 bytes. */
export function chatRequest(bytes, seed = 1) {
  const source = sentences(seed);
  const messages = [{ role: 'system', content: 'You are a helpful support assistant for a cloud platform. Answer briefly.' }];
  let size = messages[0].content.length;
  while (size < bytes) {
    let content = '';
    while (content.length < Math.min(600, bytes - size)) content += source.next().value;
    messages.push({ role: messages.length % 2 === 1 ? 'user' : 'assistant', content });
    size += content.length;
  }
  return { model: MODEL, messages, max_tokens: 512 };
}

/** Median ms per call of `fn()`, timed in batches long enough for the timer (warm: a few runs first). */
function msPerCall(fn, { batches = 31, minBatchMs = 20 } = {}) {
  for (let i = 0; i < 3; i++) fn();
  let perBatch = 1;
  for (;;) {
    const start = performance.now();
    for (let i = 0; i < perBatch; i++) fn();
    if (performance.now() - start >= minBatchMs || perBatch >= 1 << 20) break;
    perBatch *= 2;
  }
  const samples = [];
  for (let b = 0; b < batches; b++) {
    const start = performance.now();
    for (let i = 0; i < perBatch; i++) fn();
    samples.push((performance.now() - start) / perBatch);
  }
  return median(samples);
}

/**
 * Counts the three prompts exactly and by the estimate; `perCallMs1KB` is the exact count of the 1 KB
 * prompt in ms per call (target ≤ 0.2 ms).
 */
export async function countingRun() {
  const { countTokens } = await import('../dist/tokenizer/index.js');
  const { estimateRequestTokens } = await import('../dist/tokens/estimate-tokens.js');
  const { createTokenCounter } = await import('../dist/tokens/token-counters.js');
  // The client's own counter: the lazy load happens here, once, before anything is timed.
  const counter = createTokenCounter('auto');
  const rows = [];
  let perCallMs1KB = null;
  for (const [prompt, bytes] of SIZES) {
    const body = chatRequest(bytes);
    const viaClient = await counter.count(body, MODEL);
    const exact = countTokens(body, MODEL);
    if (!viaClient.exact || viaClient.input !== exact.input) throw new Error('the lazy counter did not load gpt-tokenizer');
    const estimate = estimateRequestTokens(body);
    const batches = bytes > 200_000 ? 7 : 31;
    const exactMs = msPerCall(() => countTokens(body, MODEL), { batches });
    const estimateMs = msPerCall(() => estimateRequestTokens(body), { batches });
    if (prompt === '1 KB') perCallMs1KB = exactMs;
    rows.push({
      prompt,
      messages: body.messages.length,
      'tokens (exact)': exact.input,
      'tokens (estimate)': estimate.input,
      'estimate error': `${round(((estimate.input - exact.input) / exact.input) * 100, 1)}%`,
      'ms per count (exact)': round(exactMs, 4),
      'ms per count (estimate)': round(estimateMs, 4),
    });
  }
  return { rows, perCallMs1KB: round(perCallMs1KB, 4) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { rows, perCallMs1KB } = await countingRun();
  console.table(rows);
  console.log(`exact counting, 1 KB chat prompt: ${perCallMs1KB} ms per call (target ≤ 0.2 ms)`);
}
