/**
 * The `openai-resilient` command: parses the command line and runs the demo (offline) or the live check.
 *
 * @module
 */

import { parseCommand, USAGE } from './args.js';
import type { DemoOptions } from './demo.js';
import type { LiveOptions } from './live.js';
import { COLORS, NO_COLORS, wantsColor } from './style.js';

/** The process around the CLI, injectable for tests. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly isTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The commands themselves, injectable for tests. */
export interface CliCommands {
  readonly demo: (options: DemoOptions) => Promise<unknown>;
  readonly live: (options: LiveOptions) => Promise<number>;
}

const processIo = (): CliIo => ({
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  isTTY: process.stdout.isTTY === true,
  env: process.env,
});

const defaultCommands: CliCommands = {
  demo: async (options) => (await import('./demo.js')).runDemo(options),
  live: async (options) => (await import('./live.js')).runLive(options),
};

/** Runs the CLI with `argv` (without `node` and the script); resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo(), commands: CliCommands = defaultCommands): Promise<number> {
  const command = parseCommand(argv);
  if (command.kind === 'help') {
    io.stdout(USAGE);
    return 0;
  }
  if (command.kind === 'usage-error') {
    io.stderr(`openai-resilient: ${command.message}\n\n${USAGE}`);
    return 2;
  }
  const style = wantsColor(command.color, io.isTTY, io.env) ? COLORS : NO_COLORS;
  try {
    if (command.kind === 'live') return await commands.live({ env: io.env, write: io.stdout, writeError: io.stderr, style });
    const ci = io.env['CI'];
    const interactive = io.isTTY && (ci === undefined || ci === '' || ci === '0' || ci === 'false');
    await commands.demo({
      seconds: command.seconds,
      seed: command.seed,
      json: command.json,
      output: { write: io.stdout, interactive, style },
    });
    return 0;
  } catch (error) {
    io.stderr(`openai-resilient: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
