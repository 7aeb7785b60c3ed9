import { classify } from '../classify/classify.js';
import type { TrafficClass } from '../core/traffic-class.js';
import type { RequestInfo, SdkRequestOptions } from '../core/request-info.js';
import { eventBase } from '../events/event-base.js';
import { statsScope } from '../stats/stats-scope.js';
import { chatCompletionAsEvents, eventStreamResponse, jsonResponse, syntheticProps } from '../responses/synthetic-response.js';
import { attachFallbackFailures, type FallbackFailure } from './fallback-errors.js';
import { fallbackTargets, fallsBackOn, type FallbackTarget } from './fallback-targets.js';
import type { ResponseProps } from '../core/response-props.js';
import type { EventBus } from '../events/event-bus.js';
import type { StatsCollector } from '../stats/stats-collector.js';
import type { ResolvedFallback } from './resolve-fallback-options.js';

/** What fallback reads of its call's context (the pipeline's context is one). */
export interface FallbackContext {
  readonly tenant: string | undefined;
  readonly trafficClass: TrafficClass;
  readonly options: { readonly fallback: ResolvedFallback | undefined };
  readonly shared: { readonly stats: StatsCollector; readonly events: EventBus };
}

export interface FallbackRun {
  /** Tries the primary request. */
  readonly primary: () => Promise<ResponseProps>;
  /**
   * Tries `model` on the same client, through this client's policies; `last`: no step comes after it (no
   * further target, no last-resort value), so it may wait for its model's open circuit.
   */
  readonly model: (model: string, last: boolean) => Promise<ResponseProps>;
  /** Tries a fallback client through its own policies. */
  readonly client: (target: Extract<FallbackTarget, { kind: 'client' }>) => Promise<ResponseProps>;
  /** The call (its caller's abort and its deadline), and the error an abort of it stands for. */
  readonly call: { readonly aborted: boolean };
  readonly translateAbort: (error: unknown) => unknown;
}

/** Whether the answer came from the primary, so that only the primary's answers are cached. */
export interface FallbackResult {
  readonly props: ResponseProps;
  readonly fellBack: boolean;
}

/**
 * The primary, then each fallback target in order, then the last-resort value. When everything fails
 * the caller receives the primary's own error, with the other failures attached (`fallbackFailuresOf`).
 * Each step emits a `fallback` event saying from what to what and why.
 */
export async function withFallbacks(
  ctx: FallbackContext,
  request: RequestInfo,
  options: SdkRequestOptions,
  run: FallbackRun,
): Promise<FallbackResult> {
  try {
    return { props: await run.primary(), fellBack: false };
  } catch (primaryError) {
    const config = ctx.options.fallback;
    if (!config || run.call.aborted) throw primaryError;
    const failure = classify(primaryError);
    const message = (primaryError as { message?: unknown } | null)?.message;
    const targets = fallbackTargets(config, request.model, isJsonBody(options.body), {
      ...failure,
      message: typeof message === 'string' ? message : undefined,
    });
    const failures: FallbackFailure[] = [];
    const announce = (step: number, to: string, target: 'model' | 'client' | 'value', client?: number) => {
      ctx.shared.stats.fellBack(statsScope(ctx, request));
      ctx.shared.events.emit('fallback', {
        ...eventBase(ctx, request), step, from: request.model, to, client, target, reason: failure.kind, error: primaryError,
      });
    };

    for (const [index, target] of targets.entries()) {
      const client = target.kind === 'client' ? target.index : undefined;
      // A client step asks for the model it maps to (the primary's, by default); a request without a
      // model goes to the client as it is.
      announce(index + 1, target.model ?? `client ${client}`, target.kind, client);
      try {
        const last = index === targets.length - 1 && !config.value;
        const props = target.kind === 'model' ? await run.model(target.model, last) : await run.client(target);
        return { props, fellBack: true };
      } catch (error) {
        if (run.call.aborted) {
          const stopped = run.translateAbort(error);
          attachFallbackFailures(stopped, failures);
          throw stopped;
        }
        failures.push({ model: target.model, client, kind: classify(error).kind, error });
      }
    }

    const eligible = targets.length > 0 || fallsBackOn(config, failure.kind) || failure.kind === 'context_length_exceeded';
    if (config.value && eligible && !run.call.aborted) {
      const body = await config.value(
        { method: request.method, path: request.path, model: request.model, stream: request.stream, body: options.body },
        primaryError,
      );
      if (body !== undefined) {
        announce(targets.length + 1, FALLBACK_VALUE, 'value');
        return { props: valueProps(body, request, options), fellBack: true };
      }
    }
    attachFallbackFailures(primaryError, failures);
    throw primaryError;
  }
}

/**
 * Whether a fallback step would take over `request` if its circuit refused it: another model or client,
 * or the last-resort value. Such a call does not wait for its open circuit: it is served elsewhere now.
 */
export function fallsBackWhenOpen(ctx: FallbackContext, request: RequestInfo, options: SdkRequestOptions): boolean {
  const config = ctx.options.fallback;
  if (!config) return false;
  if (config.value) return true;
  return fallbackTargets(config, request.model, isJsonBody(options.body), { kind: 'circuit_open', action: 'fail' }).length > 0;
}

/** What the last-resort value is called: the `to` of its `fallback` event, and the source its response says. */
export const FALLBACK_VALUE = 'fallback-value';

function valueProps(body: object, request: RequestInfo, options: SdkRequestOptions): ResponseProps {
  const streamed = request.stream && request.path.endsWith('/chat/completions');
  const response = streamed
    ? eventStreamResponse(chatCompletionAsEvents(body as Record<string, unknown>), FALLBACK_VALUE)
    : jsonResponse(body, FALLBACK_VALUE);
  return syntheticProps(response, options, FALLBACK_VALUE);
}

/** A model can be swapped only in a JSON body (not in multipart uploads or binary bodies). */
function isJsonBody(body: unknown): boolean {
  return typeof body === 'object' && body !== null && Object.getPrototypeOf(body) === Object.prototype;
}
