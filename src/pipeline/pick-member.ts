import type { Abortable } from '../core/abort-scope.js';
import { classRank } from '../core/traffic-class.js';
import { CircuitOpenError } from '../errors/circuit-open-error.js';
import { RateLimitTimeoutError } from '../errors/rate-limit-timeout-error.js';
import type { MemberState } from '../pool/member-state.js';
import { anyCanTake, route, type MemberOutlook, type Route } from '../pool/route.js';
import type { PipelineContext } from './pipeline-context.js';
import type { PoolCall, PoolMemberRuntime, PoolState } from './pool-state.js';
import type { RequestInfo } from '../core/request-info.js';

/** The member an attempt goes to, and what it holds of it until it ends. */
export interface MemberPick {
  readonly runtime: PoolMemberRuntime;
  /** The name the member knows the request's model by (an Azure deployment name). */
  readonly model: string;
  /** The member's circuit for the request: `<member>/<breaker key>` (`undefined` with the breaker off). */
  readonly breakerKey: string | undefined;
  /** The attempt is over: the member has room for another (idempotent). */
  readonly end: () => void;
}

export interface PickPlan {
  readonly call: Abortable;
  readonly deadlineAt: number | undefined;
  /** Whether the call may wait for a member to be ready (not when a fallback can serve it now). */
  readonly mayWait: boolean;
  /**
   * Members that refused this attempt at their guards (a half-open probe taken, a queue full, a circuit
   * that opened while it waited): not again, until the attempt has waited for a member to be ready.
   */
  readonly refused: Set<MemberState>;
}

/**
 * Picks the member for one attempt of a pooled call (see `route`): never the members the call's other
 * attempts are on now, nor, if another can take it, the one its last attempt failed on. When no member can
 * take it now, the call waits for the first one to be ready (a circuit's next probe, the end of a pause, a
 * member with room) if its deadline allows and no fallback can serve it at once; otherwise it fails with
 * `CircuitOpenError` (a circuit is what holds the soonest member back) or `RateLimitTimeoutError`.
 */
export function pickMember(ctx: PipelineContext, pool: PoolState, request: RequestInfo & { model: string }, call: PoolCall, plan: PickPlan): MemberPick | Promise<MemberPick> {
  const keys: (string | undefined)[] = [];
  const breakerKeyOf = (member: MemberState) => (keys[member.index] ??= breakerKeyFor(ctx, pool.members[member.index]!, request));
  const now = ctx.options.clock.now();
  const chosen = routeNow(ctx, pool, request.model, call, plan, breakerKeyOf, now);
  // The common case returns at once: no promise, no wait.
  if (chosen.member) return assign(pool, request.model, call, chosen.member, breakerKeyOf, now);
  return waitForMember(ctx, pool, request, call, plan, breakerKeyOf, chosen.readyAt, now);
}

/**
 * {@link pickMember} when no member could take the attempt at `now`: waits for the first one ready, if it
 * may. It waits in the pool's `RoomQueue`: whenever an attempt ends or a member's ready time comes, the
 * waiting calls look again highest traffic class first (with its anti-starvation rule).
 */
async function waitForMember(
  ctx: PipelineContext,
  pool: PoolState,
  request: RequestInfo & { model: string },
  call: PoolCall,
  plan: PickPlan,
  breakerKeyOf: (member: MemberState) => string | undefined,
  readyAt: number | undefined,
  now: number,
): Promise<MemberPick> {
  const { clock } = ctx.options;
  const rank = classRank(ctx.trafficClass);
  const seq = pool.roomWaiters.nextSeq();
  for (;;) {
    const patience = Math.min(ctx.options.retry.maxRetryAfter, plan.deadlineAt === undefined ? Infinity : plan.deadlineAt - now);
    const wait = readyAt === undefined ? undefined : Math.max(0, readyAt - now);
    if (!plan.mayWait || (wait !== undefined && wait >= patience) || (readyAt === undefined && !(patience > 0))) {
      throw blocked(ctx, pool, request, breakerKeyOf, readyAt ?? now, now);
    }
    // An abort of the call (its caller, its deadline) rejects the wait: the retry loop says how. At its
    // member's ready time, every waiting call looks again (in class order); at the end of its patience, only it.
    await pool.roomWaiters.wait(clock, wait ?? patience, plan.call.signal, rank, seq, wait !== undefined);
    const before = now;
    now = clock.now();
    // (Woken early, by an attempt that ended, it has not yet waited for its member to be ready.)
    if (readyAt === undefined || now >= readyAt) plan.refused.clear();
    if (wait === undefined && now - before >= patience) throw blocked(ctx, pool, request, breakerKeyOf, now, now);
    const chosen = routeNow(ctx, pool, request.model, call, plan, breakerKeyOf, now);
    if (chosen.member) {
      pool.roomWaiters.served(rank);
      return assign(pool, request.model, call, chosen.member, breakerKeyOf, now);
    }
    readyAt = chosen.readyAt;
  }
}

