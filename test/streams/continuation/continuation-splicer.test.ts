import { describe, expect, it } from 'vitest';
import { spliceContinuation, type Seam } from '../../../src/streams/continuation/continuation-splicer.js';

const seam: Seam = { id: 'chatcmpl-original', created: 1_700_000_000, systemFingerprint: 'fp_original', deliveredTokens: 2, text: 'w1 w2' };
const base = { id: 'chatcmpl-next', object: 'chat.completion.chunk', created: 1_700_000_042, model: 'gpt-4.1-mini', system_fingerprint: 'fp_next' };
const chunk = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}) => ({
  ...base,
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  ...extra,
});
const usageChunk = { ...base, choices: [], usage: { prompt_tokens: 20, completion_tokens: 3, total_tokens: 23 } };
const frame = (data: unknown, name?: string) => `${name ? `event: ${name}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;

/** A reader yielding each of `pieces` (text) as one chunk. */
function readerOf(pieces: string[]): ReadableStreamDefaultReader<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const piece of pieces) controller.enqueue(encoder.encode(piece));
      controller.close();
    },
  }).getReader();
}

/** Every chunk the spliced reader yields, as text. */
async function readAll(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string[]> {
  const decoder = new TextDecoder();
  const out: string[] = [];
  for (let next = await reader.read(); !next.done; next = await reader.read()) out.push(decoder.decode(next.value));
  return out;
}

/** The JSON payloads of `texts`' events (`[DONE]` as is). */
const payloads = (texts: string[]) =>
  texts
    .join('')
    .split('\n\n')
    .filter(Boolean)
    .map((event) => event.replace(/^(event: .*\n)?data: /, ''))
    .map((data) => (data === '[DONE]' ? data : JSON.parse(data)));

describe('spliceContinuation', () => {
  it("drops the continuation's role chunk, rewrites id, created and system_fingerprint, passes [DONE]", async () => {
    const out = await readAll(
      spliceContinuation(readerOf([frame(chunk({ role: 'assistant', content: '', refusal: null })), frame(chunk({ content: ' w3' })), frame(chunk({}, 'stop')), frame('[DONE]')]), seam),
    );
    expect(payloads(out)).toEqual([
      { ...chunk({ content: ' w3' }), id: 'chatcmpl-original', created: 1_700_000_000, system_fingerprint: 'fp_original' },
      { ...chunk({}, 'stop'), id: 'chatcmpl-original', created: 1_700_000_000, system_fingerprint: 'fp_original' },
      '[DONE]',
    ]);
  });

  it('removes a role from a first chunk that also carries text, and keeps its text', async () => {
    const out = await readAll(spliceContinuation(readerOf([frame(chunk({ role: 'assistant', content: ' w3' }))]), seam));
    expect(payloads(out)[0].choices[0].delta).toEqual({ content: ' w3' });
  });

  it('drops only the opening role chunks: a later empty delta passes', async () => {
    const out = await readAll(spliceContinuation(readerOf([frame(chunk({ content: ' w3' })), frame(chunk({ content: '' }))]), seam));
    expect(payloads(out)).toHaveLength(2);
  });

  it("adds the tokens delivered before the seam to the usage chunk's completion and total tokens", async () => {
    const out = await readAll(spliceContinuation(readerOf([frame(usageChunk)]), seam));
    expect(payloads(out)[0].usage).toEqual({ prompt_tokens: 20, completion_tokens: 5, total_tokens: 25 });
  });

  it('yields whole events, one chunk per chunk read that holds any, and skips chunks left empty', async () => {
    const out = await readAll(
      spliceContinuation(readerOf([frame(chunk({ role: 'assistant', content: '' })), frame(chunk({ content: ' w3' })) + frame(chunk({ content: ' w4' })), frame('[DONE]')]), seam),
    );
    expect(out).toHaveLength(2);
    for (const piece of out) expect(piece.endsWith('\n\n')).toBe(true);
    expect(payloads(out).map((p) => (p === '[DONE]' ? p : p.choices[0].delta.content))).toEqual([' w3', ' w4', '[DONE]']);
  });

  it('passes an error event, and a chunk it cannot parse, as they came', async () => {
    const error = { error: { message: 'boom', type: 'server_error', code: null } };
    const out = await readAll(spliceContinuation(readerOf([frame(error), 'data: {not json\n\n']), seam));
    expect(out.join('')).toBe(`${frame(error)}data: {not json\n\n`);
  });

  it('without an original id or created (a proxy that sends none), the continuation keeps its own', async () => {
    const out = await readAll(spliceContinuation(readerOf([frame(chunk({ content: ' w3' }))]), { id: undefined, created: undefined, systemFingerprint: undefined, deliveredTokens: 0, text: '' }));
    expect(payloads(out)[0]).toMatchObject({ id: 'chatcmpl-next', created: 1_700_000_042, system_fingerprint: 'fp_next' });
  });

  it('cancelling the spliced reader cancels the continuation', async () => {
    let cancelled: unknown;
    const upstream = new ReadableStream<Uint8Array>({ pull: () => new Promise(() => undefined), cancel: (reason) => void (cancelled = reason) }).getReader();
    await spliceContinuation(upstream, seam).cancel('stop');
    expect(cancelled).toBe('stop');
  });

  describe('a continuation that repeats the partial answer first (a provider answering a prefix with the whole message)', () => {
    const contentOf = (texts: string[]) => payloads(texts).map((p) => (p === '[DONE]' ? p : (p.choices[0]?.delta.content ?? '')));

    it('the repeated text is dropped, also when it ends inside a chunk', async () => {
      const out = await readAll(
        spliceContinuation(readerOf([frame(chunk({ role: 'assistant', content: '' })), frame(chunk({ content: 'w1' })), frame(chunk({ content: ' w2 w' })), frame(chunk({ content: '3' })), frame('[DONE]')]), seam),
      );
      expect(contentOf(out)).toEqual([' w', '3', '[DONE]']);
    });

    it('the repetition exactly, chunk for chunk: dropped whole', async () => {
      const out = await readAll(spliceContinuation(readerOf([frame(chunk({ content: 'w1' })), frame(chunk({ content: ' w2' })), frame(chunk({ content: ' w3' }))]), seam));
      expect(contentOf(out)).toEqual([' w3']);
    });

    it('a continuation that only starts like the partial answer, then differs, is handed on whole and in order', async () => {
      const out = await readAll(spliceContinuation(readerOf([frame(chunk({ content: 'w1' })), frame(chunk({ content: ' w9' })), frame('[DONE]')]), seam));
      expect(contentOf(out)).toEqual(['w1', ' w9', '[DONE]']);
    });

    it('what was held goes on before a finish, an error event or the end of the stream', async () => {
      expect(contentOf(await readAll(spliceContinuation(readerOf([frame(chunk({ content: 'w1' })), frame(chunk({}, 'stop'))]), seam)))).toEqual(['w1', '']);
      const error = { error: { message: 'boom' } };
      const out = await readAll(spliceContinuation(readerOf([frame(chunk({ content: 'w1' })), frame(error)]), seam));
      expect(out.join('')).toContain('"content":"w1"');
      expect(out.join('').indexOf('w1')).toBeLessThan(out.join('').indexOf('boom'));
      expect(contentOf(await readAll(spliceContinuation(readerOf([frame(chunk({ content: 'w1' }))]), seam)))).toEqual(['w1']);
    });

    it('the usual continuation (only the rest) passes at once: nothing is held', async () => {
      const reader = spliceContinuation(readerOf([frame(chunk({ content: ' w3' })), frame(chunk({ content: ' w4' }))]), seam);
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toContain('" w3"');
    });
  });
});

