import { hintForUnknown, hintForValue } from './option-hints.js';
import { formatLimit, LIMITS } from './option-limits.js';

/** Small checks that throw a `TypeError` naming the option in backticks and saying what was expected. */

/** `what`: how the option is introduced, e.g. `'the request option'`; `hint`: what was probably meant. */
export function fail(path: string, expected: string, value: unknown, { what, hint }: { what?: string; hint?: string | undefined } = {}): never {
  const subject = what ? `${what} \`${path}\`` : `\`${path}\``;
  throw new TypeError(`openai-resilient: ${subject} must be ${expected}, got ${describe(value)}${hint ? `: ${hint}` : ''}.`);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** An options object (or `undefined`) with no keys outside `known`. */
export function objectWithKeys(
  path: string,
  value: unknown,
  known: readonly string[],
): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) fail(path || 'options', 'an object', value, { hint: hintForValue(path, value) });
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      const hint = hintForUnknown(path, key, value[key]);
      throw new TypeError(
        `openai-resilient: unknown option \`${path ? `${path}.` : ''}${key}\`${hint ? `: ${hint}` : ''}; expected one of ${known.map((k) => `\`${k}\``).join(', ')}.`,
      );
    }
  }
  return value;
}

/**
 * A finite number from `min` to `max` (an integer when `integer`), or `undefined`. Every numeric option
 * has an upper bound (see `LIMITS`), said in the message.
 */
export function numberOption(
  path: string,
  value: unknown,
  { min = 0, max, integer = false }: { min?: number; max: number; integer?: boolean },
): number | undefined {
  if (value === undefined) return undefined;
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value));
  if (!ok) fail(path, `${integer ? 'an integer' : 'a number'} from ${formatLimit(min)} to ${formatLimit(max)}`, value);
  return value;
}

/** A share of something, in (0, 1], or `undefined`. */
export function shareOption(path: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) fail(path, 'a number in (0, 1]', value);
  return value;
}

export function booleanOption(path: string, value: unknown): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  return fail(path, 'a boolean', value);
}

/** A duration in milliseconds (from 1 to `LIMITS.duration`) or `false`; `undefined` when absent. */
export function durationOrFalse(path: string, value: unknown): number | false | undefined {
  if (value === false || value === undefined) return value;
  return numberOption(path, value, { min: 1, max: LIMITS.duration });
}
