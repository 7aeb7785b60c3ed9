import { LIMITS } from '../core/option-limits.js';
import { durationOrFalse, fail, numberOption, objectWithKeys } from '../core/validate.js';
import type { StreamGuardSettings } from './stream-guard-hooks.js';
import { resolveContinuation } from './continuation/resolve-continuation.js';

export const STREAMING_DEFAULTS = Object.freeze({ idle: 120_000, maxResumes: 3 });

/** `streaming`, and `timeout.idle` (`timeout` is the whole `timeout` option: `false` turns `idle` off too). */
export function resolveStreaming(timeout: unknown, value: unknown): StreamGuardSettings {
  const idle = timeout === false ? false : durationOrFalse('timeout.idle', (timeout as Record<string, unknown> | undefined)?.['idle']);
  const streaming = objectWithKeys('streaming', value, ['onTruncated', 'maxResumes', 'continuation']) ?? {};
  const onTruncated = streaming['onTruncated'];
  if (onTruncated !== undefined && onTruncated !== 'error' && onTruncated !== 'end') {
    fail('streaming.onTruncated', "'error' or 'end'", onTruncated);
  }
  return {
    idle: idle === false ? undefined : (idle ?? STREAMING_DEFAULTS.idle),
    onTruncated: (onTruncated as StreamGuardSettings['onTruncated'] | undefined) ?? 'error',
    maxResumes: numberOption('streaming.maxResumes', streaming['maxResumes'], { max: LIMITS.retries, integer: true }) ?? STREAMING_DEFAULTS.maxResumes,
    continuation: resolveContinuation(streaming['continuation']),
  };
}
