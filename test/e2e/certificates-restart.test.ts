/**
 * Issue 17, "Done when": rotateCertificate with its host stopped between any two steps converges on a new host, each
 * change once, and no link is ever seen disconnected ("Best practices for maintaining the link", "Rotate
 * certificate"; "Troubleshoot issues with the link" for 41973). As in lifecycle-restart.test.ts, every activity
 * handler the app registered is wrapped (test side only) so the host stops at an exact point: "before N" (activity
 * N never acts) or "after N" (it did its work and the host died before its completion was recorded). Every cut
 * rotates the same SQL Server again, to a certificate of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activityGate, passThrough } from './activity-gate.js';
import { changesIn } from './harness.js';
import {
  certificateBed,
  endpointCertificate,
  serverCertificates,
  serverRequest,
  trustsOf,
  type CertificateBed,
} from './certificates-bed.js';

const gates = activityGate();
let bed: CertificateBed;

/** The inventory's activity after every operation (another feature's): not cut here. */
const INVENTORY = new Set(['record', 'recordInventory']);

beforeAll(async () => {
  await gates.install();
  bed = await certificateBed();
}, 240_000);

afterAll(async () => {
  gates.restore();
  await bed?.close();
  const { closeAllSessions } = await import('../../src/activities/io.js');
  await closeAllSessions();
});

let day = 0;
/** A new expiry, hence a new certificate name, for every rotation. */
function nextRotation() {
  day += 1;
  const expiry = new Date(Date.UTC(2028, 0, day)).toISOString().slice(0, 10);
  return { expiry, name: `Cert_SQLBOX1_endpoint_${expiry.replace(/-/g, '')}` };
}

interface RotationEnd {
  changes: string[];
  arm: string[];
  endpoint: string | undefined;
  withKey: string[];
  trusts: string[][];
}

/** Runs one rotation, cut at activity `at` (0: not cut), and returns what changed and the end state. */
async function rotate(at: number, mode: 'before' | 'after', activities?: string[]) {
  const { expiry, name } = nextRotation();
  const old = endpointCertificate(bed.estate)!;
  const server = bed.estate.sqlServers.get('SQLBOX1')!;
  const from = server.journal.length;
  const armFrom = bed.estate.arm.journal.length;
  bed.trouble.length = 0;
  bed.watching = true;
  const first = await bed.host();
  let count = 0;
  let killed: Promise<void> | undefined;
  let answered!: () => void;
  const postAnswered = new Promise<void>((r) => (answered = r));
  let cut!: () => void;
  const wasCut = new Promise<void>((r) => (cut = r));
  gates.current = async (step, run) => {
    if (INVENTORY.has(step)) return run();
    activities?.push(step);
    count++;
    if (count !== at) return run();
    const stop = () => postAnswered.then(() => first.close());
    if (mode === 'before') {
      killed = stop();
      cut();
      await killed;
      throw new Error('the host died before this activity acted');
    }
    const result = await run();
    killed = stop();
    cut();
    await killed;
    return result;
  };
  let status: any;
  try {
    const posted = await first.api('POST', '/api/certificates/rotate', {
      request: serverRequest(),
      options: { expiry },
    });
    answered();
    expect(posted.status, posted.text).toBe(202);
    let host = first;
    if (at > 0) {
      await wasCut;
      await killed;
      gates.current = passThrough;
      host = await bed.host(first.dir);
    }
    status = await host.finish(posted.json.instanceId, 120_000);
    await host.close();
  } finally {
    gates.current = passThrough;
    bed.watching = false;
  }
  const end: RotationEnd = {
    changes: changesIn(server.journal.slice(from))
      .filter((e) => !e.dropped && e.errorNumbers.length === 0)
      .map((e) =>
        e.text
          .replaceAll(name, '<new>')
          .replaceAll(old, '<old>')
          .replaceAll(expiry.replace(/-/g, ''), '<expiry>'),
      ),
    arm: bed.estate.arm.journal
      .slice(armFrom)
      .filter((r) => r.method !== 'GET' && r.status < 400)
      .map((r) =>
        `${r.method} ${r.path.split('/managedInstances/')[1]!.split('?')[0]!}`
          .replace(name, '<new>')
          .replace(old, '<old>'),
      ),
    endpoint: endpointCertificate(bed.estate),
    withKey: serverCertificates(bed.estate)
      .filter((c) => c.privateKey)
      .map((c) => c.name),
    trusts: [trustsOf(bed.estate, 'mi-prod'), trustsOf(bed.estate, 'mi-dr')],
  };
  return { status, end, name, trouble: [...bed.trouble] };
}

let baseline: { activities: string[]; end: RotationEnd } | undefined;

describe('rotateCertificate survives its host being stopped between any two steps', () => {
  it('an uninterrupted rotation: the reference', async () => {
    const activities: string[] = [];
    const { status, end, name, trouble } = await rotate(0, 'before', activities);
    expect(status.runtimeStatus, JSON.stringify(status.error ?? status.failures)).toBe('Completed');
    expect(trouble).toEqual([]);
    expect(end.endpoint).toBe(name);
    expect(end.withKey).toEqual([name]);
    expect(end.trusts).toEqual([[name], [name]]);
    expect(end.changes).toHaveLength(3);
    expect(end.arm).toEqual([
      'PUT mi-prod/serverTrustCertificates/<new>',
      'PUT mi-dr/serverTrustCertificates/<new>',
      'DELETE mi-prod/serverTrustCertificates/<old>',
      'DELETE mi-dr/serverTrustCertificates/<old>',
    ]);
    expect(activities[0]).toBe('preflight');
    expect(activities).toEqual(
      expect.arrayContaining([
        'new-endpoint-certificate',
        'trust-new-certificate',
        'switch-endpoint-certificate',
        'wait-for-new-certificate',
        'untrust-old-certificates',
        'drop-old-certificates',
      ]),
    );
    baseline = {
      activities,
      end: { ...end, endpoint: '<new>', withKey: ['<new>'], trusts: [['<new>'], ['<new>']] },
    };
  }, 60_000);

  for (const mode of ['before', 'after'] as const)
    it(`stopped ${mode} each activity, a new host converges: each change once, no link ever down`, async () => {
      expect(baseline, 'the reference run must pass first').toBeDefined();
      const cuts = baseline!.activities
        .map((name, i) => ({ name, at: i + 1 }))
        .filter(({ name, at }) => baseline!.activities.indexOf(name) === at - 1);
      expect(cuts.length).toBeGreaterThanOrEqual(7);
      for (const { name: activity, at } of cuts) {
        const where = `${mode} activity ${at} (${activity})`;
        const { status, end, name, trouble } = await rotate(at, mode);
        expect(status.runtimeStatus, `${where}: ${JSON.stringify(status.error ?? status.failures)}`).toBe(
          'Completed',
        );
        expect(trouble, where).toEqual([]);
        expect(
          {
            ...end,
            endpoint: end.endpoint === name ? '<new>' : end.endpoint,
            withKey: end.withKey.map((n) => (n === name ? '<new>' : n)),
            trusts: end.trusts.map((t) => t.map((n) => (n === name ? '<new>' : n))),
          },
          where,
        ).toEqual(baseline!.end);
      }
    }, 240_000);
});
