import * as catalog from '../../sql/catalog.js';
import { rsaPrivateKeyToPvk } from '../../sql/pvk.js';
import * as sql from '../../sql/statements.js';
import { newCertificateExpiry, newCertificateName } from '../checks/server-certificates.js';
import { known, type LinkContext } from '../context.js';
import { defineStep, report } from '../step.js';

/** The new certificate comes from Key Vault (options.keyVaultCertificate). */
const fromVault = (l: LinkContext) =>
  l.facts.certificates?.keyVault !== undefined ||
  (l.facts.certificates === undefined && typeof l.parameters.keyVaultCertificate === 'string');

/**
 * new-endpoint-certificate (rotateCertificate, BP "Rotate certificate" step 1): the endpoint's next certificate,
 * under a new name (CREATE CERTIFICATE skips a name that exists, so the old one cannot be renewed in place) — made by
 * SQL Server, or imported with its private key from a Key Vault certificate version ("CREATE CERTIFICATE
 * (Transact-SQL)": FROM BINARY … WITH PRIVATE KEY (BINARY = <PVK>)).
 */
export const newEndpointCertificate = defineStep<{ name: string; expiry?: Date }>({
  id: 'new-endpoint-certificate',
  scope: 'sqlserver',
  target: 'sqlserver',
  title: (l) => {
    const name = newCertificateName(l);
    const shown = typeof name === 'string' ? name : name.reference;
    return fromVault(l)
      ? `Import endpoint certificate ${shown} with its private key from Key Vault certificate ${l.facts.certificates?.keyVault?.name ?? String(l.parameters.keyVaultCertificate)}`
      : `New endpoint certificate ${shown}, expiring ${newCertificateExpiry(l)}`;
  },
  render: (l) => ({
    tsql: {
      create: fromVault(l)
        ? sql.importCertificateWithPrivateKey(newCertificateName(l))
        : sql.createSqlServerCertificate(newCertificateName(l), newCertificateExpiry(l)),
    },
  }),
  async inspect(io) {
    const name = known(newCertificateName(io.link));
    const existing = await catalog.readCertificate(await io.sql(), name);
    return existing ? { name, expiry: existing.expiryDate } : { name };
  },
  needed: (o) => o.expiry === undefined,
  found: (o) => [`certificate ${o.name}, expiring ${o.expiry?.toISOString().slice(0, 10)}`],
  async act(io, o) {
    const out = report(this.id);
    const vault = io.facts.certificates?.keyVault;
    if (!vault) {
      await io.run(this.render(io.link).tsql!.create!);
      out.changed.push(`certificate ${o.name} created, expiring ${newCertificateExpiry(io.link)}`);
      return out;
    }
    // the Key Vault certificate and its private key: read here, given to SQL Server in the batch only
    if (!io.vaultCertificate || !io.vaultPrivateKey || !io.conceal)
      throw new Error('this io reads no Key Vault certificates');
    const certificate = await io.vaultCertificate(vault.name, vault.version);
    const pvk = rsaPrivateKeyToPvk(await io.vaultPrivateKey(vault.name, vault.version))
      .toString('hex')
      .toUpperCase();
    io.conceal(pvk);
    await io.run(this.render(io.link).tsql!.create!, {
      [sql.variables.newCertificatePublicKey.name]: certificate.der.toString('hex'),
      [sql.variables.newCertificatePrivateKey.name]: pvk,
    });
    out.changed.push(
      `certificate ${o.name} imported with its private key from Key Vault certificate ${vault.name} (version ${vault.version}), expiring ${newCertificateExpiry(io.link)}`,
    );
    return out;
  },
});
