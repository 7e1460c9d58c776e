/**
 * The runbook's steps done by hand against an estate, each through a real client: T-SQL batches through
 * mssql (passwords from Key Vault through @azure/keyvault-secrets), ARM requests through the
 * SqlManagementClient pipeline. Tests compose them, leaving steps out or getting them wrong on purpose.
 */
import sql from 'mssql';
import { createPipelineRequest } from '@azure/core-rest-pipeline';
import { SqlManagementClient } from '@azure/arm-sql';
import { SecretClient } from '@azure/keyvault-secrets';
import type { VirtualClock } from '../../../local/sim/clock.js';
import type { RunningEstate } from '../../../local/sim/estate/estate.js';
import { StaticToken } from '../azure/harness.js';
import { azureRoots } from './fixtures.js';

export interface ArmAnswer {
  status: number;
  body: any;
  headers: Record<string, string>;
}

export class ByHand {
  readonly arm: SqlManagementClient;
  readonly secrets: SecretClient;
  readonly fqdn: string;
  readonly miPath: string;
  private readonly pools = new Map<string, sql.ConnectionPool>();

  constructor(
    readonly estate: RunningEstate,
    readonly clock: VirtualClock,
    readonly instance = estate.connection.managedInstances[0],
  ) {
    const token = new StaticToken(estate.connection.arm.token);
    const ca = estate.connection.caCertPem;
    this.arm = new SqlManagementClient(token, instance?.subscriptionId ?? '', {
      endpoint: estate.connection.arm.endpoint,
      tlsOptions: { ca },
    });
    this.secrets = new SecretClient(estate.connection.keyVault.url, token, {
      tlsOptions: { ca },
      disableChallengeResourceVerification: true,
    });
    this.fqdn = instance?.fqdn ?? '';
    this.miPath = `/subscriptions/${instance?.subscriptionId}/resourceGroups/${instance?.resourceGroup}/providers/Microsoft.Sql/managedInstances/${instance?.name}`;
  }

  async close(): Promise<void> {
    for (const p of this.pools.values()) await p.close();
    this.pools.clear();
  }

