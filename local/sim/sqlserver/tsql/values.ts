/** SQL values with their types: conversion, comparison and formatting as SQL Server does them. */
import { SqlError, sqlError } from '../errors.js';
import type { TypeSpec } from './ast.js';
import { compareStrings, DEFAULT_COLLATION, type Collation } from '../collation.js';

export type SqlBase =
  | 'nvarchar'
  | 'varchar'
  | 'int'
  | 'bigint'
  | 'smallint'
  | 'tinyint'
  | 'bit'
  | 'datetime'
  | 'datetime2'
  | 'date'
  | 'varbinary'
  | 'uniqueidentifier'
  | 'float'
  | 'numeric';

export interface SqlType {
  base: SqlBase;
  /** characters / bytes; -1 = MAX */
  length?: number;
  precision?: number;
  scale?: number;
}

export type Value = string | number | bigint | Buffer | Date | null;

/** A value with its type. */
export interface TV {
  v: Value;
  t: SqlType;
}

export const T = {
  nvarchar: (length = 4000): SqlType => ({ base: 'nvarchar', length }),
  varchar: (length = 8000): SqlType => ({ base: 'varchar', length }),
  int: { base: 'int' } as SqlType,
  bigint: { base: 'bigint' } as SqlType,
  smallint: { base: 'smallint' } as SqlType,
  tinyint: { base: 'tinyint' } as SqlType,
  bit: { base: 'bit' } as SqlType,
  datetime: { base: 'datetime' } as SqlType,
  datetime2: { base: 'datetime2', scale: 7 } as SqlType,
  date: { base: 'date' } as SqlType,
  varbinary: (length = -1): SqlType => ({ base: 'varbinary', length }),
  guid: { base: 'uniqueidentifier' } as SqlType,
  float: { base: 'float' } as SqlType,
  numeric: (precision = 25, scale = 0): SqlType => ({ base: 'numeric', precision, scale }),
};

export const NULL_INT: TV = { v: null, t: T.int };

export function tv(v: Value, t: SqlType): TV {
  return { v, t };
}

export function isString(t: SqlType): boolean {
  return t.base === 'nvarchar' || t.base === 'varchar';
}
export function isNumeric(t: SqlType): boolean {
  return ['int', 'bigint', 'smallint', 'tinyint', 'bit', 'float', 'numeric'].includes(t.base);
}
export function isDate(t: SqlType): boolean {
  return t.base === 'datetime' || t.base === 'datetime2' || t.base === 'date';
}

/** The SqlType of a declared type (DECLARE, CAST, CONVERT); `declared` gives the DECLARE defaults. */
export function typeFromSpec(spec: TypeSpec, declared: boolean): SqlType {
  const defLen = declared ? 1 : 30;
  switch (spec.name) {
    case 'nvarchar':
    case 'nchar':
    case 'ntext':
    case 'xml':
      return {
        base: 'nvarchar',
        length: spec.length ?? (spec.name === 'ntext' || spec.name === 'xml' ? -1 : defLen),
      };
    case 'sysname':
      return { base: 'nvarchar', length: 128 };
    case 'varchar':
    case 'char':
    case 'text':
      return { base: 'varchar', length: spec.length ?? (spec.name === 'text' ? -1 : defLen) };
    case 'varbinary':
    case 'binary':
      return { base: 'varbinary', length: spec.length ?? defLen };
    case 'int':
    case 'bigint':
    case 'smallint':
    case 'tinyint':
    case 'bit':
    case 'date':
    case 'datetime':
      return { base: spec.name };
    case 'smalldatetime':
      return { base: 'datetime' };
    case 'datetime2':
    case 'datetimeoffset':
      return { base: 'datetime2', scale: spec.scale ?? 7 };
    case 'uniqueidentifier':
      return T.guid;
    case 'float':
    case 'real':
    case 'money':
      return T.float;
    case 'decimal':
    case 'numeric':
      return { base: 'numeric', precision: spec.precision ?? 18, scale: spec.scale ?? 0 };
    case 'sql_variant':
      return T.nvarchar(4000);
    default:
      throw sqlError(2715, spec.name);
  }
}

