import { describe, expect, it } from 'vitest';
import { parseDuration, readRetryHint } from '../../src/index.js';

const now = 1_700_000_000_000;

describe('parseDuration()', () => {
  it.each([
    ['1s', 1000],
    ['6m0s', 360_000],
    ['20ms', 20],
    ['120ms', 120],
    ['1.5s', 1500],
    ['1h2m3.5s', 3_723_500],
    ['0s', 0],
    ['2', 2000],
    ['0.25', 250],
    [' 3s ', 3000],
  ])('%j → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([['abc'], [''], ['5x'], ['1s5x'], ['x1s'], ['-1s'], ['s'], ['1 s']])('%j → undefined', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('undefined → undefined', () => {
    expect(parseDuration(undefined)).toBeUndefined();
  });
});

describe('readRetryHint()', () => {
  it('reads Web Headers and plain records alike', () => {
    const fromHeaders = readRetryHint(new Headers({ 'retry-after-ms': '250' }), { now });
    const fromRecord = readRetryHint({ 'retry-after-ms': '250' }, { now });
    expect(fromHeaders).toEqual({ delay: 250, source: 'retry-after-ms' });
    expect(fromRecord).toEqual(fromHeaders);
  });

  it('takes the first value of an array in a record', () => {
    expect(readRetryHint({ 'retry-after': ['4', '9'] }, { now })).toEqual({ delay: 4000, source: 'retry-after' });
  });

  it('returns undefined without headers', () => {
    expect(readRetryHint(undefined, { now })).toBeUndefined();
    expect(readRetryHint(null, { now })).toBeUndefined();
    expect(readRetryHint(new Headers(), { now, rateLimitType: 'requests' })).toBeUndefined();
    expect(readRetryHint({}, { now })).toBeUndefined();
  });

  it('accepts fractional and zero retry-after-ms', () => {
    expect(readRetryHint({ 'retry-after-ms': '12.5' }, { now })).toEqual({ delay: 12.5, source: 'retry-after-ms' });
    expect(readRetryHint({ 'retry-after-ms': '0' }, { now })).toEqual({ delay: 0, source: 'retry-after-ms' });
  });

  it.each([['-5'], ['abc'], [''], ['  '], ['Infinity'], ['NaN']])(
    'ignores retry-after-ms %j and falls back to retry-after',
    (value) => {
      expect(readRetryHint({ 'retry-after-ms': value }, { now })).toBeUndefined();
      expect(readRetryHint({ 'retry-after-ms': value, 'retry-after': '2' }, { now })).toEqual({
        delay: 2000,
        source: 'retry-after',
      });
    },
  );

  it.each([['-1'], ['-30'], ['abc'], ['soon'], ['foo 1'], [''], ['Infinity']])(
    'ignores retry-after %j (neither seconds nor an HTTP date)',
    (value) => {
      expect(readRetryHint(new Headers({ 'retry-after': value }), { now })).toBeUndefined();
    },
  );

  it('falls back to the rate-limit reset when retry-after is garbage', () => {
    const headers = new Headers({ 'retry-after': '-1', 'x-ratelimit-reset-requests': '3s' });
    expect(readRetryHint(headers, { now, rateLimitType: 'requests' })).toEqual({
      delay: 3000,
      source: 'x-ratelimit-reset-requests',
    });
  });

  it('reads HTTP dates in every HTTP-date format', () => {
    const at = new Date(now + 10_000); // whole seconds, so every format is exact
    const imf = at.toUTCString(); // Tue, 14 Nov 2023 22:13:30 GMT
    expect(readRetryHint({ 'retry-after': imf }, { now })).toEqual({ delay: 10_000, source: 'retry-after' });
    const [day, date, month, year, time] = imf.replace(',', '').split(' ');
    const rfc850 = `${({ Mon: 'Monday', Tue: 'Tuesday', Wed: 'Wednesday', Thu: 'Thursday', Fri: 'Friday', Sat: 'Saturday', Sun: 'Sunday' } as Record<string, string>)[day!]}, ${date}-${month}-${year} ${time} GMT`;
    expect(readRetryHint({ 'retry-after': rfc850 }, { now })).toEqual({ delay: 10_000, source: 'retry-after' });
  });

  it('ignores x-ratelimit-reset-* unless a rate-limit type is given', () => {
    const headers = { 'x-ratelimit-reset-requests': '1s', 'x-ratelimit-remaining-requests': '0' };
    expect(readRetryHint(headers, { now })).toBeUndefined();
    expect(readRetryHint(headers, { now, rateLimitType: '' })).toEqual({ delay: 1000, source: 'x-ratelimit-reset-requests' });
  });

  it('skips unreadable reset durations', () => {
    const headers = { 'x-ratelimit-reset-requests': 'soon', 'x-ratelimit-reset-tokens': '7s' };
    expect(readRetryHint(headers, { now, rateLimitType: 'requests' })).toEqual({
      delay: 7000,
      source: 'x-ratelimit-reset-tokens',
    });
    expect(readRetryHint({ 'x-ratelimit-reset-tokens': '-2s' }, { now, rateLimitType: 'tokens' })).toBeUndefined();
  });

  it('takes the longest reset when neither the type nor an exhausted limit says which', () => {
    const headers = { 'x-ratelimit-reset-requests': '2s', 'x-ratelimit-reset-tokens': '45s' };
    expect(readRetryHint(headers, { now, rateLimitType: '' })).toEqual({ delay: 45_000, source: 'x-ratelimit-reset-tokens' });
  });
});
