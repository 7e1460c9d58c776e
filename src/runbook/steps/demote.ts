import * as arm from '../../azure/arm-requests.js';
import * as sql from '../../sql/statements.js';
import { defineStep, report, type StepReport } from '../step.js';
import { readArmSide, readSqlSide } from './link-sides.js';

/**
 * demote-sqlserver: `ALTER AVAILABILITY GROUP [dag] SET (ROLE = SECONDARY)` on SQL Server, the split-brain fix of
 * "Troubleshoot issues with the link" (after its tail-log backup); SQL Server then gives up what it committed since
 * the split and follows the instance.
 */
export const demoteSqlServer = defineStep<{ role?: string }>({
  id: 'demote-sqlserver',
  scope: 'link',
  target: 'sqlserver',
  include: (l) => l.parameters.demote === 'SqlServer',
  title: (l) => `Demote SQL Server's side of ${l.names.link} to secondary`,
  render: (l) => ({ tsql: { demote: sql.setDistributedRoleSecondary(l.names.link) } }),
  async inspect(io) {
    const side = await readSqlSide(io);
    return side?.role ? { role: side.role } : {};
  },
  needed: (o) => o.role === 'PRIMARY',
  found: (o) => [`SQL Server's side is ${o.role ?? 'not primary'}`],
  async act(io) {
    const out = report(this.id);
    await io.run(this.render(io.link).tsql!.demote!);
    out.changed.push(`SQL Server's side of ${io.link.names.link} set to secondary`);
    return out;
  },
});

/**
 * demote-instance: `POST …/setRole {"instanceRole":"Secondary","roleChangeType":"Forced"}` (api-version 2025-01-01);
 * the documents are silent on demoting an instance that was the original primary — setRole is the API for it.
 */
export const demoteInstance = defineStep<{ role?: string }>({
  id: 'demote-instance',
  scope: 'link',
  target: 'azure',
  include: (l) => l.parameters.demote === 'ManagedInstance',
  title: (l) => `Demote ${l.mi.name}'s side of ${l.names.link} to secondary (setRole)`,
  render: (l) => ({ arm: { demote: arm.setLinkRole(l.mi, l.names.link, 'Secondary', 'Forced') } }),
  async inspect(io) {
    const side = await readArmSide(io);
    return side?.instanceRole ? { role: side.instanceRole } : {};
  },
  needed: (o) => o.role === 'Primary',
  found: (o) => [`the instance's side is ${o.role ?? 'not primary'}`],
  async act(io): Promise<StepReport & { operation?: string }> {
    const out = report(this.id);
    const started = await io.arm.start(
      this.render(io.link).arm!.demote!,
      `demoting ${io.link.mi.name} on link ${io.link.names.link}`,
    );
    out.changed.push(`asked ${io.link.mi.name} to take the secondary role on ${io.link.names.link}`);
    return started.status === 'running' && started.state ? { ...out, operation: started.state } : out;
  },
});
