import { keepUrl } from './response-url.js';

/**
 * A `Response` that relays an upstream response with a new body (a guarded or recorded stream): its
 * status line, `url` and its very `Headers` object, not a copy. Copying a real OpenAI answer's ~20
 * headers costs more than building the rest of the response (`npm run bench overhead`), and nothing
 * else holds the upstream response once its body is relayed.
 */
export class RelayedResponse extends Response {
  readonly #headers: Headers;

  constructor(body: ReadableStream<Uint8Array>, upstream: Response) {
    super(body, { status: upstream.status, statusText: upstream.statusText });
    this.#headers = upstream.headers;
    keepUrl(this, upstream.url);
  }

  override get headers(): Headers {
    return this.#headers;
  }

  /** Another response with the same headers, reading the same bytes (the body is teed, as any clone's). */
  override clone(): Response {
    // The native clone tees the body; its own headers are this response's internal, empty ones.
    const copy = super.clone();
    return new RelayedResponse(copy.body!, this);
  }
}
