/**
 * `openai-resilient/testing`: fault injection for code that uses the official `openai` SDK. A
 * fault-injecting, OpenAI-compatible HTTP server on loopback (`startFaultServer`, Node.js) to test
 * against real sockets, and a fault-injecting `fetch` (`createFaultFetch`, any runtime) that answers
 * the same scripts in-process; a `FakeClock` for the `clock` option.
 *
 * This module graph has no static `node:*` import: it loads in browsers, where `startFaultServer` is
 * unavailable.
 *
 * @module
 */

export { startFaultServer, normalizePath } from './fault-server.js';
export type {
  CapacityOptions,
  FaultServer,
  FaultServerOptions,
  FaultServerStats,
  LatencyOption,
  RandomFailureOptions,
  ReceivedRequest,
} from './fault-server.js';
export { formatResetDuration, tokenCost } from './capacity.js';
export { faults } from './faults.js';
export type {
  BackgroundOptions,
  DelayFault,
  ErrorFault,
  ErrorOverrides,
  Fault,
  OkFault,
  PartialBodyFault,
  RateLimitOptions,
  ResetFault,
  StallFault,
  StreamErrorPayload,
  StreamFault,
  StreamOptions,
} from './faults.js';
export {
  batchObject,
  chatCompletion,
  embeddingList,
  errorBody,
  fileObject,
  fineTuningJobObject,
  modelObject,
  responseObject,
  vectorStoreFileObject,
} from './openai-bodies.js';
export type { CompletionInit, OpenAIErrorFields } from './openai-bodies.js';
export { chatStreamPlan, contentDeltas, responsesStreamPlan, sseFrame } from './stream-events.js';
export { numberedDeltas } from './chat-continuation.js';
export type { StreamPlan, StreamPlanInit } from './stream-events.js';
export { DEFAULT_RATE_LIMIT_HEADERS, cursorPage, pagedItems } from './routes.js';
export { FakeClock, type PendingTimer } from './fake-clock.js';
export { createFaultFetch } from './fault-fetch.js';
export type { FaultFetch, FaultFetchOptions, FetchFunction } from './fault-fetch.js';
export type { FaultScript } from './fault-script.js';
