import { createPrivateKey, type KeyObject } from 'node:crypto';

/**
 * A private key in PVK format, for `CREATE CERTIFICATE … FROM BINARY = … WITH PRIVATE KEY (BINARY = <PVK>)`
 * ("CREATE CERTIFICATE (Transact-SQL)": "The private key bits should be in a PVK file format"; CERTPRIVATEKEY
 * returns the same format). Unencrypted (PVK's own encryption is RC4, which current OpenSSL builds refuse): the bits
 * travel only inside the batch, over the session's TLS, and never leave the activity that built them.
 *
 * Layout: the PVK header (magic 0xb0b5f11e, reserved, key type AT_KEYEXCHANGE, not encrypted, no salt, key length),
 * then a PRIVATEKEYBLOB: BLOBHEADER (PRIVATEKEYBLOB, version 2, CALG_RSA_KEYX), RSAPUBKEY ("RSA2", bit length,
 * public exponent), then modulus, prime1, prime2, exponent1, exponent2, coefficient, private exponent, little-endian.
 */
export function rsaPrivateKeyToPvk(pem: string | KeyObject): Buffer {
  const key = typeof pem === 'string' ? createPrivateKey(pem) : pem;
  if (key.asymmetricKeyType !== 'rsa') throw new Error('only an RSA private key can be written as PVK');
  const jwk = key.export({ format: 'jwk' }) as Record<string, string>;
  const bytes = (name: string) => Buffer.from(jwk[name]!, 'base64url');
  const modulus = bytes('n');
  const bits = modulus.length * 8;
  const le = (value: Buffer, length: number) => {
    if (value.length > length) throw new Error('a key part is longer than the key allows');
    const out = Buffer.alloc(length);
    Buffer.from(value).reverse().copy(out);
    return out;
  };
  const exponent = bytes('e');
  if (exponent.length > 4) throw new Error('the public exponent does not fit in 32 bits');
  const blobHeader = Buffer.alloc(8);
  blobHeader.writeUInt8(0x07, 0); // PRIVATEKEYBLOB
  blobHeader.writeUInt8(0x02, 1); // CUR_BLOB_VERSION
  blobHeader.writeUInt32LE(0x0000a400, 4); // CALG_RSA_KEYX
  const rsaPubKey = Buffer.alloc(12);
  rsaPubKey.writeUInt32LE(0x32415352, 0); // "RSA2"
  rsaPubKey.writeUInt32LE(bits, 4);
  rsaPubKey.writeUInt32LE(Number.parseInt(exponent.toString('hex'), 16), 8);
  const whole = bits / 8;
  const half = bits / 16;
  const blob = Buffer.concat([
    blobHeader,
    rsaPubKey,
    le(modulus, whole),
    le(bytes('p'), half),
    le(bytes('q'), half),
    le(bytes('dp'), half),
    le(bytes('dq'), half),
    le(bytes('qi'), half),
    le(bytes('d'), whole),
  ]);
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xb0b5f11e, 0);
  header.writeUInt32LE(0, 4);
  header.writeUInt32LE(1, 8); // AT_KEYEXCHANGE
  header.writeUInt32LE(0, 12); // not encrypted
  header.writeUInt32LE(0, 16); // no salt
  header.writeUInt32LE(blob.length, 20);
  return Buffer.concat([header, blob]);
}
