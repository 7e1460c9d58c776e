import * as arm from '../../azure/arm-requests.js';
import { normaliseHex } from '../../sql/quote.js';
import { defineStep, StepProblem, type StepIo } from '../step.js';

/** The instance's endpoint certificate for the link (DATABASE_MIRRORING), as DER. */
export async function readInstanceCertificate(io: StepIo): Promise<Buffer> {
  const request = exportInstanceCertificate.render(io.link).arm!.read!;
  const response = await io.arm.call(request, `reading ${io.link.mi.name}'s endpoint certificate`);
  const blob = (response.json as { properties?: { publicBlob?: string } }).properties?.publicBlob;
  if (!blob)
    throw new StepProblem(
      'azure',
      'NoPublicBlob',
      `${io.link.mi.name} answered without its endpoint certificate`,
      're-run later',
    );
  return Buffer.from(normaliseHex(blob), 'hex');
}

/** export-instance-certificate: read the instance's endpoint certificate. */
export const exportInstanceCertificate = defineStep<{ bytes: number }>({
  id: 'export-instance-certificate',
  scope: 'instance',
  target: 'azure',
  title: (l) => `Read ${l.mi.name}'s endpoint certificate`,
  render: (l) => ({ arm: { read: arm.getEndpointCertificate(l.mi) } }),
  inspect: async (io) => ({ bytes: (await readInstanceCertificate(io)).length }),
  needed: () => false,
  found: (o) => [`the instance's endpoint certificate (${o.bytes} bytes)`],
});
