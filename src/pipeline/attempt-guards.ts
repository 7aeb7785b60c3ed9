import { classify } from '../classify/classify.js';
import type { Abortable } from '../core/abort-scope.js';
import { accountId } from '../core/account-scope.js';
import type { Release } from '../policies/bulkhead/bulkhead.js';
import type { Admission } from '../policies/circuit-breaker/circuit.js';
import type { BreakerOutcome } from '../policies/circuit-breaker/circuit-breakers.js';
import type { Reservation } from '../policies/rate-limit/rate-limiter.js';
import { normalizeUsage } from '../stats/stats-collector.js';
import { statsScope } from '../stats/stats-scope.js';
import { probeWait } from './circuit-wait.js';
import { billedUsage } from '../tokens/billed-usage.js';
import type { BudgetHold } from '../budgets/budget-hold.js';
import { mayHaveBeenBilled } from '../budgets/billing.js';
import { eventBase } from '../events/event-base.js';
import type { PipelineContext } from './pipeline-context.js';
import type { MemberPick } from './pick-member.js';
import type { RequestInfo, SdkRequestOptions } from '../core/request-info.js';

/** What one attempt holds from the protecting policies, and how it reports back. */
export interface AttemptGuard {
  /** The response arrived (for a stream: its first chunk). */
  readonly responded: (response: Response, body: unknown) => void;
  /**
   * A stream's `usage` arrived (`body` holds it, as a JSON answer would: the last chunk of a chat stream
   * with `stream_options.include_usage`, the `response` of `response.completed`): counted like a JSON
   * answer's, and it corrects the rate limiter's token estimate.
   */
  readonly streamUsage: (body: unknown) => void;
  /** The attempt (or the stream it started) ended; `error` if it failed. */
  readonly ended: (error?: unknown) => void;
  /**
   * The attempt will not be sent after all (a pool member's circuit opened while it waited for the
   * member's rate limits): everything it holds is given back, as if it had never been admitted.
   */
  readonly withdraw: () => void;
}

/**
 * Enters the protecting policies in order — `budgets → circuit breaker → rate limiter → bulkhead` — before
 * an attempt is sent: the budgets reserve the attempt's tokens and spend, or refuse it (holding nothing,
 * and before the breaker sees it); an open circuit refuses, or holds the attempt until a probe due by
 * `probeDueBy` lets it through (holding nothing else: no queue place, no capacity, no slot), the rate
 * limiter waits for the model's capacity without holding a bulkhead slot, and the slot is taken last.
 * Whatever was taken is given back if a later step refuses (the budget reservation too: nothing was sent).
 */
