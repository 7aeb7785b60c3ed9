// Subject "bare SDK": `new OpenAI()` with its defaults (2 retries, 0.5 s × 2 backoff capped at 8 s, Retry-After
// honoured up to 60 s, 10 min per attempt).
import OpenAI from 'openai';
import { VERSION } from 'openai/version';
import { targetOf } from './chat-facade.js';

/** @type {import('./index.js').Subject} */
export const bare = {
  key: 'bare',
  name: 'bare SDK',
  configuration: '`new OpenAI()`, defaults (2 retries)',
  versions: { openai: VERSION },
  makeClient: (target) => new OpenAI({ apiKey: 'sk-bench', ...targetOf(target) }),
};
