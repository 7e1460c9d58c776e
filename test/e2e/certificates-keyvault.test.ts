/**
 * Issue 17: an endpoint certificate held in Key Vault. "About Azure Key Vault certificates": a certificate's private
 * key is the secret of the same name and version (here PEM); renewal makes a new version. milink imports a version
 * into master with its private key ("CREATE CERTIFICATE (Transact-SQL)": FROM BINARY … WITH PRIVATE KEY (BINARY =
 * <PVK>)), switches the endpoint to it by the multi-instance rotation ("Best practices for maintaining the link",
 * "Rotate certificate"), and rolls a new version on the same way. Canaries: the private key is nowhere but in the
 * batch SQL Server received — not in the orchestration's history or state files, logs, status or ARM requests.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rsaPrivateKeyToPvk } from '../../src/sql/pvk.js';
import type { Bed } from './harness.js';
import {
  armLinkOf,
  certificateBed,
  endpointCertificate,
  LINKS,
  serverCertificates,
  serverRequest,
  trustsOf,
  type CertificateBed,
} from './certificates-bed.js';

const NAME = 'sqlbox1-endpoint';
let bed: CertificateBed;
let host: Bed;
const statuses: string[] = [];

beforeAll(async () => {
  bed = await certificateBed();
  host = await bed.host();
}, 240_000);
afterAll(async () => {
  await bed?.close();
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const path = join(dir, f);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Pieces of a private key in every form milink could hold it: PEM (PKCS#1 and #8), PVK hex, the exponent. */
function canaries(pem: string): string[] {
  const key = createPrivateKey(pem);
  const body = (text: string) => text.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const pkcs1 = body(key.export({ type: 'pkcs1', format: 'pem' }).toString());
  const pkcs8 = body(key.export({ type: 'pkcs8', format: 'pem' }).toString());
  const pvk = rsaPrivateKeyToPvk(key).toString('hex');
  const d = (key.export({ format: 'jwk' }) as { d: string }).d;
  const mid = (s: string) => s.slice(Math.floor(s.length / 2), Math.floor(s.length / 2) + 48);
  return [mid(pkcs1), mid(pkcs8), mid(pvk), mid(pvk).toUpperCase(), mid(d)];
}

async function rotate(): Promise<any> {
  const posted = await host.api('POST', '/api/certificates/rotate', {
    request: serverRequest(),
    options: { keyVaultCertificate: NAME },
  });
  expect(posted.status, posted.text).toBe(202);
  const status = await host.finish(posted.json.instanceId, 120_000);
  statuses.push(JSON.stringify(status));
  return status;
}

describe('an endpoint certificate held in Key Vault', () => {
  it('is imported with its private key and used by the endpoint; every link stays connected', async () => {
    const v1 = bed.estate.keyVault.certificates.create(NAME, { subject: 'CN=SQLBOX1 mirroring endpoint' });
    const plan = await host.api('POST', '/api/certificates/rotate/plan', {
      request: serverRequest(),
      options: { keyVaultCertificate: NAME },
    });
    expect(plan.status, plan.text).toBe(200);
    expect(plan.json.script).toContain(
      'CREATE CERTIFICATE [$(NewCertificateName)] FROM BINARY = $(NewCertificatePublicKey)',
    );
    expect(plan.json.script).toContain('WITH PRIVATE KEY (BINARY = $(NewCertificatePrivateKey));');
    bed.trouble.length = 0;
    bed.watching = true;
    const status = await rotate().finally(() => (bed.watching = false));
    expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
    const name = `${NAME}_${v1.version.slice(0, 12)}`;
    expect(endpointCertificate(bed.estate)).toBe(name);
    const held = bed.estate.sqlServers.get('SQLBOX1')!.state.certificates.find((c) => c.name === name)!;
    expect(held.der.equals(v1.der)).toBe(true);
    expect(held.pvtKeyEncryptionType).toBe('MK');
    expect(bed.trouble).toEqual([]);
    for (const [instance, database] of LINKS) {
      const db = armLinkOf(bed.estate, instance, database).properties.databases[0];
      expect(db.connectedState).toBe('CONNECTED');
      expect(db.partnerAuthCertValidity.certificateName).toBe(name);
      expect(db.partnerAuthCertValidity.expiryDate.slice(0, 10)).toBe(v1.expires.toISOString().slice(0, 10));
    }
  });

  it("rolls a new version (Key Vault's renewal) onto SQL Server and both instances without a link going down", async () => {
    const v1 = endpointCertificate(bed.estate)!;
    const v2 = bed.estate.keyVault.certificates.create(NAME);
    bed.trouble.length = 0;
    bed.watching = true;
    const status = await rotate().finally(() => (bed.watching = false));
    expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
    const name = `${NAME}_${v2.version.slice(0, 12)}`;
    expect(endpointCertificate(bed.estate)).toBe(name);
    expect(bed.trouble).toEqual([]);
    expect(
      serverCertificates(bed.estate)
        .filter((c) => c.privateKey)
        .map((c) => c.name),
    ).toEqual([name]);
    expect(serverCertificates(bed.estate).map((c) => c.name)).not.toContain(v1);
    expect(trustsOf(bed.estate, 'mi-prod')).toEqual([name]);
    expect(trustsOf(bed.estate, 'mi-dr')).toEqual([name]);
    // the same request again: the current version is in place, nothing changes
    const again = await rotate();
    expect(again.runtimeStatus).toBe('Completed');
    expect(again.steps.map((s: { state: string }) => s.state)).toEqual(Array(6).fill('done'));
  });

  it('canaries: the private keys are in the batches SQL Server received and nowhere milink keeps anything', () => {
    const versions = bed.estate.keyVault.secrets.versions(NAME)!.versions;
    expect(versions).toHaveLength(2);
    const journal = bed.estate.sqlServers
      .get('SQLBOX1')!
      .journal.map((e) => e.text)
      .join('\n')
      .toUpperCase();
    const places: Array<[string, string]> = [
      ...bed.dirs.flatMap((dir) =>
        filesUnder(dir).map((f): [string, string] => [f, readFileSync(f, 'latin1')]),
      ),
      ['logs', [...host.logs].join('\n')],
      ['statuses', statuses.join('\n')],
      ['arm', JSON.stringify(bed.estate.arm.journal)],
    ];
    expect(places.length).toBeGreaterThan(3);
    for (const v of versions) {
      const pieces = canaries(v.value);
      // the search finds a canary where it is: in the PVK bits of the import batch
      expect(journal).toContain(pieces[3]!);
      for (const piece of pieces)
        for (const [where, text] of places)
          expect(text.includes(piece), `${where} holds a private key`).toBe(false);
    }
  });
});
