/**
 * `openai-resilient/testing`: a fault-injecting, OpenAI-compatible HTTP server on loopback, for
 * testing code that uses the official `openai` SDK against real sockets.
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
export type { StreamPlan, StreamPlanInit } from './stream-events.js';
export { DEFAULT_RATE_LIMIT_HEADERS, cursorPage, pagedItems } from './routes.js';
export { FakeClock, type PendingTimer } from './fake-clock.js';
