import { RateLimitTimeoutError } from '../../errors/rate-limit-timeout-error.js';
import type { EventBus } from '../../events/event-bus.js';
import { sleep, type Abortable } from '../../internal/abort-scope.js';
import type { Clock } from '../../internal/clock.js';

/** What a call may wait for before it is sent: a pause after a 429, or one of the buckets. */
export type WaitReason = 'paused' | 'requests' | 'tokens' | 'tenant';

/** The part of a model's rate-limit state its waiting callers read and count themselves in. */
export interface ModelQueue {
  /** Calls waiting now (bounded by `maxQueued`). */
  waiting: number;
  /** Until when a 429 paused the model (epoch ms on the limiter's clock). */
  readonly pausedUntil: number;
  /** Refill time lost to pauses so far: callers already waiting when a pause starts wait that much longer. */
  readonly heldFor: number;
}

/** One call's wait for capacity. */
export interface CapacityWait {
  readonly model: string;
  readonly tenant: string | undefined;
  /** How long each limit holds the call, in ms; it waits for the longest. */
  readonly waits: Partial<Record<WaitReason, number>>;
  readonly call: Abortable;
  readonly deadlineAt: number | undefined;
  /** Returns what the call reserved, when it is refused or aborted. */
  readonly giveBack: () => void;
  /** Also wait out a pause of the model set while waiting (the model's buckets; not a tenant's share). */
  readonly followPause: boolean;
}

/** The limiter's parts a wait needs. */
export interface WaitContext {
  readonly clock: Clock;
  readonly events: EventBus;
  readonly maxQueued: number;
}

/**
 * Returns once the longest of `wait.waits` is over (and, with `followPause`, any pause of the model set
 * meanwhile), announcing it with a `rateLimitWait` event. Refuses at once with `RateLimitTimeoutError`
 * when `maxQueued` calls are waiting already or the wait would pass the deadline; on refusal or abort,
 * gives the reservation back and rejects.
 */
export async function waitForCapacity(queue: ModelQueue, wait: CapacityWait, context: WaitContext): Promise<void> {
  const { clock, events, maxQueued } = context;
  const { model, waits, deadlineAt, giveBack } = wait;
  const now = clock.now();
  let remaining = Math.max(0, ...Object.values(waits));
  if (remaining === 0) return;

  if (queue.waiting >= maxQueued) {
    giveBack();
    throw new RateLimitTimeoutError(model, undefined);
  }
  if (deadlineAt !== undefined && now + remaining >= deadlineAt) {
    giveBack();
    throw new RateLimitTimeoutError(model, remaining);
  }
  // During a pause its end is what the call waits for, even when the (held) buckets add to it.
  const reason = waits.paused ? 'paused' : (Object.keys(waits) as WaitReason[]).find((key) => waits[key] === remaining)!;
  events.emit('rateLimitWait', { model, tenant: wait.tenant, delay: remaining, reason });
  const readyAt = now + remaining;
  const heldBefore = queue.heldFor;
  queue.waiting++;
  try {
    while (remaining > 0) {
      if (deadlineAt !== undefined && clock.now() + remaining >= deadlineAt) {
        throw new RateLimitTimeoutError(model, remaining);
      }
      await sleep(clock, remaining, wait.call.signal);
      if (!wait.followPause) break;
      // A 429 may have paused the model while we waited: its buckets stopped refilling for that long.
      const later = clock.now();
      remaining = Math.max(0, readyAt + queue.heldFor - heldBefore - later, queue.pausedUntil - later);
    }
  } catch (error) {
    giveBack();
    throw error;
  } finally {
    queue.waiting--;
  }
}
