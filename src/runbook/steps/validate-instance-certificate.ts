import { SqlStepError } from '../../sql/session.js';
import * as sql from '../../sql/statements.js';
import { known } from '../context.js';
import { defineStep, report, StepProblem, type StepIo } from '../step.js';
import { readInstanceCertificate } from './export-instance-certificate.js';
import { reimportInstanceCertificate } from './import-instance-certificate.js';

/**
 * SQL Server's answer when a certificate's chain does not validate (sp_validate_certificate_ca_chain). Only this
 * answer calls for the remedy; a dropped connection or a timeout never does.
 */
export const CHAIN_INVALID_ERRORS: ReadonlySet<number> = new Set([15299]);

/**
 * `sp_validate_certificate_ca_chain` on the certificate named as an instance's FQDN: undefined when the chain
 * validates, SQL Server's chain error when it does not; any other error (a dropped connection) is thrown.
 */
export async function chainError(io: StepIo, fqdn: string): Promise<SqlStepError | undefined> {
  try {
    await io.run(sql.validateCertificateChain(fqdn));
    return undefined;
  } catch (e) {
    if (
      e instanceof SqlStepError &&
      !e.transient &&
      e.number !== undefined &&
      CHAIN_INVALID_ERRORS.has(e.number)
    )
      return e;
    throw e;
  }
}

type Validation = { fqdn: string; valid: true } | { fqdn: string; valid: false; error: SqlStepError };

async function validate(io: StepIo): Promise<Validation> {
  const fqdn = known(io.link.fqdn);
  const error = await chainError(io, fqdn);
  return error ? { fqdn, valid: false, error } : { fqdn, valid: true };
}

/** validate-instance-certificate: `sp_validate_certificate_ca_chain`; on a failed chain, re-import and validate again. */
export const validateInstanceCertificate = defineStep<Validation>({
  id: 'validate-instance-certificate',
  scope: 'pair',
  target: 'sqlserver',
  title: () => "Validate the instance certificate's chain",
  render: (l) => ({ tsql: { validate: sql.validateCertificateChain(l.fqdn) } }),
  inspect: validate,
  needed: (o) => !o.valid,
  found: (o) => [`the chain of ${o.fqdn} validates`],
  async act(io, o) {
    const out = report(this.id);
    // The runbook's remedy: drop and re-import the instance certificate, then validate again.
    await reimportInstanceCertificate(io, await readInstanceCertificate(io));
    out.changed.push(`re-imported ${o.fqdn} after a failed chain validation`);
    const again = await validate(io);
    if (!again.valid)
      throw new StepProblem('sqlserver', String(again.error.number), again.error.message, again.error.advice);
    out.found.push(`the chain of ${o.fqdn} validates`);
    return out;
  },
});
