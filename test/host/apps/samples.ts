/**
 * Small sample orchestrations, modelled on the durable-functions repository's own test orchestrations
 * (SayHelloWithActivity, SayHelloWithActivityRetry, fan-out/fan-in, timers, sub-orchestrations, an
 * external event racing a timer, custom status, continueAsNew) plus a deliberately non-deterministic one.
 * Registered through the real `df.app` / `app` APIs; the local host captures them.
 */
import { app, type HttpRequest, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';

/** Test controls shared with the test file (same module instance, same process). */
export const controls = {
  /** How many more times Hello fails for a given input. */
  helloFailures: new Map<string, number>(),
  helloCalls: 0,
  nondeterministicRuns: 0,
  queueFailures: 0,
};

const Hello = 'Hello';
df.app.activity(Hello, {
  handler: (input: unknown) => {
    controls.helloCalls++;
    const name = String(input);
    const left = controls.helloFailures.get(name) ?? 0;
    if (left > 0) {
      controls.helloFailures.set(name, left - 1);
      throw new Error('Result: Failure');
    }
    return `Hello, ${name}!`;
  },
});

df.app.orchestration('SayHelloWithActivity', function* (context) {
  const input = context.df.getInput();
  const output: unknown = yield context.df.callActivity(Hello, input);
  return output;
});

df.app.orchestration('SayHelloSequence', function* (context) {
  const output: unknown[] = [];
  output.push(yield context.df.callActivity(Hello, 'Tokyo'));
  output.push(yield context.df.callActivity(Hello, 'Seattle'));
  output.push(yield context.df.callActivity(Hello, 'London'));
  return output;
});

df.app.orchestration('SayHelloWithActivityRetry', function* (context) {
  const input = context.df.getInput();
  const retryOptions = new df.RetryOptions(10000, 2);
  const output: unknown = yield context.df.callActivityWithRetry(Hello, retryOptions, input);
  return output;
});

df.app.orchestration('SayHelloWithActivityRetryFanout', function* (context) {
  const retryOptions = new df.RetryOptions(100, 5);
  const tasks = [
    context.df.callActivityWithRetry(Hello, retryOptions, 'Tokyo'),
    context.df.callActivityWithRetry(Hello, retryOptions, 'Seattle'),
  ];
  return yield context.df.Task.all(tasks);
});

df.app.orchestration('FanOutFanIn', function* (context) {
  const count = context.df.getInput() as number;
  const tasks = [];
  for (let i = 0; i < count; i++) tasks.push(context.df.callActivity(Hello, `City${i}`));
  const results = (yield context.df.Task.all(tasks)) as string[];
  return results.length;
});

df.app.orchestration('WaitOnTimer', function* (context) {
  const fireAt = new Date(context.df.currentUtcDateTime.getTime() + 10 * 60_000);
  yield context.df.createTimer(fireAt);
  return 'Timer fired!';
});

df.app.orchestration('WaitSevenDays', function* (context) {
  // longer than maximumShortTimerDuration (6 days): the SDK and the host split it into 3-day timers
  yield context.df.createTimer(new Date(context.df.currentUtcDateTime.getTime() + 7 * 24 * 3600_000));
  return 'a week later';
});

df.app.orchestration('SayHelloWithSubOrchestrator', function* (context) {
  const input = context.df.getInput();
  const childId = `${context.df.instanceId}:0`;
  const output: unknown = yield context.df.callSubOrchestrator('SayHelloWithActivity', input, childId);
  return output;
});

df.app.orchestration('ApprovalWithTimeout', function* (context) {
  const deadline = new Date(context.df.currentUtcDateTime.getTime() + 10 * 60_000);
  const timeoutTask = context.df.createTimer(deadline);
  const approvalTask = context.df.waitForExternalEvent('approval');
  const winner: unknown = yield context.df.Task.any([approvalTask, timeoutTask]);
  if (winner === approvalTask) {
    timeoutTask.cancel();
    return `approved: ${JSON.stringify(approvalTask.result)}`;
  }
  return 'timed out';
});

df.app.orchestration('SayHelloWithCustomStatus', function* (context) {
  const output: unknown[] = [];
  context.df.setCustomStatus({ step: 'Tokyo' });
  output.push(yield context.df.callActivity(Hello, 'Tokyo'));
  context.df.setCustomStatus({ step: 'Seattle' });
  output.push(yield context.df.callActivity(Hello, 'Seattle'));
  context.df.setCustomStatus({ step: 'done', greetings: output.length });
  return output;
});

df.app.orchestration('ContinueAsNewCounter', function* (context) {
  const input = (context.df.getInput() as { value: number } | undefined) ?? { value: 0 };
  const value = input.value + 1;
  yield context.df.callActivity(Hello, `round ${value}`);
  if (value < 3) {
    context.df.continueAsNew({ value });
    return undefined;
  }
  return value;
});

df.app.orchestration('NonDeterministic', function* (context) {
  controls.nondeterministicRuns++;
  // a different activity on replay than on the first run: exactly what the host must refuse
  const first = controls.nondeterministicRuns === 1 ? Hello : 'Goodbye';
  yield context.df.callActivity(first, 'x');
  yield context.df.callActivity(Hello, 'y');
  return 'unreachable';
});

df.app.orchestration('UsesDurableHttp', function* (context) {
  return yield context.df.callHttp({ method: 'GET', url: 'https://example.invalid/' });
});

df.app.orchestration('Failing', function* (context) {
  yield context.df.callActivity(Hello, context.df.getInput());
  throw new Error('the orchestrator gave up');
});

// ---- triggers ----

app.http('StartOrchestration', {
  route: 'orchestrators/{name}/{id?}',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: async (request: HttpRequest, context: InvocationContext) => {
    const client = df.getClient(context);
    const body = await request.text();
    const instanceId = await client.startNew(request.params.name ?? '', {
      ...(request.params.id ? { instanceId: request.params.id } : {}),
      ...(body ? { input: JSON.parse(body) as unknown } : {}),
    });
    return client.createCheckStatusResponse(request, instanceId);
  },
});

app.http('InstanceStatus', {
  route: 'instances/{id}',
  methods: ['GET', 'DELETE'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: async (request: HttpRequest, context: InvocationContext) => {
    const client = df.getClient(context);
    const id = request.params.id ?? '';
    if (request.method === 'DELETE') {
      const purged = await client.purgeInstanceHistory(id);
      return { jsonBody: { purged: purged.instancesDeleted } };
    }
    const status = await client.getStatus(id);
    return {
      jsonBody: {
        runtimeStatus: status.runtimeStatus,
        output: status.output,
        customStatus: status.customStatus,
      },
    };
  },
});

app.http('InstanceAction', {
  route: 'instances/{id}/{action}',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: async (request: HttpRequest, context: InvocationContext) => {
    const client = df.getClient(context);
    const id = request.params.id ?? '';
    if (request.params.action === 'approve') await client.raiseEvent(id, 'approval', { by: 'http' });
    else if (request.params.action === 'terminate') await client.terminate(id, 'stopped over http');
    else return { status: 400 };
    return { status: 202 };
  },
});

const requestQueue = 'sample-requests';
const poisonOutput = {
  type: 'queue',
  name: 'poisonOut',
  queueName: `${requestQueue}-poison`,
  connection: 'AzureWebJobsStorage',
};

app.storageQueue('SampleQueueStart', {
  queueName: requestQueue,
  connection: 'AzureWebJobsStorage',
  extraInputs: [df.input.durableClient()],
  extraOutputs: [poisonOutput as never],
  handler: async (message: unknown, context: InvocationContext) => {
    const body = message as { kind?: string; name?: string };
    if (body.kind === 'invalid') {
      // the app rejects a malformed message at once, through its own output binding
      context.extraOutputs.set(poisonOutput as never, { rejected: body, reason: 'invalid' });
      return;
    }
    if (body.kind === 'explode') {
      controls.queueFailures++;
      throw new Error(
        `cannot handle this message (dequeue count ${String(context.triggerMetadata?.dequeueCount)})`,
      );
    }
    const client = df.getClient(context);
    await client.startNew('SayHelloWithActivity', { instanceId: `queued-${body.name}`, input: body.name });
  },
});

app.timer('SampleNightly', {
  schedule: '0 0 2 * * *',
  extraInputs: [df.input.durableClient()],
  handler: async (timer, context: InvocationContext) => {
    const client = df.getClient(context);
    await client.startNew('SayHelloWithActivity', {
      instanceId: 'nightly',
      input: timer.isPastDue ? 'late' : 'night',
    });
  },
});
