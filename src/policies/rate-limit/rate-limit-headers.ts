import { headerValue, type HeadersLike } from '../../classify/retry-hint.js';
import type { LearnedLimits } from '../../shared/shared-backend.js';

/**
 * The limits and what is left, as a response's (or an error's) `x-ratelimit-limit-*` and
 * `x-ratelimit-remaining-*` headers state them; a header absent or not a usable number is left out.
 */
export function limitsFromHeaders(headers: HeadersLike): LearnedLimits {
  return {
    requestsPerMinute: positiveNumber(headerValue(headers, 'x-ratelimit-limit-requests')),
    tokensPerMinute: positiveNumber(headerValue(headers, 'x-ratelimit-limit-tokens')),
    remainingRequests: positiveNumber(headerValue(headers, 'x-ratelimit-remaining-requests'), true),
    remainingTokens: positiveNumber(headerValue(headers, 'x-ratelimit-remaining-tokens'), true),
  };
}

function positiveNumber(value: string | undefined, allowZero = false): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  return Number.isFinite(number) && (allowZero ? number >= 0 : number > 0) ? number : undefined;
}
