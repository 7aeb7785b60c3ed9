import type { Classification } from '../classify/classify.js';
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

/**
 * `asked` (a body from {@link askForStreamUsage}) as its caller made it: the caller's own `stream_options`
 * (`original`'s), or none.
 */
export function withoutStreamUsage(asked: unknown, original: unknown): unknown {
  if (!isPlainObject(asked)) return asked;
  const { stream_options: _asked, ...rest } = asked;
  const own = isPlainObject(original) ? original['stream_options'] : undefined;
  return own === undefined ? rest : { ...rest, stream_options: own };
}

/**
 * Whether a failure is a server refusing the `stream_options` the budgets asked for (some OpenAI-compatible
 * servers and older deployments reject the field with a 400 naming it): the call then goes again without it.
 */
export function refusesStreamUsage(classification: Classification, error: unknown): boolean {
  if (classification.kind !== 'bad_request' && classification.kind !== 'unprocessable') return false;
  const { param, message } = error as { param?: unknown; message?: unknown };
  if (param === 'stream_options' || param === 'stream_options.include_usage') return true;
  return typeof message === 'string' && /stream_options|include_usage/i.test(message);
}
