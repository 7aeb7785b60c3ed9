import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    testTimeout: 10_000,
    // Vitest's default is one worker fewer than the cores: one worker on a 2-core machine (this one, and
    // CI's), which ran the files one after another in about 50 s. The tests mostly wait on loopback
    // sockets and fake clocks, so two workers take about 30 s there (38 s with a core kept busy).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // The Redis tests need `redis-server` on PATH: checked (and installed as root with apt-get) once.
    globalSetup: ['test/support/global-setup.ts'],
    // expect.poll() waits for something that will happen (a write landing, a socket closing): give it time
    // on a loaded machine (the default is 1 s).
    expect: { poll: { timeout: 5_000 } },
    // Every test must leave no timer or socket behind; the suite fails on an unhandled rejection.
    dangerouslyIgnoreUnhandledErrors: false,
  },
});
