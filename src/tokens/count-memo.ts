import type { RequestTokens } from './token-counter.js';

/**
 * The counts of request bodies, per body object and model, so that the pre-flight, each attempt's
 * reservation and the budgets count a call's body once. Held only as long as the body is (`WeakMap`). A
 * caller may send the same params object again after changing it (pushing a message onto its
 * `messages`): a count is reused only while the body's top-level values, and the elements of its
 * top-level arrays, are the same objects they were (a message whose `content` was reassigned in place is
 * not noticed: such a body is counted as it was).
 */
export class CountMemo {
  readonly #counts = new WeakMap<object, { readonly snapshot: Snapshot; readonly byModel: Map<string | undefined, RequestTokens> }>();

  get(body: unknown, model: string | undefined): RequestTokens | undefined {
    if (typeof body !== 'object' || body === null) return undefined;
    const entry = this.#counts.get(body);
    if (!entry || !unchanged(entry.snapshot, body as Record<string, unknown>)) return undefined;
    return entry.byModel.get(model);
  }

  set(body: unknown, model: string | undefined, tokens: RequestTokens): void {
    if (typeof body !== 'object' || body === null) return;
    const entry = this.#counts.get(body);
    if (entry && unchanged(entry.snapshot, body as Record<string, unknown>)) entry.byModel.set(model, tokens);
    else this.#counts.set(body, { snapshot: snapshotOf(body as Record<string, unknown>), byModel: new Map([[model, tokens]]) });
  }
}

/** The body's top-level values, and copies of its top-level arrays. */
type Snapshot = readonly (readonly [key: string, value: unknown, elements: readonly unknown[] | undefined])[];

function snapshotOf(body: Record<string, unknown>): Snapshot {
  return Object.keys(body).map((key) => {
    const value = body[key];
    return [key, value, Array.isArray(value) ? [...value] : undefined] as const;
  });
}

function unchanged(snapshot: Snapshot, body: Record<string, unknown>): boolean {
  if (Object.keys(body).length !== snapshot.length) return false;
  for (const [key, value, elements] of snapshot) {
    const now = body[key];
    if (now !== value) return false;
    if (elements && (!Array.isArray(now) || now.length !== elements.length || elements.some((element, i) => now[i] !== element))) return false;
  }
  return true;
}
