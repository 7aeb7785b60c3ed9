const encoder = new TextEncoder();

/**
 * A reader of a chat stream's whole events (see `alignEvents`) that hides the usage the caller did not ask
 * for: the budgets asked for it (`stream_options: { include_usage: true }`) so that the stream is settled
 * with what it used, and the caller must see the stream it would have seen without them.
 * - The usage chunk (`choices: []` with `usage`) is reported to `onUsage` and dropped.
 * - Every other chunk loses the `usage` member the API adds to each chunk once usage is asked for
 *   (`"usage":null`; a `usage` object on a chunk with choices is reported, then removed). The SDK parses each
 *   chunk's JSON and hands the object to the caller, so the chunk it parses is the chunk without the member.
 * Other events (`[DONE]`, comments, errors) pass as they are. Only a chunk whose text holds `"usage"` is
 * parsed; the others pass without a copy.
 */
export function hideUsage(
  upstream: ReadableStreamDefaultReader<Uint8Array>,
  onUsage: (usage: object) => void,
): ReadableStreamDefaultReader<Uint8Array> {
  const decoder = new TextDecoder();
  let reported = false;
  const report = (usage: object) => {
    if (reported) return;
    reported = true;
    onUsage(usage);
  };
  return {
    async read() {
      for (;;) {
        const result = await upstream.read();
        if (result.done) return result;
        const text = decoder.decode(result.value);
        if (!text.includes('"usage"')) return result;
        const rewritten = withoutUsage(text, report);
        if (rewritten === undefined) return result;
        if (rewritten === '') continue;
        return { done: false, value: encoder.encode(rewritten) };
      }
    },
    cancel: (reason?: unknown) => upstream.cancel(reason),
    releaseLock: () => upstream.releaseLock(),
    get closed() {
      return upstream.closed;
    },
  };
}

/**
 * The event `text` without its chunk's `usage` member: `''` to drop it (the usage chunk), `undefined` to
 * keep it as it is (no `data:` JSON with a `usage` member).
 */
function withoutUsage(text: string, report: (usage: object) => void): string | undefined {
  const lines = text.split(/\r\n|\r|\n/);
  const dataLines = lines.filter((line) => line.startsWith('data:'));
  if (dataLines.length === 0) return undefined;
  const data = dataLines.map((line) => line.slice(line.startsWith('data: ') ? 6 : 5)).join('\n');
  let chunk: unknown;
  try {
    chunk = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof chunk !== 'object' || chunk === null || Array.isArray(chunk) || !('usage' in chunk)) return undefined;
  const { usage, ...rest } = chunk as { usage: unknown; choices?: unknown };
  if (typeof usage === 'object' && usage !== null) {
    report(usage);
    if (Array.isArray(rest.choices) && rest.choices.length === 0) return '';
  }
  const others = lines.filter((line) => line !== '' && !line.startsWith('data:'));
  return `${others.map((line) => `${line}\n`).join('')}data: ${JSON.stringify(rest)}\n\n`;
}
