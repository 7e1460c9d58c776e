/**
 * The link's long-running operations driven by @azure/core-lro's HTTP poller over the SqlManagementClient
 * pipeline (as milink drives them), on a real clock running fast; and the ARM answers compared with the
 * reference examples of the 2025-01-01 specification.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpPoller, type LroResponse } from '@azure/core-lro';
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { RealClock, VirtualClock, type Clock } from '../../../local/sim/clock.js';
import type { ManagedInstanceSim } from '../../../local/sim/azure/instances.js';
import { createServerState } from '../../../local/sim/sqlserver/state.js';
import { LinkErrorCodes, type SqlServerEntry } from '../../../local/sim/estate/truth.js';
import { armExamplesDir, describeWithReference } from '../../helpers/runbook.js';
import { miPath, RG, startAzureHarness, SUB, type AzureHarness } from '../azure/harness.js';
import { applyRunbookToState, linkBody, type RunbookNames } from './fixtures.js';

const names: RunbookNames = {
  database: 'SalesDb',
  ag: 'AG_SalesDb',
  instanceAg: 'AG_SalesDb_MI',
  dag: 'DAG1_SalesDb',
  port: 5022,
};
const dagPath = `${miPath()}/distributedAvailabilityGroups/${names.dag}`;

let h: AzureHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function setup(clock: Clock, retryAfterSeconds: number, skipTrust = false) {
  const state = createServerState(
    {
      serverName: 'SQLBOX1',
      version: 2022,
      logins: [{ name: 'milink_admin', password: 'x', serverRoles: ['sysadmin'] }],
      databases: [{ name: 'SalesDb', fullBackup: true, sizeMb: 200 }],
    },
    clock,
  );
  const entry: SqlServerEntry = {
    serverName: 'SQLBOX1',
    host: 'sqlbox1.contoso.local',
    endpointAddress: '10.0.0.4',
    state,
  };
  h = await startAzureHarness({ clock, servers: [entry], retryAfterSeconds });
  const mi = h.instances.get(SUB, RG, 'mi-prod') as ManagedInstanceSim;
  applyRunbookToState(
    entry,
    mi,
    { ...names, ...(skipTrust ? { skip: ['trustOnInstance' as const] } : {}) },
    clock.now(),
  );
  return { h, entry, mi };
}

function lro(h: AzureHarness, method: string, url: string, body?: unknown) {
  const send = async (m: string, u: string, b?: unknown): Promise<LroResponse> => {
    const req = createPipelineRequest({
      url: u,
      method: m as 'GET',
      ...(b !== undefined ? { body: JSON.stringify(b) } : {}),
    });
    if (b !== undefined) req.headers.set('Content-Type', 'application/json');
    const res = await h.client.sendRequest(req);
    const parsed = res.bodyAsText ? JSON.parse(res.bodyAsText) : undefined;
    if (res.status >= 400)
      throw Object.assign(new Error(parsed?.error?.message ?? `HTTP ${res.status}`), {
        statusCode: res.status,
      });
    return {
      flatResponse: parsed,
      rawResponse: { statusCode: res.status, headers: res.headers.toJSON(), body: parsed },
    };
  };
  return createHttpPoller<any, any>(
    {
      requestPath: url,
      requestMethod: method,
      sendInitialRequest: () => send(method, url, body),
      sendPollRequest: (path) => send('GET', path),
    },
    { intervalInMs: 10 },
  );
}

describe('link operations through @azure/core-lro', () => {
  it('PUT polls Azure-AsyncOperation to success and returns the link; failover returns the link from Location', async () => {
    const clock = new RealClock(200);
    const { h } = await setup(clock, 0);
    const url = `${h.arm.url}${dagPath}?api-version=2025-01-01`;
    const created = await (
      await lro(h, 'PUT', url, linkBody(names, { endpointAddress: '10.0.0.4' } as SqlServerEntry))
    ).pollUntilDone();
    expect(created.name).toBe(names.dag);
    expect(created.properties.databases[0].replicaState).toMatch(/Seeding|Catchup|Connected/);
    // Wait (in simulated time) for the link to be synchronized, then fail over to the instance (forced) and back (setRole).
    const until = Date.now() + 5_000;
    for (;;) {
      const get = await h.raw('GET', dagPath);
      if (get.body.properties.databases[0].replicaState === 'Connected') break;
      if (Date.now() > until) throw new Error('link never connected');
      await new Promise((r) => setTimeout(r, 20));
    }
    const failover = await (
      await lro(h, 'POST', `${h.arm.url}${dagPath}/failover?api-version=2025-01-01`, {
        failoverType: 'ForcedAllowDataLoss',
      })
    ).pollUntilDone();
    expect(failover.properties.instanceLinkRole).toBe('Primary');
    // A DELETE's poller ends on the Azure-AsyncOperation status (there is no resource to fetch).
    const deleted = await (await lro(h, 'DELETE', url)).pollUntilDone();
    expect(deleted.status).toBe('Succeeded');
    expect((await h.raw('GET', dagPath)).status).toBe(404);
  });

  it('a failed creation rejects the poller with the service error', async () => {
    const clock = new RealClock(200);
    const { h } = await setup(clock, 0, true);
    const url = `${h.arm.url}${dagPath}?api-version=2025-01-01`;
    const poller = await lro(
      h,
      'PUT',
      url,
      linkBody(names, { endpointAddress: '10.0.0.4' } as SqlServerEntry),
    );
    await expect(poller.pollUntilDone()).rejects.toThrow(
      new RegExp(LinkErrorCodes.certNotOnInstance.replace(/^ManagedInstanceLink/, '')),
    );
  });
});

describeWithReference('ARM answers have the shape of the reference examples', () => {
  const example = (file: string) => JSON.parse(readFileSync(join(armExamplesDir, file), 'utf8'));
  const keys = (o: object) => Object.keys(o).sort();

  it('list: every property of a connected link, of its database, and the envelope', async () => {
    const clock = new VirtualClock();
    const { h, entry } = await setup(clock, 0);
    await h.raw('PUT', dagPath, linkBody(names, entry, { failoverMode: 'None' }));
    clock.advance(60_000);
    const list = await h.raw('GET', `${miPath()}/distributedAvailabilityGroups`);
    const ref = example('DistributedAvailabilityGroupsListByInstance.2025-01-01.json').responses['200'].body
      .value[0];
    const ours = list.body.value[0];
    expect(keys(ours)).toEqual(keys(ref));
    expect(keys(ours.properties)).toEqual(keys(ref.properties));
    const refDb = ref.properties.databases[0];
    const ourDb = ours.properties.databases[0];
    for (const k of Object.keys(refDb)) expect(ourDb, k).toHaveProperty(k);
    for (const k of Object.keys(refDb)) expect(typeof ourDb[k], k).toBe(typeof refDb[k]);
    expect(ours.id).toBe(`${miPath()}/distributedAvailabilityGroups/${names.dag}`);
    expect(ours.properties.distributedAvailabilityGroupId).toMatch(/^[0-9a-f-]{36}$/);
    expect(ourDb.instanceReplicaId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('create: the 201 body echoes the request in the example; failover 202 has a Location like the example', async () => {
    const clock = new VirtualClock();
    const { h } = await setup(clock, 0);
    const ref = example('DistributedAvailabilityGroupsCreateMax.2025-01-01.json');
    const put = await h.raw('PUT', dagPath, {
      properties: {
        ...ref.parameters.parameters.properties,
        instanceLinkRole: 'Secondary',
        partnerAvailabilityGroupName: names.ag,
        instanceAvailabilityGroupName: names.instanceAg,
        partnerEndpoint: 'TCP://10.0.0.4:5022',
        databases: [{ databaseName: 'SalesDb' }],
      },
    });
    expect(put.status).toBe(201);
    for (const k of Object.keys(ref.responses['200'].body.properties))
      expect(put.body.properties, k).toHaveProperty(k);
    expect(keys(put.body).filter((k) => k !== 'properties')).toEqual(['id', 'name', 'type']);
    clock.advance(60_000);
    const fo = await h.raw('POST', `${dagPath}/failover`, { failoverType: 'ForcedAllowDataLoss' });
    expect(fo.status).toBe(202);
    const refLocation = new URL(
      example('DistributedAvailabilityGroupsFailover.2025-08-01-preview.json').responses['202'].headers
        .Location,
    );
    const ourLocation = new URL(fo.headers['location'] ?? '');
    const shape = (p: string) =>
      p.replace(/[0-9a-f-]{36}/g, '{id}').replace(/locations\/[^/]+/, 'locations/{loc}');
    expect(shape(ourLocation.pathname)).toBe(shape(refLocation.pathname));
  });
});
