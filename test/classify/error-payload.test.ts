import { describe, expect, it, vi } from 'vitest';
import { errorMemberOf, hasErrorMember } from '../../src/classify/error-payload.js';

describe('hasErrorMember', () => {
  it('is true exactly when the top level has a truthy error member, as the SDK tests `data.error`', () => {
    for (const text of ['{"error":{"message":"x"}}', '{ "error" : "boom" }', '{"id":"c","\\u0065rror":[]}', '{\n"error":\n{}}']) {
      expect(hasErrorMember(text)).toBe(true);
    }
    for (const text of ['{"error":null}', '{"error":false}', '{"error":""}', '{"error":0}', '{"a":{"error":{}}}', '[{"error":1}]', '"error"', '{"error":', 'not json']) {
      expect(hasErrorMember(text)).toBe(false);
    }
  });

  it('parses nothing whose text cannot hold such a key', () => {
    const parse = vi.spyOn(JSON, 'parse');
    try {
      for (const text of ['{"content":"an error"}', '{"content":"{\\"error\\": 1}"}', '{"response":{"error":null}}', '{"content":"\\u00e9"}']) {
        expect(hasErrorMember(text)).toBe(false);
      }
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
  });
});

describe('errorMemberOf', () => {
  it('gives the truthy error member of a parsed value, else undefined', () => {
    expect(errorMemberOf({ error: { code: 502 } })).toEqual({ code: 502 });
    expect(errorMemberOf({ error: 'boom' })).toBe('boom');
    for (const value of [{ error: null }, { error: '' }, {}, null, 'error', [1]]) expect(errorMemberOf(value)).toBeUndefined();
  });
});
