import { describe, expect, it } from 'vitest';
import { FAILOVERS_PER_INSTANCE, failoversRunning } from '../../src/functions/lifecycle.js';

/** "Fail over link": at most 8 databases fail over per instance at a time — counted from the running orchestrations. */
describe('failovers running on an instance', () => {
  it('counts failovers and migrations of that instance only, by their link ids', async () => {
    const asked: unknown[] = [];
    const client = {
      getStatusBy: async (filter: unknown) => {
        asked.push(filter);
        return [
          { name: 'failoverLink', instanceId: 'link-mi-prod-000000000001' },
          { name: 'migrateLink', instanceId: 'link-mi-prod-000000000002' },
          { name: 'dropLink', instanceId: 'link-mi-prod-000000000003' },
          { name: 'failoverLink', instanceId: 'link-mi-prod2-000000000004' },
          { name: 'failoverLink', instanceId: 'link-mi-dr-000000000005' },
          { name: 'failoverLink', instanceId: 'link-mi-prod-2-000000000006' },
        ];
      },
    } as never;
    expect(await failoversRunning(client, 'mi-prod')).toEqual([
      'link-mi-prod-000000000001',
      'link-mi-prod-000000000002',
    ]);
    expect(asked).toEqual([{ runtimeStatus: ['Running', 'Pending', 'ContinuedAsNew'] }]);
    expect(FAILOVERS_PER_INSTANCE).toBe(8);
  });
});
