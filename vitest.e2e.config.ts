import { defineConfig } from 'vitest/config';

// The browser suite: real Chromium, one file at a time so two browsers never share 2 cores.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
