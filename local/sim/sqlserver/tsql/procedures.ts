/** System stored procedures and DBCC commands the stand-in knows. */
import { SqlError, sqlError } from '../errors.js';
import type { ProcEnv } from './interpreter.js';
import { convert, T, toText, type TV, type Value } from './values.js';

type Args = Array<{ name?: string; value: TV }>;

function arg(args: Args, pos: number, name: string): TV | undefined {
  return (
    args.find((a) => a.name === name)?.value ?? (args[pos] && !args[pos]!.name ? args[pos]!.value : undefined)
  );
}

const TRUSTED_ROOTS = ['microsoft rsa root certificate authority 2017', 'digicert global root g2'];

/** Whether a registered issuer pattern (e.g. '*.database.windows.net') matches a subject CN. */
export function issuerPatternMatches(pattern: string, cn: string): boolean {
  const p = pattern.toLowerCase();
  const c = cn.toLowerCase();
  if (p.startsWith('*.')) return c.endsWith(p.slice(1)) && c.length > p.length - 1;
  return p === c;
}

function subjectCn(subject: string): string {
  const m = subject.split(/,\s*/).find((p) => p.toUpperCase().startsWith('CN='));
  return m ? m.slice(3) : subject;
}

export function runProcedure(name: string, written: string, args: Args, env: ProcEnv): void {
  const st = env.state;
  switch (name) {
    case 'sp_certificate_add_issuer': {
      env.requireSysadmin();
      const id = convert(arg(args, 0, '@certificate_id') ?? { v: null, t: T.int }, T.int).v;
      const pattern = toText(arg(args, 1, '@issuer_name') ?? { v: null, t: T.nvarchar() });
      if (id === null || pattern === null)
        throw new SqlError(
          201,
          "Procedure or function 'sp_certificate_add_issuer' expects parameter '@certificate_id', which was not supplied.",
        );
      const cert = st.certificates.find((c) => c.certificateId === id);
      if (!cert || env.session.database.toLowerCase() !== 'master')
        throw new SqlError(
          15151,
          `Cannot find the certificate '${id}', because it does not exist or you do not have permission.`,
        );
      if (!cert.issuerRegistrations.some((p) => p.toLowerCase() === pattern.toLowerCase()))
        cert.issuerRegistrations.push(pattern);
      env.changed();
      return;
    }
    case 'sp_validate_certificate_ca_chain': {
      env.requireSysadmin();
      const id = convert(arg(args, 0, '@certificate_id') ?? { v: null, t: T.int }, T.int).v;
      const cert = st.certificates.find((c) => c.certificateId === id);
      if (!cert || env.session.database.toLowerCase() !== 'master')
        throw new SqlError(
          15151,
          `Cannot find the certificate '${String(id)}', because it does not exist or you do not have permission.`,
        );
      const now = env.clock.now();
      if (cert.expiryDate.getTime() < now.getTime() || cert.startDate.getTime() > now.getTime())
        throw sqlError(15299, cert.name, 'the certificate is outside its validity period.');
      if (!/Microsoft Corporation|DigiCert/i.test(cert.issuerName))
        throw sqlError(
          15299,
          cert.name,
          `its issuer '${cert.issuerName}' does not chain to a trusted root certificate authority.`,
        );
      const cn = subjectCn(cert.subject);
      const root = st.certificates.find(
        (c) =>
          c.pvtKeyEncryptionType === 'NA' &&
          TRUSTED_ROOTS.includes(subjectCn(c.subject).toLowerCase()) &&
          c.expiryDate.getTime() > now.getTime() &&
          c.issuerRegistrations.some((p) => issuerPatternMatches(p, cn)),
      );
      if (!root)
        throw sqlError(
          15299,
          cert.name,
          `no trusted root certificate in master is registered (sp_certificate_add_issuer) for '${cn}'.`,
        );
      return;
    }
    default:
      throw sqlError(2812, written);
  }
}

export function runDbcc(command: string, args: TV[], noInfoMsgs: boolean, env: ProcEnv): void {
  const st = env.state;
  const done = (): void => {
    if (!noInfoMsgs)
      env.info(
        2528,
        'DBCC execution completed. If DBCC printed error messages, contact your system administrator.',
      );
  };
  const ints = (): number[] => args.map((a) => Number(convert(a, T.int).v));
  switch (command) {
    case 'TRACESTATUS': {
      const requested = ints().filter((n) => n !== -1);
      const flags = requested.length ? requested : [...st.traceFlags].sort((a, b) => a - b);
      const rows: Value[][] = flags.map((f) => {
        const on = st.traceFlags.includes(f) ? 1 : 0;
        return [f, on, on, 0];
      });
      env.rows(
        [
          { name: 'TraceFlag', type: T.int },
          { name: 'Status', type: T.int },
          { name: 'Global', type: T.int },
          { name: 'Session', type: T.int },
        ],
        rows,
      );
      done();
      return;
    }
    case 'TRACEON':
    case 'TRACEOFF': {
      env.requireSysadmin();
      for (const f of ints().filter((n) => n !== -1)) {
        if (command === 'TRACEON' && !st.traceFlags.includes(f)) st.traceFlags.push(f);
        if (command === 'TRACEOFF') st.traceFlags = st.traceFlags.filter((x) => x !== f);
      }
      env.changed();
      done();
      return;
    }
    case 'SQLPERF': {
      const what = (toText(args[0] ?? { v: null, t: T.nvarchar() }) ?? '').toUpperCase();
      if (what !== 'LOGSPACE')
        throw new SqlError(
          2526,
          'Incorrect DBCC statement. Check the documentation for the correct DBCC syntax and options.',
        );
      env.rows(
        [
          { name: 'Database Name', type: T.nvarchar(128) },
          { name: 'Log Size (MB)', type: T.float },
          { name: 'Log Space Used (%)', type: T.float },
          { name: 'Status', type: T.int },
        ],
        st.databases.map((d) => [
          d.name,
          d.logSizeBytes / 1048576,
          d.logSizeBytes ? (100 * d.logUsedBytes) / d.logSizeBytes : 0,
          0,
        ]),
      );
      done();
      return;
    }
    default:
      throw new SqlError(
        2526,
        'Incorrect DBCC statement. Check the documentation for the correct DBCC syntax and options.',
      );
  }
}
