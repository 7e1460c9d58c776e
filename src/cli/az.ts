/**
 * `az sql mi link`'s names where they mean what milink's do: the flags `milink create` and `milink plan` take on
 * top of a request file (as `az sql mi link create` spells them), each mapped to the link request field it sets.
 * docs/operations.md lists them side by side with the ARM properties.
 */

export interface AzFlag {
  /** The flag as az writes it, and its short forms. */
  flags: string[];
  /** The ARM property (or path segment) it stands for. */
  arm: string;
  /** The link request field it sets. */
  field: string;
  apply(request: Record<string, any>, value: string): void;
}

function at(request: Record<string, any>, key: string): Record<string, any> {
  const value = request[key];
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value;
  return (request[key] = {});
}

export class AzFlagError extends Error {}

export const AZ_FLAGS: AzFlag[] = [
  {
    flags: ['--instance-name', '--mi'],
    arm: 'managedInstances/{managedInstanceName}',
    field: 'managedInstance.name',
    apply: (r, v) => void (at(r, 'managedInstance').name = v),
  },
  {
    flags: ['--resource-group', '-g'],
    arm: 'resourceGroups/{resourceGroupName}',
    field: 'managedInstance.resourceGroup',
    apply: (r, v) => void (at(r, 'managedInstance').resourceGroup = v),
  },
  {
    flags: ['--subscription'],
    arm: 'subscriptions/{subscriptionId}',
    field: 'managedInstance.subscriptionId',
    apply: (r, v) => void (at(r, 'managedInstance').subscriptionId = v),
  },
  {
    flags: ['--name', '-n'],
    arm: 'distributedAvailabilityGroups/{name} (distributedAvailabilityGroupName)',
    field: 'names.link',
    apply: (r, v) => void (at(r, 'names').link = v),
  },
  {
    flags: ['--partner-ag-name'],
    arm: 'partnerAvailabilityGroupName',
    field: 'names.availabilityGroup',
    apply: (r, v) => void (at(r, 'names').availabilityGroup = v),
  },
  {
    flags: ['--instance-ag-name'],
    arm: 'instanceAvailabilityGroupName',
    field: 'names.instanceAvailabilityGroup',
    apply: (r, v) => void (at(r, 'names').instanceAvailabilityGroup = v),
  },
  {
    flags: ['--databases'],
    arm: 'databases[].databaseName',
    field: 'database',
    // one database: milink makes one link per database
    apply: (r, v) => void (r.database = v),
  },
  {
    flags: ['--partner-endpoint'],
    arm: 'partnerEndpoint',
    field: 'sqlServer.endpointAddress, sqlServer.endpointPort',
    apply: (r, v) => {
      const m = /^(?:tcp:\/\/)?(\[[^\]]+\]|[^:/]+):(\d{1,5})\/?$/i.exec(v);
      if (!m) throw new AzFlagError(`--partner-endpoint must be TCP://<address>:<port>, not ${v}`);
      const sql = at(r, 'sqlServer');
      sql.endpointAddress = m[1]!.replace(/^\[|\]$/g, '');
      sql.endpointPort = Number(m[2]);
    },
  },
  {
    flags: ['--failover-mode'],
    arm: 'failoverMode',
    field: 'failoverMode',
    apply: (r, v) => void (r.failoverMode = v),
  },
  {
    flags: ['--instance-link-role'],
    arm: 'instanceLinkRole',
    field: 'initialPrimary (Secondary: SqlServer, Primary: ManagedInstance)',
    apply: (r, v) => {
      const role = v.toLowerCase();
      if (role !== 'primary' && role !== 'secondary')
        throw new AzFlagError('--instance-link-role must be Primary or Secondary');
      r.initialPrimary = role === 'primary' ? 'ManagedInstance' : 'SqlServer';
    },
  },
];

/** parseArgs options for the az flags (all strings; short forms where az has them). */
export function azOptions(): Record<string, { type: 'string'; short?: string }> {
  const options: Record<string, { type: 'string'; short?: string }> = {};
  for (const f of AZ_FLAGS) {
    const [long, ...rest] = f.flags;
    const short = rest.find((x) => /^-[a-z]$/.test(x));
    options[long!.slice(2)] = { type: 'string', ...(short ? { short: short.slice(1) } : {}) };
    for (const alias of rest.filter((x) => x.startsWith('--'))) options[alias.slice(2)] = { type: 'string' };
  }
  return options;
}

/** Applies the az flags given (parsed values by long name) to a request; throws AzFlagError on a bad value. */
export function applyAzFlags(request: Record<string, unknown>, values: Record<string, unknown>): string[] {
  const applied: string[] = [];
  for (const f of AZ_FLAGS) {
    const given = f.flags
      .filter((x) => x.startsWith('--'))
      .map((x) => values[x.slice(2)])
      .filter((v): v is string => typeof v === 'string');
    if (given.length > 1) throw new AzFlagError(`give ${f.flags.join(' or ')} once`);
    if (given.length === 1) {
      f.apply(request, given[0]!);
      applied.push(f.field);
    }
  }
  return applied;
}
