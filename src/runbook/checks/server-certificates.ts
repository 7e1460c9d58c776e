import * as arm from '../../azure/arm-requests.js';
import type { InstanceRef } from '../../azure/arm-requests.js';
import { ArmError } from '../../azure/errors.js';
import { asLinkList, type LinkResource } from '../../azure/link-resource.js';
import { certificateNameRule, checkName, derivedCertificateName, sameName } from '../../link/names.js';
import * as catalog from '../../sql/catalog.js';
import { normaliseHex, type SqlText } from '../../sql/quote.js';
import type { SqlSession } from '../../sql/session.js';
import * as sql from '../../sql/statements.js';
import type { LinkContext } from '../context.js';
import { listTrusts } from '../steps/trust-sqlserver-certificate.js';
import { requireSysadmin } from './create-link.js';
import { defineCheck, type PreflightIo } from '../preflight.js';
import { StepProblem, type StepIo } from '../step.js';

/**
 * The operations on a whole SQL Server's certificates (rotateCertificate, refreshInstanceCertificates): one SQL
 * Server endpoint certificate serves every link of that SQL Server, to every instance it replicates to. Preflight
 * finds them all (the DAGs on SQL Server, the links on each instance over ARM) and hands them to the steps as facts.
 */

/** An instance the SQL Server replicates to, with the links between them. */
export interface ServedInstance extends InstanceRef {
  fqdn: string;
  links: string[];
}

/** What preflight learned about the SQL Server's certificates and links (no secret: names and dates). */
export interface CertificateFacts {
  /** The endpoint certificate a rotation switches to. */
  newCertificate: string;
  /** Its expiry, YYYY-MM-DD. */
  expiry: string;
  instances: ServedInstance[];
  /** Certificates with a private key the rotation replaces: the endpoint's own, and any an instance still trusts. */
  replaced: string[];
  /** The Key Vault certificate version the new certificate is imported from (options.keyVaultCertificate). */
  keyVault?: { name: string; version: string };
}

/** The operation's parameters, validated by the trigger (src/functions/certificates.ts). */
export interface CertificateParameters {
  certificateName?: string;
  keyVaultCertificate?: string;
  expiry?: string;
  instances?: InstanceRef[];
}

const parametersOf = (l: LinkContext) => l.parameters as CertificateParameters;

/** The endpoint certificate's name after rotation: the request's, else `Cert_<@@SERVERNAME>_endpoint_<yyyymmdd>`. */
export function newCertificateName(l: LinkContext): SqlText {
  const p = parametersOf(l);
  if (l.facts.certificates) return l.facts.certificates.newCertificate;
  if (p.certificateName) return p.certificateName;
  // a Key Vault certificate's name is `<certificate>_<version>`: the version is read at run time
  if (p.keyVaultCertificate) return sql.variables.newCertificateName;
  const serverName = l.request.sqlServer.serverName ?? l.facts.serverName;
  if (serverName === undefined || !p.expiry) return sql.variables.newCertificateName;
  return `${derivedCertificateName(serverName)}_${sql.sqlDate(p.expiry)}`.slice(0, 128);
}

/** The new certificate's expiry (YYYY-MM-DD). */
export function newCertificateExpiry(l: LinkContext): string {
  return l.facts.certificates?.expiry ?? parametersOf(l).expiry ?? l.request.certificateExpiry;
}

/** The instances to render for: those preflight found, else the request's (a plan made before anything is read). */
export function servedInstances(l: LinkContext): InstanceRef[] {
  return l.facts.certificates?.instances ?? [l.mi];
}

/** The certificates a rotation replaces: those preflight found, else a variable for the plan. */
export function replacedCertificates(l: LinkContext): SqlText[] {
  return (
    l.facts.certificates?.replaced ?? [l.facts.endpoint?.certificateName ?? sql.variables.oldCertificateName]
  );
}

/** A certificate in master as the rotation reads it. */
export interface ServerCertificate {
  name: string;
  /** Its private key is protected by the master key: a certificate SQL Server made (or imported with its key). */
  privateKey: boolean;
  expiryDate: Date;
  /** DER, hex upper-case without 0x. */
  hex: string;
}

