/** API keys (`sk-...`, `sk-proj-...`, Azure-style 32-hex keys) and bearer tokens, wherever they appear. */
const SECRETS: ReadonlyArray<[RegExp, string]> = [
  [/\bsk-[A-Za-z0-9_*-]{3,}/g, 'sk-***'],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]+/gi, 'Bearer ***'],
  [/\b[0-9a-f]{32}\b/gi, '***'],
];

/** `text` with secrets replaced. OpenAI's own 401 message echoes part of the key ("Incorrect API key provided: sk-ab***cd"). */
export function redact(text: string): string {
  let result = text;
  for (const [pattern, replacement] of SECRETS) result = result.replace(pattern, replacement);
  return result;
}

/** What a log line says about an error: its class, kind and status, its request id, and its redacted message. */
export function describeError(error: unknown): Record<string, unknown> {
  if (typeof error !== 'object' || error === null) return { message: redact(String(error)) };
  const record = error as { constructor?: { name?: string }; message?: unknown; status?: unknown; requestID?: unknown };
  return {
    name: record.constructor?.name,
    ...(typeof record.status === 'number' ? { status: record.status } : {}),
    ...(typeof record.requestID === 'string' ? { requestID: record.requestID } : {}),
    message: redact(typeof record.message === 'string' ? record.message : String(error)),
  };
}
