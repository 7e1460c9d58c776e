import { expect, it } from 'vitest';
import { linkContext } from '../../src/runbook/context.js';
import { createLink } from '../../src/runbook/operations/create-link.js';
import { buildPlan as buildOperationPlan } from '../../src/runbook/plan.js';
import type { EstateFacts } from '../../src/runbook/step.js';
import { parseLinkRequest, type LinkRequest } from '../../src/link/request.js';
import { ROOT_CERTIFICATES } from '../../src/sql/roots.js';
import * as sql from '../../src/sql/statements.js';

const buildPlan = (request: LinkRequest) => buildOperationPlan(createLink, request);
/** A step's rendered T-SQL batches by name (the step objects of createLink). */
function stepStatements(request: LinkRequest, facts: EstateFacts) {
  const l = linkContext(request, facts);
  const tsql = (id: string) => createLink.steps.find((st) => st.id === id)!.render(l).tsql ?? {};
  return {
    prepareDatabase: () => [tsql('prepare-database').recovery!, tsql('prepare-database').backup!],
    mirroringEndpoint: () => Object.values(tsql('mirroring-endpoint')),
    availabilityGroup: () => Object.values(tsql('availability-group')),
    distributedAvailabilityGroup: () => [tsql('distributed-availability-group').create!],
  };
}
import { describeWithReference, fill, hasReference, runbookSlice, runbookText } from '../helpers/runbook.js';
import { canonical, KEYWORDS, tokenize, type Token } from '../helpers/tsql-tokens.js';

/**
 * Every SQL Server statement milink generates is the runbook's statement: same tokens, with identifiers alike
 * bracketed or bare, literals alike with or without N, WITH (…) options in any order, and the values the
 * runbook leaves to the user (password, expiry date, backup file, public key, certificate id) as parameters.
 */
const now = new Date('2026-11-22T00:00:00Z');
const base = {
  sqlServer: {
    host: 'sqlbox1.contoso.local',
    serverName: 'SQLBOX1',
    endpointAddress: '10.0.0.4',
    endpointPort: 5022,
    login: 'milink_admin',
    loginSecret: 'sqlbox1-login',
    masterKeySecret: 'sqlbox1-master-key',
    version: 2022,
  },
  managedInstance: {
    subscriptionId: '00000000-0000-0000-0000-000000000001',
    resourceGroup: 'rg-data',
    name: 'mi-prod',
    fqdn: 'mi-prod.1a2b3c4d5e6f.database.windows.net',
  },
  database: 'SalesDb',
  certificateExpiry: '2027-11-30',
  backupPath: 'D:\\Backup\\',
};
const sqlPrimary: LinkRequest = parseLinkRequest({ ...base, initialPrimary: 'SqlServer' }, now);
const miPrimary: LinkRequest = parseLinkRequest({ ...base, initialPrimary: 'ManagedInstance' }, now);

const placeholders = {
  DatabaseName: 'SalesDb',
  DiskPath: '$(DiskPath)',
  strong_password: '$(MasterKeyPassword)',
  ManagedInstanceFQDN: 'mi-prod.1a2b3c4d5e6f.database.windows.net',
  ManagedInstanceName: 'mi-prod',
  PublicKey: '$(InstancePublicKey)',
  EndpointPort: '5022',
  SQL_SERVER_CERTIFICATE: 'Cert_SQLBOX1_endpoint',
  SQLServerCertName: 'Cert_SQLBOX1_endpoint',
  YourExistingEndpointName: 'hadr_endpoint',
  AGNameOnSQLServer: 'AG_SalesDb',
  AGNameOnSQLMI: 'AG_SalesDb_MI',
  SQLServerName: 'SQLBOX1',
  SQLServerIP: '10.0.0.4',
  DAGName: 'DAG1_SalesDb',
  AGName: 'AG_SalesDb',
  certificate_id: '$(CertificateId)',
};

/** Values the runbook leaves to the user, in either form. */
const parameterValues = new Set(['03/30/2025', '20271130', 'D:\\Backup\\milink_SalesDb_full.bak']);