  async raw(method: string, pathOrUrl: string, body?: unknown): Promise<ArmAnswer> {
    const url = pathOrUrl.startsWith('https://')
      ? pathOrUrl
      : `${this.estate.connection.arm.endpoint}${pathOrUrl}?api-version=2025-01-01`;
    const req = createPipelineRequest({
      url,
      method: method as 'GET',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (body !== undefined) req.headers.set('Content-Type', 'application/json');
    const res = await this.arm.sendRequest(req);
    return {
      status: res.status,
      body: res.bodyAsText ? JSON.parse(res.bodyAsText) : undefined,
      headers: res.headers.toJSON(),
    };
  }

  /** Polls an Azure-AsyncOperation URL, moving the virtual clock between polls, until it is terminal. */
  async finish(
    asyncUrl: string,
    stepMs = 5_000,
  ): Promise<{ status: string; error?: { code: string; message: string } }> {
    for (let i = 0; i < 200; i++) {
      const op = await this.raw('GET', asyncUrl);
      if (op.body.status !== 'InProgress') return op.body;
      this.clock.advance(stepMs);
    }
    throw new Error('operation never finished');
  }

  private async pool(serverName: string): Promise<sql.ConnectionPool> {
    let p = this.pools.get(serverName);
    if (!p) {
      const target = this.estate.connection.sqlServers.find((s) => s.serverName === serverName);
      const password = (await this.secrets.getSecret(`${serverName.toLowerCase()}-login`)).value ?? '';
      p = await new sql.ConnectionPool({
        server: target?.address ?? '',
        port: target?.port ?? 0,
        user: 'milink_admin',
        password,
        options: { encrypt: false, trustServerCertificate: true },
      }).connect();
      this.pools.set(serverName, p);
    }
    return p;
  }

  async run(serverName: string, batch: string): Promise<sql.IResult<any>> {
    return (await this.pool(serverName)).request().batch(batch);
  }

  async masterKey(server: string): Promise<void> {
    const masterKey = (await this.secrets.getSecret('master-key')).value ?? '';
    await this.run(
      server,
      `USE MASTER
IF NOT EXISTS (SELECT * FROM sys.symmetric_keys WHERE symmetric_key_id = 101)
BEGIN
    PRINT 'Creating master key.' + CHAR(13) + 'Keep the password confidential and in a secure place.'
    CREATE MASTER KEY ENCRYPTION BY PASSWORD = '${masterKey.replace(/'/g, "''")}'
END
ELSE
    PRINT 'Master key already exists.'`,
    );
  }

  /** The runbook's dynamic CREATE CERTIFICATE; returns the certificate's name and public key. */
  async sqlCertificate(server: string): Promise<{ name: string; der: Buffer }> {
    await this.run(
      server,
      `DECLARE @cert_expiry_date AS varchar(max)='03/30/2028'
DECLARE @sqlserver_certificate_name NVARCHAR(MAX) = N'Cert_' + @@servername  + N'_endpoint'
DECLARE @sqlserver_certificate_subject NVARCHAR(MAX) = N'Certificate for ' + @sqlserver_certificate_name
DECLARE @create_sqlserver_certificate_command NVARCHAR(MAX) = N'CREATE CERTIFICATE [' + @sqlserver_certificate_name + '] ' + char (13) +
'    WITH SUBJECT = ''' + @sqlserver_certificate_subject + ''',' + char (13) +
'    EXPIRY_DATE = '''+ @cert_expiry_date + ''''+ char (13)
IF NOT EXISTS (SELECT name from sys.certificates WHERE name = @sqlserver_certificate_name)
BEGIN
    PRINT (@create_sqlserver_certificate_command)
    EXEC sp_executesql @stmt = @create_sqlserver_certificate_command
END
ELSE
    PRINT 'Certificate ' + @sqlserver_certificate_name + ' already exists.'`,
    );
    const name = `Cert_${server}_endpoint`;
    const pk = await this.run(server, `SELECT CERTENCODED(CERT_ID(N'${name}')) AS SQLServerPublicKey`);
    return { name, der: pk.recordset[0].SQLServerPublicKey as Buffer };
  }

  async uploadToInstance(cert: { name: string; der: Buffer }): Promise<string> {
    const put = await this.raw('PUT', `${this.miPath}/serverTrustCertificates/${cert.name}`, {
      properties: { publicBlob: `0x${cert.der.toString('hex')}` },
    });
    if (put.status === 200) return 'Succeeded';
    if (put.status !== 202) throw new Error(`upload answered ${put.status}: ${JSON.stringify(put.body)}`);
    return (await this.finish(put.headers['azure-asyncoperation'] ?? '')).status;
  }

  async instanceCertificate(server: string): Promise<void> {
    const endpointCert = await this.raw('GET', `${this.miPath}/endpointCertificates/DATABASE_MIRRORING`);
    await this.run(
      server,
      `CREATE CERTIFICATE [${this.fqdn}]\nFROM BINARY = ${String(endpointCert.body.properties.publicBlob)}`,
    );
  }

  async roots(server: string): Promise<void> {
    const roots = azureRoots();
    for (const [name, der] of [
      ['MicrosoftPKI', roots.microsoft],
      ['DigiCertPKI', roots.digicert],
    ] as const) {
      await this.run(
        server,
        `IF NOT EXISTS (SELECT name FROM sys.certificates WHERE name = N'${name}')
BEGIN
    PRINT 'Creating ${name} certificate.'
    CREATE CERTIFICATE [${name}] FROM BINARY = 0x${der.toString('hex').toUpperCase()}
    DECLARE @CERTID int
    SELECT @CERTID = CERT_ID('${name}')
    EXEC sp_certificate_add_issuer @CERTID, N'*.database.windows.net'
END
ELSE
    PRINT 'Certificate ${name} already exists.'`,
      );
    }
  }

  async validateInstanceCertificate(server: string): Promise<void> {
    const id = await this.run(
      server,
      `SELECT name, subject, certificate_id, start_date, expiry_date FROM sys.certificates WHERE issuer_name LIKE '%Microsoft Corporation%' AND name = '${this.fqdn}'`,
    );
    await this.run(server, `EXEC sp_validate_certificate_ca_chain ${id.recordset[0].certificate_id}`);
  }

  async endpoint(server: string, port: number, certificateName: string): Promise<void> {
    await this.run(
      server,
      `CREATE ENDPOINT database_mirroring_endpoint
    STATE=STARTED
    AS TCP (LISTENER_PORT=${port}, LISTENER_IP = ALL)
    FOR DATABASE_MIRRORING (
        ROLE=ALL,
        AUTHENTICATION = CERTIFICATE [${certificateName}],
        ENCRYPTION = REQUIRED ALGORITHM AES
    )`,
    );
  }

  /** AG (SQL Server as initial primary) and DAG, as the runbook writes them. */
  async availabilityGroups(
    server: string,
    n: {
      database: string;
      ag: string;
      instanceAg: string;
      dag: string;
      address: string;
      port: number;
      instanceListener?: string;
    },
  ): Promise<void> {
    await this.run(
      server,
      `CREATE AVAILABILITY GROUP [${n.ag}]
WITH (CLUSTER_TYPE = NONE)
    FOR database [${n.database}]
    REPLICA ON
        N'${server}' WITH
            (
            ENDPOINT_URL = 'TCP://${n.address}:${n.port}',
            AVAILABILITY_MODE = SYNCHRONOUS_COMMIT,
            FAILOVER_MODE = MANUAL,
            SEEDING_MODE = AUTOMATIC
            );`,
    );
    await this.run(
      server,
      `CREATE AVAILABILITY GROUP [${n.dag}]
WITH (DISTRIBUTED)
    AVAILABILITY GROUP ON
    N'${n.ag}' WITH
    (
      LISTENER_URL = 'TCP://${n.address}:${n.port}',
      AVAILABILITY_MODE = ASYNCHRONOUS_COMMIT,
      FAILOVER_MODE = MANUAL,
      SEEDING_MODE = AUTOMATIC,
      SESSION_TIMEOUT = 20
    ),
    N'${n.instanceAg}' WITH
    (
      LISTENER_URL = '${n.instanceListener ?? `tcp://${this.fqdn}:5022;Server=[${this.instance?.name}]`}',
      AVAILABILITY_MODE = ASYNCHRONOUS_COMMIT,
      FAILOVER_MODE = MANUAL,
      SEEDING_MODE = AUTOMATIC
    );`,
    );
  }
}
