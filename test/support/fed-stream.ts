import { chatStreamPlan } from '../../src/testing/index.js';

/**
 * A `fetch` whose stream requests are answered by a chat stream the test feeds: its first meaningful
 * event at once, the rest (`finish()`) when the test says; other requests go to the real `fetch`.
 */
export function fedStream(options: { includeUsage?: boolean; chunks?: number } = {}) {
  const encoder = new TextEncoder();
  const plan = chatStreamPlan({ id: 'chatcmpl-1', model: 'gpt-4.1-mini', chunks: options.chunks ?? 3, includeUsage: options.includeUsage });
  let upstream: ReadableStreamDefaultController<Uint8Array> | undefined;
  const fetch = async (url: string | URL | Request, init?: RequestInit) => {
    if (!String(init?.body).includes('"stream":true')) return globalThis.fetch(url, init);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        upstream = controller;
        controller.enqueue(encoder.encode(plan.preamble.join('') + plan.content[0]));
      },
    });
    return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
  };
  return {
    fetch,
    /** Sends the rest of the stream and its terminal event. */
    finish: () => upstream!.enqueue(encoder.encode([...plan.content.slice(1), ...plan.tail, plan.terminator].join(''))),
    /** Cuts the stream short: it ends without its terminal event. */
    cut: () => upstream!.close(),
  };
}
