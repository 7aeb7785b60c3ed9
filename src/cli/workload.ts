/**
 * The demo's workload: a seeded, open-loop schedule of mixed calls (chat, streamed chat, embeddings,
 * with repeated identical requests a cache can answer), and how to make one call with any client.
 *
 * @module
 */

import type OpenAI from 'openai';
import type { TrafficClass } from '../index.js';
import { seededRandom } from '../testing/capacity.js';

/**
 * One call of the workload. `at` is its start, in ms from the beginning of the run; `trafficClass` is how
 * a resilient client sends it (`resilience.forClass()`): streamed chat is `interactive` (someone watches
 * it), the batch of embeddings `background`, the rest `default`.
 */
export type Call = { readonly at: number; readonly trafficClass: TrafficClass } & (
  | { readonly kind: 'chat'; readonly model: string; readonly prompt: string; readonly temperature: number }
  | { readonly kind: 'stream'; readonly model: string; readonly prompt: string }
  | { readonly kind: 'embedding'; readonly input: string }
);

/** Calls started per second, on average (Poisson arrivals): about 80% of the account's 30 requests/s. */
export const CALLS_PER_SECOND = 24;

const FAQ = [
  'What are your support hours?',
  'How do I reset my password?',
  'Which payment methods do you accept?',
  'How do I export my data?',
  'Can I change my plan at any time?',
];
const SNIPPETS = Array.from({ length: 12 }, (_, i) => `Knowledge base article ${i + 1}: how to configure feature ${String.fromCharCode(65 + i)}.`);

/** The background batch: this many embeddings at once, at this share of the traffic window. */
export const BATCH = Object.freeze({ calls: 25, at: 0.45 });

/**
 * The calls of a run of `windowMs`, the same for every client given the same seed:
 * 28% chat on gpt-4.1, 14% streamed chat on gpt-4.1, 15% summaries on gpt-4o, 13% FAQ answers on
 * gpt-4.1-mini at temperature 0 (5 distinct questions) and 30% embeddings (12 distinct articles); and at
 * 45% of the window, a background batch of 25 embeddings at once (a re-index), more than the capacity
 * the rest of the traffic leaves for a few seconds.
 */
export function buildWorkload(seed: number, windowMs: number): Call[] {
  const random = seededRandom(seed ^ 0x2545f491);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const calls: Call[] = [];
  let at = 0;
  for (let n = 1; ; n++) {
    at += (-Math.log(1 - random()) / CALLS_PER_SECOND) * 1000;
    if (at >= windowMs) break;
    const r = random();
    const trafficClass = 'default';
    if (r < 0.28) calls.push({ at, trafficClass, kind: 'chat', model: 'gpt-4.1', prompt: `Draft a reply to support ticket #${1000 + n}.`, temperature: 0.7 });
    else if (r < 0.42) calls.push({ at, trafficClass: 'interactive', kind: 'stream', model: 'gpt-4.1', prompt: `Write a status update for incident #${n}.` });
    else if (r < 0.57) calls.push({ at, trafficClass, kind: 'chat', model: 'gpt-4o', prompt: `Summarize meeting notes #${n}.`, temperature: 0.3 });
    else if (r < 0.7) calls.push({ at, trafficClass, kind: 'chat', model: 'gpt-4.1-mini', prompt: pick(FAQ), temperature: 0 });
    else calls.push({ at, trafficClass, kind: 'embedding', input: pick(SNIPPETS) });
  }
  const batchAt = windowMs * BATCH.at;
  const batch = Array.from({ length: BATCH.calls }, (_, i): Call => ({ at: batchAt, trafficClass: 'background', kind: 'embedding', input: `Re-index document ${i + 1}.` }));
  return [...calls.filter((call) => call.at < batchAt), ...batch, ...calls.filter((call) => call.at >= batchAt)];
}

/** A stream that ended without its last chunk (the one with a `finish_reason`). */
export class IncompleteStreamError extends Error {
  constructor() {
    super('The stream ended before its last chunk.');
    this.name = 'IncompleteStreamError';
  }
}

/**
 * Makes one call and consumes it fully (a stream to its last chunk). `onResponse` fires when the answer
 * has arrived (for a stream: its end), the moment `resilience.stats()` measures latency to.
 */
export async function perform(client: OpenAI, call: Call, signal: AbortSignal, onResponse: () => void): Promise<void> {
  // A resilient client sends the call in its class; the bare SDK has no classes.
  const resilience = (client as { resilience?: { forClass(name: TrafficClass): OpenAI } }).resilience;
  if (resilience && call.trafficClass !== 'default') client = resilience.forClass(call.trafficClass);
  switch (call.kind) {
    case 'chat': {
      const messages = [{ role: 'user' as const, content: call.prompt }];
      await client.chat.completions.create({ model: call.model, messages, temperature: call.temperature, max_tokens: 64 }, { signal });
      return onResponse();
    }
    case 'stream': {
      const messages = [{ role: 'user' as const, content: call.prompt }];
      const stream = await client.chat.completions.create({ model: call.model, messages, max_tokens: 64, stream: true }, { signal });
      let finished = false;
      for await (const chunk of stream) if (chunk.choices[0]?.finish_reason) finished = true;
      // The SDK ends the iteration quietly when the request is aborted: that is not a complete answer.
      if (!finished) throw signal.aborted ? signal.reason : new IncompleteStreamError();
      return onResponse();
    }
    case 'embedding':
      await client.embeddings.create({ model: 'text-embedding-3-small', input: call.input }, { signal });
      return onResponse();
  }
}
