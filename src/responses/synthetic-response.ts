import type { SdkRequestOptions } from '../core/request-info.js';
import type { ResponseProps } from '../core/response-props.js';

/** Header on responses this library made up (a cache hit, a fallback value), saying which. */
export const SOURCE_HEADER = 'x-openai-resilient-source';

/**
 * Props for the SDK's own parsing of a response that did not come from the network (a cache replay, a
 * fallback value): the SDK builds its usual result (a fresh object, or a real `Stream`) from it. `source`
 * is what its {@link SOURCE_HEADER} says.
 */
export function syntheticProps(response: Response, options: SdkRequestOptions, source: string): ResponseProps {
  return {
    response,
    options,
    controller: new AbortController(),
    requestLogID: `log_resilient_${source}`,
    retryOfRequestLogID: undefined,
    startTime: Date.now(),
  };
}

export function jsonResponse(value: unknown, source: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(value), {
    status: 200,
    headers: { 'content-type': 'application/json', ...headers, [SOURCE_HEADER]: source },
  });
}

/** An event stream whose body is `text`, delivered as one chunk per SSE event. */
export function eventStreamResponse(text: string, source: string, headers: HeadersInit = {}): Response {
  const encoder = new TextEncoder();
  const events = text.split(/(?<=\n\n)/).filter((event) => event !== '');
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const event of events) controller.enqueue(encoder.encode(event));
      controller.close();
    },
  });
  const merged = new Headers(headers);
  merged.set('content-type', 'text/event-stream');
  merged.set(SOURCE_HEADER, source);
  merged.delete('content-length');
  return new Response(body, { status: 200, headers: merged });
}

/** A chat completion as the chunks a `stream: true` call would have produced, ending with `[DONE]`. */
export function chatCompletionAsEvents(completion: Record<string, any>): string {
  const base = { id: completion['id'], object: 'chat.completion.chunk', created: completion['created'], model: completion['model'] };
  const choices: any[] = Array.isArray(completion['choices']) ? completion['choices'] : [];
  const frames = choices.flatMap((choice) => [
    { ...base, choices: [{ index: choice.index ?? 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
    { ...base, choices: [{ index: choice.index ?? 0, delta: { content: choice.message?.content ?? '' }, finish_reason: null }] },
    { ...base, choices: [{ index: choice.index ?? 0, delta: {}, finish_reason: choice.finish_reason ?? 'stop' }] },
  ]);
  return frames.map((frame) => `data: ${JSON.stringify(frame)}\n\n`).join('') + 'data: [DONE]\n\n';
}
