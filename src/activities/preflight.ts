import type { LinkResource } from '../azure/link-resource.js';
import type { PreflightProblem } from '../link/status.js';
import { listInstanceLinks } from '../runbook/checks/create-link.js';
import { operationNamed } from '../runbook/operations.js';
import type { PreflightIo, PreflightResult } from '../runbook/preflight.js';
import { readManagedInstance, type InstanceObservation } from '../runbook/steps/read-managed-instance.js';
import * as catalog from '../sql/catalog.js';
import { SqlStepError } from '../sql/session.js';
import { ArmError } from '../azure/errors.js';
import { ActivityIo, defineActivity, describeError } from './io.js';

function problemFrom(e: unknown, check: string): PreflightProblem {
  const known = describeError(e);
  if (known && known.target !== 'milink' && (e instanceof SqlStepError || e instanceof ArmError))
    return { check, ...known, target: known.target };
  return {
    check,
    target: 'sqlserver',
    message: (e as Error).message,
    advice: 'see the logs, fix the cause and re-run',
  };
}

/** The preflight's io: memoised readers shared by the checks, failures and warnings collected. */
class PreflightActivityIo extends ActivityIo implements PreflightIo {
  readonly failures: PreflightProblem[] = [];
  readonly warnings: PreflightProblem[] = [];
  private readonly memo = new Map<string, Promise<unknown>>();

  private once<T>(key: string, check: string, read: () => Promise<T>): Promise<T | undefined> {
    if (!this.memo.has(key))
      this.memo.set(
        key,
        read().catch((e: unknown) => {
          this.failures.push(problemFrom(e, check));
          return undefined;
        }),
      );
    return this.memo.get(key) as Promise<T | undefined>;
  }

  instance(): Promise<InstanceObservation | undefined> {
    return this.once('instance', 'instance-reachable', async () => {
      const seen = await readManagedInstance.inspect(this);
      if (seen.fqdn) this.facts = { ...this.facts, fqdn: seen.fqdn };
      return seen;
    });
  }

  async instanceLinks(): Promise<LinkResource[] | undefined> {
    if (!(await this.instance())) return undefined;
    return this.once('links', 'instance-reachable', () => listInstanceLinks(this));
  }

  server(): Promise<catalog.ServerInfo | undefined> {
    return this.once('server', 'sqlserver-login', async () => {
      const session = await this.sql();
      let info: catalog.ServerInfo;
      try {
        info = await catalog.readServerInfo(session);
      } catch (e) {
        // a refused login is filed under sqlserver-login; anything else means the server was not reached
        if (e instanceof SqlStepError && e.number === 18456) throw e;
        this.failures.push(problemFrom(e, 'sqlserver-reachable'));
        return undefined as unknown as catalog.ServerInfo;
      }
      this.facts = {
        ...this.facts,
        serverName: info.serverName,
        ...(info.year !== undefined ? { version: info.year } : {}),
        build: info.build,
      };
      return info;
    });
  }

  async database(): Promise<catalog.DatabaseInfo | undefined> {
    if (!(await this.server())) return undefined;
    return this.once('database', 'sqlserver-catalog', async () =>
      catalog.readDatabase(await this.sql(), this.request.database),
    );
  }

  async groups(): Promise<catalog.AvailabilityGroupInfo[]> {
    if (!(await this.server())) return [];
    return (
      (await this.once('groups', 'sqlserver-catalog', async () =>
        catalog.readAvailabilityGroups(await this.sql()),
      )) ?? []
    );
  }

  fail(
    check: string,
    target: PreflightProblem['target'],
    message: string,
    advice: string,
    code?: string,
  ): void {
    this.failures.push({ check, target, message, advice, ...(code ? { code } : {}) });
  }

  warn(check: string, target: PreflightProblem['target'], message: string, advice: string): void {
    this.warnings.push({ check, target, message, advice });
  }
}

/** Runs an operation's checks: reads only, every failure reported together, the facts the steps need. */
export async function runPreflight(io: ActivityIo): Promise<PreflightResult> {
  const op = operationNamed(io.input.operation);
  if (!op) throw new Error(`no operation ${io.input.operation}`);
  const pre = new PreflightActivityIo({ ...io.input, facts: { names: {} } }, io.invocation, io.process);
  for (const check of op.checks) {
    pre.step = check.id;
    try {
      await check.run(pre);
    } catch (e) {
      pre.failures.push(problemFrom(e, check.id));
    }
  }
  return {
    facts: pre.facts,
    failures: pre.failures.map((f) => ({ ...f, message: pre.scrub(f.message) })),
    warnings: pre.warnings,
  };
}

defineActivity('preflight', runPreflight);
