/**
 * Redaction of secret values from text that leaves an activity (errors, logs, status). Pure: built from the
 * secret values the activity read, it masks every form in which such a value can reappear:
 *
 * - as given;
 * - escaped the way milink and its neighbours write text: T-SQL literal (`'` doubled, as inside `N'…'`),
 *   T-SQL identifier (`]` doubled), JSON string content (`JSON.stringify(s).slice(1, -1)`, and the ASCII-only
 *   variant .NET services write, `\u0027` for `'`), URL-encoded (`encodeURIComponent`, and `+` for spaces),
 *   POSIX shell single-quoted (`'\''`, as `az rest` lines are written), HTML/XML text; and any two of these
 *   applied in turn (a T-SQL statement echoed inside a JSON error body);
 * - as bytes: hex of UTF-8 and of UTF-16LE (nvarchar) in either case, with or without `0x` (milink writes
 *   binary as `0x` + upper-case hex); base64 and base64url of UTF-8 at each of the three byte alignments
 *   (so a secret inside a larger encoded value, `user:password` in a Basic header, is found too);
 * - cut short: any prefix of any of those forms that covers at least the first
 *   max(8, ⌈n/2⌉) characters of an n-character secret (a secret of 8 characters or fewer only whole).
 *
 * Why that prefix length: messages are cut at a byte or character budget, so a secret can end a message half
 * written. Eight characters is the floor below which a prefix stops being evidence (short runs of letters occur
 * in ordinary text, and masking them would garble messages without protecting much: 8 random characters are
 * already a strong password on their own, fewer are not worth an attacker's while to extend); half the secret is
 * the floor for long secrets, because a prefix covering half a long random value gives up half its strength,
 * while one shorter than that still leaves more unknown characters than the floor of a whole short secret.
 */

export const MIN_PREFIX_CHARACTERS = 8;

/** The shortest prefix of an n-character secret that is masked; the whole secret when it is short. */
export function minimumPrefixLength(length: number): number {
  if (length <= MIN_PREFIX_CHARACTERS) return length;
  return Math.max(MIN_PREFIX_CHARACTERS, Math.ceil(length / 2));
}

/** One form a secret can take: its text, the shortest prefix that still counts, and whether case matters. */
export interface SecretForm {
  text: string;
  minLength: number;
  /** Hex digits compare without case. */
  anyCase: boolean;
}

/**
 * Byte encodings shorter than this are not masked: a few hex or base64 characters (a two-letter secret's shard
 * at an odd alignment) occur in ordinary text and say next to nothing about the secret.
 */
const ENCODED_FLOOR = 6;

type Escape = (s: string) => string;

const uHex = (c: string, upper: boolean) => {
  const hex = c.charCodeAt(0).toString(16).padStart(4, '0');
  return `\\u${upper ? hex.toUpperCase() : hex}`;
};

/** JSON as .NET writes it by default: every non-ASCII and HTML-sensitive character as \uXXXX. */
const jsonAscii =
  (upper: boolean): Escape =>
  (s) =>
    JSON.stringify(s)
      .slice(1, -1)
      .replace(/[^\x20-\x7e]|['<>&+`]/g, (c) => uHex(c, upper));

const ESCAPES: Escape[] = [
  (s) => s,
  (s) => s.replace(/'/g, "''"),
  (s) => s.replace(/]/g, ']]'),
  (s) => JSON.stringify(s).slice(1, -1),
  jsonAscii(true),
  jsonAscii(false),
  (s) => encodeURIComponent(s),
  (s) => encodeURIComponent(s).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()),
  (s) => new URLSearchParams({ v: s }).toString().slice(2),
  (s) => s.replace(/'/g, `'\\''`),
  (s) =>
    s.replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
    ),
];

function safely(escape: Escape, s: string): string | undefined {
  try {
    return escape(s);
  } catch {
    return undefined; // encodeURIComponent refuses lone surrogates: no such form exists
  }
}

/** Every form of one secret. */
export function secretForms(secret: string): SecretForm[] {
  if (secret.length === 0) return [];
  const chars = Array.from(secret);
  const head = chars.slice(0, minimumPrefixLength(chars.length)).join('');
  const forms: SecretForm[] = [];
  const add = (text: string | undefined, minLength: number, anyCase = false, floor = 1) => {
    if (text === undefined || text.length < floor) return;
    forms.push({ text, minLength: Math.min(Math.max(minLength, 1), text.length), anyCase });
  };

  for (const outer of ESCAPES)
    for (const inner of ESCAPES) {
      const once = safely(inner, secret);
      const onceHead = safely(inner, head);
      if (once === undefined || onceHead === undefined) continue;
      const twice = safely(outer, once);
      const twiceHead = safely(outer, onceHead);
      if (twice !== undefined && twiceHead !== undefined) add(twice, twiceHead.length);
    }

  for (const encoding of ['utf8', 'utf16le'] as const)
    add(
      Buffer.from(secret, encoding).toString('hex'),
      Buffer.from(head, encoding).toString('hex').length,
      true,
      ENCODED_FLOOR,
    );

  const bytes = Buffer.from(secret, 'utf8');
  const headBytes = Buffer.byteLength(head, 'utf8');
  for (const alignment of [0, 1, 2]) {
    // Behind `alignment` unknown bytes, the secret's bits start in base64 character `dropped`.
    const padded = Buffer.concat([Buffer.alloc(alignment), bytes]);
    const dropped = [0, 2, 3][alignment]!;
    const determined = (n: number) => Math.floor(((alignment + n) * 4) / 3) - dropped;
    for (const alphabet of ['base64', 'base64url'] as const) {
      const full = padded.toString(alphabet).replace(/=+$/, '');
      add(
        full.slice(dropped, dropped + determined(bytes.length)),
        determined(headBytes),
        false,
        ENCODED_FLOOR,
      );
    }
  }

  const seen = new Set<string>();
  return forms.filter((f) => {
    const key = `${f.anyCase ? f.text.toLowerCase() : f.text}\u0000${f.minLength}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Lower-cases A-F only, so indexes stay where they are. */
const foldHex = (s: string) => s.replace(/[A-F]/g, (c) => c.toLowerCase());

/** The spans of text covered by a form or a long enough prefix of it. */
function spans(text: string, folded: string, form: SecretForm): Array<[number, number]> {
  const haystack = form.anyCase ? folded : text;
  const needle = form.anyCase ? foldHex(form.text) : form.text;
  const start = needle.slice(0, form.minLength);
  const found: Array<[number, number]> = [];
  for (let i = haystack.indexOf(start); i !== -1; i = haystack.indexOf(start, i + 1)) {
    let j = form.minLength;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    found.push([i, i + j]);
  }
  return found;
}

export type Redactor = (text: string) => string;

/** A redactor for these secret values: every form of each, whole or cut short, becomes `mask`. */
export function redactor(secrets: Iterable<string>, mask = '***'): Redactor {
  const forms = [...new Set(secrets)].flatMap(secretForms);
  return (text) => {
    if (forms.length === 0 || text.length === 0) return text;
    const folded = foldHex(text);
    const covered = forms.flatMap((f) => spans(text, folded, f)).sort((a, b) => a[0] - b[0]);
    const merged: Array<[number, number]> = [];
    for (const [from, to] of covered) {
      const last = merged.at(-1);
      if (last && from <= last[1]) last[1] = Math.max(last[1], to);
      else merged.push([from, to]);
    }
    let out = '';
    let at = 0;
    for (const [from, to] of merged) {
      out += text.slice(at, from) + mask;
      at = to;
    }
    return out + text.slice(at);
  };
}
