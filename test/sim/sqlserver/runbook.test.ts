/**
 * The fidelity test: every SQL Server–side T-SQL block of the runbook, taken from the runbook file itself,
 * runs unmodified (placeholders filled; values read from earlier results where the runbook says so)
 * through `mssql`, split at GO, and leaves the catalog as SQL Server would.
 */
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeCertificate, type DistributedAgCommand } from '../../../local/sim/sqlserver/index.js';
import { errorOf, standIn, type StandIn } from './helpers.js';
import { describeWithReference, hasReference, itWithReference } from '../../helpers/runbook.js';
import { fill, splitGo, tsqlBlocks } from './runbook-blocks.js';

const blocks = hasReference ? tsqlBlocks() : [];
/** The one block whose text contains all the given fragments (fails loudly when the runbook changes). */
function block(...fragments: string[]): string {
  const hits = blocks.filter((b) => fragments.every((f) => b.includes(f)));
  if (hits.length === 0) throw new Error(`no runbook block contains ${fragments.join(' + ')}`);
  return hits[0]!;
}

const FQDN = 'mi-prod.1a2b3c4d5e6f.database.windows.net';
const MI_ISSUER = 'CN=Microsoft Azure RSA TLS Issuing CA 08, O=Microsoft Corporation, C=US';
const START = '2024-10-09T08:00:00Z';

/** A certificate like the managed instance's endpoint certificate. */
function instanceCertificate(notBefore = new Date(START)): Buffer {
  return makeCertificate({
    subject: `CN=${FQDN}`,
    issuer: MI_ISSUER,
    notBefore: new Date(notBefore.getTime() - 86_400_000),
    notAfter: new Date(notBefore.getTime() + 365 * 86_400_000),
  }).der;
}

const values: Record<string, string> = {
  DatabaseName: 'SalesDb',
  DiskPath: 'C:\\Backup\\SalesDb.bak',
  strong_password: 'Str0ng!Master#Key',
  ManagedInstanceFQDN: FQDN,
  ManagedInstanceName: 'mi-prod',
  EndpointPort: '5022',
  AGNameOnSQLServer: 'AG_SalesDb',
  AGNameOnSQLMI: 'AG_SalesDb_MI',
  DAGName: 'DAG1_SalesDb',
  AGName: 'AG_SalesDb',
  SQLServerIP: '10.0.0.4',
  YourExistingEndpointName: 'Hadr_endpoint',
};

itWithReference('finds every T-SQL block of the runbook (30, each once)', () => {
  expect(blocks).toHaveLength(30);
  expect(blocks.some((b) => b.includes('sp_get_endpoint_certificate'))).toBe(false);
});

