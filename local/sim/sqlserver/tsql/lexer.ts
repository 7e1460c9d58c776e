/** The T-SQL tokenizer: identifiers, delimited identifiers, strings, numbers, binary, variables, operators. */
import { sqlError } from '../errors.js';

export type TokenKind = 'ident' | 'qident' | 'string' | 'number' | 'binary' | 'var' | 'sysvar' | 'op' | 'eof';

export interface Token {
  kind: TokenKind;
  /** Identifier text (delimiters removed), string contents (quotes undoubled), operator text… */
  value: string;
  /** N'…' string */
  unicode?: boolean;
  start: number;
  end: number;
}

const OPS2 = ['<>', '!=', '<=', '>=', '!<', '!>', '+=', '-='];
const OPS1 = '=<>+-*/%(),.;~&|^';

function isIdentStart(ch: string): boolean {
  return /[A-Za-z_#\u0080-\uffff]/.test(ch);
}
function isIdentPart(ch: string): boolean {
  return /[A-Za-z0-9_#$@\u0080-\uffff]/.test(ch);
}

/**
 * Reads delimited text from `from` (just past the opening delimiter) to the closing `close`, where a doubled
 * `close` stands for one. Unterminated text is error 105, reported with the text after `reportFrom`.
 */
function readDelimited(
  text: string,
  from: number,
  close: string,
  reportFrom: number,
): { value: string; end: number } {
  let i = from;
  let value = '';
  for (;;) {
    if (i >= text.length) throw sqlError(105, text.slice(reportFrom));
    const c = text[i]!;
    if (c === close) {
      if (text[i + 1] === close) {
        value += close;
        i += 2;
        continue;
      }
      return { value, end: i + 1 };
    }
    value += c;
    i++;
  }
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i]!;
    if (
      ch === ' ' ||
      ch === '\t' ||
      ch === '\r' ||
      ch === '\n' ||
      ch === '\f' ||
      ch === '\v' ||
      ch === '\u00a0'
    ) {
      i++;
      continue;
    }
    if (ch === '-' && text[i + 1] === '-') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (ch === '/' && text[i + 1] === '*') {
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
      if (depth > 0) throw sqlError(113);
      continue;
    }
    const start = i;
    // strings: '…' and N'…'
    if (ch === "'" || ((ch === 'N' || ch === 'n') && text[i + 1] === "'")) {
      const unicode = ch !== "'";
      const open = i + (unicode ? 2 : 1);
      const { value, end } = readDelimited(text, open, "'", open);
      i = end;
      tokens.push({ kind: 'string', value, unicode, start, end: i });
      continue;
    }
    if (ch === '[') {
      const { value, end } = readDelimited(text, i + 1, ']', start + 1);
      i = end;
      if (value.length > 128) throw sqlError(103, value.slice(0, 128));
      tokens.push({ kind: 'qident', value, start, end: i });
      continue;
    }
    if (ch === '"') {
      const { value, end } = readDelimited(text, i + 1, '"', start + 1);
      i = end;
      tokens.push({ kind: 'qident', value, start, end: i });
      continue;
    }
    if (ch === '0' && (text[i + 1] === 'x' || text[i + 1] === 'X')) {
      i += 2;
      while (i < n && /[0-9A-Fa-f]/.test(text[i]!)) i++;
      tokens.push({ kind: 'binary', value: text.slice(start + 2, i), start, end: i });
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(text[i + 1] ?? ''))) {
      while (i < n && /[0-9]/.test(text[i]!)) i++;
      if (text[i] === '.') {
        i++;
        while (i < n && /[0-9]/.test(text[i]!)) i++;
      }
      if ((text[i] === 'e' || text[i] === 'E') && /[-+0-9]/.test(text[i + 1] ?? '')) {
        i += 2;
        while (i < n && /[0-9]/.test(text[i]!)) i++;
      }
      tokens.push({ kind: 'number', value: text.slice(start, i), start, end: i });
      continue;
    }
    if (ch === '@') {
      const sys = text[i + 1] === '@';
      i += sys ? 2 : 1;
      while (i < n && isIdentPart(text[i]!)) i++;
      tokens.push({ kind: sys ? 'sysvar' : 'var', value: text.slice(start, i), start, end: i });
      continue;
    }
    if (isIdentStart(ch)) {
      while (i < n && isIdentPart(text[i]!)) i++;
      tokens.push({ kind: 'ident', value: text.slice(start, i), start, end: i });
      continue;
    }
    const two = text.slice(i, i + 2);
    if (OPS2.includes(two)) {
      tokens.push({ kind: 'op', value: two, start, end: i + 2 });
      i += 2;
      continue;
    }
    if (OPS1.includes(ch)) {
      tokens.push({ kind: 'op', value: ch, start, end: i + 1 });
      i++;
      continue;
    }
    throw sqlError(102, ch);
  }
  tokens.push({ kind: 'eof', value: '', start: n, end: n });
  return tokens;
}