export function typeName(t: SqlType): string {
  return t.base;
}

// ---- dates
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

function mkDate(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): Date | null {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
  const dt = new Date(Date.UTC(y, mo - 1, d, h, mi, s, ms));
  dt.setUTCFullYear(y);
  if (dt.getUTCMonth() !== mo - 1 || dt.getUTCDate() !== d) return null;
  return dt;
}

/** Parses the date strings SQL Server accepts under DATEFORMAT mdy; null when it does not. */
export function parseDate(text: string): Date | null {
  const s = text.trim();
  if (s === '') return new Date(Date.UTC(1900, 0, 1));
  let date: { y: number; mo: number; d: number } | null = null;
  let rest = '';
  let m: RegExpMatchArray | null;
  if ((m = s.match(/^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](.*))?$/))) {
    date = { y: +m[1]!, mo: +m[2]!, d: +m[3]! };
    rest = m[4] ?? '';
  } else if ((m = s.match(/^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})(?:\s+(.*))?$/))) {
    let y = +m[3]!;
    if (m[3]!.length === 2) y += y < 50 ? 2000 : 1900;
    date = { y, mo: +m[1]!, d: +m[2]! };
    rest = m[4] ?? '';
  } else if ((m = s.match(/^(\d{4})(\d{2})(\d{2})(?:\s+(.*))?$/))) {
    date = { y: +m[1]!, mo: +m[2]!, d: +m[3]! };
    rest = m[4] ?? '';
  } else if ((m = s.match(/^([A-Za-z]{3})[a-z]*\s+(\d{1,2}),?\s+(\d{4})(?:\s+(.*))?$/))) {
    const mo = MONTHS.findIndex((x) => x.toLowerCase() === m![1]!.toLowerCase()) + 1;
    if (mo === 0) return null;
    date = { y: +m[3]!, mo, d: +m[2]! };
    rest = m[4] ?? '';
  } else if ((m = s.match(/^(\d{1,2})\s+([A-Za-z]{3})[a-z]*,?\s+(\d{4})(?:\s+(.*))?$/))) {
    const mo = MONTHS.findIndex((x) => x.toLowerCase() === m![2]!.toLowerCase()) + 1;
    if (mo === 0) return null;
    date = { y: +m[3]!, mo, d: +m[1]! };
    rest = m[4] ?? '';
  }
  if (!date) return null;
  let h = 0;
  let mi = 0;
  let sec = 0;
  let ms = 0;
  rest = rest.trim().replace(/Z$|[+-]\d{2}:\d{2}$/, '');
  if (rest) {
    const t = rest.match(/^(\d{1,2}):(\d{2})(?::(\d{2})(?:[.:](\d{1,7}))?)?\s*(AM|PM)?$/i);
    if (!t) return null;
    h = +t[1]!;
    mi = +t[2]!;
    sec = t[3] ? +t[3] : 0;
    ms = t[4] ? Math.floor(+`0.${t[4]}` * 1000) : 0;
    const ampm = t[5]?.toUpperCase();
    if (ampm === 'PM' && h < 12) h += 12;
    if (ampm === 'AM' && h === 12) h = 0;
  }
  return mkDate(date.y, date.mo, date.d, h, mi, sec, ms);
}

export function formatDate(d: Date, t: SqlType, style = 0): string {
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth() + 1;
  const day = d.getUTCDate();
  const h = d.getUTCHours();
  const mi = d.getUTCMinutes();
  const s = d.getUTCSeconds();
  const ms = d.getUTCMilliseconds();
  const ymd = `${y}-${pad(mo)}-${pad(day)}`;
  const hms = `${pad(h)}:${pad(mi)}:${pad(s)}`;
  switch (style) {
    case 101:
      return `${pad(mo)}/${pad(day)}/${y}`;
    case 103:
      return `${pad(day)}/${pad(mo)}/${y}`;
    case 112:
      return `${y}${pad(mo)}${pad(day)}`;
    case 120:
    case 20:
      return `${ymd} ${hms}`;
    case 121:
    case 21:
      return `${ymd} ${hms}.${pad(ms, 3)}`;
    case 126:
    case 127:
      return `${ymd}T${hms}${ms ? '.' + pad(ms, 3) : ''}${style === 127 ? 'Z' : ''}`;
    default:
      if (t.base === 'date') return ymd;
      if (t.base === 'datetime2') return `${ymd} ${hms}.${pad(ms, 3)}0000`;
      return `${MONTHS[mo - 1]} ${String(day).padStart(2, ' ')} ${y} ${String(h % 12 === 0 ? 12 : h % 12).padStart(2, ' ')}:${pad(mi)}${h < 12 ? 'AM' : 'PM'}`;
  }
}

