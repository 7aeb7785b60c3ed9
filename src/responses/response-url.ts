/**
 * Gives `response` the `url` of the upstream response it stands for. A `Response` built in code has an
 * empty `url` (a read-only getter), and the SDK puts the URL in its log lines and errors.
 */
export function keepUrl<T extends Response>(response: T, url: string): T {
  if (url) Object.defineProperty(response, 'url', { value: url });
  return response;
}
