import { context, metrics, SpanKind, SpanStatusCode, trace, type Attributes, type Meter, type ObservableResult, type Span, type Tracer } from '@opentelemetry/api';
import type { Resilience } from '../client/resilience.js';
import type { RequestEventBase } from '../events/event-map.js';
import { redact } from '../events/redact.js';
import { ATTR, operationOf } from './attributes.js';

export interface InstrumentOptions {
  /** @default `trace.getTracer('openai-resilient')` from the global provider */
  readonly tracer?: Tracer | undefined;
  /** @default `metrics.getMeter('openai-resilient')` from the global provider */
  readonly meter?: Meter | undefined;
  /**
   * Puts the tenant (`openai_resilient.tenant`, as `resilience.forTenant()` named it) on the budget
   * metrics, so that usage, spend and utilization are reported per tenant. Off by default: each tenant adds
   * series, so turn it on when tenants are few (or their ids are not sensitive). Spans always carry it.
   * @default false
   */
  readonly budgetTenants?: boolean | undefined;
}

/** Calls whose spans are open; a call always ends, this only bounds memory if it somehow did not. */
const MAX_OPEN_SPANS = 10_000;

/**
 * Traces and measures a resilient client with OpenTelemetry: a client span per call (named after its
 * GenAI operation and model, e.g. `chat gpt-4.1`) with a child span per attempt, span events for retries,
 * fallbacks, cache hits and timeouts, and GenAI semantic-convention attributes (operation, request and
 * response model, token usage, `error.type` = the error kind). Metrics: `gen_ai.client.operation.duration`
 * and `gen_ai.client.token.usage` histograms, and `openai_resilient.*` counters for retries, fallbacks,
 * circuit transitions, cache lookups, timeouts and bulkhead rejections, and for budgets
 * (`openai_resilient.budget.tokens`, `.spend` and `.refusals`, by limit and model, and the gauge
 * `openai_resilient.budget.utilization`: what a limit's window holds, as a fraction of the limit). Tenants
 * are on spans, and on the budget metrics only with `budgetTenants` (they would multiply the series).
 * Returns a function that stops it.
 *
 * @example
 * ```ts
 * import { instrument } from 'openai-resilient/otel';
 * const stop = instrument(ai); // uses the global tracer and meter providers
 * ```
 */
