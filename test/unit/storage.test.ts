/**
 * Where the inventory and the reports live: the app's own storage account, read from the settings the Functions
 * host reads ("Connecting to host storage with an identity": AzureWebJobsStorage__accountName, __tableServiceUri,
 * __blobServiceUri, __credential, __clientId; or AzureWebJobsStorage as a connection string).
 */
import { describe, expect, it } from 'vitest';
import { storageConnection, stores } from '../../src/azure/storage.js';

const names = { table: 'milinkinventory', container: 'milink-health' };

describe('the storage connection', () => {
  it('takes a connection string first (Azurite, local)', () => {
    expect(
      storageConnection({
        AzureWebJobsStorage: 'UseDevelopmentStorage=true',
        AzureWebJobsStorage__accountName: 'x',
      }),
    ).toEqual({ connectionString: 'UseDevelopmentStorage=true' });
  });

  it('is identity-based with the account name, as infra/ sets it', () => {
    expect(
      storageConnection({
        AzureWebJobsStorage__accountName: 'stmilinkabc',
        AzureWebJobsStorage__credential: 'managedidentity',
        AzureWebJobsStorage__clientId: '11111111-2222-3333-4444-555555555555',
      }),
    ).toEqual({
      tableServiceUri: 'https://stmilinkabc.table.core.windows.net',
      blobServiceUri: 'https://stmilinkabc.blob.core.windows.net',
      clientId: '11111111-2222-3333-4444-555555555555',
    });
  });

  it('takes explicit service URIs (other clouds) and falls back to AZURE_CLIENT_ID', () => {
    expect(
      storageConnection({
        AzureWebJobsStorage__tableServiceUri: 'https://st.table.core.chinacloudapi.cn',
        AzureWebJobsStorage__blobServiceUri: 'https://st.blob.core.chinacloudapi.cn',
        AZURE_CLIENT_ID: 'abc',
      }),
    ).toEqual({
      tableServiceUri: 'https://st.table.core.chinacloudapi.cn',
      blobServiceUri: 'https://st.blob.core.chinacloudapi.cn',
      clientId: 'abc',
    });
  });

  it('names the settings when there is none', () => {
    expect(() => storageConnection({})).toThrow(/set AzureWebJobsStorage .*AzureWebJobsStorage__accountName/);
  });

  it('points the stores at the account, table and container', async () => {
    const s = await stores(names, { AzureWebJobsStorage__accountName: 'stmilinkabc' });
    expect(s.inventory.table.url).toBe('https://stmilinkabc.table.core.windows.net');
    expect(s.inventory.table.tableName).toBe('milinkinventory');
    expect(s.reports.container.url).toBe('https://stmilinkabc.blob.core.windows.net/milink-health');
  });

  it('reaches the storage emulator with UseDevelopmentStorage=true (local.settings.example.json)', async () => {
    const s = await stores(names, { AzureWebJobsStorage: 'UseDevelopmentStorage=true' });
    expect(s.inventory.table.url).toBe('http://127.0.0.1:10002/devstoreaccount1');
    expect(s.reports.container.url).toBe('http://127.0.0.1:10000/devstoreaccount1/milink-health');
  });
});