describeWithReference('SQL Server 2022, SQL Server as initial primary: the runbook end to end', () => {
  let s: StandIn;
  const dagCommands: DistributedAgCommand['kind'][] = [];
  const run = (b: string) => s.script(fill(b, values));

  beforeAll(async () => {
    s = await standIn(
      { serverName: 'SQLSRV01', databases: [{ name: 'SalesDb', recoveryModel: 'SIMPLE' }] },
      { start: START, hooks: { onDistributedAgCommand: (c) => dagCommands.push(c.kind) } },
    );
  });
  afterAll(() => s?.close());

  it('sets FULL recovery and takes the first full backup', async () => {
    await run(block('SET RECOVERY FULL', 'BACKUP DATABASE'));
    const db = await s.batch(
      "SELECT recovery_model_desc FROM sys.databases WHERE name = 'SalesDb'; SELECT type, is_copy_only FROM msdb.dbo.backupset WHERE database_name = 'SalesDb'",
    );
    expect(db.recordsets[0]).toEqual([{ recovery_model_desc: 'FULL' }]);
    expect(db.recordsets[1]).toEqual([{ type: 'D', is_copy_only: false }]);
  });

  it('creates the master key once; the guard prints on the second run', async () => {
    const masterKey = block('CREATE MASTER KEY');
    const [first] = await run(masterKey);
    expect(first!.messages.map((m) => m.message)).toContain(
      'Creating master key.\rKeep the password confidential and in a secure place.',
    );
    const keys = await s.batch(
      'SELECT name, symmetric_key_id FROM sys.symmetric_keys WHERE symmetric_key_id = 101',
    );
    expect(keys.recordsets[0]).toEqual([{ name: '##MS_DatabaseMasterKey##', symmetric_key_id: 101 }]);
    const [second] = await run(masterKey);
    expect(second!.messages.map((m) => m.message)).toContain('Master key already exists.');
    // the bare statement, repeated, fails as on SQL Server
    const err = await errorOf(s.batch("CREATE MASTER KEY ENCRYPTION BY PASSWORD = 'Str0ng!Master#Key'"));
    expect(err.number).toBe(15578);
  });

  it('creates the SQL Server certificate through sp_executesql, encrypted by the master key', async () => {
    const create = block('@create_sqlserver_certificate_command');
    const [res] = await run(create);
    expect(
      res!.messages.some((m) => m.message.startsWith('CREATE CERTIFICATE [Cert_SQLSRV01_endpoint]')),
    ).toBe(true);
    const [, mk] = await run(block("pvt_key_encryption_type = 'MK'"));
    expect(mk!.recordsets[0]).toHaveLength(1);
    const row = mk!.recordsets[0]![0]!;
    expect(row.name).toBe('Cert_SQLSRV01_endpoint');
    expect(row.subject).toBe('Certificate for Cert_SQLSRV01_endpoint');
    expect(row.pvt_key_encryption_type_desc).toBe('ENCRYPTED_BY_MASTER_KEY');
    expect((row.expiry_date as Date).toISOString()).toBe('2025-03-30T00:00:00.000Z');
    // second run: the IF NOT EXISTS guard; the bare CREATE fails with 15232
    const [again] = await run(create);
    expect(again!.messages.map((m) => m.message)).toContain(
      'Certificate Cert_SQLSRV01_endpoint already exists.',
    );
    const err = await errorOf(
      s.batch("CREATE CERTIFICATE [Cert_SQLSRV01_endpoint] WITH SUBJECT = 'x', EXPIRY_DATE = '03/30/2025'"),
    );
    expect(err.number).toBe(15232);
  });

  it('shows the certificate name and its public key (real X.509 DER)', async () => {
    const [, res] = await run(block('@PUBLICKEYENC'));
    expect(res!.recordsets[0]).toEqual([{ SQLServerCertName: 'Cert_SQLSRV01_endpoint' }]);
    const der = res!.recordsets[1]![0]!.SQLServerPublicKey as Buffer;
    const x = new X509Certificate(der);
    expect(x.subject).toBe('CN=Certificate for Cert_SQLSRV01_endpoint');
    expect(x.verify(x.publicKey)).toBe(true);
  });

  it('imports the instance certificate and the two Azure root authorities', async () => {
    values.PublicKey = '0x' + instanceCertificate().toString('hex').toUpperCase();
    await run(block('FROM BINARY = <PublicKey>'));
    const [ms] = await run(block("N'MicrosoftPKI'"));
    expect(ms!.messages.map((m) => m.message)).toContain('Creating MicrosoftPKI certificate.');
    await run(block("N'DigiCertPKI'"));
    const [all] = await run(blocks.find((b) => b.trim().endsWith('SELECT * FROM sys.certificates'))!);
    const rows = all!.recordsets[0]!;
    expect(rows.map((r) => r.name)).toEqual(['Cert_SQLSRV01_endpoint', FQDN, 'MicrosoftPKI', 'DigiCertPKI']);
    const byName = Object.fromEntries(rows.map((r) => [r.name as string, r]));
    expect(byName.MicrosoftPKI!.subject).toBe(
      'CN=Microsoft RSA Root Certificate Authority 2017, O=Microsoft Corporation, C=US',
    );
    expect(byName.DigiCertPKI!.subject).toBe(
      'CN=DigiCert Global Root G2, OU=www.digicert.com, O=DigiCert Inc, C=US',
    );
    expect(byName[FQDN]!.pvt_key_encryption_type).toBe('NA');
    expect(s.server.state.certificates.find((c) => c.name === 'MicrosoftPKI')!.issuerRegistrations).toEqual([
      '*.database.windows.net',
    ]);
    // re-importing the same blob fails
    const err = await errorOf(s.batch(`CREATE CERTIFICATE [again] FROM BINARY = ${values.PublicKey}`));
    expect(err.number).toBe(15232);
  });

  it('finds the instance certificate id and validates its chain', async () => {
    const [, found] = await run(block("issuer_name LIKE '%Microsoft Corporation%'"));
    expect(found!.recordsets[0]).toHaveLength(1);
    const row = found!.recordsets[0]![0]!;
    expect(row.subject).toBe(FQDN);
    values.certificate_id = String(row.certificate_id);
    const validated = await run(block('sp_validate_certificate_ca_chain'));
    expect(validated.length).toBe(2);
  });

  it('has no mirroring endpoint yet, then creates it with the certificate', async () => {
    const [none] = await run(block("WHERE type_desc = 'DATABASE_MIRRORING'"));
    expect(none!.recordsets[0]).toEqual([]);
    const [, named] = await run(
      block("SELECT @sqlserver_certificate_name as 'SQLServerCertName'\n", 'Show the name'),
    );
    values.SQL_SERVER_CERTIFICATE = named!.recordsets[0]![0]!.SQLServerCertName as string;
    await run(block('CREATE ENDPOINT database_mirroring_endpoint'));
    const [view] = await run(blocks.find((b) => b.includes('connection_auth_desc, is_encryption_enabled'))!);
    expect(view!.recordsets[0]).toEqual([
      {
        name: 'database_mirroring_endpoint',
        type_desc: 'DATABASE_MIRRORING',
        state_desc: 'STARTED',
        role_desc: 'ALL',
        connection_auth_desc: 'CERTIFICATE',
        is_encryption_enabled: true,
        encryption_algorithm_desc: 'AES',
      },
    ]);
    const err = await errorOf(run(block('CREATE ENDPOINT database_mirroring_endpoint')));
    expect(err.number).toBe(7862);
  });

  it('creates the availability group and the distributed availability group', async () => {
    const [name] = await run(block('SELECT @@SERVERNAME AS SQLServerName'));
    values.SQLServerName = name!.recordsets[0]![0]!.SQLServerName as string;
    expect(values.SQLServerName).toBe('SQLSRV01');
    const ag = block('Create the primary availability group');
    await run(ag);
    const dag = block('WITH (DISTRIBUTED)', "Server=[<ManagedInstanceName>]',");
    await run(dag);
    const [groups] = await run(block('SELECT * FROM sys.availability_groups'));
    expect(groups!.recordsets[0]!.map((g) => [g.name, g.is_distributed, g.cluster_type_desc])).toEqual([
      ['AG_SalesDb', false, 'none'],
      ['DAG1_SalesDb', true, 'none'],
    ]);
    const [replicas] = await run(block('rs.connected_state_desc AS [Connected state]'));
    expect(replicas!.recordsets[0]!.map((r) => [r.Replica, r.Endpoint, r['Connected state']])).toEqual([
      ['SQLSRV01', 'TCP://10.0.0.4:5022', 'CONNECTED'],
      ['AG_SalesDb', 'TCP://10.0.0.4:5022', 'CONNECTED'],
      ['AG_SalesDb_MI', `tcp://${FQDN}:5022;Server=[mi-prod]`, 'DISCONNECTED'],
    ]);
    const dbStates = await s.batch(
      "SELECT d.name, rs.is_primary_replica, rs.synchronization_state_desc FROM sys.dm_hadr_database_replica_states rs JOIN sys.databases d ON d.database_id = rs.database_id JOIN sys.availability_groups g ON g.group_id = rs.group_id WHERE g.name = 'AG_SalesDb'",
    );
    expect(dbStates.recordsets[0]).toEqual([
      { name: 'SalesDb', is_primary_replica: true, synchronization_state_desc: 'SYNCHRONIZED' },
    ]);
    // re-creating either fails with 41042
    expect((await errorOf(run(ag))).number).toBe(41042);
    expect((await errorOf(run(dag))).number).toBe(41042);
  });

  it('drops the distributed availability group (the estate is told), then the availability group', async () => {
    await run(block('DROP AVAILABILITY GROUP <DAGName>'));
    expect(dagCommands).toEqual(['DROP']);
    await run(block('DROP AVAILABILITY GROUP <AGName>'));
    const left = await s.batch('SELECT COUNT(*) AS n FROM sys.availability_groups');
    expect(left.recordsets[0]).toEqual([{ n: 0 }]);
    expect((await errorOf(run(block('DROP AVAILABILITY GROUP <AGName>')))).number).toBe(15151);
  });

  it('drops the instance certificate (the re-import path) and the drop is final', async () => {
    await run(block('DROP CERTIFICATE [<ManagedInstanceFQDN>]'));
    const left = await s.batch(`SELECT COUNT(*) AS n FROM sys.certificates WHERE name = N'${FQDN}'`);
    expect(left.recordsets[0]).toEqual([{ n: 0 }]);
    expect((await errorOf(run(block('DROP CERTIFICATE [<ManagedInstanceFQDN>]')))).number).toBe(15151);
  });
});

