import { LRUCache } from 'lru-cache';
import type { MemberState } from './member-state.js';

/** Stored responses remembered per pool; the least recently used beyond it are forgotten. */
const MAX_OWNERS = 10_000;

/**
 * Which member created each stored Responses API response (`resp_...`): a stored response lives in one
 * account, so the calls that refer to it (`previous_response_id`, `responses.retrieve(id)`, `cancel`,
 * `inputItems.list`, `delete`) go to that member, not to whichever member routing would pick. Bounded:
 * a forgotten response is routed as any call is. A conversation (`conversations.create()`, which has no
 * model) lives on the first member: a response in it goes there.
 */
export class ResponseOwners {
  readonly #owners = new LRUCache<string, MemberState>({ max: MAX_OWNERS });

  /** `body` is a member's answer to `POST /responses`: remembers its `id` as that member's. */
  record(body: unknown, member: MemberState): void {
    const id = (body as { id?: unknown } | null | undefined)?.id;
    if (typeof id === 'string') this.remember(id, member);
  }

  /** Remembers the response `id` (from an answer, or a stream's `response.created`) as `member`'s. */
  remember(id: string, member: MemberState): void {
    if (id !== '') this.#owners.set(id, member);
  }

  /**
   * The member that holds what a request refers to, when known: the response it continues or names, or
   * (`first`) the member that holds conversations, created without a model and so on the first member.
   */
  ownerOf(path: string, body: unknown, first: MemberState): MemberState | undefined {
    const conversation = (body as { conversation?: unknown } | null | undefined)?.conversation;
    if (conversation !== undefined && conversation !== null) return first;
    if (this.#owners.size === 0) return undefined;
    const previous = (body as { previous_response_id?: unknown } | null | undefined)?.previous_response_id;
    if (typeof previous === 'string') return this.#owners.get(previous);
    const match = RESPONSE_PATH.exec(path);
    return match ? this.#owners.get(decodeURIComponent(match[1]!)) : undefined;
  }
}

/** `/responses/{id}` and what hangs below it (`/cancel`, `/input_items`). */
const RESPONSE_PATH = /^\/responses\/([^/?]+)/;
