import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, OpenAIError } from 'openai';
import type { SdkRequestOptions } from './request-info.js';
import type { ResponseProps } from './response-props.js';

/**
 * What {@link resilient} accepts, structurally: an `OpenAI` client or a subclass (`AzureOpenAI`). Being
 * structural, it also accepts the class from the SDK's other module format (a TypeScript CommonJS app
 * sees the SDK's CommonJS typings, which are a distinct class from the ESM ones).
 */
export interface OpenAIClientLike {
  readonly baseURL: string;
  withOptions(options: object): unknown;
}

/** The SDK error classes of the wrapped client's own copy of `openai`, so ours match the caller's `instanceof`. */
export interface SdkErrors {
  /** The base of every SDK error: errors of ours are re-based on it as they leave (`errors/sdk-copies.ts`). */
  OpenAIError: abstract new (message?: string) => Error;
  APIError: new (status: number | undefined, error: unknown, message: string | undefined, headers: Headers | undefined) => Error;
  APIUserAbortError: new (options?: { message?: string }) => Error;
  APIConnectionError: new (options: { message?: string; cause?: Error }) => Error;
  APIConnectionTimeoutError: new (options?: { message?: string }) => Error;
}

/**
 * The parts of an `openai` client (5.x, 6.x and 7.x) that the wrapper relies on. `makeRequest` is the
 * one method that every request goes through, including helper-internal and next-page requests; it
 * is private in the SDK's types but stable across the supported majors (checked by the version matrix).
 */
export interface SdkClientInternals {
  makeRequest(options: unknown, retriesRemaining: number | null, retryOfRequestLogID: string | undefined): Promise<ResponseProps>;
  withOptions(options: Record<string, unknown>): SdkClientInternals;
  /** The step that parses a response's body (later openai 7 releases, 7.57 among them); `this` is the client. */
  parseResponseWithTimeout?: (client: unknown, props: ResponseProps) => Promise<unknown>;
  logLevel?: unknown;
  _options?: { maxRetries?: unknown; timeout?: unknown; defaultHeaders?: unknown; defaultQuery?: unknown };
  baseURL?: unknown;
  constructor: (abstract new (...args: never[]) => unknown) & Partial<SdkErrors>;
}

export function assertSupportedClient(client: unknown): asserts client is SdkClientInternals {
  const candidate = client as Partial<SdkClientInternals> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.makeRequest !== 'function' ||
    typeof candidate.withOptions !== 'function'
  ) {
    throw new TypeError(
      'openai-resilient: `client` must be an OpenAI client (new OpenAI() or a subclass such as AzureOpenAI) from openai 5, 6 or 7.',
    );
  }
}

/**
 * What the SDK's `withOptions()` loses before openai 7.12: `AzureOpenAI`'s `apiVersion` and `deployment`
 * (its constructor strips them before `super()`, and `withOptions()` rebuilds from `_options`), and an
 * async `apiKey` function (5.x and 6.0 pass the resolved or placeholder key instead). Passed back in
 * whenever the pipeline clones a client, as openai 7.12+ does itself.
 */
export function carriedOptions(client: unknown): Record<string, unknown> {
  const candidate = client as { _options?: { apiKey?: unknown }; apiVersion?: unknown; deploymentName?: unknown };
  const carried: Record<string, unknown> = {};
  if (typeof candidate._options?.apiKey === 'function') carried['apiKey'] = candidate._options.apiKey;
  if (typeof candidate.apiVersion === 'string' && candidate.apiVersion !== '') {
    carried['apiVersion'] = candidate.apiVersion;
    carried['deployment'] = candidate.deploymentName;
  }
  return carried;
}

/** The error classes of the client's own SDK copy, so that errors we create pass the caller's `instanceof`. */
export function sdkErrorsOf(client: SdkClientInternals): SdkErrors {
  return {
    OpenAIError: client.constructor.OpenAIError ?? OpenAIError,
    APIError: client.constructor.APIError ?? (APIError as unknown as SdkErrors['APIError']),
    APIConnectionError: client.constructor.APIConnectionError ?? (APIConnectionError as unknown as SdkErrors['APIConnectionError']),
    APIUserAbortError: client.constructor.APIUserAbortError ?? APIUserAbortError,
    APIConnectionTimeoutError: client.constructor.APIConnectionTimeoutError ?? APIConnectionTimeoutError,
  };
}

export type { SdkRequestOptions };