/** Every certificate in master, and SQL Server's own clock (expiry is decided by it, not the activity's). */
export async function readServerCertificates(
  s: SqlSession,
): Promise<{ certificates: ServerCertificate[]; now: Date }> {
  const result = await s.batch(
    [
      'SELECT name, pvt_key_encryption_type, expiry_date, CERTENCODED(certificate_id) AS der FROM master.sys.certificates;',
      'SELECT SYSUTCDATETIME() AS now;',
    ].join('\n'),
  );
  const [rows = [], clock = []] = result.recordsets;
  return {
    certificates: rows.map((r) => ({
      name: String(r.name),
      privateKey: String(r.pvt_key_encryption_type).toUpperCase() === 'MK',
      expiryDate: new Date(r.expiry_date as string | Date),
      hex: Buffer.isBuffer(r.der) ? r.der.toString('hex').toUpperCase() : normaliseHex(String(r.der ?? '')),
    })),
    now: new Date((clock[0]?.now as string | Date | undefined) ?? Date.now()),
  };
}

/** Every link on an instance (all pages). */
export async function listLinksOn(io: Pick<StepIo, 'arm'>, mi: InstanceRef): Promise<LinkResource[]> {
  const out: LinkResource[] = [];
  let page = asLinkList((await io.arm.call(arm.listLinks(mi), `listing links on ${mi.name}`)).json);
  out.push(...page.links);
  while (page.nextLink) {
    page = asLinkList((await io.arm.send({ method: 'GET', url: page.nextLink })).json);
    out.push(...page.links);
  }
  return out;
}

/** The instance a DAG's remote replica names: `tcp://<fqdn>:5022;Server=[<instance>]…` (the listener URL). */
export function remoteOfDag(
  dag: catalog.AvailabilityGroupInfo,
  endpointAddress: string,
): { fqdn: string; instance: string } | undefined {
  for (const r of dag.replicas) {
    const host = /^tcp:\/\/\[?([^\]:;/]+)/i.exec(r.endpointUrl.trim())?.[1];
    if (!host || sameName(host, endpointAddress)) continue;
    const named = /;\s*Server\s*=\s*\[((?:[^\]]|\]\])+)\]/i.exec(r.endpointUrl)?.[1]?.replace(/]]/g, ']');
    return { fqdn: host.toLowerCase(), instance: (named ?? host.split('.')[0]!).toLowerCase() };
  }
  return undefined;
}

/** Whether a link on the instance is this SQL Server's: its partner endpoint is this server's mirroring endpoint. */
function servesThisServer(link: LinkResource, l: LinkContext, dagNames: string[]): boolean {
  if (dagNames.some((d) => sameName(d, link.name))) return true;
  const partner = link.properties?.partnerEndpoint;
  return partner !== undefined && sameName(partner.replace(/\s+/g, ''), l.partnerEndpoint);
}

/**
 * Finds every link of the request's SQL Server and every instance they reach: the DAGs on SQL Server name the
 * instances (their listener URLs hold the FQDN), ARM names the links (each instance's list, by partner endpoint);
 * an instance is looked up in the request's subscription and resource group unless `options.instances` names it.
 */
