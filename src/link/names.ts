import { createHash } from 'node:crypto';
import type { SqlText } from '../sql/quote.js';
import { variables } from '../sql/statements.js';

/**
 * Naming rules for the objects a link needs, and the runbook's naming conventions for names the request
 * leaves out. A derived name that would break a rule is made valid deterministically (invalid characters
 * replaced with `_`, an over-long name shortened and suffixed with a short hash of the original), so the
 * same request always yields the same names; an explicit name that breaks a rule is rejected.
 */
export interface NameRule {
  /** Short code used in error details. */
  code: string;
  /** The rule in words, as shown to users. */
  description: string;
  maxLength: number;
  /** Characters allowed anywhere. */
  allowed: RegExp;
  /** Characters allowed first. */
  allowedFirst: RegExp;
}

/** Link (distributed availability group) names: the ARM pattern `^[#a-zA-Z_][\w@#$]*$`, 1–128 characters. */
export const linkNameRule: NameRule = {
  code: 'LinkName',
  description:
    'must match ^[#a-zA-Z_][\\w@#$]*$ and be 1-128 characters (letters, digits, _ @ # $; no hyphens)',
  maxLength: 128,
  allowed: /[A-Za-z0-9_@#$]/,
  allowedFirst: /[#A-Za-z_]/,
};

/**
 * Availability group names on SQL Server and on the instance: they travel in T-SQL, in listener URLs and in
 * ARM bodies, so milink keeps them to a portable set: letters, digits, _ - @ # $, starting with a letter, _ or #.
 */
export const availabilityGroupNameRule: NameRule = {
  code: 'AvailabilityGroupName',
  description: 'must be 1-128 characters: letters, digits, _ - @ # $, starting with a letter, _ or #',
  maxLength: 128,
  allowed: /[A-Za-z0-9_@#$-]/,
  allowedFirst: /[#A-Za-z_]/,
};

/**
 * The SQL Server certificate's name: also the name of the trust on the instance (an ARM resource name),
 * so no `\` (the runbook's rule) and nothing that breaks a URL path.
 */
export const certificateNameRule: NameRule = {
  code: 'CertificateName',
  description:
    'must be 1-128 characters: letters, digits, _ - . @ # $ (no \\, no spaces, nothing that breaks a URL)',
  maxLength: 128,
  allowed: /[A-Za-z0-9_.@#$-]/,
  allowedFirst: /[A-Za-z0-9_#]/,
};

/** Returns the reason a name breaks a rule, or undefined when it follows it. */
export function checkName(name: string, rule: NameRule): string | undefined {
  const chars = [...name];
  if (chars.length === 0 || chars.length > rule.maxLength) return rule.description;
  if (!rule.allowedFirst.test(chars[0]!)) return rule.description;
  if (!chars.every((c) => rule.allowed.test(c))) return rule.description;
  return undefined;
}

export function shortHash(text: string, length = 8): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, length);
}

/**
 * Makes a derived name follow a rule: every character not allowed becomes `_`, a name whose first character
 * is not allowed first gets a `_` in front, and a name over the limit is cut and ends with `_<hash>`, the hash
 * taken over the original text so different long names stay different.
 */
export function makeValidName(original: string, rule: NameRule): string {
  let name = [...original].map((c) => (rule.allowed.test(c) ? c : '_')).join('');
  if (name.length === 0 || !rule.allowedFirst.test(name[0]!)) name = `_${name}`;
  const changed = name !== original;
  if (name.length > rule.maxLength || (changed && name.length > rule.maxLength - 9)) {
    const suffix = `_${shortHash(original)}`;
    name = name.slice(0, rule.maxLength - suffix.length) + suffix;
  } else if (changed) {
    // Replaced characters could make two different originals collide: keep them apart with the hash.
    name = `${name}_${shortHash(original)}`;
  }
  return name;
}

export interface LinkNames {
  availabilityGroup: string;
  instanceAvailabilityGroup: string;
  link: string;
  /** Undefined when it depends on @@SERVERNAME and the request does not give serverName. */
  certificate: string | undefined;
}

export interface NameSource {
  database: string;
  serverName?: string;
  names?: Partial<LinkNames>;
}

/** The runbook's conventions: AG_<db>, AG_<db>_MI, DAG1_<db>, Cert_<serverName>_endpoint. */
export function deriveNames(source: NameSource): LinkNames & { derived: Array<keyof LinkNames> } {
  const derived: Array<keyof LinkNames> = [];
  const pick = (
    key: keyof LinkNames,
    conventional: string | undefined,
    rule: NameRule,
  ): string | undefined => {
    const given = source.names?.[key];
    if (given !== undefined) return given;
    if (conventional === undefined) return undefined;
    derived.push(key);
    return checkName(conventional, rule) === undefined ? conventional : makeValidName(conventional, rule);
  };
  return {
    availabilityGroup: pick('availabilityGroup', `AG_${source.database}`, availabilityGroupNameRule)!,
    instanceAvailabilityGroup: pick(
      'instanceAvailabilityGroup',
      `AG_${source.database}_MI`,
      availabilityGroupNameRule,
    )!,
    link: pick('link', `DAG1_${source.database}`, linkNameRule)!,
    certificate: pick('certificate', certificateNameFor(source.serverName), certificateNameRule),
    derived,
  };
}

export function certificateNameFor(serverName: string | undefined): string | undefined {
  return serverName === undefined ? undefined : `Cert_${serverName}_endpoint`;
}

/** The certificate name for a server name read at run time, made valid the same way. */
export function derivedCertificateName(serverName: string): string {
  const conventional = certificateNameFor(serverName)!;
  return checkName(conventional, certificateNameRule) === undefined
    ? conventional
    : makeValidName(conventional, certificateNameRule);
}

// ---------------------------------------------------------------- names resolved for one request

/** What the estate told milink about names (read by preflight): an AG the database already has, DAG2_<db>, … */
export interface NameFacts {
  serverName?: string;
  names?: { availabilityGroup?: string; link?: string };
}

export interface ResolvedNames extends LinkNames {
  /** The certificate name, a sqlcmd variable while @@SERVERNAME is unknown. */
  certificateRef: SqlText;
  derived: Array<keyof LinkNames>;
}

/** The request's names, completed with the runbook's conventions and what preflight chose. */
export function resolveNames(
  request: {
    database: string;
    sqlServer: { serverName?: string | undefined };
    names?: Partial<LinkNames> | undefined;
  },
  facts: NameFacts,
): ResolvedNames {
  const serverName = request.sqlServer.serverName ?? facts.serverName;
  const names = deriveNames({
    database: request.database,
    serverName,
    names: { ...facts.names, ...request.names },
  });
  const certificate =
    request.names?.certificate ?? (serverName !== undefined ? derivedCertificateName(serverName) : undefined);
  return { ...names, certificate, certificateRef: certificate ?? variables.certificateName };
}

const fileNameRule: NameRule = {
  code: 'FileName',
  description: 'letters, digits, _ . -',
  maxLength: 100,
  allowed: /[A-Za-z0-9_.-]/,
  allowedFirst: /[A-Za-z0-9_]/,
};

/** The file milink names for a backup: the database name made file-safe (with a hash when it had to change). */
export function backupFileName(database: string, kind: 'full' | 'log'): string {
  const safe = makeValidName(database, fileNameRule);
  return `milink_${safe}_${kind}.${kind === 'full' ? 'bak' : 'trn'}`;
}

/** The backup file in the request's folder, with the folder's own separator. */
export function backupFile(
  request: { database: string; backupPath?: string | undefined },
  kind: 'full' | 'log',
): string {
  const folder = request.backupPath ?? '';
  const separator = folder === '' || /[\\/]$/.test(folder) ? '' : folder.includes('/') ? '/' : '\\';
  return `${folder}${separator}${backupFileName(request.database, kind)}`;
}

/** Names compare as SQL Server and ARM compare them under the default collations: case-insensitively. */
export function sameName(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();
}

/** A distributed availability group as milink reads it from SQL Server's catalog. */
export interface GroupNames {
  name: string;
  isDistributed: boolean;
  replicas: Array<{ replicaServerName: string; endpointUrl: string }>;
  databases: string[];
}

/** Whether a distributed availability group links to this instance: one of its replicas is the instance's listener. */
export function linksToInstance(group: GroupNames, fqdn: string | undefined): boolean {
  if (!fqdn) return false;
  const prefix = `tcp://${fqdn.toLowerCase()}:`;
  return group.replicas.some((r) => r.endpointUrl.toLowerCase().startsWith(prefix));
}

/**
 * The link's name on SQL Server: the request's, else the DAG that already links this AG to this instance (a re-run),
 * else DAG1_<db>, or DAG2_<db>, … when that name is taken (a further link of the database to another instance).
 */
export function chooseLinkName(
  requested: string,
  explicit: boolean,
  availabilityGroup: string,
  groups: GroupNames[],
  fqdn: string | undefined,
): string {
  if (explicit) return requested;
  const ours = groups.find(
    (g) =>
      g.isDistributed &&
      linksToInstance(g, fqdn) &&
      g.replicas.some((r) => sameName(r.replicaServerName, availabilityGroup)),
  );
  if (ours) return ours.name;
  let name = requested;
  for (let n = 1; groups.some((g) => sameName(g.name, name)); n++)
    name = requested.replace(/^DAG\d+_/, `DAG${n + 1}_`);
  return name;
}
