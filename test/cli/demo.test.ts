import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { parseCommand } from '../../src/cli/args.js';
import { runDemo, type DemoOptions } from '../../src/cli/demo.js';
import type { LiveOptions } from '../../src/cli/live.js';
import { runCli, type CliCommands, type CliIo } from '../../src/cli/main.js';
import { NO_COLORS } from '../../src/cli/style.js';
import { buildWorkload } from '../../src/cli/workload.js';
import { faults, startFaultServer } from '../../src/testing/index.js';

const active = (name: string): number => process.getActiveResourcesInfo().filter((r) => r === name).length;

describe('openai-resilient demo (in process, 2 s per run)', () => {
  // The demo races both clients against real time (open-loop arrivals, latencies, a 0.5 s drain after which
  // pending calls are aborted), so how many calls succeed on each side depends on how busy the machine is:
  // on a loaded one most calls of either side can still be pending at the cutoff. What the test asserts is
  // what holds however fast it runs: the same schedule on both sides, every call accounted for, nothing
  // left behind. (How much better resilient() does is what `npm run demo` shows and `npm run bench` measures.)
  it('runs the same seeded workload through both clients, accounts for every call, and leaves nothing behind', async () => {
    const before = { servers: active('TCPServerWrap'), sockets: active('TCPSocketWrap'), timers: active('Timeout') };
    const printed: string[] = [];
    const output = { write: (text: string) => void printed.push(text), interactive: false, style: NO_COLORS };

    const result = await runDemo({ seconds: 2, json: true, output });

    // JSON mode prints the result and nothing else.
    expect(JSON.parse(printed.join(''))).toEqual(JSON.parse(JSON.stringify(result)));
    const { bare, resilient } = result;
    // 2 s: 1.5 s of traffic (the seeded schedule), then 0.5 s for calls in flight.
    const schedule = buildWorkload(7, 1_500);
    expect(schedule.length).toBeGreaterThan(20);
    expect([bare.calls, resilient.calls, resilient.stats.calls]).toEqual([schedule.length, schedule.length, schedule.length]);
    for (const side of [bare, resilient]) {
      // Every call ended as a success or as a failure counted under its error (calls aborted at the cutoff too).
      const failures = Object.values(side.errors).reduce((sum, count) => sum + count, 0);
      expect(side.successes + failures).toBe(side.calls);
      expect(side.errors['hung (aborted at the deadline)'] ?? 0).toBe(side.hung);
      expect(side.successRate).toBeCloseTo(side.successes / side.calls);
    }
    expect([bare.cacheHits, bare.fallbacks, bare.breakerTrips]).toEqual([null, null, null]);
    expect([resilient.cacheHits, resilient.fallbacks, resilient.breakerTrips].every((n) => typeof n === 'number' && n >= 0)).toBe(true);
    // Every router and fault server is closed, with its sockets (handles go away on the next loop turn),
    // and no timer is left behind.
    await vi.waitFor(() => {
      expect({ servers: active('TCPServerWrap'), sockets: active('TCPSocketWrap') }).toEqual({ servers: before.servers, sockets: before.sockets });
    }, { timeout: 5_000, interval: 20 });
    expect(active('Timeout')).toBeLessThanOrEqual(before.timers);
  }, 20_000);
});

