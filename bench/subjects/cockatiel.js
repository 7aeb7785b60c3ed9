// Subject "cockatiel": what a user composes by hand from cockatiel's README (its quick-start example,
// verbatim): `wrap(retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }),
// circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }))` around the SDK
// call, with the SDK's own retries off (`maxRetries: 0`) so that retries are not stacked, and the caller's
// signal passed through (`execute(fn, signal)`, the attempt gets cockatiel's).
import { readFileSync } from 'node:fs';
import { circuitBreaker, ConsecutiveBreaker, ExponentialBackoff, handleAll, retry, wrap } from 'cockatiel';
import OpenAI from 'openai';
import { VERSION } from 'openai/version';
import { targetOf } from './chat-facade.js';

const cockatielVersion = JSON.parse(readFileSync(new URL('../../node_modules/cockatiel/package.json', import.meta.url), 'utf8')).version;

function makeClient(target) {
  const client = new OpenAI({ apiKey: 'sk-bench', ...targetOf(target), maxRetries: 0 });
  const retryWithBreaker = wrap(
    retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }),
    circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
  );
  const create = (params, options = {}) =>
    retryWithBreaker.execute(({ signal }) => client.chat.completions.create(params, { ...options, signal }), options.signal);
  return { chat: { completions: { create } } };
}

/** @type {import('./index.js').Subject} */
export const cockatielSubject = {
  key: 'cockatiel',
  name: 'cockatiel wrap',
  configuration:
    "cockatiel's README example: `wrap(retry(handleAll, { maxAttempts: 3, backoff: new ExponentialBackoff() }), " +
    'circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }))` around `new OpenAI({ maxRetries: 0 })`',
  versions: { cockatiel: cockatielVersion, openai: VERSION },
  makeClient,
};