export async function findServedInstances(
  io: PreflightIo,
  check: string,
): Promise<{ instances: ServedInstance[]; links: Map<string, LinkResource[]> } | undefined> {
  const l = io.link;
  const groups = await io.groups();
  const dags = groups.filter((g) => g.isDistributed);
  const extra = parametersOf(l).instances ?? [];
  const found = new Map<string, { fqdn: string; ref: InstanceRef; dags: string[] }>();
  const add = (fqdn: string, ref: InstanceRef, dag?: string) => {
    const key = ref.name.toLowerCase();
    const entry = found.get(key) ?? { fqdn, ref, dags: [] };
    if (dag) entry.dags.push(dag);
    found.set(key, entry);
  };
  // the request's own instance always, then every instance a DAG reaches
  const requested = await io.instance();
  if (requested?.fqdn) add(requested.fqdn.toLowerCase(), l.mi);
  for (const dag of dags) {
    const remote = remoteOfDag(dag, l.request.sqlServer.endpointAddress);
    if (!remote) continue;
    const ref = extra.find((m) => sameName(m.name, remote.instance)) ??
      (sameName(l.mi.name, remote.instance) ? l.mi : undefined) ?? {
        subscriptionId: l.mi.subscriptionId,
        resourceGroup: l.mi.resourceGroup,
        name: remote.instance,
      };
    add(remote.fqdn, ref, dag.name);
  }
  for (const ref of extra) if (!found.has(ref.name.toLowerCase())) add('', ref);

  const instances: ServedInstance[] = [];
  const links = new Map<string, LinkResource[]>();
  for (const { fqdn, ref, dags: dagNames } of found.values()) {
    let seenFqdn: string | undefined;
    const read = arm.getManagedInstance(ref);
    try {
      const answer = await io.arm.send(read);
      if (answer.status === 404) {
        io.fail(
          check,
          'azure',
          `the DAG(s) ${dagNames.join(', ')} on SQL Server reach ${fqdn}, but there is no managed instance ${ref.name} in ${ref.subscriptionId}/${ref.resourceGroup}`,
          'name the instance in options.instances ({ subscriptionId, resourceGroup, name }): the certificate cannot change before every instance trusts the new one',
          'InstanceNotFound',
        );
        continue;
      }
      if (answer.status >= 400)
        throw ArmError.fromResponse(answer.status, answer.json, `reading managed instance ${ref.name}`, read);
      const body = answer.json as { properties?: { fullyQualifiedDomainName?: string } };
      seenFqdn = body.properties?.fullyQualifiedDomainName?.toLowerCase();
    } catch (e) {
      io.fail(
        check,
        'azure',
        (e as Error).message,
        `check that milink may read managed instance ${ref.name}`,
      );
      continue;
    }
    if (fqdn && seenFqdn && seenFqdn !== fqdn) {
      io.fail(
        check,
        'azure',
        `the DAG(s) ${dagNames.join(', ')} reach ${fqdn}, but ${ref.subscriptionId}/${ref.resourceGroup}/${ref.name} is ${seenFqdn}`,
        'name the right instance in options.instances',
        'InstanceMismatch',
      );
      continue;
    }
    const onInstance = (await listLinksOn(io, ref)).filter((k) => servesThisServer(k, l, dagNames));
    for (const dag of dagNames)
      if (!onInstance.some((k) => sameName(k.name, dag)))
        io.warn(
          check,
          'azure',
          `DAG ${dag} on SQL Server has no link on ${ref.name}`,
          'a DAG left behind by a dropped link: drop it (dropLink) or ignore it',
        );
    if (onInstance.length === 0) continue;
    links.set(ref.name.toLowerCase(), onInstance);
    instances.push({
      subscriptionId: ref.subscriptionId,
      resourceGroup: ref.resourceGroup,
      name: ref.name,
      fqdn: seenFqdn ?? fqdn,
      links: onInstance.map((k) => k.name ?? '?'),
    });
  }
  return { instances, links };
}

/** The rule every new certificate name follows (it is also the trust's ARM resource name). */
export function certificateNameProblem(name: string): string | undefined {
  return checkName(name, certificateNameRule);
}

/**
 * rotateCertificate's preflight: the endpoint, every link of the SQL Server and the instances they reach, each link
 * connected and healthy (a rotation must not start while one is down for another reason, nor while another
 * operation is changing a link: that one's link is not healthy and connected either); with the endpoint certificate
 * expired the links are down because of it, and the rotation is what brings them back.
 */
