/** Small checks that throw a `TypeError` naming the option in backticks and saying what was expected. */

export function fail(path: string, expected: string, value: unknown): never {
  throw new TypeError(`openai-resilient: \`${path}\` must be ${expected}, got ${describe(value)}.`);
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
  if (!isPlainObject(value)) fail(path || 'options', 'an object', value);
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new TypeError(
        `openai-resilient: unknown option \`${path ? `${path}.` : ''}${key}\`; expected one of ${known.map((k) => `\`${k}\``).join(', ')}.`,
      );
    }
  }
  return value;
}

/** A finite number ≥ `min` (an integer when `integer`), or `undefined`. */
export function numberOption(
  path: string,
  value: unknown,
  { min = 0, integer = false }: { min?: number; integer?: boolean } = {},
): number | undefined {
  if (value === undefined) return undefined;
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && (!integer || Number.isInteger(value));
  if (!ok) fail(path, `${integer ? 'an integer' : 'a finite number'} ≥ ${min}`, value);
  return value;
}

export function booleanOption(path: string, value: unknown): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  return fail(path, 'a boolean', value);
}

/** A duration in milliseconds (> 0) or `false`; `undefined` when absent. */
export function durationOrFalse(path: string, value: unknown): number | false | undefined {
  if (value === false || value === undefined) return value;
  return numberOption(path, value, { min: 1 });
}
