/**
 * Command-line parsing of `openai-resilient`: `demo [--live] [--seconds N] [--seed N] [--no-color] [--json]`
 * and `--help`.
 *
 * @module
 */

import { parseArgs } from 'node:util';

/** What the command line asks for. */
export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'demo'; readonly seconds: number; readonly seed: number; readonly color: boolean; readonly json: boolean }
  | { readonly kind: 'live'; readonly color: boolean }
  | { readonly kind: 'usage-error'; readonly message: string };

export const USAGE = `Usage: openai-resilient demo [options]

Runs the same realistic workload (chat, streamed chat, embeddings) with the same scripted trouble
(an overloaded model, an exhausted quota, stalled streams) through the bare OpenAI SDK and through
resilient(), against a loopback server: no network, no API key. Then compares them.

Options:
  --seconds N   length of each of the two runs, 2 to 60 (default 10)
  --seed N      seed of the workload and of the random failures (default 7)
  --json        print the results as JSON instead of a table
  --no-color    no ANSI colors (also off with NO_COLOR, or when not writing to a terminal)
  --live        instead, make 3 small real requests through resilient(new OpenAI()) with OPENAI_API_KEY
                (gpt-4.1-mini chat and stream, a text-embedding-3-small embedding, then the same
                embedding again from the cache) and print ai.resilience.stats()
  -h, --help    show this help
`;

const error = (message: string): Command => ({ kind: 'usage-error', message });

/** Parses `argv` (without `node` and the script). Never throws. */
export function parseCommand(argv: readonly string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        live: { type: 'boolean' },
        json: { type: 'boolean' },
        'no-color': { type: 'boolean' },
        seconds: { type: 'string' },
        seed: { type: 'string' },
      },
    });
  } catch (e) {
    // Node's messages go on with advice about `--`; the first sentence says what is wrong.
    const message = e instanceof Error ? e.message : String(e);
    return error(message.split(/\.\s/)[0]!.replace(/\.$/, ''));
  }
  const { values, positionals } = parsed;
  if (values.help || (positionals.length === 1 && positionals[0] === 'help')) return { kind: 'help' };
  if (positionals.length === 0) return error('Missing command: demo');
  if (positionals.length > 1 || positionals[0] !== 'demo') return error(`Unknown command: ${positionals.join(' ')}`);
  const color = values['no-color'] !== true;
  if (values.live) {
    if (values.json || values.seconds !== undefined || values.seed !== undefined) {
      return error('--live cannot be combined with --json, --seconds or --seed');
    }
    return { kind: 'live', color };
  }
  const seconds = values.seconds === undefined ? 10 : Number(values.seconds);
  if (!Number.isFinite(seconds) || seconds < 2 || seconds > 60) return error(`--seconds must be a number from 2 to 60, got ${values.seconds}`);
  const seed = values.seed === undefined ? 7 : Number(values.seed);
  if (!Number.isSafeInteger(seed) || seed < 0) return error(`--seed must be a whole number ≥ 0, got ${values.seed}`);
  return { kind: 'demo', seconds, seed, color, json: values.json === true };
}
