import { ResilienceError } from './resilience-error.js';

/**
 * The server answered 2xx with a body that is not what it declared (for example an HTML page from a
 * proxy under `content-type: application/json`, or an empty event stream), or with an HTML page, which no
 * API answer is (a proxy's, a load balancer's or a captive portal's). Retried by default.
 */
export class MalformedResponseError extends ResilienceError {
  override readonly name = 'MalformedResponseError';
  readonly kind = 'malformed_response' as const;
  readonly status: number;
  readonly headers: Headers;
  /** The `x-request-id` of the response, for OpenAI support. */
  readonly requestID: string | null;

  constructor(message: string, response: Response, cause?: unknown) {
    super(message, { cause });
    this.status = response.status;
    this.headers = response.headers;
    this.requestID = response.headers.get('x-request-id');
  }
}
