import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    typecheck: { enabled: true, include: ['test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    testTimeout: 10_000,
    // Every test must leave no timer or socket behind; the suite fails on an unhandled rejection.
    dangerouslyIgnoreUnhandledErrors: false,
  },
});
