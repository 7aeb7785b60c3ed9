import { classRank, TRAFFIC_CLASSES, type TrafficClass } from '../../core/traffic-class.js';

/** What the queues need to know of a waiter. */
export interface QueuedCall {
  readonly tenant: string;
  readonly trafficClass: TrafficClass;
  /** Arrival order: smaller waited longer. */
  readonly seq: number;
}

/**
 * The bulkhead's waiters: one queue per traffic class, and within a class one FIFO per tenant served
 * round-robin (a Map keeps insertion order: a tenant served is re-inserted at the end).
 *
 * Higher classes are served first. Anti-starvation: while a lower class has a waiter that could run and a
 * higher class keeps taking the slots, every `lowerClassEvery`-th slot goes to the lower classes' waiter
 * that has waited longest. A lower class therefore keeps at least `1 / lowerClassEvery` of the slots that
 * come free under contention (its reserved minimum share), and a higher class loses at most that much.
 * A rule by time ("served after waiting N ms") was not chosen: with a backlog older than N it would hand
 * every slot to the backlog and invert the priorities.
 */
export class ClassQueues<W extends QueuedCall> {
  #size = 0;
  /** Slots granted to a higher class in a row while a lower one could have run. */
  #higherInARow = 0;
  readonly #byClass: Map<string, W[]>[] = TRAFFIC_CLASSES.map(() => new Map());

  constructor(private readonly lowerClassEvery: number) {}

  get size(): number {
    return this.#size;
  }

  /** How many of `trafficClass` wait. */
  count(trafficClass: TrafficClass): number {
    let count = 0;
    for (const queue of this.#byClass[classRank(trafficClass)]!.values()) count += queue.length;
    return count;
  }

  /** Whether `tenant` has a waiter of any class (a newcomer of that tenant must queue behind it). */
  hasTenant(tenant: string): boolean {
    return this.#byClass.some((queues) => queues.has(tenant));
  }

  push(waiter: W): void {
    const queues = this.#byClass[classRank(waiter.trafficClass)]!;
    const queue = queues.get(waiter.tenant);
    if (queue) queue.push(waiter);
    else queues.set(waiter.tenant, [waiter]);
    this.#size++;
  }

  /** Puts back a waiter taken out by {@link next} (its slot could not be had after all), first of its tenant's. */
  pushFront(waiter: W): void {
    const queues = this.#byClass[classRank(waiter.trafficClass)]!;
    const queue = queues.get(waiter.tenant);
    if (queue) queue.unshift(waiter);
    else queues.set(waiter.tenant, [waiter]);
    this.#size++;
  }

  /** Takes `waiter` out (it timed out or was aborted); false when it was not queued. */
  remove(waiter: W): boolean {
    const queues = this.#byClass[classRank(waiter.trafficClass)]!;
    const queue = queues.get(waiter.tenant);
    const index = queue?.indexOf(waiter) ?? -1;
    if (!queue || index < 0) return false;
    queue.splice(index, 1);
    if (queue.length === 0) queues.delete(waiter.tenant);
    this.#size--;
    return true;
  }

  /** Takes out the waiter to serve next among those whose tenant `fits`, or `undefined` when none may run. */
  next(fits: (tenant: string) => boolean): W | undefined {
    const heads = this.#byClass.map((queues) => firstFitting(queues, fits));
    const top = heads.findIndex((head) => head !== undefined);
    if (top < 0) return undefined;
    let lower: W | undefined;
    for (const head of heads.slice(top + 1)) if (head && (!lower || head.seq < lower.seq)) lower = head;
    if (!lower) {
      this.#higherInARow = 0;
      return this.#take(heads[top]!);
    }
    if (this.#higherInARow + 1 >= this.lowerClassEvery) {
      this.#higherInARow = 0;
      return this.#take(lower);
    }
    this.#higherInARow++;
    return this.#take(heads[top]!);
  }

  /**
   * Takes out the waiter that gives way to a newcomer of `trafficClass` when the queue is full: the newest
   * waiter of the lowest class below it, or `undefined` when every waiter is of that class or higher.
   */
  shedFor(trafficClass: TrafficClass): W | undefined {
    for (let rank = this.#byClass.length - 1; rank > classRank(trafficClass); rank--) {
      let newest: W | undefined;
      for (const queue of this.#byClass[rank]!.values()) {
        const last = queue.at(-1);
        if (last && (!newest || last.seq > newest.seq)) newest = last;
      }
      if (newest && this.remove(newest)) return newest;
    }
    return undefined;
  }

  /** Removes the head of its tenant's queue and moves that tenant to the back of its class's turn. */
  #take(head: W): W {
    const queues = this.#byClass[classRank(head.trafficClass)]!;
    const queue = queues.get(head.tenant)!;
    queue.shift();
    queues.delete(head.tenant);
    if (queue.length > 0) queues.set(head.tenant, queue);
    this.#size--;
    return head;
  }
}

function firstFitting<W>(queues: Map<string, W[]>, fits: (tenant: string) => boolean): W | undefined {
  for (const [tenant, queue] of queues) if (fits(tenant)) return queue[0];
  return undefined;
}
