/**
 * `openai-resilient demo --live`: four calls through `resilient(new OpenAI())` with your own key (a chat
 * completion, a short stream and an embedding on the network, then the same embedding again, answered
 * by the cache), and the client's stats. Never prints the key.
 *
 * @module
 */

import OpenAI from 'openai';
import { resilient } from '../index.js';
import type { Style } from './style.js';

export interface LiveOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly write: (text: string) => void;
  readonly writeError: (text: string) => void;
  readonly style: Style;
}

const CHAT_MODEL = 'gpt-4.1-mini';
const EMBEDDING_MODEL = 'text-embedding-3-small';

/** An error as one line, with anything that looks like a key masked. */
function describeError(error: unknown, apiKey: string): string {
  const e = error as { constructor?: { name?: string }; message?: unknown } | null;
  const name = e?.constructor?.name ?? 'Error';
  const message = typeof e?.message === 'string' ? e.message : String(error); // the SDK's starts with the status
  return `${name}: ${message.replaceAll(apiKey, '***').replace(/sk-[\w*-]+/g, 'sk-***')}`;
}

/** Runs the live check; resolves with the exit code (1 without `OPENAI_API_KEY` or on a failed call). */
export async function runLive({ env, write, writeError, style }: LiveOptions): Promise<number> {
  const apiKey = env['OPENAI_API_KEY'];
  if (!apiKey) {
    writeError(
      'openai-resilient demo --live makes real calls and needs OPENAI_API_KEY in the environment.\n' +
        'Set it, or run `openai-resilient demo` for the offline demo (no key, no network).\n',
    );
    return 1;
  }
  const ai = resilient(new OpenAI({ apiKey }), {
    cache: true,
    retry: { maxRetries: 1 },
    timeout: { attempt: 30_000, total: 60_000, idle: 15_000 },
  });
  ai.resilience.on('retry', (e) => write(style.yellow(`  ${e.kind} (${e.status ?? 'no status'}): retrying in ${e.delay} ms\n`)));
  ai.resilience.on('fallback', (e) => write(style.yellow(`  falling back from ${e.from} (${e.reason})\n`)));

  const steps: ReadonlyArray<readonly [string, () => Promise<string>]> = [
    ['chat', async () => {
      const r = await ai.chat.completions.create({
        model: CHAT_MODEL,
        messages: [{ role: 'user', content: 'Reply with the single word: ready' }],
        max_completion_tokens: 10,
      });
      return `${r.model}: ${JSON.stringify((r.choices[0]?.message.content ?? '').slice(0, 60))}`;
    }],
    ['stream', async () => {
      const stream = await ai.chat.completions.create({
        model: CHAT_MODEL,
        messages: [{ role: 'user', content: 'Count from 1 to 5, separated by spaces.' }],
        max_completion_tokens: 20,
        stream: true,
      });
      let text = '';
      let chunks = 0;
      for await (const chunk of stream) {
        chunks++;
        text += chunk.choices[0]?.delta.content ?? '';
      }
      return `${chunks} chunks: ${JSON.stringify(text.slice(0, 60))}`;
    }],
    ['embedding', async () => {
      const r = await ai.embeddings.create({ model: EMBEDDING_MODEL, input: 'openai-resilient live check' });
      return `${r.data[0]?.embedding.length ?? 0} dimensions`;
    }],
    ['same embedding', async () => {
      const r = await ai.embeddings.create({ model: EMBEDDING_MODEL, input: 'openai-resilient live check' });
      return `${r.data[0]?.embedding.length ?? 0} dimensions (from the cache, no request)`;
    }],
  ];

  write(style.bold(`openai-resilient live check: ${CHAT_MODEL} and ${EMBEDDING_MODEL} through resilient(new OpenAI())\n`));
  for (const [name, step] of steps) {
    const started = performance.now();
    try {
      const summary = await step();
      write(`  ${style.green('ok')}   ${name.padEnd(15)} ${String(Math.round(performance.now() - started)).padStart(5)} ms  ${summary}\n`);
    } catch (error) {
      write(`  ${style.red('fail')} ${name.padEnd(15)} ${describeError(error, apiKey)}\n`);
      return 1;
    }
  }
  const { total } = ai.resilience.stats();
  write(
    `\n  ai.resilience.stats().total: ${total.calls} calls, ${total.successes} successes, ${total.retries} ${total.retries === 1 ? 'retry' : 'retries'}, ` +
      `cache ${total.cache.hits} hit / ${total.cache.misses} miss, ` +
      `latency p50 ${Math.round(total.latency.p50)} ms, ${total.usage.totalTokens} tokens\n`,
  );
  return 0;
}
