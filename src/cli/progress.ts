/**
 * Live progress of a run: one status line rewritten in place on an interactive terminal, or a few plain
 * lines (a quarter of the way, half way, ...) for CI logs and pipes.
 *
 * @module
 */

import type { Style } from './style.js';

/** Where the demo writes, and how. */
export interface Output {
  readonly write: (text: string) => void;
  /** Rewrite a single status line in place (an interactive terminal outside CI). */
  readonly interactive: boolean;
  readonly style: Style;
}

/** What the status line shows. */
export interface Status {
  readonly elapsedMs: number;
  readonly totalMs: number;
  readonly planned: number;
  readonly successes: number;
  readonly failures: number;
  readonly upstream: number;
}

const INTERVAL_MS = 100;

function describe(label: string, s: Status, style: Style): string {
  const seconds = `${(s.elapsedMs / 1000).toFixed(1)}s/${Number((s.totalMs / 1000).toFixed(1))}s`;
  const done = s.successes + s.failures;
  return (
    `  ${style.bold(label.padEnd(12))} ${seconds.padStart(9)}  calls ${done}/${s.planned}  ` +
    `${style.green(`ok ${s.successes}`)}  ${s.failures > 0 ? style.red(`failed ${s.failures}`) : `failed ${s.failures}`}  upstream ${s.upstream}`
  );
}

/**
 * Shows the progress of one run until `stop()`. Interactive: redrawn every 100 ms; otherwise a line at
 * each quarter of the run. `log()` prints a line above the status line.
 */
export function showProgress(out: Output, label: string, read: () => Status): { log(line: string): void; stop(): void } {
  let quarter = 0;
  const draw = (): void => {
    const status = read();
    if (out.interactive) {
      out.write(`\r\x1b[2K${describe(label, status, out.style)}`);
      return;
    }
    const reached = Math.min(4, Math.floor((status.elapsedMs / status.totalMs) * 4));
    if (reached > quarter) {
      quarter = reached;
      out.write(`${describe(label, status, out.style)}\n`);
    }
  };
  const timer = setInterval(draw, out.interactive ? INTERVAL_MS : 250);
  timer.unref();
  return {
    log(line: string) {
      if (out.interactive) out.write('\r\x1b[2K');
      out.write(`${line}\n`);
      if (out.interactive) draw();
    },
    stop() {
      clearInterval(timer);
      const status = read();
      if (out.interactive) out.write(`\r\x1b[2K${describe(label, status, out.style)}\n`);
      else out.write(`${describe(label, status, out.style)}  (done)\n`);
    },
  };
}
