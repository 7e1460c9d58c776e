/** Generated estates: the expansion of `{ generate: … }` and its checks (no listeners started). */
import { describe, expect, it } from 'vitest';
import { expandGeneratedSpec } from '../../../local/sim/estate/generate.js';
import { EstateSpecError, parseEstateSpec } from '../../../local/sim/estate/spec.js';

describe('expandGeneratedSpec', () => {
  it('spreads links over servers and instances, one database per link, with unique names and addresses', () => {
    const { spec, links } = expandGeneratedSpec({ generate: { sqlServers: 7, instances: 3, links: 20 } });
    expect(() => parseEstateSpec(spec)).not.toThrow();
    expect(spec.sqlServers.map((s) => s.serverName)).toEqual([
      'SQL001',
      'SQL002',
      'SQL003',
      'SQL004',
      'SQL005',
      'SQL006',
      'SQL007',
    ]);
    expect(links).toHaveLength(20);
    expect(new Set(links.map((l) => l.database)).size).toBe(20);
    // link k on server k mod 7; a server's links all go to instance (server mod 3)
    expect(links[8]).toMatchObject({ serverName: 'SQL002', database: 'Db0009', dag: 'DAG1_Db0009' });
    for (const l of links) {
      const s = Number(l.serverName.slice(3)) - 1;
      expect(l.instance.name).toBe(`mi-0${(s % 3) + 1}`);
    }
    const dbs = spec.sqlServers.flatMap((s) => (s.databases ?? []).map((d) => d.name));
    expect(dbs.sort()).toEqual(links.map((l) => l.database).sort());
    expect(spec.keyVault.secrets['sql004-login']).toBe(spec.sqlServers[3]!.logins[0]!.password);
    expect(
      spec.sqlServers.every((s) => s.endpoint?.certificateName === `Cert_${s.serverName}_endpoint`),
    ).toBe(true);
  });

  it('raises the instance link limit only when more links go to an instance than the documented 100', () => {
    const small = expandGeneratedSpec({ generate: { sqlServers: 2, instances: 1, links: 10 } });
    expect(small.spec.managedInstances[0]!.linkLimit).toBe(100);
    const big = expandGeneratedSpec({ generate: { sqlServers: 4, instances: 1, links: 150 } });
    expect(big.spec.managedInstances[0]!.linkLimit).toBe(150);
  });

  it('leaves links to be made when linkState is none: databases, no endpoint', () => {
    const { spec, links } = expandGeneratedSpec({
      generate: {
        sqlServers: 2,
        instances: 1,
        links: 4,
        linkState: 'none',
        collation: 'Latin1_General_CS_AS',
      },
    });
    expect(links).toEqual([]);
    expect(spec.sqlServers.every((s) => s.endpoint === undefined && s.databases?.length === 2)).toBe(true);
    expect(spec.sqlServers[0]!.collation).toBe('Latin1_General_CS_AS');
  });

  it('names every problem of a wrong description by its path', () => {
    try {
      expandGeneratedSpec({ generate: { sqlServers: 0, instances: 1, links: -1 } });
      throw new Error('expected a failure');
    } catch (e) {
      expect(e).toBeInstanceOf(EstateSpecError);
      const problems = (e as EstateSpecError).problems.join('\n');
      expect(problems).toMatch(/generate\.sqlServers/);
      expect(problems).toMatch(/generate\.links/);
    }
  });
});
