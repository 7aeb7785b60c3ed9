/**
 * What someone coming from the OpenAI SDK (or cockatiel, or another resilience library) most likely meant
 * by an option `resilient()` does not take in that form: said in the `TypeError`, after what was expected.
 */

/** The OpenAI client's constructor options, which belong to `new OpenAI()`, not to `resilient()`. */
const CLIENT_OPTIONS = new Set([
  'apiKey', 'organization', 'project', 'webhookSecret', 'baseURL', 'fetch', 'fetchOptions', 'defaultHeaders',
  'defaultQuery', 'dangerouslyAllowBrowser', 'workloadIdentity', 'azureADTokenProvider', 'apiVersion', 'deployment', 'endpoint',
]);

/** Names other libraries give to options that exist here under another path. */
const RENAMED: Readonly<Record<string, string>> = {
  maxRetries: 'retry: { maxRetries }',
  retries: 'retry: { maxRetries }',
  maxAttempts: 'retry: { maxRetries } (retries after the first attempt)',
  attempts: 'retry: { maxRetries } (retries after the first attempt)',
  timeoutMs: 'timeout: { attempt }',
  requestTimeout: 'timeout: { attempt }',
  'retry.retries': 'retry.maxRetries',
  'retry.attempts': 'retry.maxRetries (retries after the first attempt)',
  // cockatiel's `maxAttempts` already counts retries only.
  'retry.maxAttempts': 'retry.maxRetries',
  'retry.minDelay': 'retry.initialDelay',
  'retry.baseDelay': 'retry.initialDelay',
  'retry.delay': 'retry.initialDelay',
  'retry.timeout': 'timeout: { attempt } (beside `retry`, not inside it)',
  'timeout.request': 'timeout.attempt',
  'timeout.perAttempt': 'timeout.attempt',
  'timeout.call': 'timeout.total',
  'timeout.overall': 'timeout.total',
  'timeout.chunk': 'timeout.idle',
  'timeout.firstToken': 'timeout.firstChunk',
  'circuitBreaker.threshold': 'circuitBreaker.consecutiveFailures',
  'circuitBreaker.failureThreshold': 'circuitBreaker.consecutiveFailures',
  'circuitBreaker.resetTimeout': 'circuitBreaker.halfOpenAfter',
  'circuitBreaker.cooldown': 'circuitBreaker.halfOpenAfter',
  'bulkhead.limit': 'bulkhead.maxConcurrent',
  'bulkhead.concurrency': 'bulkhead.maxConcurrent',
  'bulkhead.queue': 'bulkhead.maxQueued',
  'rateLimit.rpm': 'rateLimit.requestsPerMinute',
  'rateLimit.tpm': 'rateLimit.tokensPerMinute',
};

/** Policies that are on by default and take options or `false`. */
const ON_BY_DEFAULT = new Set(['retry', 'circuitBreaker', 'bulkhead', 'rateLimit']);

/** A hint for `value` at `path` where an options object was expected. */
export function hintForValue(path: string, value: unknown): string | undefined {
  if (path === 'timeout' && typeof value === 'number') {
    return `the SDK's \`timeout\` is per attempt: write \`timeout: { attempt: ${value} }\` (\`timeout.total\` bounds the whole call)`;
  }
  if (path === 'retry' && typeof value === 'number') return `for ${value} retries write \`retry: { maxRetries: ${value} }\``;
  if (ON_BY_DEFAULT.has(path) && value === true) return `\`${path}\` is on by default: leave it out, give its options, or \`false\` to turn it off`;
  return undefined;
}

/** A hint for the unknown option at `path` (`key` inside `parent`, `''` at the top level). */
export function hintForUnknown(parent: string, key: string, value: unknown): string | undefined {
  const path = parent ? `${parent}.${key}` : key;
  if (!parent && CLIENT_OPTIONS.has(key)) {
    return `\`${key}\` is an option of the OpenAI client: \`resilient(new OpenAI({ ${key} }))\``;
  }
  const renamed = RENAMED[path];
  if (renamed === undefined) return undefined;
  if (!parent && key === 'maxRetries' && typeof value === 'number') {
    return `write \`retry: { maxRetries: ${value} }\` (or set it on the client: \`new OpenAI({ maxRetries: ${value} })\` carries over)`;
  }
  if (!parent && key === 'timeoutMs' && typeof value === 'number') return `write \`timeout: { attempt: ${value} }\``;
  return `did you mean \`${renamed}\`?`;
}
