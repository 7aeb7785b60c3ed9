import { trafficClassOption } from './traffic-class-option.js';
import type { TrafficClass } from './traffic-class.js';
import { isPlainObject } from './validate.js';

/**
 * The request header that declares one call's traffic class: `{ headers: { [TRAFFIC_CLASS_HEADER]: 'background' } }`.
 * The SDK's request options take no keys of their own, and a header is what every SDK method already
 * accepts per request; the pipeline reads it and removes it before anything is sent, so it never goes upstream.
 */
export const TRAFFIC_CLASS_HEADER = 'x-openai-resilient-class';

/** The class a request's headers declare (`undefined` when they declare none), and those headers without it. */
export interface DeclaredClass {
  readonly trafficClass: TrafficClass | undefined;
  readonly headers: unknown;
}

/**
 * Reads and removes {@link TRAFFIC_CLASS_HEADER} (any letter case) from the SDK's per-request `headers`: a
 * plain object, a `Headers`, or an array of `[name, value]` pairs. The caller's headers are not modified.
 *
 * @throws TypeError naming the header, when its value is not a traffic class.
 */
export function takeTrafficClass(headers: unknown): DeclaredClass {
  if (headers instanceof Headers) {
    const value = headers.get(TRAFFIC_CLASS_HEADER);
    if (value === null) return { trafficClass: undefined, headers };
    const rest = new Headers(headers);
    rest.delete(TRAFFIC_CLASS_HEADER);
    return { trafficClass: declared(value), headers: rest };
  }
  if (Array.isArray(headers)) {
    const mine = headers.filter((pair) => isClassHeader(Array.isArray(pair) ? pair[0] : undefined));
    if (mine.length === 0) return { trafficClass: undefined, headers };
    const rest = headers.filter((pair) => !mine.includes(pair));
    return { trafficClass: declared((mine.at(-1) as unknown[])[1]), headers: rest };
  }
  if (isPlainObject(headers)) {
    const names = Object.keys(headers).filter(isClassHeader);
    if (names.length === 0) return { trafficClass: undefined, headers };
    const rest: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(headers)) if (!names.includes(name)) rest[name] = value;
    const value = headers[names.at(-1)!];
    // `null` / `undefined` is the SDK's way of saying "no such header": no class declared.
    return { trafficClass: value == null ? undefined : declared(value), headers: rest };
  }
  return { trafficClass: undefined, headers };
}

/**
 * `headers` (as {@link takeTrafficClass} accepts them, or `undefined`) declaring `trafficClass`: how a call's
 * class goes with it to another resilient client (a fallback client), whose pipeline reads and removes it.
 * The given headers are not modified.
 */
export function withTrafficClass(headers: unknown, trafficClass: TrafficClass): unknown {
  if (headers instanceof Headers) {
    const copy = new Headers(headers);
    copy.set(TRAFFIC_CLASS_HEADER, trafficClass);
    return copy;
  }
  if (Array.isArray(headers)) return [...headers, [TRAFFIC_CLASS_HEADER, trafficClass]];
  return { ...(isPlainObject(headers) ? headers : {}), [TRAFFIC_CLASS_HEADER]: trafficClass };
}

function isClassHeader(name: unknown): boolean {
  return typeof name === 'string' && name.toLowerCase() === TRAFFIC_CLASS_HEADER;
}

function declared(value: unknown): TrafficClass {
  return trafficClassOption(`the request header \`${TRAFFIC_CLASS_HEADER}\``, value);
}