export const certificateRotationCheck = defineCheck({
  id: 'certificate-rotation',
  reads: (l) => ({
    instance: arm.getManagedInstance(l.mi),
    links: arm.listLinks(l.mi),
    trusted: arm.listServerTrustCertificates(l.mi),
  }),
  async run(io) {
    const info = await io.server();
    if (!info) return;
    requireSysadmin(io, info);
    const session = await io.sql();
    const endpoint = await catalog.readEndpoint(session);
    if (!endpoint?.certificateName) {
      io.fail(
        'certificate-rotation',
        'sqlserver',
        endpoint
          ? `the mirroring endpoint ${endpoint.name} does not authenticate with a certificate`
          : 'SQL Server has no mirroring endpoint',
        'create the link first (createLink makes the endpoint and its certificate)',
        'NoEndpointCertificate',
      );
      return;
    }
    io.facts = { ...io.facts, endpoint };
    const { certificates, now } = await readServerCertificates(session);
    const current = certificates.find((c) => sameName(c.name, endpoint.certificateName!));
    const expired = current !== undefined && current.expiryDate.getTime() <= now.getTime();
    const served = await findServedInstances(io, 'certificate-rotation');
    if (!served) return;
    const l = io.link;
    const p = parametersOf(l);
    let vault: { name: string; version: string; expiry?: string } | undefined;
    if (p.keyVaultCertificate) {
      if (!io.vaultCertificate) throw new Error('this io reads no Key Vault certificates');
      try {
        const found = await io.vaultCertificate(p.keyVaultCertificate);
        vault = {
          name: p.keyVaultCertificate,
          version: found.version,
          ...(found.expiresOn ? { expiry: found.expiresOn.toISOString().slice(0, 10) } : {}),
        };
      } catch (e) {
        const known = e as { message?: string; advice?: string; code?: string };
        io.fail(
          'certificate-rotation',
          'keyvault',
          known.message ?? String(e),
          known.advice ?? 'check the Key Vault certificate',
          known.code,
        );
        return;
      }
    }
    const name = vault
      ? (p.certificateName ?? `${vault.name}_${vault.version.slice(0, 12)}`)
      : newCertificateName(l);
    if (typeof name !== 'string')
      throw new Error('the new certificate name is not known after reading SQL Server');
    const problem = certificateNameProblem(name);
    if (problem) {
      io.fail(
        'certificate-rotation',
        'sqlserver',
        `options.certificateName ${problem}`,
        'choose another name',
      );
      return;
    }
    const existing = certificates.find((c) => sameName(c.name, name));
    if (existing && !existing.privateKey)
      io.fail(
        'certificate-rotation',
        'sqlserver',
        `SQL Server holds a certificate named ${name} without a private key: it cannot authenticate the endpoint`,
        'name the new certificate otherwise (options.certificateName)',
        'CertificateNameTaken',
      );
    // every link connected and healthy, unless the endpoint's own expired certificate is why they are not
    for (const mi of served.instances)
      for (const link of served.links.get(mi.name.toLowerCase()) ?? []) {
        const db = link.properties?.databases?.[0];
        if (db?.connectedState === 'CONNECTED' && db.synchronizationHealth === 'HEALTHY') continue;
        const state = `${db?.connectedState ?? 'unknown'}, ${db?.synchronizationHealth ?? 'unknown'}`;
        if (expired)
          io.warn(
            'certificate-rotation',
            'azure',
            `link ${link.name} on ${mi.name} is ${state}: the endpoint certificate ${endpoint.certificateName} expired ${current!.expiryDate.toISOString()}`,
            'the rotation brings it back once the endpoint authenticates with the new certificate',
          );
        else
          io.fail(
            'certificate-rotation',
            'azure',
            `link ${link.name} on ${mi.name} is ${state}`,
            'rotate only while every link of the SQL Server is connected and healthy (and no other operation runs on one of them): fix the link or wait for its operation, then re-run',
            'LinkNotHealthy',
          );
      }
    // what is replaced: the endpoint's certificate, and any other certificate of this server an instance still trusts
    // (a rotation stopped between dropping one and untrusting it is finished by the next)
    const trustedHex = new Set<string>();
    for (const mi of served.instances) {
      const trusts = await listTrusts(io, mi);
      for (const t of trusts) if (t.hex) trustedHex.add(t.hex);
      const clash = trusts.find((t) => sameName(t.name, name));
      const mine = certificates.find((c) => sameName(c.name, name));
      if (clash && (!mine || clash.hex !== mine.hex))
        io.fail(
          'certificate-rotation',
          'azure',
          `${mi.name} already trusts another certificate under the name ${name}`,
          'name the new certificate otherwise (options.certificateName)',
          'TrustNameTaken',
        );
    }
    const replaced = certificates
      .filter(
        (c) =>
          c.privateKey &&
          !sameName(c.name, name) &&
          (sameName(c.name, endpoint.certificateName!) || trustedHex.has(c.hex)),
      )
      .map((c) => c.name);
    io.facts = {
      ...io.facts,
      certificates: {
        newCertificate: name,
        expiry: vault?.expiry ?? newCertificateExpiry(l),
        instances: served.instances,
        replaced,
        ...(vault ? { keyVault: { name: vault.name, version: vault.version } } : {}),
      },
    };
  },
});

/**
 * refreshInstanceCertificates' preflight: the instances the SQL Server's links reach (their certificates' chains
 * are what the refresh validates). Links need not be healthy: a broken chain is why they may not be.
 */
export const instanceCertificatesCheck = defineCheck({
  id: 'instance-certificates',
  reads: (l) => ({ instance: arm.getManagedInstance(l.mi), links: arm.listLinks(l.mi) }),
  async run(io) {
    const info = await io.server();
    if (!info) return;
    const served = await findServedInstances(io, 'instance-certificates');
    if (!served) return;
    const endpoint = await catalog.readEndpoint(await io.sql());
    io.facts = {
      ...io.facts,
      ...(endpoint ? { endpoint } : {}),
      certificates: {
        newCertificate: endpoint?.certificateName ?? '',
        expiry: io.request.certificateExpiry,
        instances: served.instances,
        replaced: [],
      },
    };
  },
});

/** A certificate the step needs is not on SQL Server (a re-run after someone dropped it). */
export function missingCertificate(name: string, advice: string): StepProblem {
  return new StepProblem('sqlserver', '15151', `certificate ${name} does not exist on SQL Server`, advice);
}
