/**
 * A small T-SQL tokenizer for tests: it shows how SQL Server would split a batch into tokens, so a test can
 * prove that a name stayed one identifier or one literal, and compare statements at the token level.
 */
export type TokenKind =
  'word' | 'identifier' | 'string' | 'binary' | 'number' | 'variable' | 'sqlcmd' | 'symbol';

export interface Token {
  kind: TokenKind;
  /** Words upper-cased; identifiers and strings unquoted; others as written. */
  value: string;
  /** `N'…'` for strings, `[…]` / `"…"` for identifiers. */
  raw: string;
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '-' && text[i + 1] === '-') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (text[i] === '/' && text[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (text[i] === '*' && text[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
      if (depth > 0) throw new Error('unterminated comment');
      continue;
    }
    const start = i;
    if (c === '[') {
      let value = '';
      i++;
      for (;;) {
        if (i >= n) throw new Error('unterminated [identifier]');
        if (text[i] === ']') {
          if (text[i + 1] === ']') {
            value += ']';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i++];
      }
      tokens.push({ kind: 'identifier', value, raw: text.slice(start, i) });
      continue;
    }
    if (c === "'" || ((c === 'N' || c === 'n') && text[i + 1] === "'")) {
      i += c === "'" ? 1 : 2;
      let value = '';
      for (;;) {
        if (i >= n) throw new Error('unterminated string');
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i++];
      }
      tokens.push({ kind: 'string', value, raw: text.slice(start, i) });
      continue;
    }
    if (c === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X')) {
      i += 2;
      while (i < n && /[0-9a-fA-F]/.test(text[i]!)) i++;
      tokens.push({ kind: 'binary', value: text.slice(start, i).toUpperCase(), raw: text.slice(start, i) });
      continue;
    }
    if (/[0-9]/.test(c)) {
      while (i < n && /[0-9.]/.test(text[i]!)) i++;
      tokens.push({ kind: 'number', value: text.slice(start, i), raw: text.slice(start, i) });
      continue;
    }
    if (c === '$' && text[i + 1] === '(') {
      const end = text.indexOf(')', i);
      if (end < 0) throw new Error('unterminated $(variable)');
      i = end + 1;
      tokens.push({ kind: 'sqlcmd', value: text.slice(start + 2, end), raw: text.slice(start, i) });
      continue;
    }
    if (c === '@') {
      i++;
      if (text[i] === '@') i++;
      while (i < n && /[\p{L}\p{N}_@#$]/u.test(text[i]!)) i++;
      tokens.push({ kind: 'variable', value: text.slice(start, i).toLowerCase(), raw: text.slice(start, i) });
      continue;
    }
    if (/[\p{L}_#]/u.test(c)) {
      while (i < n && /[\p{L}\p{N}_@#$]/u.test(text[i]!)) i++;
      const word = text.slice(start, i);
      tokens.push({ kind: 'word', value: word.toUpperCase(), raw: word });
      continue;
    }
    const two = text.slice(i, i + 2);
    if (['<>', '>=', '<=', '!=', '::'].includes(two)) {
      i += 2;
      tokens.push({ kind: 'symbol', value: two, raw: two });
      continue;
    }
    i++;
    tokens.push({ kind: 'symbol', value: c, raw: c });
  }
  return tokens;
}

/**
 * Canonical form for comparing statements: bare words and bracketed identifiers alike (a bare word that is
 * not a keyword compares equal to the same name in brackets), string literals alike with or without N,
 * trailing semicolons dropped, and the items of every parenthesised list that follows WITH sorted.
 */
export function canonical(tokens: Token[], keywords: ReadonlySet<string>): string[] {
  const items = tokens
    .filter((t, idx) => !(t.kind === 'symbol' && t.value === ';' && idx === tokens.length - 1))
    .map((t) => {
      switch (t.kind) {
        case 'word':
          return keywords.has(t.value) ? t.value : `id:${t.raw.toLowerCase()}`;
        case 'identifier':
          return `id:${t.value.toLowerCase()}`;
        case 'string':
          return `str:${t.value}`;
        default:
          return `${t.kind}:${t.value}`;
      }
    });
  return sortWithLists(items);
}

function sortWithLists(items: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    out.push(item);
    if (item === 'WITH' && items[i + 1] === 'symbol:(') {
      // collect the list up to the matching ), split at top-level commas, sort the parts
      let depth = 0;
      let j = i + 1;
      const parts: string[][] = [[]];
      for (; j < items.length; j++) {
        const t = items[j]!;
        if (t === 'symbol:(') {
          depth++;
          if (depth === 1) continue;
        }
        if (t === 'symbol:)') {
          depth--;
          if (depth === 0) break;
        }
        if (t === 'symbol:,' && depth === 1) {
          parts.push([]);
          continue;
        }
        parts[parts.length - 1]!.push(t);
      }
      const sorted = parts.map((p) => sortWithLists(p).join(' ')).sort();
      out.push('symbol:(', sorted.join(' , '), 'symbol:)');
      i = j;
    }
  }
  return out;
}

/** The keywords the runbook's statements use; any other bare word is a name. */
export const KEYWORDS: ReadonlySet<string> = new Set(
  `ALTER DATABASE SET RECOVERY FULL BACKUP TO DISK CREATE MASTER KEY ENCRYPTION BY PASSWORD CERTIFICATE WITH SUBJECT
  EXPIRY_DATE FROM BINARY EXEC EXECUTE ENDPOINT STATE STARTED AS TCP LISTENER_PORT LISTENER_IP ALL FOR DATABASE_MIRRORING ROLE
  AUTHENTICATION REQUIRED ALGORITHM AES RC4 WINDOWS NEGOTIATE NTLM KERBEROS AVAILABILITY GROUP CLUSTER_TYPE NONE REPLICA ON
  ENDPOINT_URL AVAILABILITY_MODE SYNCHRONOUS_COMMIT ASYNCHRONOUS_COMMIT FAILOVER_MODE MANUAL SEEDING_MODE AUTOMATIC DISTRIBUTED
  LISTENER_URL SESSION_TIMEOUT GRANT ANY DROP LOG IF NOT EXISTS SELECT WHERE AND BEGIN END ELSE PRINT DECLARE INT USE
  SP_CERTIFICATE_ADD_ISSUER SP_VALIDATE_CERTIFICATE_CA_CHAIN CERT_ID CERTENCODED`
    .split(/\s+/)
    .filter(Boolean),
);
