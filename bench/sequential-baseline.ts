/**
 * The baseline the benchmarks compare milink with: the runbook done database by database by a plain script,
 * through the same drivers (mssql for the T-SQL, ARM through @azure/arm-sql's pipeline via milink's `ArmClient`,
 * Key Vault through @azure/keyvault-secrets). It reuses milink's statement and request builders (the same T-SQL and
 * ARM bodies, already guarded) but none of milink's orchestration: each database's runbook runs from its first
 * batch to a healthy link before the next starts, waiting with a fixed sleep between looks as a script would.
 *
 * Time is the estate's virtual clock: the script's sleeps move it (nothing else does while it runs).
 */
import sql from 'mssql';
import { SecretClient } from '@azure/keyvault-secrets';
import type { AccessToken, TokenCredential } from '@azure/identity';
import type { VirtualClock } from '../local/sim/clock.js';
import type { EstateConnection } from '../local/sim/estate/estate.js';
import * as arm from '../src/azure/arm-requests.js';
import { ArmClient } from '../src/azure/clients.js';
import { ROOT_CERTIFICATES } from '../src/sql/roots.js';
import { fillVariables } from '../src/sql/quote.js';
import * as statements from '../src/sql/statements.js';

export interface BaselineTarget {
  connection: EstateConnection;
  clock: VirtualClock;
  /** The SQL Server as the connection file names it (host) and the login the script uses. */
  sqlHost: string;
  login: string;
  loginSecret: string;
  masterKeySecret: string;
  instance: arm.InstanceRef;
  endpointPort: number;
  backupPath: string;
  certificateExpiry: string;
  /** The script's sleep between two looks at a link (simulated seconds). */
  lookSeconds: number;
}

export interface BaselineLink {
  database: string;
  /** Simulated times: the database's first batch, the link's PUT, the look that saw it healthy. */
  startedAt: Date;
  putAt: Date;
  healthyAt: Date;
  looks: number;
}

class StaticToken implements TokenCredential {
  constructor(private readonly token: string) {}
  async getToken(): Promise<AccessToken> {
    return { token: this.token, expiresOnTimestamp: Date.now() + 3_600_000 };
  }
}

/** The script's clients: made once per run, as a script would make them at its top. */
export class SequentialRunbook {
  private readonly arm: ArmClient;
  private readonly secrets: SecretClient;
  constructor(private readonly t: BaselineTarget) {
    const token = new StaticToken(t.connection.arm.token);
    this.arm = new ArmClient(
      token,
      t.connection.arm.endpoint,
      t.connection.caCertPem,
      { maxRetries: 3, retryDelayInMs: 0 },
      0,
    );
    this.secrets = new SecretClient(t.connection.keyVault.url, new StaticToken(t.connection.keyVault.token), {
      tlsOptions: { ca: t.connection.caCertPem },
      disableChallengeResourceVerification: true,
    } as ConstructorParameters<typeof SecretClient>[2]);
  }

  private sleep(seconds: number): void {
    this.t.clock.advance(seconds * 1000);
  }

  private async armCall(request: arm.ArmRequest | { method: 'GET'; url: string }) {
    const response = await this.arm.send(request);
    if (response.status >= 400)
      throw new Error(
        `${request.method} ${'url' in request ? request.url : request.path}: ${response.status} ${response.bodyAsText ?? ''}`,
      );
    return response;
  }

  /** Sends a long-running ARM request and follows its Azure-AsyncOperation until it ends. */
  private async armOperation(request: arm.ArmRequest): Promise<number> {
    const started = await this.armCall(request);
    const status = started.headers.get('azure-asyncoperation');
    let looks = 0;
    if (!status) return looks;
    for (;;) {
      const look = (await this.armCall({ method: 'GET', url: status })).json as {
        status?: string;
        error?: unknown;
      };
      looks += 1;
      if (look.status === 'Succeeded') return looks;
      if (look.status === 'Failed' || look.status === 'Canceled')
        throw new Error(`${request.method} ${request.path}: ${JSON.stringify(look)}`);
      this.sleep(this.t.lookSeconds);
    }
  }

