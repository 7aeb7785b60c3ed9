import { AbortScope } from '../core/abort-scope.js';
import { accountId } from '../core/account-scope.js';
import type { RequestInfo } from '../core/request-info.js';
import { classify } from '../classify/classify.js';
import { eventBase } from '../events/event-base.js';
import type { FollowUpLink } from './follow-up-link.js';
import type { PipelineContext } from './pipeline-context.js';

/**
 * Sends a request that continues an attempt's failed stream (a background response's resume, a chat
 * stream's continuation) as an attempt is sent: not at all (`undefined`) once the call's deadline has
 * passed, the caller has stopped the stream (`signal`), or the retry budget is spent (a `budgetExhausted`
 * event); otherwise the attempt's guard is renewed (the failure `error` recorded, the breaker, the rate
 * limiter and the bulkhead entered again) and `send` runs under a signal that also aborts at the call's
 * deadline and at the attempt's time limit (counted from sending), until it settles.
 */
export async function followUp<T>(
  ctx: PipelineContext,
  request: RequestInfo,
  link: FollowUpLink,
  error: unknown,
  signal: AbortSignal,
  send: (signal: AbortSignal) => Promise<T>,
): Promise<{ value: T } | undefined> {
  const { clock } = ctx.options;
  const { deadlineAt } = link;
  if (signal.aborted || (deadlineAt !== undefined && clock.now() >= deadlineAt)) return undefined;
  const { budget, events } = ctx.shared;
  if (budget && !(budget.isShared ? await budget.tryRetryShared(await accountId(ctx)) : budget.tryRetry())) {
    events.emit('budgetExhausted', { ...eventBase(ctx, request), attempt: link.attempt, kind: classify(error).kind, error });
    return undefined;
  }
  const scope = new AbortScope(clock, [signal]);
  const timeout = () => new ctx.sdk.APIConnectionTimeoutError();
  if (deadlineAt !== undefined) scope.abortAfter(deadlineAt - clock.now(), timeout);
  try {
    await link.renewGuard(error, scope);
    // As an attempt's, the time limit runs from sending: not while the policies hold it.
    if (link.timeout !== undefined) scope.abortAfter(link.timeout, timeout);
    return { value: await send(scope.signal) };
  } finally {
    scope.dispose();
  }
}
