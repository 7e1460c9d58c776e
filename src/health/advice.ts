/**
 * Error numbers and codes a link shows, mapped to what to do (health-checks.md, "Errors → remedy";
 * sources TS, CFG, KI as abbreviated there).
 */
export interface Remedy {
  meaning: string;
  remedy: string;
  source: string;
}

export const LINK_ERRORS: Record<string, Remedy> = {
  '41962': {
    meaning: 'the link was not initiated within 5 minutes (LinkInitError)',
    remedy:
      'test the network between SQL Server and the instance (ports 5022 and 11000-11999, NSG, firewall)',
    source: 'TS',
  },
  '41973': {
    meaning: "SQL Server's endpoint certificate is not on the managed instance",
    remedy: "re-upload SQL Server's endpoint certificate to the instance as a serverTrustCertificate",
    source: 'TS',
  },
  '41974': {
    meaning: "the managed instance's endpoint certificate is not in SQL Server",
    remedy: "re-import the instance's endpoint certificate (name = instance FQDN) into SQL Server's master",
    source: 'TS',
  },
  '41976': {
    meaning: 'the availability group is not responding',
    remedy: 'check the availability group and DAG names and configuration on both sides',
    source: 'TS',
  },
  '41986': {
    meaning: 'the connection failed or the secondary is unresponsive',
    remedy: 'check names, configuration and the network between SQL Server and the instance',
    source: 'TS',
  },
  '47521': {
    meaning: 'the secondary did not receive the request',
    remedy: 'check that the availability group and database are healthy on the primary',
    source: 'TS',
  },
  '41977': {
    meaning: 'the target database is not responsive (LinkCreationError)',
    remedy: "check the link's parameters (database, availability group names)",
    source: 'TS',
  },
  '1408': {
    meaning: 'the log was truncated during seeding (no overlap)',
    remedy:
      'drop and recreate the link; while it seeds keep the log: trace flag 12381, paused log backups or an open dummy transaction',
    source: 'TS',
  },
  '1412': {
    meaning: 'the log was truncated during seeding (size mismatch)',
    remedy:
      'drop and recreate the link; while it seeds keep the log: trace flag 12381, paused log backups or an open dummy transaction (KI, May 2025)',
    source: 'TS',
  },
  '1475': {
    meaning: 'a new backup chain is needed',
    remedy: 'take a full backup without COPY_ONLY, then retry',
    source: 'CFG',
  },
};

/** The first known error number in a text (e.g. an ARM `mostRecentLinkError`), if any. */
export function errorCodeIn(text: string | null | undefined): string | null {
  if (!text) return null;
  for (const m of text.matchAll(/\b(\d{4,5})\b/g)) if (LINK_ERRORS[m[1]!]) return m[1]!;
  return null;
}

/** Advice for an error number/code, or the fallback. */
export function remedyFor(code: string | number | null | undefined, fallback: string): string {
  const r = code === null || code === undefined ? undefined : LINK_ERRORS[String(code)];
  return r ? `${r.meaning}: ${r.remedy}` : fallback;
}
