/** ANSI styling for the CLI, or none (`--no-color`, `NO_COLOR`, a pipe, `TERM=dumb`). */
export interface Style {
  readonly bold: (text: string) => string;
  readonly dim: (text: string) => string;
  readonly green: (text: string) => string;
  readonly red: (text: string) => string;
  readonly yellow: (text: string) => string;
}

const wrap = (open: number, close: number) => (text: string) => `\x1b[${open}m${text}\x1b[${close}m`;
const plain = (text: string): string => text;

export const COLORS: Style = { bold: wrap(1, 22), dim: wrap(2, 22), green: wrap(32, 39), red: wrap(31, 39), yellow: wrap(33, 39) };
export const NO_COLORS: Style = { bold: plain, dim: plain, green: plain, red: plain, yellow: plain };

/** Whether to color: not asked off, a terminal, and neither `NO_COLOR` nor `TERM=dumb` set. */
export function wantsColor(flag: boolean, isTTY: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
  return flag && isTTY && !env['NO_COLOR'] && env['TERM'] !== 'dumb';
}

/** The printed width of `text` (ANSI escapes excluded). */
export function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '').length;
}
