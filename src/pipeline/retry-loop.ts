import type { IBackoff } from 'cockatiel';
import { classify } from '../classify/classify.js';
import { sleep, type Abortable } from '../core/abort-scope.js';
import { accountId } from '../core/account-scope.js';
import type { RetryEvent, GiveUpReason } from '../events/event-map.js';
import type { ErrorKind } from '../errors/error-kind.js';
import { probeDueBy, retryPastCircuit } from './circuit-wait.js';
import { ContextWindowExceededError } from '../errors/context-window-exceeded-error.js';
import { eventBase } from '../events/event-base.js';
import { statsScope } from '../stats/stats-scope.js';
import { hedgedAttempt } from './hedged-attempt.js';
import type { PipelineContext } from './pipeline-context.js';
import type { RequestInfo, SdkRequestOptions } from '../core/request-info.js';
import { decideRetry } from './retry-decision.js';
import { otherMemberReady } from './pick-member.js';
import type { PoolCall } from './pool-state.js';
import type { ResponseProps, SendOnce } from '../core/response-props.js';
import type { RetryBackoffContext } from '../policies/retry/retry-options.js';
import { flexBody, flexRefusal } from '../tiers/flex-tier.js';
import { askForStreamUsage, refusesStreamUsage, withoutStreamUsage } from '../budgets/stream-usage.js';

/** Refusals by this library's own protecting policies: no request was sent for that attempt. */
const LOCAL_REFUSALS: ReadonlySet<string> = new Set(['circuit_open', 'bulkhead_full', 'bulkhead_timeout', 'load_shed', 'rate_limit_timeout', 'budget_exceeded']);

/**
 * Failures of one pool member that another member may not share (its key, its project's quota, its
 * deployment): a pooled call retries them on another member, though a single client would not retry them.
 */
const MEMBER_FAULTS: ReadonlySet<string> = new Set(['authentication', 'permission_denied', 'quota_exhausted', 'not_found']);

export interface LoopHooks {
  readonly deadlineAt: number | undefined;
  /** Only time can abort the call: attempts are sent without a signal (see `AttemptPlan.timed`). */
  readonly timed: boolean;
  /** A timed attempt reached the call's deadline. */
  readonly onDeadline: () => void;
  readonly onStreamStart: () => void;
  /** The stream handed over ended; `error` says how it failed, or that its caller stopped or abandoned it. */
  readonly onStreamEnd: (error?: unknown) => void;
  /** The error for an abort of the call's signal (caller or deadline), or `undefined` if it did not abort. */
  readonly translateAbort: (attempt: number, lastError: unknown) => Error | undefined;
  /**
   * Whether an attempt that finds its circuit open may wait for a probe (`circuitBreaker.waitForProbe`):
   * not when a fallback can serve the call now.
   */
  readonly waitForCircuit: boolean;
}

/**
 * Tries one target (the primary request, or a fallback model) until it succeeds or its recovery gives up:
 * each failure is classified and either retried after a wait or handed back (after a `giveUp` event).
 */