export async function enterGuards(
  ctx: PipelineContext,
  request: RequestInfo,
  working: SdkRequestOptions,
  breakerKey: string | undefined,
  call: Abortable,
  deadlineAt: number | undefined,
  probeDueBy?: number,
  member?: MemberPick,
): Promise<AttemptGuard> {
  const { breakers, bulkhead, budgets } = ctx.shared;
  // A pool member has its own rate limits (its circuits are keyed `<member>/<key>` by the caller).
  const rateLimiter = member ? member.runtime.rateLimiter : ctx.shared.rateLimiter;
  // Names in the state shared by processes are scoped to the account: `<account>:<breaker key | model>`; a
  // pool member's are its own account's, under the key without the member's name.
  const account = breakers?.isShared || rateLimiter?.isShared ? await accountId(member ? member.runtime : ctx) : undefined;
  const sharedKey = (key: string | undefined) =>
    account === undefined || key === undefined ? undefined : `${account}:${member && key === breakerKey ? key.slice(member.runtime.state.name.length + 1) : key}`;
  const sharedModel = sharedKey(request.model);
  // Budgets first: a call they refuse holds nothing else, and is never seen by the breaker.
  const hold: BudgetHold | undefined =
    budgets && request.model !== undefined
      ? await budgets.reserve({ model: request.model, tenant: ctx.tenant, body: working.body, path: request.path, base: eventBase(ctx, request) })
      : undefined;
  let admission: Admission | undefined;
  let reservation: Reservation | undefined;
  let release: Release | undefined;
  try {
    if (breakers && breakerKey !== undefined) {
      admission = await breakers.admit(breakerKey, sharedKey(breakerKey), probeWait(probeDueBy, deadlineAt, call, ctx.trafficClass));
    }
    if (rateLimiter && request.model !== undefined) {
      // The prompt counted (exactly when a tokenizer is at hand) plus the output the request allows itself.
      const counted = await ctx.shared.tokens.count(working.body, request.model);
      const tokens = counted.input + (counted.maxOutput ?? 0);
      reservation = await rateLimiter.acquire(request.model, () => tokens, ctx.tenant, call, deadlineAt, sharedModel, ctx.trafficClass);
    }
    if (bulkhead) release = await bulkhead.acquire(ctx.tenant, call, ctx.trafficClass);
    // The server refills from here on: what its answer says was left is read as of this moment.
    if (reservation) reservation.sentAt = ctx.options.clock.now();
  } catch (error) {
    hold?.giveBack();
    if (admission) breakers!.record(breakerKey!, admission, { ok: false, kind: 'aborted', error });
    if (reservation) rateLimiter!.cancel(reservation);
    throw error;
  }

  /** A stream reached its first chunk: whatever happens to it now may have been billed. */
  let started = false;
  /** Counts an answer's `usage` (stats, the budgets' settlement); returns its total tokens, for the rate limiter. */
  const countUsage = (body: unknown): number | undefined => {
    const billed = billedUsage(body);
    if (hold && billed) hold.settle(billed);
    const usage = normalizeUsage(body);
    if (usage) {
      request.observed.usage = usage;
      ctx.shared.stats.used(statsScope(ctx, request), usage);
    }
    return billed?.total;
  };
  let ended = false;
  /** Whether the breaker has had this attempt's outcome. */
  let judged = false;
  const judge = (outcome: BreakerOutcome) => {
    if (!admission || judged) return;
    judged = true;
    breakers!.record(breakerKey!, admission, outcome);
  };
  return {
    withdraw() {
      if (ended) return;
      ended = true;
      judged = true;
      release?.();
      hold?.giveBack();
      if (admission) breakers!.record(breakerKey!, admission, { ok: false, kind: 'aborted', error: undefined });
      if (reservation) rateLimiter!.cancel(reservation);
    },
    responded(response, body) {
      started = true;
      // A stream is judged when it ends (a failure mid-stream counts), except a half-open probe: its
      // first chunk says the model answers, and the circuit must not wait on how long the caller reads.
      if (request.stream && admission?.probe) judge({ ok: true });
      const used = countUsage(body);
      const answeredBy = (body as { model?: unknown } | undefined)?.model;
      request.observed.responseModel = typeof answeredBy === 'string' ? answeredBy : request.model;
      if (rateLimiter && request.model !== undefined) {
        // The usage first: what the server says is left then has the last word.
        if (reservation) rateLimiter.settle(reservation, used);
        rateLimiter.learn(request.model, response.headers, sharedModel, { reservation, rateLimited: false, succeeded: response.ok, usedTokens: used });
        if (reservation) rateLimiter.finish(reservation, response.ok);
      }
    },
    streamUsage(body) {
      const used = countUsage(body);
      if (reservation) rateLimiter!.settle(reservation, used);
    },
    ended(error) {
      if (ended) return;
      ended = true;
      release?.();
      // Not settled by a `usage`: a success (or a failure that may have been billed) keeps its reservation;
      // a failure that certainly was not billed gives it back (see `mayHaveBeenBilled`).
      if (hold && !hold.done) {
        if (error !== undefined && !mayHaveBeenBilled(error, started)) hold.giveBack();
        else hold.keep();
      }
      const classification = error === undefined ? undefined : classify(error, { now: ctx.options.clock.now() });
      judge(classification ? { ok: false, kind: classification.kind, error } : { ok: true });
      if (rateLimiter && request.model !== undefined && classification) {
        const rateLimited = classification.kind === 'rate_limited';
        const { headers, type } = error as { headers?: Headers; type?: unknown };
        // A 429 that still shows headroom for the limit it names makes the pacing finer (before the pause holds the buckets).
        rateLimiter.learn(request.model, headers, sharedModel, { reservation, rateLimited, succeeded: false, limitType: type });
        if (rateLimited && classification.hint) {
          rateLimiter.pause(request.model, classification.hint.delay, sharedModel);
        }
      }
      if (reservation) rateLimiter!.finish(reservation, false);
    },
  };
}
