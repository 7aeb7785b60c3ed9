import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    testTimeout: 10_000,
    // The Redis tests need `redis-server` on PATH: checked (and installed as root with apt-get) once.
    globalSetup: ['test/support/global-setup.ts'],
    // Every test must leave no timer or socket behind; the suite fails on an unhandled rejection.
    dangerouslyIgnoreUnhandledErrors: false,
  },
});