export function instrument(ai: { readonly resilience: Resilience<unknown> }, options: InstrumentOptions = {}): () => void {
  const tracer = options.tracer ?? trace.getTracer('openai-resilient');
  const meter = options.meter ?? metrics.getMeter('openai-resilient');
  const duration = meter.createHistogram('gen_ai.client.operation.duration', { unit: 's', description: 'Duration of GenAI calls through openai-resilient, retries and waits included' });
  const tokens = meter.createHistogram('gen_ai.client.token.usage', { unit: '{token}', description: 'Tokens used per call' });
  const counter = (name: string, description: string) => meter.createCounter(`openai_resilient.${name}`, { description });
  const retries = counter('retries', 'Retries of failed attempts');
  const fallbacks = counter('fallbacks', 'Fallback steps taken');
  const circuits = counter('circuit.transitions', 'Circuit breaker state changes');
  const cache = counter('cache.lookups', 'Cache lookups by result');
  const timeouts = counter('timeouts', 'Time limits that ran out');
  const rejections = counter('bulkhead.rejections', 'Calls turned away by the bulkhead');
  const rateLimitRejections = counter('rate_limit.rejections', 'Calls turned away by the rate limiter');
  const budgetTokens = meter.createCounter('openai_resilient.budget.tokens', { unit: '{token}', description: 'Tokens counted against budgets (settled with usage, or kept as reserved)' });
  const budgetSpend = meter.createCounter('openai_resilient.budget.spend', { description: 'Spend counted against budgets, in the currency of `budgets.prices`' });
  const budgetRefusals = counter('budget.refusals', 'Calls refused by a budget before they were sent');
  const budgetUtilization = meter.createObservableGauge('openai_resilient.budget.utilization', {
    unit: '1', description: "What a budget's window holds, as a fraction of its limit (per tenant with `budgetTenants`, else the tenant nearest its limit)",
  });
  const budgetTenants = options.budgetTenants === true;
  /** A budget's attributes: its limit and the model; the tenant only with `budgetTenants` (it is unbounded). */
  const budgetAttributes = (e: { limitName: string; metric: string; per: string; model: string | undefined; tenant: string | undefined }): Attributes => ({
    'openai_resilient.budget.limit': e.limitName, 'openai_resilient.budget.metric': e.metric, 'openai_resilient.budget.per': e.per,
    ...(e.model !== undefined ? { [ATTR.requestModel]: e.model } : {}),
    ...(budgetTenants && e.per === 'tenant' && e.tenant !== undefined ? { [ATTR.tenant]: e.tenant } : {}),
  });
  const observeBudgets = (result: ObservableResult) => {
    for (const [limitName, limit] of Object.entries(ai.resilience.stats().budgets)) {
      const base = { 'openai_resilient.budget.limit': limitName, 'openai_resilient.budget.metric': limit.metric, 'openai_resilient.budget.per': limit.per };
      const counters = Object.entries(limit.tenants);
      if (budgetTenants && limit.per === 'tenant') {
        for (const [tenant, counter] of counters) result.observe(counter.used / counter.limit, { ...base, [ATTR.tenant]: tenant });
      } else if (counters.length > 0) {
        result.observe(Math.max(...counters.map(([, counter]) => counter.used / counter.limit)), base);
      }
    }
  };
  budgetUtilization.addCallback(observeBudgets);

  /**
   * Open spans per call id; a call's attempts are keyed by `attemptKey` (a hedge shares its attempt's
   * number). A call that ended stays here (`ended`) until its last attempt span ends: a hedge that lost
   * the race reports its end (aborted) just after the call's.
   */
  const calls = new Map<number, { span: Span; attempts: Map<string, Span>; ended: boolean }>();
  const attemptKey = (e: { attempt: number; hedge: number }) => `${e.attempt}:${e.hedge}`;
  const common = (e: RequestEventBase): Attributes => ({
    [ATTR.operation]: operationOf(e.path),
    [ATTR.provider]: 'openai',
    [ATTR.system]: 'openai',
    ...(e.model !== undefined ? { [ATTR.requestModel]: e.model } : {}),
  });
  const event = (e: RequestEventBase, name: string, attributes: Attributes) => {
    const call = calls.get(e.callId);
    if (call && !call.ended) call.span.addEvent(name, attributes);
  };

  const { resilience } = ai;
  const stops = [
    resilience.on('callStart', (e) => {
      if (calls.size >= MAX_OPEN_SPANS) return;
      const span = tracer.startSpan(`${operationOf(e.path)}${e.model ? ` ${e.model}` : ''}`, {
        kind: SpanKind.CLIENT,
        attributes: { ...common(e), [ATTR.method]: e.method, [ATTR.callId]: e.callId, [ATTR.stream]: e.stream, [ATTR.trafficClass]: e.trafficClass, ...(e.tenant !== undefined ? { [ATTR.tenant]: e.tenant } : {}) },
      });
      calls.set(e.callId, { span, attempts: new Map(), ended: false });
    }),
    resilience.on('attemptStart', (e) => {
      const call = calls.get(e.callId);
      if (!call || call.ended) return;
      const parent = trace.setSpan(context.active(), call.span);
      const name = `attempt ${e.attempt}${e.hedge > 0 ? ` hedge ${e.hedge}` : ''}`;
      const attributes = {
        ...common(e), [ATTR.callId]: e.callId, [ATTR.attempt]: e.attempt, [ATTR.hedge]: e.hedge, ...(e.member !== undefined ? { [ATTR.member]: e.member } : {}),
      };
      const key = attemptKey(e);
      // Never drop an open span: one still open under the same key (which should not happen) is ended first.
      call.attempts.get(key)?.end();
      call.attempts.set(key, tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes }, parent));
    }),
    resilience.on('attemptEnd', (e) => {
      const call = calls.get(e.callId);
      const span = call?.attempts.get(attemptKey(e));
      if (!span) return;
      if (e.outcome === 'failure') {
        span.setAttribute(ATTR.errorType, e.kind ?? 'unknown');
        span.setStatus({ code: SpanStatusCode.ERROR, message: e.kind });
      }
      span.end();
      call!.attempts.delete(attemptKey(e));
      if (call!.ended && call!.attempts.size === 0) calls.delete(e.callId);
    }),
    resilience.on('retry', (e) => {
      retries.add(1, { ...common(e), [ATTR.errorType]: e.kind });
      event(e, 'retry', { [ATTR.attempt]: e.attempt, [ATTR.errorType]: e.kind, 'openai_resilient.delay_ms': e.delay, 'openai_resilient.delay_source': e.delaySource, ...(e.member !== undefined ? { [ATTR.member]: e.member } : {}) });
    }),
    resilience.on('fallback', (e) => {
      fallbacks.add(1, { ...common(e), 'openai_resilient.fallback.target': e.target });
      event(e, 'fallback', { 'openai_resilient.fallback.step': e.step, 'openai_resilient.fallback.target': e.target, 'openai_resilient.fallback.to': e.to, [ATTR.errorType]: e.reason });
    }),
    resilience.on('giveUp', (e) => event(e, 'give_up', { [ATTR.attempt]: e.attempt, [ATTR.errorType]: e.kind, 'openai_resilient.reason': e.reason })),
    resilience.on('timeout', (e) => {
      timeouts.add(1, { ...common(e), 'openai_resilient.timeout': e.timeout });
      event(e, 'timeout', { 'openai_resilient.timeout': e.timeout, 'openai_resilient.limit_ms': e.limit });
    }),
    resilience.on('cacheHit', (e) => {
      cache.add(1, { ...common(e), 'openai_resilient.cache.result': e.stale ? 'stale' : 'hit' });
      event(e, 'cache_hit', { 'openai_resilient.cache.stale': e.stale, 'openai_resilient.cache.shared': e.shared });
    }),
    resilience.on('cacheMiss', (e) => cache.add(1, { ...common(e), 'openai_resilient.cache.result': 'miss' })),
    resilience.on('streamStall', (e) => event(e, 'stream_stall', { 'openai_resilient.chunks': e.chunks })),
    resilience.on('streamTruncated', (e) => event(e, 'stream_truncated', { 'openai_resilient.chunks': e.chunks })),
    resilience.on('streamResume', (e) => event(e, 'stream_resume', { 'openai_resilient.resume': e.resume, 'openai_resilient.after': e.after, 'openai_resilient.failure': e.failure })),
    resilience.on('streamContinued', (e) => event(e, 'stream_continued', { 'openai_resilient.chunks': e.chunks, 'openai_resilient.continuation': e.continuation, 'openai_resilient.strategy': e.strategy, 'openai_resilient.failure': e.failure })),
    resilience.on('streamAbandoned', (e) => event(e, 'stream_abandoned', { 'openai_resilient.chunks': e.chunks, 'openai_resilient.reason': e.reason })),
    resilience.on('circuitOpen', (e) => circuits.add(1, { 'openai_resilient.circuit.key': e.key, 'openai_resilient.circuit.state': 'open' })),
    resilience.on('circuitHalfOpen', (e) => circuits.add(1, { 'openai_resilient.circuit.key': e.key, 'openai_resilient.circuit.state': 'half_open' })),
    resilience.on('circuitClose', (e) => circuits.add(1, { 'openai_resilient.circuit.key': e.key, 'openai_resilient.circuit.state': 'closed' })),
    resilience.on('bulkheadReject', (e) => rejections.add(1, { 'openai_resilient.reason': e.reason, [ATTR.trafficClass]: e.trafficClass })),
    resilience.on('rateLimitReject', (e) => rateLimitRejections.add(1, { [ATTR.requestModel]: e.model, 'openai_resilient.reason': e.reason, [ATTR.trafficClass]: e.trafficClass })),
    resilience.on('budgetSettled', (e) => {
      if (e.amount > 0) (e.metric === 'tokens' ? budgetTokens : budgetSpend).add(e.amount, budgetAttributes(e));
    }),
    resilience.on('budgetExceeded', (e) => {
      budgetRefusals.add(1, budgetAttributes(e));
      event(e, 'budget_exceeded', { 'openai_resilient.budget.limit': e.limitName, 'openai_resilient.budget.used': e.used, 'openai_resilient.budget.requested': e.requested });
    }),
    resilience.on('callEnd', (e) => {
      const attributes: Attributes = {
        ...common(e),
        [ATTR.trafficClass]: e.trafficClass,
        ...(e.responseModel !== undefined ? { [ATTR.responseModel]: e.responseModel } : {}),
        ...(e.kind !== undefined ? { [ATTR.errorType]: e.kind } : {}),
      };
      duration.record(e.duration / 1000, attributes);
      if (e.usage) {
        tokens.record(e.usage.inputTokens, { ...attributes, [ATTR.tokenType]: 'input' });
        tokens.record(e.usage.outputTokens, { ...attributes, [ATTR.tokenType]: 'output' });
      }
      const call = calls.get(e.callId);
      if (!call || call.ended) return;
      // Attempts still open (a hedge that lost, being aborted) end with their own attemptEnd, just after.
      call.ended = true;
      if (call.attempts.size === 0) calls.delete(e.callId);
      call.span.setAttributes(attributes);
      if (e.usage) call.span.setAttributes({ [ATTR.inputTokens]: e.usage.inputTokens, [ATTR.outputTokens]: e.usage.outputTokens });
      if (e.outcome === 'failure') {
        const message = e.error instanceof Error ? redact(e.error.message) : e.kind;
        call.span.setStatus({ code: SpanStatusCode.ERROR, ...(message !== undefined ? { message } : {}) });
      }
      call.span.end();
    }),
  ];
  return () => {
    for (const stop of stops) stop();
    budgetUtilization.removeCallback(observeBudgets);
    for (const call of calls.values()) {
      for (const span of call.attempts.values()) span.end();
      if (!call.ended) call.span.end();
    }
    calls.clear();
  };
}