  /** The whole runbook for one database, SQL Server as initial primary, to a healthy link. */
  async linkOne(database: string): Promise<BaselineLink> {
    const t = this.t;
    const startedAt = t.clock.now();
    const server = t.connection.sqlServers.find((s) => s.host.toLowerCase() === t.sqlHost.toLowerCase());
    if (!server) throw new Error(`no SQL Server ${t.sqlHost} in the estate`);
    const password = (await this.secrets.getSecret(t.loginSecret)).value ?? '';
    // mssql with its defaults, as a script would open it
    const pool = await new sql.ConnectionPool({
      server: server.address,
      port: server.port,
      user: t.login,
      password,
      database: 'master',
      options: { encrypt: false, trustServerCertificate: true },
    }).connect();
    try {
      const run = (text: string) => pool.request().batch(text);
      const mi = (await this.armCall(arm.getManagedInstance(t.instance))).json as {
        properties: { fullyQualifiedDomainName: string };
      };
      const fqdn = mi.properties.fullyQualifiedDomainName;
      const serverName = String((await run('SELECT @@SERVERNAME AS name')).recordset[0].name);
      const certificate = `Cert_${serverName}_endpoint`;
      const names = { ag: `AG_${database}`, instanceAg: `AG_${database}_MI`, dag: `DAG1_${database}` };
      // prepare the database: FULL recovery and a full backup
      await run(statements.setRecoveryFull(database));
      await run(statements.fullBackup(database, `${t.backupPath}${database}.bak`));
      // certificate trust both ways
      const masterKey = (await this.secrets.getSecret(t.masterKeySecret)).value ?? '';
      await run(
        fillVariables(statements.createMasterKey(), [statements.variables.masterKeyPassword], {
          MasterKeyPassword: masterKey,
        }),
      );
      await run(statements.createSqlServerCertificate(certificate, t.certificateExpiry));
      const der = (await run(statements.certificatePublicKeyQuery(certificate))).recordset[0]
        .SQLServerPublicKey as Buffer;
      await this.armOperation(
        arm.putServerTrustCertificate(t.instance, certificate, `0x${der.toString('hex').toUpperCase()}`),
      );
      const instanceCert = (await this.armCall(arm.getEndpointCertificate(t.instance))).json as {
        properties: { publicBlob: string };
      };
      await run(
        statements.importInstanceCertificate(fqdn, instanceCert.properties.publicBlob.replace(/^0x/i, '')),
      );
      for (const root of ROOT_CERTIFICATES) await run(statements.importRootCertificate(root));
      await run(statements.validateCertificateChain(fqdn));
      // the endpoint, the AG and the DAG
      await run(statements.createEndpoint(t.endpointPort, certificate));
      const sqlUrl = statements.endpointUrl(server.endpointAddress, t.endpointPort);
      await run(
        statements.createAvailabilityGroup({
          name: names.ag,
          database,
          serverName,
          endpointUrl: sqlUrl,
          withClusterTypeNone: true,
        }),
      );
      await run(
        statements.createDistributedAvailabilityGroup({
          name: names.dag,
          availabilityGroup: names.ag,
          instanceAvailabilityGroup: names.instanceAg,
          sqlServerListenerUrl: sqlUrl,
          instanceFqdn: fqdn,
          instanceName: t.instance.name,
          database: null,
        }),
      );
      // the link, then look until it is healthy
      const putAt = t.clock.now();
      let looks = await this.armOperation(
        arm.putLink(t.instance, names.dag, {
          partnerAvailabilityGroupName: names.ag,
          instanceAvailabilityGroupName: names.instanceAg,
          partnerEndpoint: sqlUrl,
          instanceLinkRole: 'Secondary',
          failoverMode: 'None',
          seedingMode: 'Automatic',
          databases: [{ databaseName: database }],
        }),
      );
      for (;;) {
        const link = (await this.armCall(arm.getLink(t.instance, names.dag))).json as {
          properties: { databases: Array<Record<string, string>> };
        };
        looks += 1;
        const db = link.properties.databases[0] ?? {};
        if (
          db['connectedState'] === 'CONNECTED' &&
          db['synchronizationHealth'] === 'HEALTHY' &&
          !/seeding|catch ?up/i.test(db['replicaState'] ?? 'Seeding')
        )
          break;
        this.sleep(t.lookSeconds);
      }
      const healthyAt = t.clock.now();
      // verify on SQL Server, then the first log backup
      const connection = (await run(statements.linkConnectionQuery(names.dag))).recordset as Array<
        Record<string, unknown>
      >;
      if (!connection.some((r) => !r['IsLocal'] && r['ConnectedState'] === 'CONNECTED'))
        throw new Error(`${names.dag}: SQL Server does not see the instance connected`);
      await run(statements.logBackup(database, `${t.backupPath}${database}_log.trn`));
      return { database, startedAt, putAt, healthyAt, looks };
    } finally {
      await pool.close();
    }
  }

  /** Each database to a healthy link before the next. */
  async linkAll(databases: string[]): Promise<BaselineLink[]> {
    const done: BaselineLink[] = [];
    for (const database of databases) done.push(await this.linkOne(database));
    return done;
  }
}
