import { classOfRank } from '../../core/traffic-class.js';
import { RateLimitTimeoutError } from '../../errors/rate-limit-timeout-error.js';
import type { EventBus } from '../../events/event-bus.js';
import type { Abortable } from '../../core/abort-scope.js';
import type { Clock } from '../../core/clock.js';
import type { WakeList } from './wake-list.js';
import type { Seat, WaitingSeats } from './waiting-seats.js';

/** What a call may wait for before it is sent: a pause after a 429, or one of the buckets. */
export type WaitReason = 'paused' | 'requests' | 'tokens' | 'tenant';

/** How long each limit holds a call from now, in ms. */
export type Waits = Partial<Record<WaitReason, number>>;

/** The part of a model's rate-limit state its waiting callers read and count themselves in. */
export interface ModelQueue {
  /** Calls waiting now, with their classes (bounded by `maxQueued`; lower classes give way first). */
  readonly seats: WaitingSeats;
  /** Until when a 429 paused the model (epoch ms on the limiter's clock). */
  readonly pausedUntil: number;
}

/** One call's wait for capacity. */
export interface CapacityWait {
  readonly model: string;
  readonly tenant: string | undefined;
  /** Its traffic class's rank (`classRank`): at a full queue, a lower class gives way to it. @default 1 (`default`) */
  readonly rank?: number | undefined;
  /**
   * How long each limit holds the call from now; it waits for the longest. Asked again whenever the call
   * wakes up (its time came, or capacity came early), so a pause, a new limit or finer pacing set meanwhile
   * are followed.
   */
  readonly waits: () => Waits | Promise<Waits>;
  /**
   * The shortest the wait can turn out from now, when capacity may come early (a burst widened by answers):
   * the call is refused for its deadline only when even this would pass it. Without it, the wait itself.
   */
  readonly soonest?: (() => number) | undefined;
  readonly call: Abortable;
  readonly deadlineAt: number | undefined;
  /** Returns what the call reserved, when it is refused or aborted. */
  readonly giveBack: () => void;
  /**
   * Where the call sleeps to be woken early, with its turn and how long it still waits as things stand
   * (`undefined`: only `waits` can tell); without it, only its time wakes it.
   */
  readonly wakeups?:
    | {
        readonly list: WakeList;
        /** Read whenever the list orders its sleepers: a higher traffic class going ahead moves it back. */
        readonly turn: number;
        readonly remaining: (() => number) | undefined;
        /** `list.notices` before the call's first look at the shared state (its reservation), for a call that looks asynchronously. */
        readonly seen?: number | undefined;
      }
    | undefined;
}

/** The limiter's parts a wait needs. */
export interface WaitContext {
  readonly clock: Clock;
  readonly events: EventBus;
  readonly maxQueued: number;
}

/** The longest of `waits` (0 when none holds the call). */
export const longest = (waits: Waits): number => Math.max(0, ...Object.values(waits));

/** Waits that end at fixed times: `waits` from now, counted down on `clock` when asked again. */
export function fixedWaits(clock: Clock, waits: Waits): () => Waits {
  const now = clock.now();
  const ends = Object.entries(waits).map(([reason, ms]) => [reason, now + (ms ?? 0)] as const);
  return () => {
    const at = clock.now();
    return Object.fromEntries(ends.map(([reason, end]) => [reason, Math.max(0, end - at)]));
  };
}

/**
 * Returns once no limit holds the call any more (true when it had to wait), announcing the wait with a
 * `rateLimitWait` event. When `maxQueued` calls are waiting already, the newest waiter of the lowest class
 * below the call's gives way (`LoadShedError`) and the call takes its seat; with none, the call is refused
 * at once with `RateLimitTimeoutError`, as when the wait would pass the deadline (also when a later look
 * says it would). On refusal, shedding or abort, gives the reservation back and rejects.
 */
