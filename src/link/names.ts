import { createHash } from 'node:crypto';

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
