/** The SDK's per-request options (`FinalRequestOptions`), as far as the pipeline reads them. */
export interface SdkRequestOptions {
  method: string;
  path: string;
  body?: unknown;
  stream?: boolean | undefined;
  signal?: AbortSignal | null | undefined;
  timeout?: number | undefined;
  maxRetries?: number | undefined;
  headers?: unknown;
  __binaryResponse?: boolean | undefined;
  __metadata?: Record<string, unknown> | undefined;
  [key: string]: unknown;
}

/** What the pipeline learns about a call's answer, for `callEnd`, stats and telemetry. */
export interface CallObservation {
  /** The `model` the answer says it came from. */
  responseModel?: string | undefined;
  /** Token usage from the answer's `usage`. */
  usage?: { inputTokens: number; outputTokens: number; totalTokens: number } | undefined;
}

/** What events, decisions and per-model policies need to know about one request. */
export interface RequestInfo {
  /** Identifies the call in events (`callStart` ... `callEnd`), unique within the process. */
  readonly callId: number;
  readonly method: string;
  readonly path: string;
  /** The `model` of the request body, when it has one. */
  readonly model: string | undefined;
  readonly stream: boolean;
  /** False when the body is a stream that cannot be sent twice. */
  readonly replayable: boolean;
  /** Filled in as the answer arrives. */
  readonly observed: CallObservation;
  /**
   * Where the call's numbers go: made on first use, and read, only by `statsScope()` (stats/stats-scope.ts),
   * which knows its type; opaque here so that the request description needs nothing above it.
   */
  statsScope: object | undefined;
  /**
   * The budgets asked this chat stream for its usage (`stream_options.include_usage`), which its caller did
   * not: the stream guard hides it from the caller.
   */
  usageHidden: boolean;
}

let lastCallId = 0;

export function describeRequest(options: SdkRequestOptions): RequestInfo {
  return {
    callId: ++lastCallId,
    observed: {},
    method: options.method.toUpperCase(),
    path: options.path,
    model: modelOf(options.body),
    stream: options.stream === true,
    replayable: isReplayable(options),
    statsScope: undefined,
    usageHidden: false,
  };
}

function modelOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const model =
    typeof (body as FormData).get === 'function' ? (body as FormData).get('model') : (body as { model?: unknown }).model;
  return typeof model === 'string' ? model : undefined;
}

/**
 * A body can be sent again unless it is a one-shot stream: a `ReadableStream`, a Node stream or any async
 * iterable (the SDK's streaming uploads). JSON objects, strings, buffers, Blobs and FormData replay fine.
 */
function isReplayable(options: SdkRequestOptions): boolean {
  if (options.__metadata?.['hasStreamingBody'] === true) return false;
  const body = options.body;
  if (typeof body !== 'object' || body === null) return true;
  if (typeof ReadableStream !== 'undefined' && body instanceof ReadableStream) return false;
  if (Symbol.asyncIterator in body) return false;
  if (typeof (body as { pipe?: unknown }).pipe === 'function') return false;
  const iterator = body as { next?: unknown; [Symbol.iterator]?: unknown };
  return !(typeof iterator.next === 'function' && typeof iterator[Symbol.iterator] === 'function');
}
