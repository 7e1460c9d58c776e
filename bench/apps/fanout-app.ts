/** The benchmark's app: a fan-out of fixed-cost activities (each waits `costMs` of real time). */
import * as df from 'durable-functions';

export const activityLog = { runs: 0, busyMs: 0 };

df.app.activity('FixedCost', {
  handler: async (input: unknown) => {
    const { i, costMs } = input as { i: number; costMs: number };
    const start = performance.now();
    await new Promise((r) => setTimeout(r, costMs));
    activityLog.runs++;
    activityLog.busyMs += performance.now() - start;
    return i;
  },
});

df.app.orchestration('FanOut', function* (context) {
  const { count, costMs } = context.df.getInput() as { count: number; costMs: number };
  const tasks = [];
  for (let i = 0; i < count; i++) tasks.push(context.df.callActivity('FixedCost', { i, costMs }));
  const results = (yield context.df.Task.all(tasks)) as number[];
  return results.reduce((a, b) => a + b, 0);
});
