/**
 * The background responses a fault server (or fault fetch) holds: created by `POST /responses` with
 * `background: true`, read, resumed and cancelled by id. Bounded: beyond {@link MAX_BACKGROUND_RESPONSES}
 * the oldest is forgotten (the API keeps a background response about 10 minutes).
 *
 * @module
 */

import { cancelledObject, type BackgroundEvent, type BackgroundStatus, type GeneratedBackground } from './background-events.js';

/** How many background responses a store keeps; the oldest is forgotten first. */
export const MAX_BACKGROUND_RESPONSES = 10_000;

/** One stored background response. */
export interface StoredBackground {
  readonly id: string;
  /** Whether it was created with `stream: true` (only those can be streamed again). */
  readonly stream: boolean;
  /** Every event generated, in order (`sequence_number` = index). */
  readonly events: readonly BackgroundEvent[];
  readonly status: BackgroundStatus;
  /** The response object `GET /responses/{id}` answers. */
  readonly response: Record<string, unknown>;
  /** The response as created (status `queued`, no output): a non-streaming create's answer. */
  readonly created: Record<string, unknown>;
  /** Resolves once a paused response stops waiting (it is cancelled, or the store cleared). */
  readonly settled: Promise<void>;
  /** Cancels a `queued` / `in_progress` response; returns `false` when it had already ended otherwise. Idempotent. */
  cancel(): boolean;
}

/** The store of one transport. */
export interface BackgroundStore {
  add(id: string, stream: boolean, generated: GeneratedBackground): StoredBackground;
  get(id: string): StoredBackground | undefined;
  /** Forgets every response (paused ones stop waiting). */
  clear(): void;
}

/** Creates an empty store. */
export function createBackgroundStore(max = MAX_BACKGROUND_RESPONSES): BackgroundStore {
  const responses = new Map<string, StoredBackground & { settle(): void }>();
  return {
    add: (id, stream, generated) => {
      let settle!: () => void;
      const settled = new Promise<void>((resolve) => (settle = resolve));
      let status = generated.status;
      let response = generated.response;
      if (status !== 'in_progress') settle();
      const stored = {
        id,
        stream,
        events: generated.events,
        created: generated.created,
        get status() {
          return status;
        },
        get response() {
          return response;
        },
        settled,
        settle,
        cancel: () => {
          if (status === 'cancelled') return true;
          if (status !== 'queued' && status !== 'in_progress') return false;
          status = 'cancelled';
          response = cancelledObject(response);
          settle();
          return true;
        },
      };
      responses.set(id, stored);
      for (const oldest of responses.keys()) {
        if (responses.size <= max) break;
        responses.get(oldest)?.settle();
        responses.delete(oldest);
      }
      return stored;
    },
    get: (id) => responses.get(id),
    clear: () => {
      for (const r of responses.values()) r.settle();
      responses.clear();
    },
  };
}
