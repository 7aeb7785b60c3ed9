/** One scripted answer: its body cut into `chunks` (each delivered as one read), and its status. */
export interface ScriptedAnswer {
  chunks: Array<string | Uint8Array>;
  status?: number;
}

/**
 * A `fetch` answering each request with the next scripted server-sent-event body, for tests that need
 * exact SSE bytes (the fault server writes its own). `calls` records each request's URL and headers;
 * a request beyond the script fails.
 */
export function scriptedFetch(script: ScriptedAnswer[]) {
  const calls: Array<{ url: string; headers: Headers }> = [];
  const fetch = async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    calls.push({ url: String(url), headers: new Headers(init?.headers) });
    const next = script.shift();
    if (!next) throw new Error('script exhausted');
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of next.chunks) controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
        controller.close();
      },
    });
    return new Response(body, { status: next.status ?? 200, headers: { 'content-type': 'text/event-stream', 'x-request-id': `req_${calls.length}` } });
  };
  return { fetch, calls };
}