function parametrise(tokens: Token[]): Token[] {
  return tokens.map((t) => {
    const isParam =
      t.kind === 'sqlcmd' ||
      (t.kind === 'string' && (t.value.includes('$(') || parameterValues.has(t.value))) ||
      (t.kind === 'variable' && t.value === '@certificate_id');
    return isParam ? { kind: 'word', value: 'PARAM', raw: 'PARAM' } : t;
  });
}

const statementStarters = new Set([
  'END',
  'ELSE',
  'PRINT',
  'DECLARE',
  'SELECT',
  'EXEC',
  'IF',
  'BEGIN',
  'GO',
  'USE',
]);

/** The statement that starts with `start` (words), up to its `;` or the next statement. */
function statementFrom(text: string, start: string): string[] {
  const tokens = parametrise(tokenize(text));
  const words = start.split(/\s+/).map((w) => w.toUpperCase());
  const at = tokens.findIndex((_, i) =>
    words.every((w, k) => {
      const t = tokens[i + k];
      return t !== undefined && (t.kind === 'word' ? t.value : t.raw.toUpperCase()) === w;
    }),
  );
  if (at < 0) throw new Error(`no statement starting ${start} in:\n${text}`);
  let depth = 0;
  let end = at + words.length;
  for (; end < tokens.length; end++) {
    const t = tokens[end]!;
    if (t.kind === 'symbol' && t.value === '(') depth++;
    if (t.kind === 'symbol' && t.value === ')') depth--;
    if (depth === 0 && t.kind === 'symbol' && t.value === ';') break;
    if (depth === 0 && t.kind === 'word' && statementStarters.has(t.value)) break;
  }
  return canonical(tokens.slice(at, end), KEYWORDS);
}

const runbook = hasReference ? runbookText() : '';
const rb = (start: string, end: string, after?: string) =>
  fill(runbookSlice(runbook, start, end, after), placeholders);

/** Evaluates the runbook's dynamic CREATE CERTIFICATE command (DECLAREs with string concatenation). */
function evaluateRunbookCertificateCommand(): string {
  const text = rb('DECLARE @cert_expiry_date', 'IF NOT EXISTS');
  const env = new Map<string, string>([['@@servername', 'SQLBOX1']]);
  for (const declaration of text.split(/\bDECLARE\b/).slice(1)) {
    const tokens = tokenize(declaration);
    const name = tokens[0]!.value;
    const eq = tokens.findIndex((t) => t.kind === 'symbol' && t.value === '=');
    let value = '';
    for (let i = eq + 1; i < tokens.length; i++) {
      const t = tokens[i]!;
      if (t.kind === 'string') value += t.value;
      else if (t.kind === 'variable') value += env.get(t.value) ?? '';
      else if (t.kind === 'word' && t.value === 'CHAR') {
        value += String.fromCharCode(Number(tokens[i + 2]!.value));
        i += 3;
      } else if (!(t.kind === 'symbol' && t.value === '+')) throw new Error(`cannot evaluate ${t.raw}`);
    }
    env.set(name, value);
  }
  return env.get('@create_sqlserver_certificate_command')!;
}

