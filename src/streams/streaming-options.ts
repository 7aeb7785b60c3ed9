/** How streams end. */
export interface StreamingOptions {
  /**
   * A stream that ends without its terminal event (`[DONE]`, `response.completed`) is cut short:
   * `'error'` makes the caller's iteration throw `StreamTruncatedError`; `'end'` ends it quietly (a
   * `streamTruncated` event still fires).
   * @default 'error'
   */
  readonly onTruncated?: 'error' | 'end' | undefined;
}
