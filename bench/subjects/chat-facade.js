// The little of the OpenAI SDK's shape that the comparative cases call, for the subjects that are not an
// OpenAI client (the AI SDK, LangChain.js): `client.chat.completions.create(params, { signal })`, resolving
// to a completion with `choices[0].message.content`, or, with `stream: true`, to an async iterable of chunks
// with `choices[0].delta.content`. A case written against the SDK runs any subject unchanged; what each
// library does on the way (retries, parsing, its own message types) is what is measured.

/** The base URL given to a subject that only has a `fetch`: nothing listens there. */
const PLACEHOLDER_BASE_URL = 'https://api.openai.test/v1';

/**
 * Where a subject's client sends its requests: a base URL (a string, or `{ baseURL }`), or an in-memory
 * `{ fetch }` (then a base URL where nothing listens), or both.
 * @param {string | { baseURL?: string, fetch?: typeof fetch }} [target]
 * @returns {{ baseURL: string, fetch?: typeof fetch }}
 */
export function targetOf(target = {}) {
  const { baseURL = PLACEHOLDER_BASE_URL, fetch } = typeof target === 'string' ? { baseURL: target } : target;
  return fetch ? { baseURL, fetch } : { baseURL };
}

/** An OpenAI-shaped completion carrying `text`. */
export const completionOf = (text, finishReason = 'stop') => ({
  object: 'chat.completion',
  choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: finishReason }],
});

/** An OpenAI-shaped stream chunk carrying the text `delta`. */
export const chunkOf = (delta) => ({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: delta } }] });

/**
 * A client whose `chat.completions.create` runs `chat(params, options)` or, for `stream: true`,
 * `stream(params, options)` (an async iterable of chunks).
 * @param {{ chat: (params: object, options: { signal?: AbortSignal }) => Promise<object>,
 *   stream: (params: object, options: { signal?: AbortSignal }) => Promise<AsyncIterable<object>> }} calls
 */
export function chatFacade({ chat, stream }) {
  return {
    chat: {
      completions: {
        create: (params, options = {}) => (params.stream ? stream(params, options) : chat(params, options)),
      },
    },
  };
}
