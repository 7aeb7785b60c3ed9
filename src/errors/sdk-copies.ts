import { isResilienceError, ResilienceError } from './resilience-error.js';

/**
 * Errors of ours on another copy of the `openai` SDK.
 *
 * `ResilienceError` extends the `OpenAIError` of the SDK copy this package imports (its ESM build). A
 * client from another copy (the SDK's CommonJS build under `require()`, or a second version) has helpers
 * (`chat.completions.stream()`, `responses.stream()`, `runTools()`) that check `instanceof OpenAIError` of
 * their own copy, and wrap anything else in a new, plain `OpenAIError`: an error of ours would reach the
 * caller wrapped, and `isResilienceError()` and `classify()` would fail on it.
 *
 * So, as it leaves the pipeline, an error of ours is re-based on the client's copy: its prototypes are
 * swapped for copies of ours (own properties and `constructor` included) whose chain ends in that copy's
 * `OpenAIError.prototype`. The object stays the same (fields, stack, brand, `cause`); `instanceof` of our
 * exported classes follows the copies' `constructor` (`ResilienceError`'s `Symbol.hasInstance`).
 */

/** The `OpenAIError.prototype` that `ResilienceError` extends (this package's own SDK copy). */
const OWN_BASE: object = Object.getPrototypeOf(ResilienceError.prototype) as object;
/** Per SDK copy (its `OpenAIError.prototype`): our prototypes → their copies on it. Bounded by classes × copies. */
const copiesByBase = new WeakMap<object, WeakMap<object, object>>();
/** A copied prototype → the prototype of ours it copies. */
const originals = new WeakMap<object, object>();

/**
 * `error`, if it is an error of this copy of the package, re-based on `sdkOpenAIError` (the client's own
 * SDK copy's `OpenAIError` class), or back on our own when that is ours; anything else is returned as is.
 * Returns the same object.
 */
export function onSdkCopy<T>(error: T, sdkOpenAIError: unknown): T {
  if (!isResilienceError(error)) return error;
  const current = Object.getPrototypeOf(error) as object;
  const original = originals.get(current) ?? current;
  if (!isOwnPrototype(original)) return error;
  const base = typeof sdkOpenAIError === 'function' ? (sdkOpenAIError.prototype as unknown) : undefined;
  const target = typeof base !== 'object' || base === null || base === OWN_BASE ? original : copyOn(original, base);
  if (target !== current) Object.setPrototypeOf(error, target);
  return error;
}

/** Whether `proto` is `ResilienceError.prototype` of this copy of the package, or below it. */
function isOwnPrototype(proto: object | null): boolean {
  for (; proto !== null; proto = Object.getPrototypeOf(proto) as object | null) {
    if (proto === ResilienceError.prototype) return true;
  }
  return false;
}

/** The copy of `proto` (and of its chain up to `ResilienceError.prototype`) whose chain ends in `base`. */
function copyOn(proto: object, base: object): object {
  let copies = copiesByBase.get(base);
  if (!copies) copiesByBase.set(base, (copies = new WeakMap()));
  let copy = copies.get(proto);
  if (!copy) {
    const parent = proto === ResilienceError.prototype ? base : copyOn(Object.getPrototypeOf(proto) as object, base);
    copy = Object.create(parent, Object.getOwnPropertyDescriptors(proto)) as object;
    copies.set(proto, copy);
    originals.set(copy, proto);
  }
  return copy;
}
