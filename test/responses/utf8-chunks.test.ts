import { describe, expect, it } from 'vitest';
import { Utf8Chunks } from '../../src/responses/utf8-chunks.js';

/** `bytes` decoded chunk by chunk, cut at `cuts`, by `Utf8Chunks` and by a streaming `TextDecoder`. */
function bothWays(bytes: Uint8Array, cuts: number[]): [string, string] {
  const chunks = new Utf8Chunks();
  const reference = new TextDecoder();
  let ours = '';
  let theirs = '';
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    ours += chunks.decode(bytes.subarray(from, cut));
    theirs += reference.decode(bytes.subarray(from, cut), { stream: true });
    from = cut;
  }
  return [ours + chunks.flush(), theirs + reference.decode()];
}

describe('Utf8Chunks', () => {
  // 1-, 2-, 3- and 4-byte characters, a byte order mark at the start (dropped) and one inside (kept).
  const text = '\uFEFFdata: {"text":"héllo ✓ \uFEFF 😀 ok"}\n\n';
  const bytes = new TextEncoder().encode(text);

  it('decodes as a streaming TextDecoder does, wherever the bytes are cut (once or twice)', () => {
    expect(bothWays(bytes, [])[0]).toBe(text.slice(1));
    for (let a = 0; a <= bytes.length; a++) {
      const [ours, theirs] = bothWays(bytes, [a]);
      expect(ours).toBe(theirs);
      for (let b = a; b <= bytes.length; b += 3) expect(bothWays(bytes, [a, b])[0]).toBe(theirs);
    }
  });

  it('replaces what is not UTF-8 as a streaming TextDecoder does', () => {
    const invalid = [
      [0x61, 0xc3], // a character cut at the end of the stream
      [0x61, 0x80, 0x62], // a lone continuation byte
      [0xe2, 0x41, 0x42], // a lead byte followed by ASCII
      [0xff, 0xfe, 0x61], // bytes that never start a character
    ].map((list) => Uint8Array.from(list));
    for (const sample of invalid) {
      for (let cut = 0; cut <= sample.length; cut++) {
        const [ours, theirs] = bothWays(sample, [cut]);
        expect(ours).toBe(theirs);
      }
    }
  });
});