export async function waitForCapacity(queue: ModelQueue, wait: CapacityWait, context: WaitContext): Promise<boolean> {
  const { clock, events, maxQueued } = context;
  const { model, deadlineAt, giveBack, wakeups } = wait;
  // A call that looks asynchronously (a shared reservation) is not in the wake list while it looks.
  const looksAsync = wakeups !== undefined && wakeups.remaining === undefined;
  let seen = wakeups?.seen ?? wakeups?.list.notices;
  const asked = wait.waits();
  // (No promise to await on the hot path: a call that waits for nothing is not held a microtask.)
  let waits = asked instanceof Promise ? await asked : asked;
  let remaining = longest(waits);
  if (remaining === 0) return false;

  const rank = wait.rank ?? 1;
  if (queue.seats.size >= maxQueued && !queue.seats.shedFor(rank)) {
    giveBack();
    throw new RateLimitTimeoutError(model, undefined);
  }
  const soonest = () => (wait.soonest ? Math.min(remaining, wait.soonest()) : remaining);
  const atLeast = soonest();
  if (deadlineAt !== undefined && clock.now() + atLeast >= deadlineAt) {
    giveBack();
    throw new RateLimitTimeoutError(model, atLeast);
  }
  // During a pause its end is what the call waits for, even when the (held) buckets add to it.
  const reason = waits.paused ? 'paused' : (Object.keys(waits) as Array<keyof Waits>).find((key) => waits[key] === remaining)!;
  events.emit('rateLimitWait', { model, tenant: wait.tenant, delay: remaining, reason, trafficClass: classOfRank(rank) });
  const seat = queue.seats.take(rank);
  try {
    while (remaining > 0) {
      if (seat.shed) throw seat.shed;
      const now = clock.now();
      const atLeastNow = soonest();
      if (deadlineAt !== undefined && now + atLeastNow >= deadlineAt) throw new RateLimitTimeoutError(model, atLeastNow);
      // Capacity may come early: sleep no further than the deadline, and look again then. A notification
      // that came while the call looked is not lost: it looks again at once.
      if (!looksAsync || wakeups.list.notices === seen) {
        await nap(clock, deadlineAt === undefined ? remaining : Math.min(remaining, deadlineAt - now), wait, seat);
      }
      seen = wakeups?.list.notices;
      waits = await wait.waits();
      remaining = longest(waits);
    }
    // Shed while it looked (a shared reservation asks asynchronously): its seat is gone.
    if (seat.shed) throw seat.shed;
  } catch (error) {
    giveBack();
    throw error;
  } finally {
    queue.seats.leave(seat);
  }
  return true;
}

/**
 * Sleeps `ms`, or less when its wake list wakes it or shortens its sleep; rejects when the call is
 * aborted or its seat is given to a higher class (`seat.interrupt`). Woken by its own time, it first lets
 * the list shorten the next sleeper's wait (which may have been computed before capacity came early).
 */
function nap(clock: Clock, ms: number, wait: CapacityWait, seat: Seat): Promise<void> {
  const { signal } = wait.call;
  const { wakeups } = wait;
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    let leave = (): void => undefined;
    let dueAt = clock.now() + ms;
    const end = () => {
      clock.clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      seat.interrupt = undefined;
      leave();
    };
    const onAbort = () => {
      end();
      reject(signal.reason);
    };
    seat.interrupt = (error) => {
      end();
      reject(error);
    };
    const onTime = () => {
      end();
      wakeups?.list.notify();
      resolve();
    };
    let timer = clock.setTimeout(onTime, ms);
    signal.addEventListener('abort', onAbort, { once: true });
    if (!wakeups) return;
    leave = wakeups.list.add({
      // (Read when asked: a higher class going ahead moves it back.)
      get turn() {
        return wakeups.turn;
      },
      remaining: wakeups.remaining,
      wake: () => {
        end();
        resolve();
      },
      shorten: (shorter) => {
        if (clock.now() + shorter >= dueAt) return;
        clock.clearTimeout(timer);
        dueAt = clock.now() + shorter;
        timer = clock.setTimeout(onTime, shorter);
      },
    });
  });
}
