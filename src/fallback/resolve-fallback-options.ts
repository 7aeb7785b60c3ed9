import type { FallbackValue } from './fallback-options.js';
import { fail, isPlainObject, objectWithKeys } from '../core/validate.js';
import { ERROR_KINDS, type ErrorKind } from '../errors/error-kind.js';

/** A fallback client after validation; `resilient()` wraps it if it is not resilient yet. */
export interface ResolvedFallbackClient {
  readonly client: unknown;
  readonly model: (model: string | undefined) => string | undefined;
}

export interface ResolvedFallback {
  readonly models: Readonly<Record<string, readonly string[]>>;
  readonly contextWindow: Readonly<Record<string, readonly string[]>>;
  readonly clients: readonly ResolvedFallbackClient[];
  readonly value: FallbackValue | undefined;
  /** Kinds that fall back besides the default ones (`fallback.on`). */
  readonly on: ReadonlySet<ErrorKind>;
}

export function resolveFallback(value: unknown): ResolvedFallback | undefined {
  if (value === undefined || value === false) return undefined;
  const o = objectWithKeys('fallback', value, ['models', 'contextWindow', 'clients', 'value', 'on'])!;
  const clients = o['clients'] ?? [];
  if (!Array.isArray(clients)) fail('fallback.clients', 'an array of clients', clients);
  const last = o['value'];
  if (last !== undefined && typeof last !== 'function') fail('fallback.value', 'a function', last);
  return {
    models: modelLists('fallback.models', o['models']),
    contextWindow: modelLists('fallback.contextWindow', o['contextWindow']),
    clients: clients.map((entry: unknown, index: number) => fallbackClient(`fallback.clients[${index}]`, entry)),
    value: last as FallbackValue | undefined,
    on: fallbackKinds(o['on']),
  };
}

function modelLists(path: string, value: unknown): Record<string, readonly string[]> {
  if (value === undefined) return {};
  if (!isPlainObject(value)) fail(path, 'an object of model → fallback models', value);
  for (const [model, list] of Object.entries(value)) {
    if (!Array.isArray(list) || list.some((item) => typeof item !== 'string' || item === '')) {
      fail(`${path}.${model}`, 'an array of model names', list);
    }
  }
  return value as Record<string, readonly string[]>;
}

function isClient(value: unknown): boolean {
  return typeof (value as { makeRequest?: unknown })?.makeRequest === 'function';
}

function fallbackClient(path: string, entry: unknown): ResolvedFallbackClient {
  if (isClient(entry)) return { client: entry, model: (model) => model };
  if (!isPlainObject(entry) || !isClient(entry['client'])) {
    fail(path, 'an OpenAI client or `{ client, model? }`', entry);
  }
  const model = entry['model'];
  if (model === undefined) return { client: entry['client'], model: (m) => m };
  if (typeof model === 'string') return { client: entry['client'], model: () => model };
  if (typeof model === 'function') return { client: entry['client'], model: model as ResolvedFallbackClient['model'] };
  return fail(`${path}.model`, 'a model name or a function', model);
}

/** `fallback.on`: error kinds (a kind that is not one is a `TypeError` naming it). */
function fallbackKinds(value: unknown): ReadonlySet<ErrorKind> {
  if (value === undefined) return new Set();
  if (!Array.isArray(value)) fail('fallback.on', 'an array of error kinds', value);
  for (const [index, kind] of value.entries()) {
    if (!ERROR_KINDS.includes(kind as ErrorKind)) fail(`fallback.on[${index}]`, `one of the error kinds (${ERROR_KINDS.map((k) => `'${k}'`).join(', ')})`, kind);
  }
  return new Set(value as ErrorKind[]);
}