export async function retryLoop(
  ctx: PipelineContext,
  request: RequestInfo,
  working: SdkRequestOptions,
  call: Abortable,
  send: SendOnce,
  hooks: LoopHooks,
): Promise<ResponseProps> {
  const { clock, retry, timeout, actions } = ctx.options;
  const { breakers, budget } = ctx.shared;
  const events = ctx.shared.events;
  const maxRetries = perRequest(working.maxRetries) ?? retry.maxRetries;
  // A stream's attempt lasts until its first meaningful event: `timeout.firstChunk` bounds it.
  const attemptTimeout = perRequest(working.timeout) ?? (request.stream ? timeout.firstChunk : timeout.attempt);
  const { model, method, path } = request;
  // A pooled call's attempts each pick a member, whose circuits are its own (`<member>/<key>`).
  const pool = model === undefined ? undefined : ctx.shared.pool;
  // A call that refers to a stored response goes to the member holding it (a call without a model, by
  // its client; one with a model, pinned to that member).
  const owner = ctx.shared.pool?.owners.ownerOf(path, working.body, ctx.shared.pool.states[0]!);
  if (owner && !pool) send = ctx.shared.pool!.members[owner.index]!.send;
  const pinned = owner && model !== undefined && owner.modelFor(model) !== undefined ? owner : undefined;
  const poolCall: PoolCall | undefined = pool && { pinned, last: undefined, failed: new Set(), racing: new Set() };
  const breakerKey = breakers && !pool ? ctx.options.circuitBreaker!.key({ model, method, path, baseURL: ctx.baseURL }) : undefined;
  let lastError: unknown;
  let previousBackoff: IBackoff<RetryBackoffContext> | undefined;
  let refreshedCredentials = false;
  /** A probe of the attempt's open circuit due by then is waited for (`undefined`: refused at once). */
  let dueBy = breakerKey === undefined ? undefined : probeDueBy(ctx, clock.now(), false, hooks.waitForCircuit);
  const announceRetry = (failed: number, delay: number, delaySource: RetryEvent['delaySource'], kind: ErrorKind, status: number | undefined, error: unknown) => {
    if (!events.has('retry')) return;
    const member = poolCall?.last?.name;
    events.emit('retry', { ...eventBase(ctx, request), attempt: failed, delay, delaySource, kind, status, error, ...(member === undefined ? {} : { member }) });
  };
  /** Waits before the next attempt; gives up with `error` (or the abort) if the call is aborted meanwhile. */
  const waitOrGiveUp = async (delay: number, attempt: number, error: unknown) => {
    try {
      await sleep(clock, delay, call.signal);
    } catch {
      throw giveUp(ctx, request, attempt, hooks.translateAbort(attempt, lastError) ?? error, 'aborted');
    }
  };
  // The retry budget shared by processes is the account's.
  const budgetKey = budget?.isShared ? await accountId(ctx) : undefined;
  budget?.recordCall(budgetKey);
  await preflight(ctx, request, working);
  const callerBody = working.body;
  working = withBudgetUsage(ctx, request, working);
  // A call of a flex class goes at flex first; `atUsualTier` is its request as the caller made it.
  const flex = ctx.options.flex;
  let atUsualTier = working;
  const atFlex = flex && flexBody(flex, request, ctx.trafficClass, working.body);
  if (atFlex) working = { ...working, body: atFlex };
  /**
   * Attempts sent again at once for a field the server refused (flex's tier, the budgets' `stream_options`):
   * not the caller's retries.
   */
  let resent = 0;

  for (let attempt = 1; ; attempt++) {
    try {
      const plan = {
        number: attempt, parent: call, timed: hooks.timed, timeout: attemptTimeout, deadlineAt: hooks.deadlineAt, breakerKey,
        probeDueBy: dueBy, onDeadline: hooks.onDeadline, onStreamEnd: hooks.onStreamEnd, pool: poolCall, mayWaitForMember: hooks.waitForCircuit,
      };
      const props = await hedgedAttempt(ctx, request, working, plan, send);
      if (request.stream) hooks.onStreamStart();
      return props;
    } catch (error) {
      const aborted = call.aborted ? hooks.translateAbort(attempt, lastError) : undefined;
      if (aborted) throw giveUp(ctx, request, attempt, aborted, 'aborted');

      const classification = classify(error, { actions, now: clock.now() });
      const remaining = hooks.deadlineAt === undefined ? undefined : hooks.deadlineAt - clock.now();
      if (LOCAL_REFUSALS.has(classification.kind)) {
        // Refused by our own protection (an open circuit: after any wait for its probe that was allowed).
        // A retry refused so: the caller learns why the call failed upstream.
        const reason = classification.kind === 'circuit_open' ? 'circuit_open' : 'not_retryable';
        throw giveUp(ctx, request, attempt, lastError ?? error, reason);
      }
      lastError = error;
      const refusal = working !== atUsualTier ? flexRefusal(classification, error) : undefined;
      if (refusal && (refusal === 'unsupported' || flex!.whenUnavailable === 'default')) {
        // Flex has no capacity for it now (not charged), or its model is not offered at flex: at once at the usual tier.
        if (refusal === 'unsupported') flex!.refusing.set(model!, true);
        working = atUsualTier;
        resent++;
        announceRetry(attempt, 0, 'service_tier', classification.kind, classification.status, error);
        continue;
      }
      if (request.usageHidden && refusesStreamUsage(classification, error)) {
        // The server refuses the usage the budgets asked for: sent again at once as the caller made it.
        ctx.shared.budgets!.refusingStreamUsage.set(model!, true);
        request.usageHidden = false;
        working = { ...working, body: withoutStreamUsage(working.body, callerBody) };
        atUsualTier = { ...atUsualTier, body: withoutStreamUsage(atUsualTier.body, callerBody) };
        resent++;
        announceRetry(attempt, 0, 'stream_options', classification.kind, classification.status, error);
        continue;
      }
      // In a pool, what one member refuses (its key, its quota, its deployment) another may serve: the
      // retry goes there at once, within the call's retries.
      if (pool && MEMBER_FAULTS.has(classification.kind) && attempt <= maxRetries && request.replayable && otherMemberReady(ctx, pool, { ...request, model: model! }, poolCall!)) {
        ctx.shared.stats.retried(statsScope(ctx, request));
        announceRetry(attempt, 0, 'member', classification.kind, classification.status, error);
        continue;
      }
      if (classification.kind === 'authentication' && !refreshedCredentials && (await refreshCredentials(ctx, error))) {
        refreshedCredentials = true;
        events.emit('retry', { ...eventBase(ctx, request), attempt, delay: 0, delaySource: 'credentials', kind: 'authentication', status: classification.status, error });
        ctx.shared.stats.retried(statsScope(ctx, request));
        dueBy = breakerKey === undefined ? undefined : probeDueBy(ctx, clock.now(), true, hooks.waitForCircuit);
        continue;
      }
      const decision = decideRetry(classification, { attempt: attempt - resent, maxRetries, replayable: request.replayable, remaining, error, signal: call.signal, previousBackoff }, retry);
      if (!decision.retry) throw giveUp(ctx, request, attempt, error, decision.reason, decision.delay);
      // The call's own failures may have opened its circuit: its retry then waits for the circuit's probe.
      dueBy = breakerKey === undefined ? undefined : probeDueBy(ctx, clock.now() + decision.delay, true, hooks.waitForCircuit);
      const circuitDelay = breakerKey === undefined ? undefined : retryPastCircuit(ctx, breakerKey, decision.delay, dueBy, remaining);
      if (circuitDelay === 'refused') throw giveUp(ctx, request, attempt, error, 'circuit_open');
      // With the rate limiter on, a rate-limited retry waits for paced capacity: it cannot multiply
      // traffic, so only other retries are charged to the budget.
      const paced = classification.kind === 'rate_limited' && ctx.shared.rateLimiter !== undefined;
      if (budget && !paced && !(budgetKey === undefined ? budget.tryRetry() : await budget.tryRetryShared(budgetKey))) {
        events.emit('budgetExhausted', { ...eventBase(ctx, request), attempt, kind: classification.kind, error });
        throw giveUp(ctx, request, attempt, error, 'budget_exhausted');
      }

      previousBackoff = decision.backoff ?? previousBackoff;
      ctx.shared.stats.retried(statsScope(ctx, request));
      // In a pool, a retry goes at once to another member that can take it.
      const toMember = pool !== undefined && otherMemberReady(ctx, pool, { ...request, model: model! }, poolCall!);
      const delay = toMember ? 0 : (circuitDelay ?? decision.delay);
      const source = toMember ? 'member' : circuitDelay === undefined ? decision.source : 'circuit';
      announceRetry(attempt, delay, source, classification.kind, classification.status, error);
      await waitOrGiveUp(delay, attempt, error);
    }
  }
}

