/**
 * The health sweep's storage in infra/: the inventory table, the report container and the link-alerts queue exist
 * under the names the code uses by default (src/config.ts, the stores, the alert output binding), and the check
 * notices when one is missing or the container is public.
 */
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config.js';
import { ALERT_QUEUE } from '../../src/health/alerts.js';
import { DEFAULT_REPORT_CONTAINER } from '../../src/health/report-store.js';
import { DEFAULT_INVENTORY_TABLE } from '../../src/inventory/store.js';
import { checkStorage, parseInfra, readInfraSources } from './infra-model.js';

const sources = readInfraSources();
function mutated(from: string, to: string) {
  const copy = new Map(sources);
  const text = copy.get('app.bicep')!;
  expect(text.split(from).length - 1, from).toBe(1);
  copy.set('app.bicep', text.replace(from, to));
  return parseInfra(copy);
}

describe('the health sweep in infra/', () => {
  it('declares the table, container and queue the code uses by default', () => {
    const defaults = loadSettings({ MILINK_KEYVAULT_URL: 'https://kv.example' });
    expect([defaults.MILINK_INVENTORY_TABLE, defaults.MILINK_HEALTH_CONTAINER, ALERT_QUEUE]).toEqual([
      DEFAULT_INVENTORY_TABLE,
      DEFAULT_REPORT_CONTAINER,
      'link-alerts',
    ]);
    expect(checkStorage(parseInfra(sources))).toEqual([]);
  });

  it('notices a missing table, queue or container, and a public container', () => {
    expect(checkStorage(mutated("name: 'milinkinventory'", "name: 'inventory'"))).toEqual([
      'table milinkinventory is not created',
    ]);
    expect(checkStorage(mutated("name: 'link-alerts'", "name: 'alerts'"))).toEqual([
      'queue link-alerts is not created',
    ]);
    expect(checkStorage(mutated("name: 'milink-health'", "name: 'health'"))).toEqual([
      'container milink-health is not created',
    ]);
    expect(
      checkStorage(
        mutated(
          "name: 'milink-health'\n  properties: {\n    publicAccess: 'None'",
          "name: 'milink-health'\n  properties: {\n    publicAccess: 'Blob'",
        ),
      ),
    ).toEqual(['container milink-health must not be public']);
  });
});
