/** A server's instruction on when to try again, in milliseconds from now. */
export interface RetryHint {
  readonly delay: number;
  readonly source:
    | 'retry-after-ms'
    | 'retry-after'
    | 'x-ratelimit-reset-requests'
    | 'x-ratelimit-reset-tokens';
}

/** Anything with a `get(name)` (Web `Headers`) or a plain record of header values. */
export type HeadersLike = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

export function headerValue(headers: HeadersLike | null | undefined, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const record = headers as Record<string, string | string[] | undefined>;
  const lower = name.toLowerCase();
  // Header names are case-insensitive; a hand-built record may spell them `Retry-After`.
  const value =
    record[name] ?? record[lower] ?? Object.entries(record).find(([key]) => key.toLowerCase() === lower)?.[1];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Reads `retry-after-ms`, then `retry-after` (seconds or an HTTP date), as the SDK does. For rate
 * limits without those, reads `x-ratelimit-reset-requests` / `-tokens` (OpenAI durations such as
 * `1s`, `6m0s`, `20ms`), preferring the limit named by the error's `type`, else the exhausted one.
 */
export function readRetryHint(
  headers: HeadersLike | null | undefined,
  options: { now: number; rateLimitType?: string | undefined },
): RetryHint | undefined {
  const ms = parseNumber(headerValue(headers, 'retry-after-ms'));
  if (ms !== undefined) return { delay: ms, source: 'retry-after-ms' };

  const retryAfter = headerValue(headers, 'retry-after');
  if (retryAfter !== undefined) {
    const seconds = parseNumber(retryAfter);
    if (seconds !== undefined) return { delay: seconds * 1000, source: 'retry-after' };
    // Only a real HTTP-date: V8's lenient Date.parse reads '-1' or 'foo 1' as a date in 2001.
    const date = HTTP_DATE.test(retryAfter.trim()) ? Date.parse(retryAfter) : Number.NaN;
    if (!Number.isNaN(date)) return { delay: Math.max(0, date - options.now), source: 'retry-after' };
  }

  if (options.rateLimitType === undefined) return undefined;
  const resets = (['requests', 'tokens'] as const)
    .map((limit) => ({
      limit,
      delay: parseDuration(headerValue(headers, `x-ratelimit-reset-${limit}`)),
      exhausted: headerValue(headers, `x-ratelimit-remaining-${limit}`) === '0',
    }))
    .filter((reset): reset is typeof reset & { delay: number } => reset.delay !== undefined);
  const chosen =
    resets.find((reset) => reset.limit === options.rateLimitType) ??
    resets.find((reset) => reset.exhausted) ??
    resets.sort((a, b) => b.delay - a.delay)[0];
  return chosen && { delay: chosen.delay, source: `x-ratelimit-reset-${chosen.limit}` };
}

/** Every HTTP-date format (IMF-fixdate, RFC 850, asctime) starts with the day name. */
const HTTP_DATE = /^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s/i;

function parseNumber(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const number = Number(value);
  return Number.isFinite(number) && number >= 0 ? number : undefined;
}

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Parses OpenAI's reset durations (`1h2m3.5s`, `6m0s`, `120ms`); `undefined` when unreadable. */
export function parseDuration(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(DURATION_PART)) {
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
    consumed += match[0].length;
  }
  return consumed === text.length && consumed > 0 ? total : undefined;
}
