import { describe, expect, it } from 'vitest';
import { loadSettings, settingNames } from '../../src/config.js';

describe('settings', () => {
  it('reads and defaults the settings', () => {
    const s = loadSettings({ MILINK_KEYVAULT_URL: 'https://kv.vault.azure.net' });
    expect(s.MILINK_ARM_ENDPOINT).toBe('https://management.azure.com');
    expect(settingNames).toContain('MILINK_KEYVAULT_URL');
  });
  it('names the setting that is wrong', () => {
    expect(() => loadSettings({ MILINK_KEYVAULT_URL: 'not a url' })).toThrow(/MILINK_KEYVAULT_URL/);
  });
});
