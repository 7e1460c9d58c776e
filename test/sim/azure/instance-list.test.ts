/**
 * Managed Instances - List (GET /subscriptions/{sub}/providers/Microsoft.Sql/managedInstances): how the
 * troubleshooting article's `(Get-AzSqlInstance -InstanceName $ManagedInstanceName).ResourceGroupName`
 * finds an instance's resource group ("Troubleshoot issues with the link", Microsoft Learn). Pageable like
 * every ARM list: `{ value, nextLink }`, followed here by the real SDK's pager.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqlManagementClient } from '@azure/arm-sql';
import { VirtualClock } from '../../../local/sim/clock.js';
import { startArm, type RunningArm } from '../../../local/sim/azure/arm.js';
import { createManagedInstance, InstanceRegistry } from '../../../local/sim/azure/instances.js';
import { createLocalTls } from '../../../local/sim/azure/pki.js';
import { LinkEngine } from '../../../local/sim/estate/links.js';
import { StaticToken } from './harness.js';

const SUB = '00000000-0000-0000-0000-000000000001';
const OTHER_SUB = '00000000-0000-0000-0000-000000000002';

describe('ARM stand-in: managed instances listed by subscription', () => {
  let arm: RunningArm;
  let client: SqlManagementClient;
  let caCertPem: string;

  beforeAll(async () => {
    const clock = new VirtualClock('2024-10-09T08:00:00Z');
    const tls = createLocalTls();
    caCertPem = tls.caCertPem;
    const instances = new InstanceRegistry();
    const specs = [
      { subscriptionId: SUB, resourceGroup: 'rg-data', name: 'mi-prod' },
      { subscriptionId: SUB, resourceGroup: 'rg-data', name: 'mi-test' },
      { subscriptionId: SUB, resourceGroup: 'rg-dr', name: 'mi-dr1' },
      { subscriptionId: SUB, resourceGroup: 'rg-dr', name: 'mi-dr2' },
      { subscriptionId: SUB, resourceGroup: 'rg-west', name: 'mi-west' },
      { subscriptionId: OTHER_SUB, resourceGroup: 'rg-data', name: 'mi-elsewhere' },
    ];
    for (const s of specs) instances.add(createManagedInstance(s, clock.now()));
    const links = new LinkEngine({ clock, instances, servers: () => [] });
    arm = await startArm({ clock, tls, instances, links, retryAfterSeconds: 0, listPageSize: 2 });
    client = new SqlManagementClient(new StaticToken(), SUB, {
      endpoint: arm.url,
      tlsOptions: { ca: tls.caCertPem },
    });
  });
  afterAll(() => arm?.close());

  it("lists the subscription's instances across resource groups, page by page through nextLink", async () => {
    const names: string[] = [];
    const groups = new Map<string, string>();
    for await (const mi of client.managedInstances.list()) {
      names.push(mi.name ?? '');
      groups.set(mi.name ?? '', /\/resourceGroups\/([^/]+)\//.exec(mi.id ?? '')?.[1] ?? '');
    }
    expect(names.sort()).toEqual(['mi-dr1', 'mi-dr2', 'mi-prod', 'mi-test', 'mi-west']);
    // Get-AzSqlInstance -InstanceName mi-dr2 → its ResourceGroupName
    expect(groups.get('mi-dr2')).toBe('rg-dr');
    const pages = arm.journal.filter((j) =>
      /^\/subscriptions\/[^/]+\/providers\/Microsoft\.Sql\/managedInstances$/i.test(j.path),
    );
    expect(pages.map((p) => p.status)).toEqual([200, 200, 200]);
  });

  it('answers a raw GET with the ARM list shape: value and an absolute nextLink while more follow', async () => {
    const get = async (url: string) => {
      const res = await fetchJson(url, caCertPem);
      return res as { value: Array<{ name: string; type: string }>; nextLink?: string };
    };
    const first = await get(
      `${arm.url}/subscriptions/${SUB}/providers/Microsoft.Sql/managedInstances?api-version=2025-01-01`,
    );
    expect(first.value).toHaveLength(2);
    expect(first.value[0]?.type).toBe('Microsoft.Sql/managedInstances');
    expect(first.nextLink).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/subscriptions\/.*api-version=2025-01-01/);
    const second = await get(first.nextLink ?? '');
    const third = await get(second.nextLink ?? '');
    expect(third.value).toHaveLength(1);
    expect(third.nextLink).toBeUndefined();
    const all = [...first.value, ...second.value, ...third.value].map((m) => m.name);
    expect(new Set(all).size).toBe(5);
    expect(all).not.toContain('mi-elsewhere');
  });
});

async function fetchJson(url: string, ca: string): Promise<unknown> {
  const { request } = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, headers: { Authorization: 'Bearer t' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        if ((res.statusCode ?? 0) !== 200) reject(new Error(`${res.statusCode}: ${text}`));
        else resolve(JSON.parse(text));
      });
    });
    req.on('error', reject);
    req.end();
  });
}
