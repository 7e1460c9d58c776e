import * as arm from '../../azure/arm-requests.js';
import type { InstanceRef } from '../../azure/arm-requests.js';
import * as catalog from '../../sql/catalog.js';
import { normaliseHex } from '../../sql/quote.js';
import { ROOT_CERTIFICATES } from '../../sql/roots.js';
import * as sql from '../../sql/statements.js';
import type { ServedInstance } from '../checks/server-certificates.js';
import { readServerCertificates, servedInstances } from '../checks/server-certificates.js';
import type { LinkContext } from '../context.js';
import { defineStep, report, StepProblem, type StepIo } from '../step.js';
import { chainError } from './validate-instance-certificate.js';

type Chain = { valid: true } | { valid: false; number: number; message: string; advice: string };

interface RefreshObservation {
  instances: Array<{
    name: string;
    fqdn: string;
    held: boolean;
    /** SQL Server's copy is the instance's current certificate (not only when the chain fails: read then). */
    current?: boolean;
    chain: Chain;
  }>;
}

const fqdnOf = (l: LinkContext, mi: InstanceRef): string =>
  (mi as Partial<ServedInstance>).fqdn ??
  (typeof l.fqdn === 'string' ? l.fqdn : sql.variables.instanceFqdn.reference);

/** The chain of the certificate named as the FQDN: valid, or SQL Server's chain error. */
async function validate(io: StepIo, fqdn: string): Promise<Chain> {
  const e = await chainError(io, fqdn);
  return e ? { valid: false, number: e.number!, message: e.message, advice: e.advice } : { valid: true };
}

async function instanceCertificate(io: StepIo, mi: InstanceRef): Promise<Buffer> {
  const response = await io.arm.call(
    arm.getEndpointCertificate(mi),
    `reading ${mi.name}'s endpoint certificate`,
  );
  const blob = (response.json as { properties?: { publicBlob?: string } }).properties?.publicBlob;
  if (!blob)
    throw new StepProblem(
      'azure',
      'NoPublicBlob',
      `${mi.name} answered without its endpoint certificate`,
      're-run later',
    );
  return Buffer.from(normaliseHex(blob), 'hex');
}

/**
 * refresh-instance-certificates (BP: the instance's certificate is rotated by the service; SQL Server only needs its
 * chain to validate): for every instance the SQL Server's links reach, `sp_validate_certificate_ca_chain` on the
 * certificate named as its FQDN; when it fails, the instance's current certificate is imported again if SQL
 * Server's copy is another (dropped, then created from `endpointCertificates/DATABASE_MIRRORING`), then — if the
 * chain still fails — the roots with their issuer (those missing or expired first, all of them as the last resort),
 * and the chain validated again. What validates is never touched.
 */
export const refreshInstanceCertificates = defineStep<RefreshObservation>({
  id: 'refresh-instance-certificates',
  scope: 'sqlserver',
  target: 'sqlserver',
  title: (l) =>
    `Validate the chain of ${servedInstances(l)
      .map((m) => m.name)
      .join(', ')}'s certificate(s); re-import what fails`,
  reads: (l) => ({ certificate: arm.getEndpointCertificate(l.mi) }),
  render: (l) => ({
    tsql: Object.fromEntries(
      servedInstances(l).map((mi) => [`validate:${mi.name}`, sql.validateCertificateChain(fqdnOf(l, mi))]),
    ),
    remedy: Object.fromEntries([
      ...servedInstances(l).flatMap((mi) => [
        [`drop:${mi.name}`, sql.dropCertificate(fqdnOf(l, mi))],
        [`import:${mi.name}`, sql.importInstanceCertificate(fqdnOf(l, mi))],
      ]),
      ...ROOT_CERTIFICATES.flatMap((root) => [
        [`drop:${root.name}`, sql.dropCertificate(root.name)],
        [`import:${root.name}`, sql.importRootCertificate(root)],
      ]),
    ]),
  }),
  async inspect(io) {
    const session = await io.sql();
    const instances: RefreshObservation['instances'] = [];
    for (const mi of servedInstances(io.link)) {
      const fqdn = fqdnOf(io.link, mi);
      const copy = await catalog.readCertificate(session, fqdn);
      const chain: Chain = copy
        ? await validate(io, fqdn)
        : { valid: false, number: 15151, message: `no certificate named ${fqdn}`, advice: 'import it' };
      const current = chain.valid || !copy ? undefined : copy.der.equals(await instanceCertificate(io, mi));
      instances.push({
        name: mi.name,
        fqdn,
        held: copy !== undefined,
        ...(current !== undefined ? { current } : {}),
        chain,
      });
    }
    return { instances };
  },
  needed: (o) => o.instances.some((i) => !i.chain.valid),
  found: (o) => o.instances.map((i) => `the chain of ${i.fqdn} validates`),
  async act(io, o) {
    const out = report(this.id);
    let rootsDone = false;
    for (const seen of o.instances) {
      if (seen.chain.valid) {
        out.found.push(`the chain of ${seen.fqdn} validates`);
        continue;
      }
      const mi = servedInstances(io.link).find((m) => m.name === seen.name)!;
      // roots imported again for an earlier instance may be what this one lacked too: look again first
      let chain: Chain = rootsDone ? await validate(io, seen.fqdn) : seen.chain;
      if (chain.valid) {
        out.found.push(`the chain of ${seen.fqdn} validates`);
        continue;
      }
      if (!seen.held || seen.current === false) {
        const der = await instanceCertificate(io, mi);
        if (seen.held) await io.run(sql.dropCertificate(seen.fqdn));
        await io.run(sql.importInstanceCertificate(seen.fqdn, der));
        out.changed.push(`re-imported ${mi.name}'s current certificate as ${seen.fqdn}`);
        chain = await validate(io, seen.fqdn);
      }
      if (!chain.valid && !rootsDone) {
        // the instance's certificate is current: the roots SQL Server holds are what fails — those missing or
        // expired first, then (still failing) every one of them again
        rootsDone = true;
        const { certificates, now } = await readServerCertificates(await io.sql());
        const stale = ROOT_CERTIFICATES.filter((root) => {
          const held = certificates.find((c) => c.name === root.name);
          return !held || held.expiryDate.getTime() <= now.getTime();
        });
        for (const round of [stale, ROOT_CERTIFICATES.filter((r) => !stale.includes(r))]) {
          if (round.length === 0 || chain.valid) continue;
          for (const root of round) {
            await io.run(sql.dropCertificate(root.name));
            await io.run(sql.importRootCertificate(root));
          }
          out.changed.push(
            `re-imported the root(s) ${round.map((r) => r.name).join(', ')} with their issuer`,
          );
          chain = await validate(io, seen.fqdn);
        }
      }
      if (!chain.valid) throw new StepProblem('sqlserver', String(chain.number), chain.message, chain.advice);
      out.found.push(`the chain of ${seen.fqdn} validates`);
    }
    return out;
  },
});
