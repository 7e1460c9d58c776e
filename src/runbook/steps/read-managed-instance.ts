import * as arm from '../../azure/arm-requests.js';
import { ArmError } from '../../azure/errors.js';
import { defineStep, type Rendered, type StepIo } from '../step.js';

/** The instance as ARM describes it (the properties milink decides by). */
export interface InstanceObservation {
  fqdn?: string;
  collation?: string;
  state?: string;
  /** The update policy: SQL Server 2022/2025 format, or AlwaysUpToDate. */
  databaseFormat?: string;
  /** With the instance as initial primary: whether the database exists there (undefined: not asked). */
  databaseOnInstance?: boolean;
}

/**
 * read-managed-instance: read the instance (FQDN, collation, update policy, state) and, with the instance as
 * initial primary, its database. Run by the operation's preflight, which decides with what it reads.
 */
export const readManagedInstance = defineStep<InstanceObservation>({
  id: 'read-managed-instance',
  scope: 'instance',
  target: 'azure',
  preflight: true,
  title: (l) =>
    `Read managed instance ${l.mi.name}${l.sqlPrimary ? '' : ` and its database ${l.request.database}`}`,
  render: (l): Rendered => ({
    arm: l.sqlPrimary
      ? { instance: arm.getManagedInstance(l.mi) }
      : ({
          instance: arm.getManagedInstance(l.mi),
          database: arm.getManagedDatabase(l.mi, l.request.database),
        } as Record<string, arm.ArmRequest>),
  }),
  async inspect(io: StepIo) {
    const requests = this.render(io.link).arm!;
    const instance = (
      (await io.arm.call(requests.instance!, `reading managed instance ${io.link.mi.name}`)).json as {
        properties?: {
          fullyQualifiedDomainName?: string;
          collation?: string;
          state?: string;
          databaseFormat?: string;
        };
      }
    ).properties;
    const out: InstanceObservation = {
      ...(instance?.fullyQualifiedDomainName ? { fqdn: instance.fullyQualifiedDomainName } : {}),
      ...(instance?.collation ? { collation: instance.collation } : {}),
      ...(instance?.state ? { state: instance.state } : {}),
      ...(instance?.databaseFormat ? { databaseFormat: instance.databaseFormat } : {}),
    };
    if (requests.database) {
      const db = await io.arm.send(requests.database);
      if (db.status >= 400 && db.status !== 404)
        throw ArmError.fromResponse(
          db.status,
          db.json,
          `reading database ${io.request.database}`,
          requests.database,
        );
      out.databaseOnInstance = db.status !== 404;
    }
    return out;
  },
  needed: () => false,
  found: (o) => [`managed instance ${o.fqdn ?? '(no FQDN)'} ${o.state ?? ''}`.trim()],
});
