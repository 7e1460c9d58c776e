import * as catalog from '../../sql/catalog.js';
import * as sql from '../../sql/statements.js';
import { known, type LinkContext } from '../context.js';
import { defineStep, OwnedByStep, report, type StepIo } from '../step.js';
import { exportInstanceCertificate, readInstanceCertificate } from './export-instance-certificate.js';

interface ImportObservation {
  fqdn: string;
  der: Buffer;
  /** What SQL Server holds under the FQDN now, if anything. */
  held?: Buffer;
}

function batches(l: LinkContext, der?: Buffer) {
  return {
    tsql: { import: sql.importInstanceCertificate(l.fqdn, der) },
    /** Run only when SQL Server holds an outdated certificate under the FQDN (the instance rotated its own). */
    remedy: { drop: sql.dropCertificate(l.fqdn) },
  };
}

/** Drops what SQL Server holds under the FQDN and imports the instance's current certificate. */
export async function reimportInstanceCertificate(io: StepIo, der: Buffer): Promise<void> {
  await io.run(batches(io.link).remedy.drop);
  await io.run(batches(io.link, der).tsql.import);
}

/** import-instance-certificate: the instance's certificate on SQL Server, named exactly as the instance FQDN. */
export const importInstanceCertificate = defineStep<ImportObservation>({
  id: 'import-instance-certificate',
  scope: 'pair',
  target: 'sqlserver',
  uses: exportInstanceCertificate,
  title: () => "Import the instance's certificate on SQL Server under the instance FQDN",
  render: (l) => batches(l),
  async inspect(io) {
    // the export step's read, done here: an error reading is that step's
    const der = await readInstanceCertificate(io).catch((e: unknown) => {
      throw new OwnedByStep(exportInstanceCertificate.id, e);
    });
    const fqdn = known(io.link.fqdn);
    const held = await catalog.readCertificate(await io.sql(), fqdn);
    return held ? { fqdn, der, held: held.der } : { fqdn, der };
  },
  needed: (o) => !o.held || !o.held.equals(o.der),
  found: (o) => [`certificate ${o.fqdn} on SQL Server`],
  async act(io, o) {
    const out = report(this.id);
    if (o.held) {
      await reimportInstanceCertificate(io, o.der);
      out.changed.push(`replaced the outdated certificate ${o.fqdn} (the instance rotated its certificate)`);
    } else {
      await io.run(batches(io.link, o.der).tsql.import);
      out.changed.push(`imported ${io.link.mi.name}'s certificate as ${o.fqdn}`);
    }
    return out;
  },
});