// ---- conversion
function conversionError(from: TV, to: SqlType): SqlError {
  if (isDate(to)) return sqlError(241);
  const shown = from.v instanceof Buffer ? '0x' + from.v.toString('hex').toUpperCase() : String(from.v);
  return new SqlError(
    245,
    `Conversion failed when converting the ${from.t.base} value '${shown}' to data type ${to.base}.`,
  );
}

function truncate(s: string, t: SqlType): string {
  return t.length !== undefined && t.length >= 0 && s.length > t.length ? s.slice(0, t.length) : s;
}

export function toText(x: TV, style = 0): string | null {
  const v = x.v;
  if (v === null) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number') {
    if (x.t.base === 'numeric' && x.t.scale) return v.toFixed(x.t.scale);
    return String(v);
  }
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return formatDate(v, x.t, style);
  if (Buffer.isBuffer(v)) {
    if (style === 1) return '0x' + v.toString('hex').toUpperCase();
    if (style === 2) return v.toString('hex').toUpperCase();
    return x.t.base === 'varbinary' ? v.toString('latin1') : v.toString('latin1');
  }
  return String(v);
}

export function convert(x: TV, to: SqlType, style = 0): TV {
  const v = x.v;
  if (v === null) return { v: null, t: to };
  switch (to.base) {
    case 'nvarchar':
    case 'varchar': {
      if (Buffer.isBuffer(v) && style === 0) {
        const s = to.base === 'nvarchar' ? v.toString('utf16le') : v.toString('latin1');
        return { v: truncate(s, to), t: to };
      }
      return { v: truncate(toText(x, style)!, to), t: to };
    }
    case 'int':
    case 'bigint':
    case 'smallint':
    case 'tinyint': {
      let n: number | bigint;
      if (typeof v === 'number') n = Math.trunc(v);
      else if (typeof v === 'bigint') n = v;
      else if (typeof v === 'string') {
        const s = v.trim();
        if (!/^[+-]?\d+$/.test(s)) throw conversionError(x, to);
        n = to.base === 'bigint' ? BigInt(s) : Number(s);
      } else if (Buffer.isBuffer(v)) n = v.length === 0 ? 0 : Number(BigInt('0x' + v.toString('hex')));
      else throw conversionError(x, to);
      if (to.base === 'bigint') return { v: BigInt(n), t: to };
      const num = Number(n);
      const [lo, hi] =
        to.base === 'int' ? [-2147483648, 2147483647] : to.base === 'smallint' ? [-32768, 32767] : [0, 255];
      if (num < lo || num > hi)
        throw new SqlError(8115, `Arithmetic overflow error converting expression to data type ${to.base}.`);
      return { v: num, t: to };
    }
    case 'bit': {
      if (typeof v === 'string') {
        const s = v.trim().toUpperCase();
        if (s === 'TRUE') return { v: 1, t: to };
        if (s === 'FALSE') return { v: 0, t: to };
        if (!/^[+-]?\d+(\.\d+)?$/.test(s)) throw conversionError(x, to);
        return { v: Number(s) !== 0 ? 1 : 0, t: to };
      }
      if (typeof v === 'number' || typeof v === 'bigint') return { v: Number(v) !== 0 ? 1 : 0, t: to };
      throw conversionError(x, to);
    }
    case 'float':
    case 'numeric': {
      if (typeof v === 'number') return { v, t: to };
      if (typeof v === 'bigint')
        return { v: to.base === 'numeric' && (to.scale ?? 0) === 0 ? v : Number(v), t: to };
      if (typeof v === 'string') {
        const s = v.trim();
        if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) throw conversionError(x, to);
        return { v: Number(s), t: to };
      }
      throw conversionError(x, to);
    }
    case 'datetime':
    case 'datetime2':
    case 'date': {
      let d: Date | null = null;
      if (v instanceof Date) d = v;
      else if (typeof v === 'string') d = parseDate(v);
      else if (typeof v === 'number' && to.base === 'datetime')
        d = new Date(Date.UTC(1900, 0, 1) + v * 86_400_000);
      if (!d) throw conversionError(x, to);
      if (to.base === 'date') d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
      return { v: d, t: to };
    }
    case 'varbinary': {
      if (Buffer.isBuffer(v)) return { v, t: to };
      if (typeof v === 'string') {
        if (style === 1 || style === 2) {
          const hex = style === 1 ? v.replace(/^0x/i, '') : v;
          if (!/^[0-9A-Fa-f]*$/.test(hex) || hex.length % 2 !== 0) throw conversionError(x, to);
          return { v: Buffer.from(hex, 'hex'), t: to };
        }
        return { v: Buffer.from(v, x.t.base === 'nvarchar' ? 'utf16le' : 'latin1'), t: to };
      }
      if (typeof v === 'number') {
        const b = Buffer.alloc(4);
        b.writeInt32BE(v);
        return { v: b, t: to };
      }
      throw conversionError(x, to);
    }
    case 'uniqueidentifier': {
      if (
        typeof v === 'string' &&
        /^\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?$/.test(v.trim())
      )
        return { v: v.trim().replace(/[{}]/g, '').toUpperCase(), t: to };
      throw new SqlError(
        8169,
        'Conversion failed when converting from a character string to uniqueidentifier.',
      );
    }
  }
}