describeWithReference('milink generates the runbook statements (SQL Server as initial primary)', () => {
  const s = stepStatements(sqlPrimary, {});
  const plan = buildPlan(sqlPrimary);
  const batches = (id: string) => plan.steps.find((st) => st.id === id)!.tsql!.join('\nGO\n');

  it('recovery model and full backup', () => {
    expect(statementFrom(s.prepareDatabase()[0]!, 'ALTER DATABASE')).toEqual(
      statementFrom(rb('ALTER DATABASE [<DatabaseName>]', '\nGO'), 'ALTER DATABASE'),
    );
    expect(statementFrom(s.prepareDatabase()[1]!, 'BACKUP DATABASE')).toEqual(
      statementFrom(rb('BACKUP DATABASE [<DatabaseName>]', '\nGO'), 'BACKUP DATABASE'),
    );
  });

  it('master key', () => {
    expect(statementFrom(batches('master-key'), 'CREATE MASTER KEY')).toEqual(
      statementFrom(rb('CREATE MASTER KEY', '\nEND'), 'CREATE MASTER KEY'),
    );
  });

  it('SQL Server certificate (the runbook builds it dynamically; its command is evaluated here)', () => {
    const runbookCommand = evaluateRunbookCertificateCommand();
    expect(runbookCommand).toContain('CREATE CERTIFICATE [Cert_SQLBOX1_endpoint]');
    expect(statementFrom(batches('sqlserver-certificate'), 'CREATE CERTIFICATE')).toEqual(
      statementFrom(runbookCommand, 'CREATE CERTIFICATE'),
    );
  });

  it('instance certificate under the FQDN, roots with their issuer, chain validation', () => {
    expect(statementFrom(batches('import-instance-certificate'), 'CREATE CERTIFICATE')).toEqual(
      statementFrom(rb('CREATE CERTIFICATE [<ManagedInstanceFQDN>]', '\n--'), 'CREATE CERTIFICATE'),
    );
    for (const root of ROOT_CERTIFICATES) {
      const ours = sql.importRootCertificate(root);
      const theirs = rb(
        `IF NOT EXISTS (SELECT name FROM sys.certificates WHERE name = N'${root.name}')`,
        '\nGO',
      );
      for (const start of ['CREATE CERTIFICATE', 'SELECT @CERTID', 'EXEC sp_certificate_add_issuer']) {
        expect(statementFrom(ours, start), `${root.name}: ${start}`).toEqual(statementFrom(theirs, start));
      }
    }
    expect(
      statementFrom(batches('validate-instance-certificate'), 'EXEC sp_validate_certificate_ca_chain'),
    ).toEqual(
      statementFrom(
        rb('EXEC sp_validate_certificate_ca_chain', '\nGO'),
        'EXEC sp_validate_certificate_ca_chain',
      ),
    );
    expect(statementFrom(sql.dropCertificate(sqlPrimary.managedInstance.fqdn!), 'DROP CERTIFICATE')).toEqual(
      statementFrom(rb('DROP CERTIFICATE [<ManagedInstanceFQDN>]', '\nGO'), 'DROP CERTIFICATE'),
    );
  });

  it('mirroring endpoint: create, and alter of an existing one', () => {
    expect(statementFrom(batches('mirroring-endpoint'), 'CREATE ENDPOINT')).toEqual(
      statementFrom(rb('CREATE ENDPOINT database_mirroring_endpoint', '\nGO'), 'CREATE ENDPOINT'),
    );
    const altered = stepStatements(sqlPrimary, {
      endpoint: {
        name: 'hadr_endpoint',
        port: 5022,
        certificateName: null,
        windowsAuth: 'NEGOTIATE',
        algorithms: ['AES'],
        encryptionRequiredOrSupported: true,
        started: true,
      },
    }).mirroringEndpoint();
    expect(altered).toHaveLength(1);
    expect(statementFrom(altered[0]!, 'ALTER ENDPOINT')).toEqual(
      statementFrom(rb('ALTER ENDPOINT [<YourExistingEndpointName>]', '\nGO'), 'ALTER ENDPOINT'),
    );
  });

  it('availability group and distributed availability group', () => {
    expect(statementFrom(batches('availability-group'), 'CREATE AVAILABILITY GROUP')).toEqual(
      statementFrom(
        rb('CREATE AVAILABILITY GROUP [<AGNameOnSQLServer>]', '\nGO'),
        'CREATE AVAILABILITY GROUP',
      ),
    );
    expect(statementFrom(batches('distributed-availability-group'), 'CREATE AVAILABILITY GROUP')).toEqual(
      statementFrom(rb('CREATE AVAILABILITY GROUP [<DAGName>]', '\nGO'), 'CREATE AVAILABILITY GROUP'),
    );
  });

  it('SQL Server 2016: the availability group without CLUSTER_TYPE', () => {
    const r2016 = parseLinkRequest(
      { ...base, sqlServer: { ...base.sqlServer, version: 2016 }, initialPrimary: 'SqlServer' },
      now,
    );
    const ours = stepStatements(r2016, {}).availabilityGroup()[0]!;
    const theirs = rb('CREATE AVAILABILITY GROUP [<AGNameOnSQLServer>]', '\nGO')
      .split('\n')
      .filter((line) => !line.includes('CLUSTER_TYPE'))
      .join('\n');
    expect(ours).not.toContain('CLUSTER_TYPE');
    expect(statementFrom(ours, 'CREATE AVAILABILITY GROUP')).toEqual(
      statementFrom(theirs, 'CREATE AVAILABILITY GROUP'),
    );
  });

  it('drop the distributed availability group and the availability group', () => {
    expect(statementFrom(sql.dropAvailabilityGroup('DAG1_SalesDb'), 'DROP AVAILABILITY GROUP')).toEqual(
      statementFrom(rb('DROP AVAILABILITY GROUP <DAGName>', '\nGO'), 'DROP AVAILABILITY GROUP'),
    );
    expect(statementFrom(sql.dropAvailabilityGroup('AG_SalesDb'), 'DROP AVAILABILITY GROUP')).toEqual(
      statementFrom(rb('DROP AVAILABILITY GROUP <AGName>', '\nGO'), 'DROP AVAILABILITY GROUP'),
    );
  });
});

