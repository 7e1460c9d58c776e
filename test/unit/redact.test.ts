/**
 * Issue 16, item 4: a secret is masked in every form it can reappear in. The carriers below are written the way
 * the world writes them (a SQL Server error echoing a statement, an ARM JSON error body, a Basic header, a URL, a
 * hex dump), independently of the redactor's own encoders, and each is also cut short at every length down to
 * the documented minimum prefix.
 */
import { describe, expect, it } from 'vitest';
import { minimumPrefixLength, redactor } from '../../src/link/redact.js';

const CANARIES: Record<string, string> = {
  quotes: `Can'ary"Pass\\word'9`,
  'non-ASCII': 'Kanarienvögel-日本語-😀-ß',
  'T-SQL and sqlcmd characters': "x]]'';--/*$(MasterKeyPassword)*/ +&<>%",
  long: Array.from({ length: 300 }, (_, i) => String.fromCharCode(0x21 + ((i * 37) % 94))).join(''),
  'eight characters': "Ab'3$x\\9",
  'with spaces': 'correct horse battery staple',
};

/** .NET's default JSON: non-ASCII and HTML-sensitive characters as \uXXXX. */
function dotnetJson(s: string): string {
  let out = '';
  for (const c of JSON.stringify(s).slice(1, -1)) {
    const code = c.codePointAt(0)!;
    if (code > 0xffff) {
      const units = String.fromCodePoint(code);
      out += [...Array(2).keys()]
        .map((k) => `\\u${units.charCodeAt(k).toString(16).toUpperCase().padStart(4, '0')}`)
        .join('');
    } else if (code > 0x7e || `'<>&+\``.includes(c))
      out += `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
    else out += c;
  }
  return out;
}

interface Carrier {
  /** The whole text a fault would produce. */
  text: (s: string) => string;
  /** The part of that text that encodes the secret (what must not survive). */
  encoded: (s: string) => string;
  /** How many characters of `encoded` the minimum prefix takes. */
  min: (s: string) => number;
}

const head = (s: string) =>
  Array.from(s)
    .slice(0, minimumPrefixLength(Array.from(s).length))
    .join('');
const charwise = (encode: (s: string) => string, wrap: (e: string) => string): Carrier => ({
  text: (s) => wrap(encode(s)),
  encoded: encode,
  min: (s) => encode(head(s)).length,
});
const tsql = (s: string) => s.replace(/'/g, "''");
const json = (s: string) => JSON.stringify(s).slice(1, -1);

/** base64 of `before + secret`: the characters fixed by the secret's bytes alone. */
function base64Carrier(before: string, alphabet: 'base64' | 'base64url'): Carrier {
  const b = Buffer.byteLength(before);
  const span = (s: string, n: number) => {
    const all = Buffer.from(before + s).toString(alphabet);
    const first = Math.ceil((8 * b) / 6);
    const last = Math.floor((8 * (b + n)) / 6);
    return all.slice(first, last);
  };
  return {
    text: (s) => `Authorization: Basic ${Buffer.from(before + s).toString(alphabet)} (rejected)`,
    encoded: (s) => span(s, Buffer.byteLength(s)),
    min: (s) => span(s, Buffer.byteLength(head(s))).length,
  };
}

const CARRIERS: Record<string, Carrier> = {
  'as given': charwise(
    (s) => s,
    (e) => `Login failed: password ${e} rejected`,
  ),
  'T-SQL literal': charwise(tsql, (e) => `Msg 102: syntax error near 'PASSWORD = N'${e}''.`),
  'T-SQL identifier': charwise(
    (s) => s.replace(/]/g, ']]'),
    (e) => `Cannot find the object "[${e}]" because it does not exist.`,
  ),
  'JSON string': charwise(json, (e) => `{"error":{"code":"BadRequest","message":"value ${e} is invalid"}}`),
  'JSON of a T-SQL statement': charwise(
    (s) => json(`N'${tsql(s)}'`).slice(2, -1),
    (e) => `{"statement":"CREATE MASTER KEY ENCRYPTION BY PASSWORD = N'${e}'"}`,
  ),
  'JSON inside JSON': charwise(
    (s) => json(json(s)),
    (e) => JSON.stringify({ status: `{"message":"x` }).slice(0, -2) + e + '"}',
  ),
  '.NET JSON (\\u0027)': charwise(
    dotnetJson,
    (e) => `{"error":{"message":"The value '${e}' is not valid."}}`,
  ),
  'URL component': charwise(encodeURIComponent, (e) => `GET https://vault.example/secrets?probe=${e}&x=1`),
  'form encoding': charwise(
    (s) => new URLSearchParams({ p: s }).toString().slice(2),
    (e) => `body: grant_type=password&password=${e}`,
  ),
  'shell single quotes': charwise(
    (s) => s.replace(/'/g, `'\\''`),
    (e) => `!! az rest --body '{"p":"${e}"}' failed`,
  ),
  'hex 0x upper-case (UTF-8)': charwise(
    (s) => Buffer.from(s).toString('hex').toUpperCase(),
    (e) => `Msg 8152: value 0x${e} truncated`,
  ),
  'hex lower-case (UTF-16LE, nvarchar)': charwise(
    (s) => Buffer.from(s, 'utf16le').toString('hex'),
    (e) => `varbinary 0x${e} did not convert`,
  ),
  'base64, aligned': base64Carrier('', 'base64'),
  'base64 behind one byte': base64Carrier('u:', 'base64'),
  'base64 behind two bytes (Basic user:password)': base64Carrier('milink_admin:', 'base64'),
  'base64url behind two bytes': base64Carrier('ab', 'base64url'),
};

/** Any run of `window` characters of the encoded secret left in the text. */
function survivor(text: string, encoded: string, window: number): string | undefined {
  for (let i = 0; i + window <= encoded.length; i++) {
    const piece = encoded.slice(i, i + window);
    if (text.includes(piece)) return piece;
  }
  return undefined;
}

describe('a redactor built from the secrets an activity read', () => {
  for (const [canaryName, secret] of Object.entries(CANARIES))
    describe(`canary: ${canaryName}`, () => {
      const redact = redactor(['unrelated-secret-value', secret]);
      for (const [carrierName, carrier] of Object.entries(CARRIERS)) {
        it(`masks it ${carrierName}`, () => {
          const text = carrier.text(secret);
          const encoded = carrier.encoded(secret);
          expect(text).toContain(encoded); // the carrier really carries it
          const out = redact(text);
          expect(out).toContain('***');
          expect(survivor(out, encoded, Math.min(8, encoded.length))).toBeUndefined();
          // what surrounds it stays readable
          expect(out.slice(0, 4)).toBe(text.slice(0, 4));
        });
        it(`masks it ${carrierName}, cut short at every length down to the minimum prefix`, () => {
          const text = carrier.text(secret);
          const encoded = carrier.encoded(secret);
          const at = text.indexOf(encoded);
          for (let k = carrier.min(secret); k <= encoded.length; k++) {
            const cut = text.slice(0, at + k);
            const out = redact(cut);
            expect(out, `cut after ${k}`).toBe(`${text.slice(0, at)}***`);
          }
        });
      }
    });

  it('chooses the minimum prefix as max(8, half the secret), a short secret only whole', () => {
    expect([4, 8, 9, 16, 17, 40, 300].map(minimumPrefixLength)).toEqual([4, 8, 8, 8, 9, 20, 150]);
    const secret = CANARIES.long!;
    const redact = redactor([secret]);
    const short = secret.slice(0, 149);
    expect(redact(`x ${short}`)).toBe(`x ${short}`);
    expect(redact(`x ${secret.slice(0, 150)}`)).toBe('x ***');
  });

  it('leaves text without secrets as it is, and masks every occurrence', () => {
    const redact = redactor([CANARIES.quotes!]);
    expect(redact("nothing secret here: 0xDEADBEEF, N'it''s'")).toBe(
      "nothing secret here: 0xDEADBEEF, N'it''s'",
    );
    expect(redact(`${CANARIES.quotes} and ${tsql(CANARIES.quotes!)}`)).toBe('*** and ***');
    expect(redactor([])('anything')).toBe('anything');
    expect(redactor([''])('anything')).toBe('anything');
  });

  it('masks secrets that overlap in the text as one', () => {
    const redact = redactor(['abcdefghij', 'fghijklmnop']);
    expect(redact('<abcdefghijklmnop>')).toBe('<***>');
  });
});
