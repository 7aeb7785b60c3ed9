// Subject "resilient()": the bare SDK client wrapped, with the options given (its defaults when none).
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { VERSION } from 'openai/version';
import { resilient } from '../../dist/index.js';
import { targetOf } from './chat-facade.js';

const library = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

/**
 * A `resilient()` subject with `options`.
 * @param {object} [options]  resilient() options; defaults when omitted
 * @param {{ key?: string, name?: string, configuration?: string }} [label]
 * @returns {import('./index.js').Subject}
 */
export function resilientSubject(options, { key = 'resilient', name = 'resilient()', configuration = '`resilient(new OpenAI())`, defaults' } = {}) {
  return {
    key,
    name,
    configuration,
    versions: { [library.name]: library.version, openai: VERSION },
    makeClient: (target) => resilient(new OpenAI({ apiKey: 'sk-bench', ...targetOf(target) }), options),
  };
}

/** `resilient(new OpenAI())` with its defaults. */
export const resilientDefaults = resilientSubject();