describeWithReference('SQL Server 2022, managed instance as initial primary', () => {
  let s: StandIn;
  beforeAll(async () => {
    s = await standIn({ serverName: 'SQLSRV02' }, { start: START });
  });
  afterAll(() => s?.close());

  it('creates an empty AG, grants CREATE ANY DATABASE and creates the DAG', async () => {
    const v = { ...values };
    const run = (b: string) => s.script(fill(b, v));
    await run(block('CREATE MASTER KEY'));
    await run(block('@create_sqlserver_certificate_command'));
    const [, named] = await run(
      block("SELECT @sqlserver_certificate_name as 'SQLServerCertName'\n", 'Show the name'),
    );
    v.SQL_SERVER_CERTIFICATE = named!.recordsets[0]![0]!.SQLServerCertName as string;
    await run(block('CREATE ENDPOINT database_mirroring_endpoint'));
    const [name] = await run(blocks.filter((b) => b.includes('SELECT @@SERVERNAME AS SQLServerName'))[1]!);
    v.SQLServerName = name!.recordsets[0]![0]!.SQLServerName as string;
    await run(
      block(
        'CREATE AVAILABILITY GROUP [<AGNameOnSQLServer>] \nWITH (CLUSTER_TYPE = NONE) \nFOR  \nREPLICA ON',
      ),
    );
    await run(block('GRANT CREATE ANY DATABASE'));
    await run(block('WITH (DISTRIBUTED)', 'Database=[<DatabaseName>]'));
    const ag = s.server.state.availabilityGroups.find((g) => g.name === 'AG_SalesDb')!;
    expect(ag.databases).toEqual([]);
    expect(ag.createAnyDatabaseGranted).toBe(true);
    const dag = s.server.state.availabilityGroups.find((g) => g.name === 'DAG1_SalesDb')!;
    expect(dag.replicas.map((r) => [r.replicaServerName, r.isLocal, r.connectedState])).toEqual([
      ['AG_SalesDb', true, 'CONNECTED'],
      ['AG_SalesDb_MI', false, 'DISCONNECTED'],
    ]);
    expect(dag.replicas[1]!.endpointUrl).toBe(`tcp://${FQDN}:5022;Server=[mi-prod];Database=[SalesDb]`);
  });
});

