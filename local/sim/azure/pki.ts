/**
 * Certificates for the Azure stand-ins: the CA that signs the HTTPS listeners' certificate, and the
 * managed instances' DATABASE_MIRRORING endpoint certificates (issued in the name of Azure's TLS issuing CA,
 * as the service's are). RSA keys are generated once per process and reused, so an estate starts fast.
 */
import { X509Certificate, createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';
import { privateKeyObject, signCertificate } from '../x509.js';

export interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
}

const keyCache = new Map<string, KeyPairPem>();

/** An RSA 2048 key pair for a named purpose; the same name always gives the same key in one process. */
export function cachedKeyPair(purpose: string): KeyPairPem {
  let pair = keyCache.get(purpose);
  if (!pair) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    pair = { privateKeyPem: privateKey, publicKeyPem: publicKey };
    keyCache.set(purpose, pair);
  }
  return pair;
}

export interface NameAttribute {
  shortName: 'CN' | 'O' | 'OU' | 'C' | 'L' | 'ST';
  value: string;
}

export interface IssuedCertificate {
  certPem: string;
  der: Buffer;
  privateKeyPem: string;
  notBefore: Date;
  notAfter: Date;
}

interface IssueOptions {
  subject: NameAttribute[];
  issuer: NameAttribute[];
  subjectKey: KeyPairPem;
  signingKeyPem: string;
  notBefore: Date;
  notAfter: Date;
  isCa?: boolean;
  altNames?: Array<{ type: 2; value: string } | { type: 7; ip: string }>;
  serverAuth?: boolean;
}

function issue(opts: IssueOptions): IssuedCertificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(opts.subjectKey.publicKeyPem);
  // A positive serial number: clear the top bit of the first byte.
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = opts.notBefore;
  cert.validity.notAfter = opts.notAfter;
  cert.setSubject(opts.subject.map((a) => ({ shortName: a.shortName, value: a.value })));
  cert.setIssuer(opts.issuer.map((a) => ({ shortName: a.shortName, value: a.value })));
  const extensions: object[] = [];
  if (opts.isCa) {
    extensions.push({ name: 'basicConstraints', cA: true, critical: true });
    extensions.push({ name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true });
  } else {
    extensions.push({ name: 'basicConstraints', cA: false });
    extensions.push({ name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true });
  }
  if (opts.serverAuth) extensions.push({ name: 'extKeyUsage', serverAuth: true, clientAuth: true });
  if (opts.altNames) extensions.push({ name: 'subjectAltName', altNames: opts.altNames });
  extensions.push({ name: 'subjectKeyIdentifier' });
  cert.setExtensions(extensions);
  signCertificate(cert, privateKeyObject(opts.signingKeyPem));
  const certPem = forge.pki.certificateToPem(cert);
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
  return {
    certPem,
    der,
    privateKeyPem: opts.subjectKey.privateKeyPem,
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
  };
}

export interface LocalTls {
  caCertPem: string;
  /** Certificate for 127.0.0.1 and localhost, signed by the CA. */
  certPem: string;
  keyPem: string;
}

/** A CA made at start and a listener certificate for 127.0.0.1 / localhost signed by it. */
export function createLocalTls(now: Date = new Date()): LocalTls {
  const caKey = cachedKeyPair('local-ca');
  const notBefore = new Date(now.getTime() - 24 * 3600_000);
  const caName: NameAttribute[] = [
    { shortName: 'CN', value: 'milink simulated estate CA' },
    { shortName: 'O', value: 'milink' },
  ];
  const ca = issue({
    subject: caName,
    issuer: caName,
    subjectKey: caKey,
    signingKeyPem: caKey.privateKeyPem,
    notBefore,
    notAfter: new Date(now.getTime() + 5 * 365 * 24 * 3600_000),
    isCa: true,
  });
  const serverKey = cachedKeyPair('local-tls');
  const server = issue({
    subject: [{ shortName: 'CN', value: '127.0.0.1' }],
    issuer: caName,
    subjectKey: serverKey,
    signingKeyPem: caKey.privateKeyPem,
    notBefore,
    notAfter: new Date(now.getTime() + 365 * 24 * 3600_000),
    serverAuth: true,
    altNames: [
      { type: 7, ip: '127.0.0.1' },
      { type: 2, value: 'localhost' },
    ],
  });
  return { caCertPem: ca.certPem, certPem: server.certPem, keyPem: server.privateKeyPem };
}

/** The issuer every managed instance endpoint certificate names. */
export const AZURE_TLS_ISSUER: NameAttribute[] = [
  { shortName: 'CN', value: 'Microsoft Azure RSA TLS Issuing CA 08' },
  { shortName: 'O', value: 'Microsoft Corporation' },
  { shortName: 'C', value: 'US' },
];

/**
 * The DATABASE_MIRRORING endpoint certificate of a managed instance: subject CN=<fqdn>, issued by
 * "Microsoft Azure RSA TLS Issuing CA 08". `keySlot` picks a cached key (one per instance keeps keys distinct).
 */
export function issueInstanceEndpointCertificate(
  fqdn: string,
  keySlot: string,
  now: Date,
): IssuedCertificate {
  const issuerKey = cachedKeyPair('azure-tls-issuing-ca-08');
  return issue({
    subject: [{ shortName: 'CN', value: fqdn }],
    issuer: AZURE_TLS_ISSUER,
    subjectKey: cachedKeyPair(`instance-endpoint:${keySlot}`),
    signingKeyPem: issuerKey.privateKeyPem,
    notBefore: new Date(now.getTime() - 24 * 3600_000),
    notAfter: new Date(now.getTime() + 365 * 24 * 3600_000),
    serverAuth: true,
    altNames: [{ type: 2, value: fqdn }],
  });
}

export interface ParsedCertificate {
  der: Buffer;
  /** SubjectPublicKeyInfo, DER: what "the same public key" compares. */
  spki: Buffer;
  subject: string;
  issuer: string;
  validFrom: Date;
  validTo: Date;
  /** Upper-case hex SHA-1 of the DER, as the service shows a thumbprint. */
  thumbprint: string;
}

/** Parses an X.509 certificate in DER; null when the bytes are not a certificate. */
export function parseCertificateDer(der: Buffer): ParsedCertificate | null {
  try {
    const x = new X509Certificate(der);
    return {
      der,
      spki: x.publicKey.export({ type: 'spki', format: 'der' }),
      subject: x.subject,
      issuer: x.issuer,
      validFrom: new Date(x.validFrom),
      validTo: new Date(x.validTo),
      thumbprint: createHash('sha1').update(der).digest('hex').toUpperCase(),
    };
  } catch {
    return null;
  }
}

/** Hex blob (with or without 0x, any case) to bytes; null when not hex. */
export function hexBlobToBuffer(blob: string): Buffer | null {
  const hex = blob.trim().replace(/^0x/i, '');
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) return null;
  return Buffer.from(hex, 'hex');
}

export function bufferToHexBlob(der: Buffer, withPrefix: boolean): string {
  const hex = der.toString('hex').toUpperCase();
  return withPrefix ? `0x${hex}` : hex;
}
