import type { EventBus } from '../events/event-bus.js';
import type { ResolvedOptions } from '../internal/resolve-options.js';

/** The SDK error classes of the wrapped client's own copy of `openai`, so ours match the caller's `instanceof`. */
export interface SdkErrors {
  APIUserAbortError: new (options?: { message?: string }) => Error;
  APIConnectionTimeoutError: new (options?: { message?: string }) => Error;
}

/** Everything one call needs: the view's options, the shared event bus, and the SDK's error classes. */
export interface PipelineContext {
  readonly options: ResolvedOptions;
  readonly events: EventBus;
  readonly sdk: SdkErrors;
}
