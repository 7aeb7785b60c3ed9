import type { MemberState } from './member-state.js';
import type { PoolRouting } from './pool-options.js';

/** What the pipeline knows of a member's protecting policies for one model, as routing reads it. */
export interface MemberOutlook {
  /** Until when (epoch ms) the member refuses the call: its circuit is open, or it is paused after a 429. */
  readonly blockedUntil: number | undefined;
  /** Milliseconds until its rate limiter would let one more request go (0: now). */
  readonly queueWait: number;
  /** Its requests per minute, learned from its headers or configured, when known. */
  readonly requestsPerMinute: number | undefined;
}

export type Outlook = (member: MemberState) => MemberOutlook;

/**
 * The member an attempt goes to, or, when no member can take it now, when the first one can:
 * `readyAt` (epoch ms) for an open circuit or a pause; `undefined` when members are only full, and a call
 * ending frees one.
 */
export type Route = { readonly member: MemberState } | { readonly member: undefined; readonly readyAt: number | undefined };

interface Candidate {
  readonly member: MemberState;
  readonly outlook: MemberOutlook;
  /** Requests per minute it can take (see {@link weigh}). */
  capacity: number;
  /** Milliseconds a call of its takes from its capacity: the time its calls in flight take to clear, per call. */
  perCall: number;
}

/**
 * Picks the member for one attempt at `model` (see `PoolRouting`). Members that do not serve the model,
 * are open, paused or full are skipped; so is `avoid` (the member that just failed, the members a hedge of
 * the same call is on), unless no other member can take the call.
 */
export function route(
  members: readonly MemberState[],
  routing: PoolRouting,
  model: string,
  avoid: ReadonlySet<MemberState> | undefined,
  now: number,
  outlook: Outlook,
  random: () => number = Math.random,
): Route {
  const open: Candidate[] = [];
  const avoided: Candidate[] = [];
  let readyAt: number | undefined;
  for (const member of members) {
    if (member.modelFor(model) === undefined) continue;
    const view = outlook(member);
    if (blocked(view, now)) {
      readyAt = readyAt === undefined ? view.blockedUntil : Math.min(readyAt, view.blockedUntil!);
      continue;
    }
    if (member.full) continue;
    (avoid?.has(member) ? avoided : open).push({ member, outlook: view, capacity: 0, perCall: 0 });
  }
  const candidates = open.length > 0 ? open : avoided;
  if (candidates.length === 0) return { member: undefined, readyAt };
  if (candidates.length === 1) return candidates[0]!;
  weigh(candidates);
  if (routing === 'ordered') return ordered(candidates, now);
  const first = draw(candidates, random, undefined);
  if (routing === 'weighted') return first;
  const second = draw(candidates, random, first);
  return cost(second, now) < cost(first, now) ? second : first;
}

/**
 * Whether a member other than `avoid` can take an attempt at `model` now (serves it, is not blocked, is
 * not full): what `route` would pick among, without drawing.
 */
export function anyCanTake(
  members: readonly MemberState[],
  model: string,
  avoid: ReadonlySet<MemberState> | undefined,
  now: number,
  outlook: Outlook,
): boolean {
  return members.some((member) => !avoid?.has(member) && member.modelFor(model) !== undefined && !member.full && !blocked(outlook(member), now));
}

function blocked(view: MemberOutlook, now: number): boolean {
  return view.blockedUntil !== undefined && view.blockedUntil > now;
}

/**
 * Each candidate's capacity in requests per minute: its learned (or configured) limit, or, for a member
 * whose limit is not known, the mean of the known ones (1 when none is), times its weight. And what one
 * call costs of it: a minute over that capacity when its limit is known, else its recent latency (the
 * mean of the others' before its first answer; at least 1 ms) over its weight.
 */
function weigh(candidates: Candidate[]): void {
  let limits = 0;
  let limitSum = 0;
  let latencies = 0;
  let latencySum = 0;
  for (const { member, outlook } of candidates) {
    if (outlook.requestsPerMinute !== undefined) {
      limits++;
      limitSum += outlook.requestsPerMinute;
    }
    if (member.latency !== undefined) {
      latencies++;
      latencySum += member.latency;
    }
  }
  const typicalLimit = limits === 0 ? 1 : limitSum / limits;
  const typicalLatency = latencies === 0 ? 1 : latencySum / latencies;
  for (const candidate of candidates) {
    const { member, outlook } = candidate;
    candidate.capacity = (outlook.requestsPerMinute ?? typicalLimit) * member.weight;
    candidate.perCall = outlook.requestsPerMinute !== undefined ? 60_000 / candidate.capacity : Math.max(1, member.latency ?? typicalLatency) / member.weight;
  }
}

/**
 * How loaded the candidate is for its capacity, in milliseconds: its rate limiter's wait for one more
 * request, or the time what it has on its hands (its calls in flight and those given to it lately, with
 * this one) takes at its capacity, whichever is longer. The lower of two wins: at light load calls go in
 * proportion to capacity, under load to the member that would send the call soonest.
 */
function cost({ member, outlook, perCall }: Candidate, now: number): number {
  return Math.max(outlook.queueWait, (member.load(now) + 1) * perCall);
}

/** The first candidate, in the pool's order, whose limits let a call go now; else the least loaded. */
function ordered(candidates: Candidate[], now: number): Candidate {
  for (const candidate of candidates) if (candidate.outlook.queueWait === 0) return candidate;
  return candidates.reduce((best, candidate) => (cost(candidate, now) < cost(best, now) ? candidate : best));
}

/** A candidate drawn in proportion to its capacity, other than `except`. */
function draw(candidates: Candidate[], random: () => number, except: Candidate | undefined): Candidate {
  let total = 0;
  for (const candidate of candidates) if (candidate !== except) total += candidate.capacity;
  let point = random() * total;
  for (const candidate of candidates) {
    if (candidate === except) continue;
    point -= candidate.capacity;
    if (point < 0) return candidate;
  }
  // Rounding left the point at the very end.
  const last = candidates[candidates.length - 1]!;
  return last === except ? candidates[candidates.length - 2]! : last;
}
