/**
 * Real X.509 certificates for the stand-in: made with node-forge, read with Node's own X509Certificate.
 *
 * RSA-2048 key generation is the slow part, so keys come from a small per-process pool made with Node's
 * native generator and converted for forge: a server starts without generating anything, and the first
 * certificate costs one native key generation.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  generateKeyPairSync,
  randomBytes,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import forge from 'node-forge';
import { signCertificate } from '../x509.js';

const POOL_SIZE = 2;
const keyPool: Array<forge.pki.rsa.KeyPair & { native: KeyObject; pem: string }> = [];
let nextKey = 0;

function addToPool(privateKey: KeyObject): void {
  if (keyPool.length >= POOL_SIZE) return;
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const priv = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  const pub = forge.pki.setRsaPublicKey(priv.n, priv.e);
  keyPool.push({ privateKey: priv, publicKey: pub, native: privateKey, pem });
}

/** Warms the pool in the background (libuv thread pool) as soon as this module loads. */
function warmPool(): void {
  for (let i = keyPool.length; i < POOL_SIZE; i++) {
    generateKeyPair('rsa', { modulusLength: 2048 }, (err, _pub, privateKey) => {
      if (!err) addToPool(privateKey);
    });
  }
}
warmPool();

function pooledKeyPair(
  avoid: readonly string[] = [],
): forge.pki.rsa.KeyPair & { native: KeyObject; pem: string } {
  if (keyPool.length === 0) addToPool(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey);
  for (let tries = 0; tries < keyPool.length; tries++) {
    const pair = keyPool[nextKey % keyPool.length]!;
    nextKey += 1;
    if (!avoid.includes(publicKeyOf(pair.native))) return pair;
  }
  // every pooled key is taken by a certificate that must not share it (a rotation's old one): a fresh key
  return freshKeyPair();
}

/** A key pair of its own (not from the pool): one native key generation. */
function freshKeyPair(): forge.pki.rsa.KeyPair & { native: KeyObject; pem: string } {
  const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const priv = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  return { privateKey: priv, publicKey: forge.pki.setRsaPublicKey(priv.n, priv.e), native: privateKey, pem };
}

/** A key's public part (SPKI DER, hex): what the instance compares when it trusts a certificate. */
function publicKeyOf(key: KeyObject): string {
  const pub = key.type === 'public' ? key : createPublicKey(key);
  return pub.export({ type: 'spki', format: 'der' }).toString('hex');
}

/** The public keys (SPKI DER, hex) of certificates, for `makeCertificate`'s `avoidKeysOf`. */
export function publicKeysOf(ders: readonly Buffer[]): string[] {
  return ders.map((der) => publicKeyOf(new X509Certificate(der).publicKey));
}

/** "CN=a, O=b, C=US" (or plain text, taken as the CN) → forge attributes in ASN.1 order (C first). */
function dnAttributes(dn: string): forge.pki.CertificateField[] {
  const parts = dn.split(/,\s*(?=[A-Za-z]+=)/);
  const looksLikeDn = parts.every((p) => /^[A-Za-z]+=/.test(p));
  // UTF8String for everything but the country (PrintableString), so any name survives the round trip
  const field = (shortName: string, value: string): forge.pki.CertificateField =>
    shortName === 'C'
      ? { shortName, value }
      : ({ shortName, value, valueTagClass: forge.asn1.Type.UTF8 } as unknown as forge.pki.CertificateField);
  if (!looksLikeDn) return [field('CN', dn)];
  const attrs = parts.map((p) => {
    const eq = p.indexOf('=');
    return field(p.slice(0, eq).trim().toUpperCase(), p.slice(eq + 1).trim());
  });
  return attrs.reverse();
}

export interface MadeCertificate {
  der: Buffer;
  privateKeyPem: string;
}

/**
 * A certificate with the given subject and issuer (both "CN=…, O=…, C=…" or plain CN text), signed with a
 * pooled key. With no issuer it is self-signed, as `CREATE CERTIFICATE … WITH SUBJECT` makes it.
 */
export function makeCertificate(opts: {
  subject: string;
  issuer?: string;
  notBefore: Date;
  notAfter: Date;
  /** Certificates whose key the new one must not share (the same server's others: a rotation needs a new key). */
  avoidKeysOf?: readonly Buffer[];
  /** A key no other certificate of this process holds (a certificate made outside any SQL Server: Key Vault's). */
  freshKey?: boolean;
}): MadeCertificate {
  const keys = opts.freshKey
    ? freshKeyPair()
    : pooledKeyPair(opts.avoidKeysOf ? publicKeysOf(opts.avoidKeysOf) : []);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f;
  cert.serialNumber = serial.toString('hex');
  cert.validity.notBefore = opts.notBefore;
  cert.validity.notAfter = opts.notAfter;
  cert.setSubject(dnAttributes(opts.subject));
  cert.setIssuer(dnAttributes(opts.issuer ?? opts.subject));
  signCertificate(cert, keys.native);
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
  return { der, privateKeyPem: keys.pem };
}

