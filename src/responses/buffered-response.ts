import { keepUrl } from './response-url.js';

/** What {@link BufferedResponse.takeJson} gives for a response that holds no parsed body to hand over. */
export const NOT_PARSED: unique symbol = Symbol('openai-resilient.notParsed');

/**
 * A `Response` whose body the transport has already read (and, for JSON, parsed): `json()` and `text()`,
 * one of which the SDK's parser calls, answer from memory, so an answer is neither streamed again nor
 * parsed twice. Everything else a caller of `asResponse()` may use (`body`, `arrayBuffer()`, `blob()`,
 * `bytes()`, `formData()`) comes from an ordinary `Response` built on first use. As with any `Response`,
 * the body can be read once; `clone()` gives another, whose `json()` parses the text anew (an object of its own).
 */
export class BufferedResponse extends Response {
  readonly #text: string;
  readonly #json: unknown;
  readonly #init: BufferedResponseInit;
  #read = false;
  #full: Response | undefined;

  /**
   * `json` is the parsed body, or `undefined` when it is not JSON. `init.headers` become this response's
   * own, not a copy (copying a `Headers` costs as much as the rest of the response).
   */
  constructor(text: string, json: unknown, init: BufferedResponseInit, url: string) {
    super(null, { status: init.status, statusText: init.statusText ?? '' });
    this.#text = text;
    this.#json = json;
    this.#init = init;
    keepUrl(this, url);
  }

  override get headers(): Headers {
    return this.#init.headers;
  }

  override get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    return this.#read ? null : this.#fullResponse().body;
  }

  override get bodyUsed(): boolean {
    return this.#read || (this.#full?.bodyUsed ?? false);
  }

  override json(): Promise<any> {
    if (this.#full) return this.#full.json();
    return this.#take(() => (this.#json === undefined ? JSON.parse(this.#text) : this.#json));
  }

  override text(): Promise<string> {
    if (this.#full) return this.#full.text();
    return this.#take(() => this.#text);
  }

  override arrayBuffer(): Promise<ArrayBuffer> {
    return this.#fullResponse().arrayBuffer();
  }

  override blob(): Promise<Blob> {
    return this.#fullResponse().blob();
  }

  override bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return this.#fullResponse().bytes();
  }

  override formData(): Promise<FormData> {
    return this.#fullResponse().formData();
  }

  /**
   * The parsed JSON body of `response`, when it is a buffered response that holds one and whose body has
   * not been read: the body then counts as read, exactly as if `json()` had been called. {@link NOT_PARSED}
   * otherwise (another response, a body that is not JSON, or one already read).
   */
  static takeJson(response: Response): unknown {
    if (!(#json in response) || response.#json === undefined || response.#read || response.#full) return NOT_PARSED;
    response.#read = true;
    return response.#json;
  }

  override clone(): Response {
    if (this.bodyUsed) throw new TypeError('Response.clone: Body has already been consumed.');
    // The clone parses its own copy: as with a native clone, changing what one gives never changes the other.
    return new BufferedResponse(this.#text, undefined, this.#init, this.url);
  }

  async #take<T>(read: () => T): Promise<T> {
    if (this.#read) throw new TypeError('Body is unusable: Body has already been read');
    this.#read = true;
    return read();
  }

  #fullResponse(): Response {
    if (this.#read) throw new TypeError('Body is unusable: Body has already been read');
    this.#full ??= new Response(this.#text, this.#init);
    return this.#full;
  }
}

/** A {@link BufferedResponse}'s status line and headers. */
export interface BufferedResponseInit {
  readonly status: number;
  readonly statusText?: string;
  readonly headers: Headers;
}