// ---- comparison: strings under a collation (default case-insensitive), trailing spaces ignored
export function compare(a: TV, b: TV, collation: Collation = DEFAULT_COLLATION): number | null {
  if (a.v === null || b.v === null) return null;
  let x = a;
  let y = b;
  if (isDate(x.t) || isDate(y.t)) {
    x = convert(x, T.datetime2);
    y = convert(y, T.datetime2);
    return Math.sign((x.v as Date).getTime() - (y.v as Date).getTime());
  }
  if (isNumeric(x.t) || isNumeric(y.t)) {
    if (!isNumeric(x.t)) x = convert(x, isNumeric(y.t) && y.t.base === 'float' ? T.float : T.bigint);
    if (!isNumeric(y.t)) y = convert(y, isNumeric(x.t) && x.t.base === 'float' ? T.float : T.bigint);
    const xv = x.v as number | bigint;
    const yv = y.v as number | bigint;
    if (typeof xv === 'bigint' && typeof yv === 'bigint') return xv < yv ? -1 : xv > yv ? 1 : 0;
    const d = Number(xv) - Number(yv);
    return d < 0 ? -1 : d > 0 ? 1 : 0;
  }
  if (Buffer.isBuffer(x.v) && Buffer.isBuffer(y.v)) return Buffer.compare(x.v, y.v);
  return compareStrings(toText(x) ?? '', toText(y) ?? '', collation);
}

/** LIKE with % _ [set] [^set]; case-insensitive unless the collation is case-sensitive. */
export function like(text: string, pattern: string, collation: Collation = DEFAULT_COLLATION): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '[\\s\\S]';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 1);
      if (close < 0) {
        re += '\\[';
        continue;
      }
      let set = pattern.slice(i + 1, close);
      const neg = set.startsWith('^');
      if (neg) set = set.slice(1);
      re += '[' + (neg ? '^' : '') + set.replace(/[\\\]]/g, '\\$&') + ']';
      i = close;
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  re += '$';
  return new RegExp(re, collation.caseSensitive ? '' : 'i').test(text.replace(/ +$/, ''));
}