/**
 * The route for an attempt at `now` (see `route`). A member that refused the attempt at its guards is
 * chosen only when every other member that could take it refused too: the attempt then fails, saying why.
 */
function routeNow(
  ctx: PipelineContext,
  pool: PoolState,
  model: string,
  call: PoolCall,
  plan: PickPlan,
  breakerKeyOf: (member: MemberState) => string | undefined,
  now: number,
): Route {
  const outlook = (member: MemberState): MemberOutlook => memberOutlook(ctx, pool.members[member.index]!, model, breakerKeyOf(member), now);
  const avoid = avoided(call, plan.refused);
  const chosen = route(call.pinned ? [call.pinned] : pool.states, pool.routing, model, avoid, now, outlook);
  if (chosen.member && plan.refused.has(chosen.member)) throw blocked(ctx, pool, { model }, breakerKeyOf, now, now);
  return chosen;
}

/** Assigns the attempt to `member`: it counts among the member's calls in flight until `end()`. */
function assign(
  pool: PoolState,
  model: string,
  call: PoolCall,
  member: MemberState,
  breakerKeyOf: (member: MemberState) => string | undefined,
  now: number,
): MemberPick {
  const free = member.assign(now);
  call.racing.add(member);
  call.last = member;
  const end = () => {
    free();
    call.racing.delete(member);
    if (pool.roomWaiters.size > 0) pool.roomWaiters.wakeAll();
  };
  return { runtime: pool.members[member.index]!, model: member.modelFor(model)!, breakerKey: breakerKeyOf(member), end };
}

/**
 * Whether a member the call has not failed on (nor is on now, nor in `refused`) can take an attempt at
 * `model` now (a retry then goes there at once).
 */
export function otherMemberReady(
  ctx: PipelineContext,
  pool: PoolState,
  request: RequestInfo & { model: string },
  call: PoolCall,
  refused?: ReadonlySet<MemberState>,
): boolean {
  // A call pinned to the member holding its stored response has no other member.
  if (call.pinned) return false;
  const now = ctx.options.clock.now();
  const outlook = (member: MemberState) => {
    const runtime = pool.members[member.index]!;
    return memberOutlook(ctx, runtime, request.model, breakerKeyFor(ctx, runtime, request), now);
  };
  return anyCanTake(pool.states, request.model, avoided(call, refused), now, outlook);
}

/**
 * The members a call's next attempt avoids if it can: those it failed on, those its other attempts are on,
 * and `refused`; `undefined` when there are none (nothing to allocate on the common path).
 */
function avoided(call: PoolCall, refused?: ReadonlySet<MemberState>): Set<MemberState> | undefined {
  if (call.racing.size === 0 && call.failed.size === 0 && (refused === undefined || refused.size === 0)) return undefined;
  const avoid = new Set(call.racing);
  for (const member of call.failed) avoid.add(member);
  if (refused) for (const member of refused) avoid.add(member);
  return avoid;
}

function breakerKeyFor(ctx: PipelineContext, runtime: PoolMemberRuntime, request: RequestInfo): string | undefined {
  const breaker = ctx.options.circuitBreaker;
  if (!ctx.shared.breakers || !breaker) return undefined;
  const { model, method, path } = request;
  return `${runtime.state.name}/${breaker.key({ model, method, path, baseURL: runtime.baseURL })}`;
}

function memberOutlook(ctx: PipelineContext, runtime: PoolMemberRuntime, model: string, breakerKey: string | undefined, now: number): MemberOutlook {
  const circuitUntil = breakerKey === undefined ? undefined : ctx.shared.breakers?.refusedUntil(breakerKey, now);
  const limits = runtime.rateLimiter?.outlook(model);
  const pausedUntil = limits && limits.pausedUntil > now ? limits.pausedUntil : undefined;
  const blockedUntil = circuitUntil === undefined ? pausedUntil : pausedUntil === undefined ? circuitUntil : Math.max(circuitUntil, pausedUntil);
  return { blockedUntil, queueWait: limits?.wait ?? 0, requestsPerMinute: limits?.requestsPerMinute };
}

/** The error of a call no member can take in time: an open circuit if one holds the members back, else their pauses. */
function blocked(
  ctx: PipelineContext,
  pool: PoolState,
  request: { readonly model: string },
  breakerKeyOf: (member: MemberState) => string | undefined,
  readyAt: number,
  now: number,
): Error {
  for (const member of pool.states) {
    const key = member.modelFor(request.model) === undefined ? undefined : breakerKeyOf(member);
    const until = key === undefined ? undefined : ctx.shared.breakers?.refusedUntil(key, now);
    if (until !== undefined) return new CircuitOpenError(`pool/${request.model}`, readyAt, now);
  }
  return new RateLimitTimeoutError(request.model, Math.max(0, readyAt - now) || undefined);
}
