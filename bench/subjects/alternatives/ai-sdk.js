// Subject "Vercel AI SDK": `generateText` / `streamText` from `ai` with the OpenAI provider, as its docs show
// them, with `maxRetries: 2` (its default, spelt out). The model is `openai.chat(model)`, the provider's Chat
// Completions model, so that every subject sends the same request to the same endpoint (the bare
// `openai(model)` of AI SDK 5+ goes to the Responses API). A stream is read from `fullStream` and its `error`
// part thrown: `textStream` ends quietly on an error (it only reaches `onError`, which logs by default), which
// would count a failed stream as a success.
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText } from 'ai';
import { chatFacade, chunkOf, completionOf, targetOf } from '../chat-facade.js';
import { installedVersions } from './versions.js';

const MAX_RETRIES = 2;
const ignoreError = () => {};

function makeClient(target) {
  const openai = createOpenAI({ apiKey: 'sk-bench', ...targetOf(target) });
  const settings = (params, { signal }) => ({
    model: openai.chat(params.model),
    messages: params.messages,
    maxOutputTokens: params.max_tokens ?? undefined,
    maxRetries: MAX_RETRIES,
    abortSignal: signal,
  });
  return chatFacade({
    async chat(params, options) {
      const result = await generateText(settings(params, options));
      return completionOf(result.text, result.finishReason);
    },
    async stream(params, options) {
      const result = streamText({ ...settings(params, options), onError: ignoreError });
      return (async function* chunks() {
        for await (const part of result.fullStream) {
          if (part.type === 'text-delta') yield chunkOf(part.text);
          else if (part.type === 'error') throw part.error;
        }
      })();
    },
  });
}

/** @type {import('../index.js').Subject} */
export const aiSdk = {
  key: 'ai-sdk',
  name: 'Vercel AI SDK',
  configuration:
    '`generateText` / `streamText` (read from `fullStream`) with `createOpenAI({ baseURL }).chat(model)` (Chat Completions, ' +
    "which every subject calls; the provider's default `openai(model)` calls the Responses API), `maxRetries: 2`",
  versions: installedVersions(['ai', '@ai-sdk/openai']),
  makeClient,
};
