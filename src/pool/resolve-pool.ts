import { fail, isPlainObject, numberOption, objectWithKeys } from '../core/validate.js';
import { LIMITS } from '../core/option-limits.js';
import type { PoolRouting } from './pool-options.js';

/** A pool member after validation (its client not yet cloned). */
export interface ResolvedMember {
  readonly client: unknown;
  readonly name: string;
  readonly weight: number;
  /** The member's name for each model it serves; `undefined`: every model, under the caller's name. */
  readonly models: ReadonlyMap<string, string> | undefined;
  readonly maxConcurrent: number | undefined;
}

export interface ResolvedPool {
  readonly members: readonly ResolvedMember[];
  readonly routing: PoolRouting;
  /** Every this many times, a lower class waiting for a member looks first (`pool.lowerClassEvery`). */
  readonly lowerClassEvery: number;
}

/** Defaults of the `pool` option. */
export const POOL_DEFAULTS = Object.freeze({ routing: 'balanced' as PoolRouting, lowerClassEvery: 10 });

const ROUTINGS: readonly PoolRouting[] = ['balanced', 'ordered', 'weighted'];
const MEMBER_KEYS = ['client', 'name', 'weight', 'models', 'maxConcurrent'] as const;
/** More members than this is a mistake (routing looks at two, but stats and state grow with each). */
const MAX_MEMBERS = 100;

/**
 * Validates the members of `resilient([...])` and the `pool` option, throwing a `TypeError` that names
 * what is wrong: an empty pool, a member that is not an SDK client, a weight that is not a positive
 * number, the same client (or name) twice.
 */
export function resolvePool(members: readonly unknown[], options: unknown): ResolvedPool {
  if (members.length === 0) fail('members', 'a non-empty array of OpenAI clients or `{ client, ... }` members', members, { what: 'the pool' });
  if (members.length > MAX_MEMBERS) fail('members', `at most ${MAX_MEMBERS} members`, members, { what: 'the pool' });
  const o = objectWithKeys('pool', options, ['routing', 'lowerClassEvery']) ?? {};
  const routing = o['routing'] ?? POOL_DEFAULTS.routing;
  const lowerClassEvery =
    numberOption('pool.lowerClassEvery', o['lowerClassEvery'], { min: 2, max: LIMITS.count, integer: true }) ?? POOL_DEFAULTS.lowerClassEvery;
  if (!ROUTINGS.includes(routing as PoolRouting)) fail('pool.routing', `one of ${ROUTINGS.map((r) => `'${r}'`).join(', ')}`, routing);

  const resolved = members.map((entry, index) => member(`members[${index}]`, entry));
  const clients = new Set<unknown>();
  for (const [index, { client }] of resolved.entries()) {
    if (clients.has(client)) fail(`members[${index}].client`, 'a client not already in the pool (the same client twice would share nothing and split nothing)', client, { what: 'the pool' });
    clients.add(client);
  }
  const names = new Set<string>();
  const named = resolved.map((entry) => {
    if (entry.name !== undefined) {
      if (names.has(entry.name)) fail('name', 'unique in the pool', entry.name, { what: 'a member' });
      names.add(entry.name);
    }
    return entry;
  });
  return {
    routing: routing as PoolRouting,
    lowerClassEvery,
    members: named.map((entry) => ({ ...entry, name: entry.name ?? defaultName(entry.client, names) })),
  };
}

function member(path: string, entry: unknown): Omit<ResolvedMember, 'name'> & { name: string | undefined } {
  if (isClient(entry)) return { client: entry, name: undefined, weight: 1, models: undefined, maxConcurrent: undefined };
  if (!isPlainObject(entry) || !isClient(entry['client'])) {
    fail(path, 'an OpenAI client (new OpenAI(), new AzureOpenAI()) or `{ client, name?, weight?, models?, maxConcurrent? }`', entry, { what: 'the pool member' });
  }
  const o = objectWithKeys(path, entry, MEMBER_KEYS)!;
  const name = o['name'];
  if (name !== undefined && (typeof name !== 'string' || name === '' || name.includes('/'))) fail(`${path}.name`, 'a non-empty string without `/`', name);
  const weight = o['weight'];
  if (weight !== undefined && !(typeof weight === 'number' && Number.isFinite(weight) && weight > 0 && weight <= 1_000_000)) {
    fail(`${path}.weight`, 'a positive number (at most 1_000_000)', weight);
  }
  return {
    client: o['client'],
    name: name as string | undefined,
    weight: (weight as number | undefined) ?? 1,
    models: modelMap(`${path}.models`, o['models']),
    maxConcurrent: numberOption(`${path}.maxConcurrent`, o['maxConcurrent'], { min: 1, max: 1_000_000, integer: true }),
  };
}

function modelMap(path: string, value: unknown): ReadonlyMap<string, string> | undefined {
  if (value === undefined) return undefined;
  const valid = (name: unknown) => typeof name === 'string' && name !== '';
  if (Array.isArray(value)) {
    if (value.length === 0 || !value.every(valid)) fail(path, 'a non-empty array of model names, or a map of model → the member\'s model name', value);
    return new Map(value.map((model: string) => [model, model]));
  }
  if (!isPlainObject(value) || Object.keys(value).length === 0 || !Object.values(value).every(valid)) {
    fail(path, 'a non-empty array of model names, or a map of model → the member\'s model name', value);
  }
  return new Map(Object.entries(value as Record<string, string>));
}

function isClient(value: unknown): boolean {
  const candidate = value as { makeRequest?: unknown; withOptions?: unknown } | null;
  return typeof candidate?.makeRequest === 'function' && typeof candidate.withOptions === 'function';
}

/** The host of the client's `baseURL`, made unique with `#2`, `#3`… (and added to `taken`). */
function defaultName(client: unknown, taken: Set<string>): string {
  let host: string;
  try {
    host = new URL(String((client as { baseURL?: unknown }).baseURL)).host || 'member';
  } catch {
    host = 'member';
  }
  let name = host;
  for (let n = 2; taken.has(name); n++) name = `${host}#${n}`;
  taken.add(name);
  return name;
}
