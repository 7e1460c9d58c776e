import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // two files at a time: the end-to-end files wait on their stand-ins' sockets much of the time, so a 2-core
    // machine runs two of them side by side (vitest's default would be one fork there: cores - 1)
    maxWorkers: 2,
    minWorkers: 1,
    benchmark: { include: ['bench/**/*.bench.ts'] },
  },
});