/** Shorthand for tests: a self-signed certificate valid from `notBefore` for `days` days. */
export function makeSelfSignedCertificate(subject: string, notBefore: Date, days = 365): MadeCertificate {
  return makeCertificate({ subject, notBefore, notAfter: new Date(notBefore.getTime() + days * 86_400_000) });
}

export interface ParsedCertificate {
  subject: string;
  issuerName: string;
  /** The subject's CN (empty when there is none). */
  subjectCn: string;
  startDate: Date;
  expiryDate: Date;
  thumbprint: Buffer;
}

/** Undoes the RFC 4514 escapes in Node's rendering of a name (`\,`, `\+`, `\0A` …). */
function unescapeDn(value: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && i + 1 < value.length) {
      const hex = value.slice(i + 1, i + 3);
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else {
        bytes.push(...Buffer.from(value[i + 1]!, 'utf8'));
        i += 1;
      }
    } else bytes.push(...Buffer.from(c, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/** SQL Server shows a name with only a CN as its plain text, and a fuller name as "CN=…, O=…, C=…". */
function displayName(lines: string): { text: string; cn: string } {
  const parts = lines
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const eq = l.indexOf('=');
      return eq < 0 ? l : l.slice(0, eq + 1) + unescapeDn(l.slice(eq + 1));
    });
  const cnPart = parts.find((p) => p.startsWith('CN='));
  const cn = cnPart ? cnPart.slice(3) : '';
  if (parts.length === 1 && cnPart) return { text: cn, cn };
  return { text: [...parts].reverse().join(', '), cn };
}

/** Parses DER; throws when the bytes are not an X.509 certificate. */
export function parseCertificate(der: Buffer): ParsedCertificate {
  const x = new X509Certificate(der);
  const subject = displayName(x.subject);
  const issuer = displayName(x.issuer);
  return {
    subject: subject.text,
    subjectCn: subject.cn,
    issuerName: issuer.text,
    startDate: new Date(x.validFrom),
    expiryDate: new Date(x.validTo),
    thumbprint: createHash('sha1').update(der).digest(),
  };
}

/**
 * Reads a private key in PVK format (what `CREATE CERTIFICATE … WITH PRIVATE KEY (BINARY = …)` takes and
 * CERTPRIVATEKEY returns): the PVK header, then a PRIVATEKEYBLOB (BLOBHEADER, RSAPUBKEY "RSA2", then modulus,
 * primes, exponents, coefficient and private exponent, little-endian). The stand-in reads unencrypted PVK only: an
 * encrypted one needs RC4, which this process's OpenSSL does not offer. Throws on anything else.
 */
export function privateKeyFromPvk(pvk: Buffer): { key: KeyObject; encrypted: boolean } {
  if (pvk.length < 24 || pvk.readUInt32LE(0) !== 0xb0b5f11e) throw new Error('not a PVK private key');
  const encrypted = pvk.readUInt32LE(12) !== 0;
  const saltLength = pvk.readUInt32LE(16);
  const keyLength = pvk.readUInt32LE(20);
  const blob = pvk.subarray(24 + saltLength, 24 + saltLength + keyLength);
  if (encrypted) return { key: undefined as unknown as KeyObject, encrypted };
  if (blob.length < 20 || blob[0] !== 0x07 || blob.readUInt32LE(8) !== 0x32415352)
    throw new Error('not an RSA PRIVATEKEYBLOB');
  const bits = blob.readUInt32LE(12);
  const exponent = blob.readUInt32LE(16);
  const whole = bits / 8;
  const half = bits / 16;
  let at = 20;
  const take = (n: number) => {
    const part = Buffer.from(blob.subarray(at, at + n)).reverse();
    at += n;
    if (part.length !== n) throw new Error('the PRIVATEKEYBLOB is cut short');
    return part.toString('base64url');
  };
  const n = take(whole);
  const p = take(half);
  const q = take(half);
  const dp = take(half);
  const dq = take(half);
  const qi = take(half);
  const d = take(whole);
  const e = Buffer.from(exponent.toString(16).padStart(6, '0'), 'hex').toString('base64url');
  return {
    key: createPrivateKey({ key: { kty: 'RSA', n, e, d, p, q, dp, dq, qi }, format: 'jwk' }),
    encrypted,
  };
}

/** Whether a private key belongs to a certificate (their public keys are the same). */
export function keyMatchesCertificate(key: KeyObject, der: Buffer): boolean {
  return publicKeyOf(key) === publicKeysOf([der])[0];
}
