/**
 * The app's own storage account, as the Functions host reaches it (AzureWebJobsStorage): the inventory's table
 * and the health reports' container live there. Two forms, as the host reads them:
 *
 * - a connection string in `AzureWebJobsStorage` (Azurite's locally, `UseDevelopmentStorage=true`);
 * - identity-based, in Azure: `AzureWebJobsStorage__accountName` (or `__tableServiceUri` / `__blobServiceUri`),
 *   with `__credential` = `managedidentity` and `__clientId` naming the user-assigned identity.
 *
 * The SDKs load on first use (not when the app registers its functions). Stores are made once per process and
 * change of settings.
 */
import type { TokenCredential } from '@azure/identity';
import type { InventoryStore } from '../inventory/store.js';
import type { ReportStore } from '../health/report-store.js';

export interface StorageConnection {
  connectionString?: string;
  tableServiceUri?: string;
  blobServiceUri?: string;
  /** Client id of the managed identity to use (identity-based connections). */
  clientId?: string;
}

const PREFIX = 'AzureWebJobsStorage';

/** The storage connection from the host's settings; throws naming the settings when there is none. */
export function storageConnection(env: NodeJS.ProcessEnv = process.env): StorageConnection {
  const connectionString = env[PREFIX]?.trim();
  if (connectionString) return { connectionString };
  const account = env[`${PREFIX}__accountName`]?.trim();
  const tableServiceUri =
    env[`${PREFIX}__tableServiceUri`]?.trim() || (account ? `https://${account}.table.core.windows.net` : '');
  const blobServiceUri =
    env[`${PREFIX}__blobServiceUri`]?.trim() || (account ? `https://${account}.blob.core.windows.net` : '');
  if (!tableServiceUri || !blobServiceUri)
    throw new Error(
      `no storage account: set ${PREFIX} (a connection string) or ${PREFIX}__accountName ` +
        `(or ${PREFIX}__tableServiceUri and ${PREFIX}__blobServiceUri) with a managed identity`,
    );
  const clientId = env[`${PREFIX}__clientId`]?.trim() || env.AZURE_CLIENT_ID?.trim();
  return { tableServiceUri, blobServiceUri, ...(clientId ? { clientId } : {}) };
}

/** A connection string whose endpoints are plain http (the storage emulator) needs the SDKs told so. */
function insecure(connectionString: string): boolean {
  return (
    /^UseDevelopmentStorage=true/i.test(connectionString) || /Endpoint=http:\/\//i.test(connectionString)
  );
}

async function credentialFor(c: StorageConnection): Promise<TokenCredential> {
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new DefaultAzureCredential(c.clientId ? { managedIdentityClientId: c.clientId } : {});
}

export interface Stores {
  inventory: InventoryStore;
  reports: ReportStore;
}

let cached: { key: string; stores: Promise<Stores> } | undefined;

/** The inventory and the report store in the app's storage account (table and container from settings). */
export function stores(names: { table: string; container: string }, env = process.env): Promise<Stores> {
  const c = storageConnection(env);
  const key = JSON.stringify([c, names]);
  if (cached?.key !== key) {
    const made = makeStores(c, names);
    cached = { key, stores: made };
    made.catch(() => {
      if (cached?.stores === made) cached = undefined;
    });
  }
  return cached.stores;
}

async function makeStores(
  c: StorageConnection,
  names: { table: string; container: string },
): Promise<Stores> {
  const [{ TableClient }, { BlobServiceClient }, { InventoryStore }, { ReportStore }] = await Promise.all([
    import('@azure/data-tables'),
    import('@azure/storage-blob'),
    import('../inventory/store.js'),
    import('../health/report-store.js'),
  ]);
  if (c.connectionString) {
    const allowInsecureConnection = insecure(c.connectionString);
    return {
      inventory: new InventoryStore(
        TableClient.fromConnectionString(c.connectionString, names.table, { allowInsecureConnection }),
      ),
      reports: new ReportStore(
        BlobServiceClient.fromConnectionString(c.connectionString).getContainerClient(names.container),
      ),
    };
  }
  const credential = await credentialFor(c);
  return {
    inventory: new InventoryStore(new TableClient(c.tableServiceUri!, names.table, credential)),
    reports: new ReportStore(
      new BlobServiceClient(c.blobServiceUri!, credential).getContainerClient(names.container),
    ),
  };
}
