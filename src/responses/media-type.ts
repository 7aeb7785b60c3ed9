/** The media type of a response (its `content-type` without parameters, lower case); `''` when it has none. */
export function mediaTypeOf(headers: Headers): string {
  return headers.get('content-type')?.split(';')[0]?.trim().toLowerCase() ?? '';
}

/** Whether the SDK parses a body of this media type as JSON (`application/json`, `*+json`), as it decides. */
export function isJsonMediaType(mediaType: string): boolean {
  return mediaType.includes('application/json') || mediaType.endsWith('+json');
}

/**
 * Whether a body is an HTML page: declared `text/html` or `application/xhtml+xml`, or undeclared and
 * starting like one. No API answer is: it is a proxy's, a load balancer's or a captive portal's page.
 */
export function isHtml(mediaType: string, text: string): boolean {
  if (mediaType === 'text/html' || mediaType === 'application/xhtml+xml') return true;
  return mediaType === '' && /^\s*<(?:!doctype\s+html|html)[\s>]/i.test(text.slice(0, 256));
}
