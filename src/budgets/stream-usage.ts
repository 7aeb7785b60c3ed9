import { isPlainObject } from '../core/validate.js';

/**
 * The body of a chat stream that the budgets need the usage of, when its caller did not ask for it: the
 * same body with `stream_options.include_usage: true` (its other `stream_options` kept). `undefined` when
 * nothing changes: not a chat completions stream, or the caller asked for the usage already. The stream
 * guard then hides the usage from the caller (`streams/hidden-usage.ts`). The Responses API always
 * reports its usage (`response.completed`), and needs nothing.
 */
export function askForStreamUsage(path: string, body: unknown): Record<string, unknown> | undefined {
  if (!path.endsWith('/chat/completions') || !isPlainObject(body) || body['stream'] !== true) return undefined;
  const options = body['stream_options'];
  if (isPlainObject(options) && options['include_usage'] === true) return undefined;
  return { ...body, stream_options: { ...(isPlainObject(options) ? options : {}), include_usage: true } };
}
