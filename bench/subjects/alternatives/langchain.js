// Subject "LangChain.js": `ChatOpenAI` from `@langchain/openai` with its defaults (6 retries by its
// AsyncCaller, randomised exponential backoff from 1 s, no timeout, the SDK's own retries off), pointed at the
// server with `configuration: { baseURL, fetch }` (passed to the openai client it builds). `invoke` for a
// chat, `stream` for a stream; one model object per model and `max_tokens`, as an application keeps one.
import { ChatOpenAI } from '@langchain/openai';
import { chatFacade, chunkOf, completionOf, targetOf } from '../chat-facade.js';
import { installedVersions } from './versions.js';

function makeClient(target) {
  const configuration = targetOf(target);
  const models = new Map();
  const modelFor = ({ model, max_tokens }) => {
    const key = `${model}\n${max_tokens ?? ''}`;
    let chat = models.get(key);
    if (!chat) {
      chat = new ChatOpenAI({ model, apiKey: 'sk-bench', ...(max_tokens ? { maxTokens: max_tokens } : {}), configuration });
      models.set(key, chat);
    }
    return chat;
  };
  return chatFacade({
    async chat(params, { signal }) {
      const message = await modelFor(params).invoke(params.messages, { signal });
      return completionOf(message.content);
    },
    async stream(params, { signal }) {
      const stream = await modelFor(params).stream(params.messages, { signal });
      return (async function* chunks() {
        for await (const chunk of stream) if (chunk.content) yield chunkOf(chunk.content);
      })();
    },
  });
}

/** @type {import('../index.js').Subject} */
export const langchain = {
  key: 'langchain',
  name: 'LangChain.js',
  configuration: '`new ChatOpenAI({ model, configuration: { baseURL } })`, defaults (6 retries); `invoke` / `stream`',
  versions: installedVersions(['@langchain/openai', '@langchain/core']),
  makeClient,
};
