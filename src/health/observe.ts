/**
 * The two reads of the sweep, with the transport injected so the orchestration can run them from its
 * activities: the health batch on one SQL Server, and the ARM list of one instance's links (every page).
 * Neither throws for an unreachable source: the error becomes `error` on the result, and a finding.
 */
import { HEALTH_BATCH, parseServerObservation } from './batch.js';
import {
  parseArmLinks,
  redactSecrets,
  type InstanceSweep,
  type ServerSweep,
  type Unreachable,
} from './inputs.js';

/** Runs one T-SQL batch and returns its result sets (mssql `request.batch(text)` → `{ recordsets }`). */
export type BatchRunner = (text: string) => Promise<{ recordsets: unknown }>;

/** One page of an ARM list: the first when `nextLink` is undefined. */
export type ArmPageReader = (nextLink?: string) => Promise<{ value?: unknown[]; nextLink?: string | null }>;

/** A thrown error as a secret-free `Unreachable`: SQL number, driver code, HTTP status or ARM code. */
export function unreachable(e: unknown): Unreachable {
  const err = (e ?? {}) as {
    message?: unknown;
    number?: unknown;
    code?: unknown;
    statusCode?: unknown;
    status?: unknown;
  };
  const code = [err.number, err.code, err.statusCode, err.status].find(
    (c) => (typeof c === 'number' && Number.isFinite(c)) || (typeof c === 'string' && c !== ''),
  );
  const message = redactSecrets(typeof err.message === 'string' && err.message ? err.message : String(e));
  return code === undefined ? { message } : { message, code: String(code) };
}

/** Reads one SQL Server with the health batch (one round trip). */
export async function observeServer(sqlServer: string, run: BatchRunner): Promise<ServerSweep> {
  try {
    const result = await run(HEALTH_BATCH);
    return { sqlServer, observation: parseServerObservation(result.recordsets) };
  } catch (e) {
    return { sqlServer, error: unreachable(e) };
  }
}

/** At most this many pages are followed (a loop guard: ARM pages hold up to 100+ links each). */
export const MAX_PAGES = 1000;

/**
 * Lists every link of one instance, following `nextLink`, and optionally reads its update policy.
 * A failure on any page makes the whole instance unreachable (a partial list would call links unmanaged
 * or missing that are neither).
 */
export async function observeInstance(
  instance: string,
  readPage: ArmPageReader,
  readDatabaseFormat?: () => Promise<string | null>,
): Promise<InstanceSweep> {
  try {
    const items: unknown[] = [];
    let next: string | undefined;
    for (let page = 0; ; page++) {
      if (page >= MAX_PAGES)
        throw new Error(`more than ${MAX_PAGES} pages of links: stopped following nextLink`);
      const answer = await readPage(next);
      items.push(...(answer.value ?? []));
      if (!answer.nextLink) break;
      next = answer.nextLink;
    }
    const links = parseArmLinks(items);
    const databaseFormat = readDatabaseFormat ? await readDatabaseFormat() : undefined;
    return databaseFormat === undefined ? { instance, links } : { instance, links, databaseFormat };
  } catch (e) {
    return { instance, error: unreachable(e) };
  }
}