describeWithReference(
  'an existing endpoint with Windows authentication is altered to add the certificate',
  () => {
    let s: StandIn;
    beforeAll(async () => {
      s = await standIn(
        {
          serverName: 'SQLSRV03',
          endpoint: { name: 'Hadr_endpoint', port: 5022, windowsAuth: 'NEGOTIATE', algorithms: ['RC4'] },
        },
        { start: START },
      );
    });
    afterAll(() => s?.close());

    it('runs the ALTER ENDPOINT block and the view shows NEGOTIATE, CERTIFICATE with AES', async () => {
      const v = { ...values };
      const run = (b: string) => s.script(fill(b, v));
      const viewBlock = blocks.filter((b) => b.includes('role_desc, connection_auth_desc,'))[0]!;
      const [before] = await run(viewBlock);
      expect(before!.recordsets[0]![0]).toMatchObject({
        connection_auth_desc: 'NEGOTIATE',
        encryption_algorithm_desc: 'RC4',
      });
      await run(block('CREATE MASTER KEY'));
      await run(block('@create_sqlserver_certificate_command'));
      v.SQLServerCertName = 'Cert_SQLSRV03_endpoint';
      await run(block('ALTER ENDPOINT [<YourExistingEndpointName>]'));
      const [after] = await run(blocks.filter((b) => b.includes('role_desc, connection_auth_desc,'))[1]!);
      expect(after!.recordsets[0]).toEqual([
        {
          name: 'Hadr_endpoint',
          type_desc: 'DATABASE_MIRRORING',
          state_desc: 'STARTED',
          role_desc: 'ALL',
          connection_auth_desc: 'NEGOTIATE, CERTIFICATE',
          is_encryption_enabled: true,
          encryption_algorithm_desc: 'AES',
        },
      ]);
      // a second mirroring endpoint is refused
      const err = await errorOf(
        s.batch(
          fill(block('CREATE ENDPOINT database_mirroring_endpoint'), {
            ...v,
            SQL_SERVER_CERTIFICATE: 'Cert_SQLSRV03_endpoint',
          }).replace(/^GO$/m, ''),
        ),
      );
      expect(err.number).toBe(7862);
    });
  },
);

describeWithReference(
  'SQL Server 2016: the AG block needs its CLUSTER_TYPE line deleted, as the runbook says',
  () => {
    let s: StandIn;
    beforeAll(async () => {
      s = await standIn(
        { serverName: 'SQL2016', version: 2016, databases: [{ name: 'SalesDb', fullBackup: true }] },
        { start: START },
      );
    });
    afterAll(() => s?.close());

    it('fails with 102 as written and succeeds without the line', async () => {
      const ag = fill(block('Create the primary availability group'), {
        ...values,
        SQLServerName: 'SQL2016',
      });
      const err = await errorOf(s.script(ag));
      expect(err.number).toBe(102);
      expect(err.message).toBe("Incorrect syntax near 'CLUSTER_TYPE'.");
      expect(s.server.state.availabilityGroups).toEqual([]);
      await s.script(ag.replace(/^WITH \(CLUSTER_TYPE = NONE\).*$/m, ''));
      expect(s.server.state.availabilityGroups.map((g) => [g.name, g.clusterType])).toEqual([
        ['AG_SalesDb', 'WSFC'],
      ]);
    });
  },
);

it('splits runbook blocks at GO lines only', () => {
  expect(splitGo('USE MASTER\nGO\n\nSELECT 1\nGO')).toEqual(['USE MASTER', '\nSELECT 1']);
});
