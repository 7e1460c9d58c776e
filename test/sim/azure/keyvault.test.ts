import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretClient } from '@azure/keyvault-secrets';
import { VirtualClock } from '../../../local/sim/clock.js';
import { startAzureHarness, StaticToken, type AzureHarness } from './harness.js';

describe('Key Vault stand-in through @azure/keyvault-secrets', () => {
  let h: AzureHarness;
  beforeAll(async () => {
    h = await startAzureHarness({ clock: new VirtualClock(), secrets: { 'sqlbox1-login': 'S3cret!' } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('answers the first request with the bearer challenge, then serves the secret', async () => {
    const before = h.keyVault.journal.length;
    const secret = await h.secretClient.getSecret('sqlbox1-login');
    expect(secret.value).toBe('S3cret!');
    expect(secret.properties.enabled).toBe(true);
    expect(secret.properties.version).toMatch(/^[0-9a-f]{32}$/);
    const calls = h.keyVault.journal.slice(before);
    expect(calls[0]?.status).toBe(401);
    expect(calls.at(-1)?.status).toBe(200);
  });

  it('stores new versions, reads a given version, lists names and versions', async () => {
    const first = await h.secretClient.setSecret('sqlbox1-master-key', 'one');
    const second = await h.secretClient.setSecret('sqlbox1-master-key', 'two');
    expect((await h.secretClient.getSecret('sqlbox1-master-key')).value).toBe('two');
    expect(
      (await h.secretClient.getSecret('sqlbox1-master-key', { version: first.properties.version })).value,
    ).toBe('one');
    const names: string[] = [];
    for await (const p of h.secretClient.listPropertiesOfSecrets()) names.push(p.name);
    expect(names.sort()).toEqual(['sqlbox1-login', 'sqlbox1-master-key']);
    const versions: string[] = [];
    for await (const p of h.secretClient.listPropertiesOfSecretVersions('sqlbox1-master-key'))
      versions.push(p.version ?? '');
    expect(versions.sort()).toEqual([first.properties.version, second.properties.version].sort());
  });

  it('reports a missing secret as SecretNotFound (404)', async () => {
    await expect(h.secretClient.getSecret('nope')).rejects.toMatchObject({
      statusCode: 404,
      code: 'SecretNotFound',
    });
  });

  it('refuses the challenge when the client verifies the resource against a local address', async () => {
    const strict = new SecretClient(h.keyVault.url, new StaticToken(), { tlsOptions: { ca: h.caCertPem } });
    await expect(strict.getSecret('sqlbox1-login')).rejects.toThrow(/resource|domain|match/i);
  });

  it('injects throttling, server errors and dropped connections; the client retries through them', async () => {
    h.keyVault.faults.throttle(1, 0, { path: '/secrets/sqlbox1-login' });
    h.keyVault.faults.fail(1, 503, { method: 'GET' });
    h.keyVault.faults.drop(1, { method: 'GET' });
    const injectedBefore = h.keyVault.faults.injected.length;
    const secret = await h.secretClient.getSecret('sqlbox1-login');
    expect(secret.value).toBe('S3cret!');
    expect(h.keyVault.faults.injected.slice(injectedBefore).map((f) => f.kind)).toEqual([
      'throttle',
      'error',
      'drop',
    ]);
  });

  it('adds latency to matching requests only', async () => {
    const remove = h.keyVault.faults.latency(150, { path: '/secrets/sqlbox1-login' });
    const before = h.keyVault.faults.injected.length;
    const t0 = Date.now();
    await h.secretClient.getSecret('sqlbox1-login');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    const afterMatching = h.keyVault.faults.injected.length;
    expect(afterMatching).toBeGreaterThan(before);
    for await (const _ of h.secretClient.listPropertiesOfSecrets()) void _;
    expect(h.keyVault.faults.injected.length).toBe(afterMatching);
    remove();
    await h.secretClient.getSecret('sqlbox1-login');
    expect(h.keyVault.faults.injected.length).toBe(afterMatching);
  });
});
