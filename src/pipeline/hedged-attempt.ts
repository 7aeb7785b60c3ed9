import { eventBase } from '../events/event-base.js';
import { AbortScope } from '../core/abort-scope.js';
import { isPlainObject } from '../core/validate.js';
import { statsScope } from '../stats/stats-scope.js';
import { runAttempt, type AttemptPlan } from './attempt.js';
import type { PipelineContext } from './pipeline-context.js';
import type { RequestInfo, SdkRequestOptions } from '../core/request-info.js';
import type { ResponseProps, SendOnce } from '../core/response-props.js';
import type { Hedger } from '../policies/hedge/hedger.js';

/** The reason a hedged attempt that lost the race is aborted with. */
class HedgeLost {}

/**
 * Runs one attempt, hedged when `hedge` is on: if it has not answered (for a stream, produced its first
 * chunk) within the model's hedge delay, and the share of hedged calls allows, another attempt is sent
 * alongside it, up to `maxExtraAttempts`. The delay (and the latency the hedger learns) counts from when
 * an attempt is sent, past the rate limiter and the bulkhead: a call held by our own pacing is not slow.
 * The first to answer wins; the others are aborted at once. A failure is reported only when every attempt
 * sent has failed (the first failure is the one reported).
 *
 * Only JSON bodies are hedged: a body that cannot be sent twice, or a multipart upload, never is.
 */
export function hedgedAttempt(
  ctx: PipelineContext,
  request: RequestInfo,
  working: SdkRequestOptions,
  plan: AttemptPlan,
  send: SendOnce,
): Promise<ResponseProps> {
  const hedger = ctx.shared.hedger;
  if (!hedger || request.model === undefined || !request.replayable || !(working.body === undefined || isPlainObject(working.body))) {
    return runAttempt(ctx, request, working, plan, send);
  }
  return hedged(ctx, request, request.model, working, plan, send, hedger);
}

/** {@link hedgedAttempt} for a request the hedger may hedge (`model`: its model). */
async function hedged(
  ctx: PipelineContext,
  request: RequestInfo,
  model: string,
  working: SdkRequestOptions,
  plan: AttemptPlan,
  send: SendOnce,
  hedger: Hedger,
): Promise<ResponseProps> {
  const { clock } = ctx.options;
  const delay = hedger.delayFor(model);
  if (plan.number === 1) hedger.recordCall();
  if (delay === undefined) {
    let sentAt = clock.now();
    const onSent = () => {
      sentAt = clock.now();
      plan.onSent?.();
    };
    const props = await runAttempt(ctx, request, working, { ...plan, onSent }, send);
    hedger.observe(model, clock.now() - sentAt);
    return props;
  }

  return new Promise<ResponseProps>((resolve, reject) => {
    const racers: AbortScope[] = [];
    let winner: number | undefined;
    let running = 0;
    let firstError: unknown;
    let timer: unknown;
    let hedged = false;

    const finish = () => {
      clock.clearTimeout(timer);
      timer = undefined;
      racers.forEach((scope, index) => {
        if (index !== winner) scope.abort(new HedgeLost());
        // A winning stream still follows the call's signal (the caller's abort) until it ends.
        if (index !== winner || !request.stream) scope.dispose();
      });
    };
    const launch = (hedge: number) => {
      const scope = new AbortScope(clock, [plan.parent.signal]);
      racers.push(scope);
      running++;
      let sentAt = clock.now();
      let endedEarly: { error: unknown } | undefined;
      // Each racer sends its own copy of the options (an attempt sets its signal and headers on them).
      const options = hedge === 0 ? working : { ...working };
      const racerPlan: AttemptPlan = {
        ...plan,
        parent: scope,
        hedge,
        // The next hedge's delay starts once this racer is sent, not while our own guards hold it.
        onSent: () => {
          sentAt = clock.now();
          if (hedge === 0) plan.onSent?.();
          if (winner === undefined) schedule(hedge + 1);
        },
        onStreamEnd: (error) => {
          // A stream may end as it is handed over, before this racer is known to have won.
          if (winner === undefined) endedEarly = { error };
          if (winner !== hedge) return;
          scope.dispose();
          plan.onStreamEnd(error);
        },
      };
      runAttempt(ctx, request, options, racerPlan, send).then(
        (props) => {
          running--;
          if (winner !== undefined) {
            // Answered just after another racer won: let its stream go.
            void props.response.body?.cancel().catch(() => undefined);
            return;
          }
          winner = hedge;
          hedger.observe(model, clock.now() - sentAt);
          if (hedge > 0) ctx.shared.stats.hedgeWon(statsScope(ctx, request));
          finish();
          resolve(props);
          if (endedEarly) racerPlan.onStreamEnd(endedEarly.error);
        },
        (error: unknown) => {
          running--;
          if (firstError === undefined) firstError = error;
          // Reported once every racer sent has failed (a hedge not yet started is not waited for).
          if (winner === undefined && running === 0) {
            finish();
            reject(firstError);
          }
        },
      );
    };
    const schedule = (hedge: number) => {
      if (hedge > hedger.settings.maxExtraAttempts) {
        timer = undefined;
        return;
      }
      timer = clock.setTimeout(() => {
        timer = undefined;
        if (winner !== undefined || running === 0 || plan.parent.aborted) return;
        if (!hedged) {
          if (!hedger.tryHedge()) return;
          hedged = true;
        }
        ctx.shared.events.emit('hedge', { ...eventBase(ctx, request), attempt: plan.number, hedge, delay: delay * hedge });
        ctx.shared.stats.hedged(statsScope(ctx, request));
        launch(hedge);
      }, delay);
    };
    launch(0);
  });
}