function giveUp(
  ctx: PipelineContext,
  request: RequestInfo,
  attempt: number,
  error: unknown,
  reason: GiveUpReason,
  delay?: number,
): unknown {
  const { events } = ctx.shared;
  if (events.has('giveUp')) {
    const { kind, status } = classify(error);
    const why: GiveUpReason = reason === 'aborted' && kind === 'deadline_exceeded' ? 'deadline' : reason;
    events.emit('giveUp', { ...eventBase(ctx, request), attempt, kind, reason: why, delay, status, error });
  }
  return error;
}

/**
 * After a 401, gets fresh credentials once: from the `refreshCredentials` hook (a returned key replaces
 * this client view's key), or from the client's own `apiKey` function (or Azure token provider), which
 * the SDK calls again on the next attempt. False when there is no way to get new credentials.
 */
async function refreshCredentials(ctx: PipelineContext, error: unknown): Promise<boolean> {
  const client = ctx.client as { apiKey?: unknown; _options?: Record<string, unknown> };
  const hook = ctx.options.refreshCredentials;
  if (hook) {
    const key = await hook(error);
    if (typeof key === 'string' && key !== '') client.apiKey = key;
    return true;
  }
  return typeof client._options?.['apiKey'] === 'function' || typeof client._options?.['azureADTokenProvider'] === 'function';
}

/**
 * Pre-flight: a model no pool member serves is the caller's error; a request whose prompt plus output
 * bound, as counted by the client's token counter, is over its model's configured context window is not sent.
 */
async function preflight(ctx: PipelineContext, request: RequestInfo, working: SdkRequestOptions): Promise<void> {
  const pool = ctx.shared.pool;
  if (pool && request.model !== undefined && !pool.states.some((member) => member.modelFor(request.model!) !== undefined)) {
    throw new TypeError(
      `openai-resilient: no pool member serves the model "${request.model}" (members: ${pool.states.map((m) => m.name).join(', ')}); add it to a member's \`models\`.`,
    );
  }
  const window = request.model === undefined ? undefined : ctx.options.contextWindows[request.model];
  if (window === undefined) return;
  const counted = await ctx.shared.tokens.count(working.body, request.model);
  const tokens = counted.input + (counted.maxOutput ?? 0);
  if (tokens > window) throw giveUp(ctx, request, 0, new ContextWindowExceededError(request.model!, tokens, window), 'not_retryable');
}

/**
 * With budgets counting the call's model: a model without a price under a spend limit is the caller's
 * `TypeError` before anything is sent, and a chat stream whose caller did not ask for its usage asks for it
 * (the stream guard hides it from the caller: `request.usageHidden`), so that it is settled with what it used.
 */
function withBudgetUsage(ctx: PipelineContext, request: RequestInfo, working: SdkRequestOptions): SdkRequestOptions {
  const budgets = ctx.shared.budgets;
  request.usageHidden = false;
  if (!budgets || !budgets.applies(request.model)) return working;
  budgets.priceFor(request.model!);
  const asked = request.stream && !budgets.refusingStreamUsage.has(request.model!) ? askForStreamUsage(request.path, working.body) : undefined;
  if (!asked) return working;
  request.usageHidden = true;
  return { ...working, body: asked };
}

/** The SDK's per-request `maxRetries` / `timeout`, when the caller gave one (checked by `executeCall`). */
function perRequest(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}
