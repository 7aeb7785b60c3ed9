/**
 * How the fault server answers a request to continue a partial assistant answer: the rest of its
 * deterministic answer after that prefix, so that a test can check that a continuation spliced into a
 * stream has no duplicated and no missing span (with `faults.stream({ words: 'numbered' })`, whose deltas
 * are all different).
 *
 * @module
 */

import { CONTINUE_INSTRUCTION } from '../streams/continuation/continuation-body.js';

/**
 * The numbered deltas: `w1`, ` w2`, ` w3`... Each differs from every other, so a span of the answer
 * repeated or left out at a seam shows in the text.
 */
export function numberedDeltas(chunks: number): string[] {
  return Array.from({ length: Math.max(0, chunks) }, (_, i) => `${i === 0 ? '' : ' '}w${i + 1}`);
}

/**
 * The partial assistant answer a chat request asks to continue, in any of the forms providers take: a
 * last assistant message (with `prefix: true` as Mistral and DeepSeek take it, with
 * `continue_final_message: true` as vLLM does, or bare, as a prefill), or an assistant message followed by
 * the continuation instruction of `streaming: { continuation: 'instruction' }`. `undefined` for a request
 * that does not end with one.
 */
export function continuedPrefix(body: Readonly<Record<string, unknown>>): string | undefined {
  const messages = body['messages'];
  if (!Array.isArray(messages) || messages.length === 0) return undefined;
  let last = messages[messages.length - 1] as Record<string, unknown> | undefined;
  if (last?.['role'] === 'user' && textOf(last['content']) === CONTINUE_INSTRUCTION) {
    last = messages[messages.length - 2] as Record<string, unknown> | undefined;
  }
  if (last?.['role'] !== 'assistant') return undefined;
  return textOf(last['content']);
}

/**
 * What is left of the answer `deltas` after `prefix`: the deltas after it (the first one cut if the
 * prefix ends inside it). A prefix that is not the start of the answer gets the whole answer, as a model
 * would start over.
 */
export function restOfAnswer(deltas: readonly string[], prefix: string | undefined): string[] {
  if (prefix === undefined || prefix === '' || !deltas.join('').startsWith(prefix)) return [...deltas];
  const rest: string[] = [];
  let consumed = 0;
  for (const delta of deltas) {
    const end = consumed + delta.length;
    if (end > prefix.length) rest.push(consumed >= prefix.length ? delta : delta.slice(prefix.length - consumed));
    consumed = end;
  }
  return rest;
}

/** A message's text: a string, or its text parts joined; `undefined` for anything else. */
function textOf(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  let text = '';
  for (const part of content) {
    const value = (part as { type?: unknown; text?: unknown } | null)?.text;
    if (typeof value !== 'string') return undefined;
    text += value;
  }
  return text;
}