describeWithReference('milink generates the runbook statements (managed instance as initial primary)', () => {
  const s = stepStatements(miPrimary, {});
  const after = 'If SQL Managed Instance is your initial primary, create the availability group';

  it('availability group without a database, with GRANT CREATE ANY DATABASE', () => {
    const [ag, grant] = s.availabilityGroup();
    expect(statementFrom(ag!, 'CREATE AVAILABILITY GROUP')).toEqual(
      statementFrom(
        rb('CREATE AVAILABILITY GROUP [<AGNameOnSQLServer>]', '\nGO', after),
        'CREATE AVAILABILITY GROUP',
      ),
    );
    expect(statementFrom(grant!, 'ALTER AVAILABILITY GROUP')).toEqual(
      statementFrom(
        rb('ALTER AVAILABILITY GROUP [<AGNameOnSQLServer>] GRANT', '\n', after),
        'ALTER AVAILABILITY GROUP',
      ),
    );
  });

  it('distributed availability group naming the database in the instance listener URL', () => {
    const ours = s.distributedAvailabilityGroup()[0]!;
    const theirs = rb(
      'CREATE AVAILABILITY GROUP [<DAGName>]',
      '\nGO',
      'Next, create the distributed availability groupon SQL Server',
    );
    expect(theirs).toContain('Database=[SalesDb]');
    expect(statementFrom(ours, 'CREATE AVAILABILITY GROUP')).toEqual(
      statementFrom(theirs, 'CREATE AVAILABILITY GROUP'),
    );
  });

  it('no database preparation, no first log backup', () => {
    const ids = buildPlan(miPrimary).steps.map((st) => st.id);
    expect(ids).not.toContain('prepare-database');
    expect(ids).not.toContain('first-log-backup');
  });
});

describeWithReference('the comparison itself can fail', () => {
  it('a changed option value is noticed', () => {
    const ours = sql.createEndpoint(5023, 'Cert_SQLBOX1_endpoint');
    expect(statementFrom(ours, 'CREATE ENDPOINT')).not.toEqual(
      statementFrom(rb('CREATE ENDPOINT database_mirroring_endpoint', '\nGO'), 'CREATE ENDPOINT'),
    );
  });
  it('a missing option is noticed', () => {
    const ours = sql
      .createDistributedAvailabilityGroup({
        name: 'DAG1_SalesDb',
        availabilityGroup: 'AG_SalesDb',
        instanceAvailabilityGroup: 'AG_SalesDb_MI',
        sqlServerListenerUrl: 'TCP://10.0.0.4:5022',
        instanceFqdn: 'mi-prod.1a2b3c4d5e6f.database.windows.net',
        instanceName: 'mi-prod',
        database: null,
      })
      .replace('      SESSION_TIMEOUT = 20\n', '')
      .replace('SEEDING_MODE = AUTOMATIC,\n    ),', 'SEEDING_MODE = AUTOMATIC\n    ),');
    expect(statementFrom(ours, 'CREATE AVAILABILITY GROUP')).not.toEqual(
      statementFrom(rb('CREATE AVAILABILITY GROUP [<DAGName>]', '\nGO'), 'CREATE AVAILABILITY GROUP'),
    );
  });
});
