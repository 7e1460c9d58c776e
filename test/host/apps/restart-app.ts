/**
 * An app for the crash test: three activities in sequence, each recording its runs in a file
 * (RECORD_FILE). The third blocks until the process is killed unless RELEASE_THIRD=1.
 */
import { appendFileSync } from 'node:fs';
import * as df from 'durable-functions';

function record(line: string): void {
  appendFileSync(process.env.RECORD_FILE ?? 'runs.log', `${line}\n`);
}

df.app.activity('Step', {
  handler: async (input: unknown) => {
    const step = String(input);
    record(`start ${step}`);
    if (step === 'third' && process.env.RELEASE_THIRD !== '1') {
      await new Promise(() => {}); // held here until the host is killed
    }
    record(`done ${step}`);
    return `${step} ok`;
  },
});

df.app.orchestration('ThreeSteps', function* (context) {
  const results: unknown[] = [];
  results.push(yield context.df.callActivity('Step', 'first'));
  results.push(yield context.df.callActivity('Step', 'second'));
  results.push(yield context.df.callActivity('Step', 'third'));
  return results;
});