describe('openai-resilient command line', () => {
  const io = (env: Record<string, string> = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    const cli: CliIo = { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), isTTY: false, env };
    return { cli, out, err };
  };
  const commands = () =>
    ({ demo: vi.fn(async (_options: DemoOptions) => undefined), live: vi.fn(async (_options: LiveOptions) => 0) }) satisfies CliCommands;

  it('parses the demo options, with defaults', () => {
    expect(parseCommand(['demo'])).toEqual({ kind: 'demo', seconds: 10, seed: 7, color: true, json: false });
    expect(parseCommand(['demo', '--seconds', '4', '--seed=3', '--json', '--no-color'])).toEqual({
      kind: 'demo', seconds: 4, seed: 3, color: false, json: true,
    });
    expect(parseCommand(['demo', '--live', '--no-color'])).toEqual({ kind: 'live', color: false });
    expect(parseCommand(['-h'])).toEqual({ kind: 'help' });
    expect(parseCommand(['demo', '--help'])).toEqual({ kind: 'help' });
  });

  it('--help prints the usage and exits 0 without running anything', async () => {
    const { cli, out, err } = io();
    const run = commands();
    expect(await runCli(['--help'], cli, run)).toBe(0);
    expect(out.join('')).toContain('Usage: openai-resilient demo');
    expect(err).toEqual([]);
    expect(run.demo).not.toHaveBeenCalled();
  });

  it.each([
    [['demo', '--bogus']],
    [['deploy']],
    [[]],
    [['demo', 'extra']],
    [['demo', '--seconds', 'abc']],
    [['demo', '--seconds', '0.5']],
    [['demo', '--seconds']],
    [['demo', '--live', '--json']],
  ])('%j prints the usage and exits 2 without running anything', async (argv) => {
    const { cli, out, err } = io();
    const run = commands();
    expect(await runCli(argv, cli, run)).toBe(2);
    expect(err.join('')).toContain('Usage: openai-resilient demo');
    expect(out).toEqual([]);
    expect(run.demo).not.toHaveBeenCalled();
    expect(run.live).not.toHaveBeenCalled();
  });

  it('runs the demo with the parsed options, non-interactive under CI', async () => {
    const { cli } = io({ CI: 'true' });
    const run = commands();
    expect(await runCli(['demo', '--seconds', '3', '--json'], { ...cli, isTTY: true }, run)).toBe(0);
    expect(run.demo).toHaveBeenCalledWith(expect.objectContaining({ seconds: 3, seed: 7, json: true }));
    expect(run.demo.mock.calls[0]?.[0].output?.interactive).toBe(false);
  });

  it('--live without OPENAI_API_KEY explains and exits 1 (no request is made)', async () => {
    const { cli, err } = io({});
    expect(await runCli(['demo', '--live'], cli)).toBe(1);
    expect(err.join('')).toContain('needs OPENAI_API_KEY');
  });

  it('--live makes its calls through resilient() and prints the stats, never the key', async () => {
    const server = await startFaultServer();
    try {
      vi.stubEnv('OPENAI_BASE_URL', server.url);
      const { cli, out } = io({ OPENAI_API_KEY: 'sk-live-secret' });
      expect(await runCli(['demo', '--live'], cli)).toBe(0);
      const text = out.join('');
      expect(text).toContain('4 calls, 4 successes');
      expect(text).toContain('cache 1 hit / 1 miss');
      expect(server.requests.map((r) => r.path)).toEqual(['/chat/completions', '/chat/completions', '/embeddings']);
      expect(text).not.toContain('sk-live-secret');
    } finally {
      vi.unstubAllEnvs();
      await server.close();
    }
  });

  it('--live reports a failed call (key masked) and exits 1', async () => {
    const server = await startFaultServer();
    try {
      vi.stubEnv('OPENAI_BASE_URL', server.url);
      server.enqueue(faults.unauthorized({ message: 'Incorrect API key provided: sk-live-secret.' }));
      const { cli, out } = io({ OPENAI_API_KEY: 'sk-live-secret' });
      expect(await runCli(['demo', '--live'], cli)).toBe(1);
      const text = out.join('');
      expect(text).toMatch(/fail\s+chat\s+AuthenticationError: 401 Incorrect API key provided: \*\*\*\./);
      expect(text).not.toContain('sk-live-secret');
    } finally {
      vi.unstubAllEnvs();
      await server.close();
    }
  });

  it('the entry point starts with a shebang, so that it can be a package bin', () => {
    const source = readFileSync(new URL('../../src/cli/index.ts', import.meta.url), 'utf8');
    expect(source.startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});
