import { formatLimit } from './option-limits.js';

/** What the wrapped client was configured with, used as defaults (so existing settings carry over). */
export interface ClientDefaults {
  readonly maxRetries?: unknown;
  readonly timeout?: unknown;
}

/**
 * A setting of the wrapped client (`new OpenAI({ maxRetries, timeout })`) carried over: one the SDK would
 * ignore is ignored too; one above what `resilient()` allows (`max`) throws, naming it.
 */
export function clientNumber(name: string, value: unknown, max: number, integer: boolean): number | undefined {
  const valid = typeof value === 'number' && Number.isFinite(value) && value >= 0 && (!integer || Number.isInteger(value));
  if (!valid) return undefined;
  if (value > max) {
    throw new TypeError(
      `openai-resilient: the client's \`${name}\` (${value}) is above ${formatLimit(max)}, the most \`resilient()\` allows; set a lower one, or override it in the options.`,
    );
  }
  return value;
}
