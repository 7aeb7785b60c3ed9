/**
 * `openai-resilient/otel`: OpenTelemetry traces and metrics for a resilient client. Needs the optional
 * peer dependency `@opentelemetry/api`; the main entry point never loads it.
 */
export { instrument, type InstrumentOptions } from './instrument.js';
export { ATTR, operationOf } from './attributes.js';
