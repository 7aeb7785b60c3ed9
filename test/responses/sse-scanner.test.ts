import { describe, expect, it, vi } from 'vitest';
import { SseScanner, type SseEvent } from '../../src/responses/sse-scanner.js';

const bytes = (text: string) => new TextEncoder().encode(text);

/** Feeds `text` to a fresh scanner cut into pieces at `cuts` (byte offsets), collecting every event. */
function scan(text: string, cuts: number[] = []): SseEvent[] {
  const all = bytes(text);
  const scanner = new SseScanner();
  const events: SseEvent[] = [];
  let from = 0;
  for (const cut of [...cuts, all.length]) {
    events.push(...scanner.push(all.subarray(from, cut)));
    from = cut;
  }
  return events;
}

describe('SseScanner', () => {
  it('splits events on blank lines, with or without a space after the colon', () => {
    expect(scan('data: {"a":1}\n\ndata:[DONE]\n\n')).toEqual([
      { name: undefined, data: '{"a":1}' },
      { name: undefined, data: '[DONE]' },
    ]);
  });

  it('reads event names and joins multi-line data; skips comments and events without data', () => {
    const text = ': keep-alive\n\nevent: response.created\ndata: {"type":"response.created"}\n\ndata: one\ndata: two\n\nevent: ping\n\n';
    expect(scan(text)).toEqual([
      { name: 'response.created', data: '{"type":"response.created"}' },
      { name: undefined, data: 'one\ntwo' },
    ]);
  });

  it('reads fields as the SDK does: one space dropped after the colon, a field without a colon is empty', () => {
    const text = 'event:  error \ndata\ndata:  x\n\nevent\ndata: {"type":"response.completed"}\n\nid: 7\nretry: 10\ndatum: no\ndata: y\n\n';
    expect(scan(text)).toEqual([
      { name: ' error ', data: '\n x' },
      { name: '', data: '{"type":"response.completed"}' },
      { name: undefined, data: 'y' },
    ]);
  });

  it('accepts CRLF and CR line endings, even when a CRLF is cut between two chunks', () => {
    const crlf = 'data: a\r\n\r\ndata: b\r\n\r\n';
    expect(scan(crlf)).toEqual([{ name: undefined, data: 'a' }, { name: undefined, data: 'b' }]);
    for (let cut = 1; cut < crlf.length; cut++) {
      expect(scan(crlf, [cut]).map((event) => event.data)).toEqual(['a', 'b']);
    }
    expect(scan('data: a\r\rdata: b\r\r').map((event) => event.data)).toEqual(['a', 'b']);
    const lines = 'data: a\r\ndata: b\r\n\r\n';
    for (let cut = 1; cut < lines.length; cut++) expect(scan(lines, [cut]).map((event) => event.data)).toEqual(['a\nb']);
  });

  it('completes an event only when its blank line arrives, wherever the chunks are cut (multi-byte text too)', () => {
    const text = 'data: {"text":"héllo ✓"}\n\nevent: response.completed\ndata: {}\n\n';
    const whole = scan(text);
    expect(whole).toHaveLength(2);
    const length = bytes(text).length;
    for (let cut = 1; cut < length; cut++) expect(scan(text, [cut])).toEqual(whole);
    const scanner = new SseScanner();
    expect(scanner.push(bytes('data: {"a"'))).toEqual([]);
    expect(scanner.push(bytes(':1}\n'))).toEqual([]);
    expect(scanner.push(bytes('\n'))).toEqual([{ name: undefined, data: '{"a":1}' }]);
  });
});

describe('SseScanner on a large event arriving in many chunks', () => {
  // An Images API partial image: one event of many chunks, then the event that ends the stream.
  const image = 'A'.repeat(256 * 1024);
  const text =
    `event: image_generation.partial_image\ndata: {"type":"image_generation.partial_image","b64_json":"${image}"}\n\n` +
    'event: image_generation.completed\r\ndata: {"type":"image_generation.completed"}\r\n\r\n';
  const every = (step: number) => Array.from({ length: Math.floor(text.length / step) }, (_, i) => (i + 1) * step).filter((cut) => cut < text.length);

  /** Characters searched by `indexOf` and `includes` while `run` runs: the scanner's work. */
  function searchedBy(run: () => void): number {
    let searched = 0;
    const { indexOf, includes } = String.prototype;
    const count = (self: string, from: number | undefined) => (searched += self.length - Math.min(Math.max(from ?? 0, 0), self.length));
    const spies = [
      vi.spyOn(String.prototype, 'indexOf').mockImplementation(function (this: string, search: string, from?: number) {
        count(this, from);
        return indexOf.call(this, search, from);
      }),
      vi.spyOn(String.prototype, 'includes').mockImplementation(function (this: string, search: string, from?: number) {
        count(this, from);
        return includes.call(this, search, from);
      }),
    ];
    try {
      run();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    return searched;
  }

  it('finds the same events however the bytes are cut', () => {
    const whole = scan(text);
    expect(whole).toEqual([
      { name: 'image_generation.partial_image', data: `{"type":"image_generation.partial_image","b64_json":"${image}"}` },
      { name: 'image_generation.completed', data: '{"type":"image_generation.completed"}' },
    ]);
    for (const step of [1_000, 4_096, 16_384, 65_536]) expect(scan(text, every(step))).toEqual(whole);
    // Cut right inside each blank line, so that one begins at the end of what was pending.
    const blankLines = [text.indexOf('\n\n') + 1, text.indexOf('\r\n\r\n') + 2, text.indexOf('\r\n\r\n') + 3];
    expect(scan(text, [1_000, 50_000, ...blankLines])).toEqual(whole);
  });

  it('searches each chunk once: the work is linear in the size of the event, not in its size times its chunks', () => {
    const cuts = every(1_024);
    let events: SseEvent[] = [];
    const searched = searchedBy(() => (events = scan(text, cuts)));
    expect(events).toHaveLength(2);
    // Each chunk once, the completed event once more: about twice the text. Searching what was pending
    // again with every chunk would be about 128 times it here (256 chunks).
    expect(searched).toBeLessThan(4 * text.length);
  });
});
