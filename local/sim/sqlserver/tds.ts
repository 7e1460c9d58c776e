/**
 * TDS 7.x framing and tokens for the stand-in: packets, PRELOGIN, LOGIN7, SQL batch and RPC requests in;
 * LOGINACK, ENVCHANGE, COLMETADATA, ROW, ERROR, INFO, DONE… out. Facts: shared/notes/tds-protocol.md
 * and MS-TDS.
 */
import { SqlError } from './errors.js';
import { T, type SqlType, type TV, type Value } from './tsql/values.js';

export const PKT = {
  SQL_BATCH: 0x01,
  RPC: 0x03,
  REPLY: 0x04,
  ATTENTION: 0x06,
  LOGIN7: 0x10,
  PRELOGIN: 0x12,
} as const;

/**
 * TDS versions as LOGINACK confirms them (MS-TDS 2.2.7.14). The layouts that differ between them and that
 * the stand-in honours: DONE/DONEPROC/DONEINPROC row counts are 4 bytes before 7.2 and 8 bytes from 7.2;
 * ALL_HEADERS in SQL batch and RPC requests exist from 7.2; (n)varchar(max)/varbinary(max) as PLP exist from
 * 7.2 (older clients get ntext/image); date/time/datetime2/datetimeoffset exist from 7.3 (older clients
 * get datetime).
 */
export const TDS_VERSION = {
  V7_1: 0x71000001,
  V7_2: 0x72090002,
  V7_3A: 0x730a0003,
  V7_3B: 0x730b0003,
  V7_4: 0x74000004,
} as const;

/** 7.2 and later: 8-byte DONE row counts, ALL_HEADERS, PLP (max) types. */
export function hasPlp(tds: number): boolean {
  return tds >>> 0 >= TDS_VERSION.V7_2;
}

/** 7.3 and later: date, time, datetime2, datetimeoffset on the wire. */
export function hasDatetime2(tds: number): boolean {
  return tds >>> 0 >= TDS_VERSION.V7_3A;
}

/** SQL_Latin1_General_CP1_CI_AS */
export const COLLATION = Buffer.from([0x09, 0x04, 0xd0, 0x00, 0x34]);

// ---------- writing
export class Writer {
  private chunks: Buffer[] = [];
  private len = 0;
  push(b: Buffer): this {
    this.chunks.push(b);
    this.len += b.length;
    return this;
  }
  u8(n: number): this {
    return this.push(Buffer.from([n & 0xff]));
  }
  u16(n: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(n & 0xffff);
    return this.push(b);
  }
  u16be(n: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(n);
    return this.push(b);
  }
  u32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n >>> 0);
    return this.push(b);
  }
  i32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32LE(n);
    return this.push(b);
  }
  u32be(n: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n >>> 0);
    return this.push(b);
  }
  u64(n: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(n);
    return this.push(b);
  }
  bVarchar(s: string): this {
    const b = Buffer.from(s, 'utf16le');
    return this.u8(s.length).push(b);
  }
  usVarchar(s: string): this {
    const b = Buffer.from(s, 'utf16le');
    return this.u16(s.length).push(b);
  }
  get length(): number {
    return this.len;
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.len);
  }
}

/** Splits a message into packets of at most `packetSize` bytes. */
export function packets(type: number, payload: Buffer, packetSize: number): Buffer[] {
  const max = packetSize - 8;
  const out: Buffer[] = [];
  let id = 1;
  for (let off = 0; off < payload.length || out.length === 0; off += max) {
    const part = payload.subarray(off, off + max);
    const last = off + max >= payload.length;
    const h = Buffer.alloc(8);
    h.writeUInt8(type, 0);
    h.writeUInt8(last ? 0x01 : 0x00, 1);
    h.writeUInt16BE(part.length + 8, 2);
    h.writeUInt16BE(0, 4);
    h.writeUInt8(id++ & 0xff, 6);
    out.push(Buffer.concat([h, part]));
    if (last) break;
  }
  return out;
}

/** Reassembles client messages from the byte stream. */
export class MessageReader {
  private buf: Buffer = Buffer.alloc(0);
  private parts: Buffer[] = [];
  push(data: Buffer): Array<{ type: number; payload: Buffer }> {
    this.buf = this.buf.length ? Buffer.concat([this.buf, data]) : data;
    const out: Array<{ type: number; payload: Buffer }> = [];
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt16BE(2);
      if (len < 8) throw new Error('bad TDS packet length');
      if (this.buf.length < len) break;
      const type = this.buf[0]!;
      const status = this.buf[1]!;
      this.parts.push(this.buf.subarray(8, len));
      this.buf = this.buf.subarray(len);
      if (status & 0x01) {
        out.push({ type, payload: Buffer.concat(this.parts) });
        this.parts = [];
      }
    }
    return out;
  }
}

// ---------- PRELOGIN
export function parsePrelogin(p: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let i = 0;
  while (i < p.length && p[i] !== 0xff) {
    const token = p[i]!;
    const off = p.readUInt16BE(i + 1);
    const len = p.readUInt16BE(i + 3);
    out.set(token, p.subarray(off, off + len));
    i += 5;
  }
  return out;
}

export function preloginReply(version: string): Buffer {
  const [maj, min, build] = version.split('.').map(Number) as [number, number, number];
  const ver = Buffer.alloc(6);
  ver.writeUInt8(maj, 0);
  ver.writeUInt8(min, 1);
  ver.writeUInt16BE(build, 2);
  const options: Array<[number, Buffer]> = [
    [0x00, ver],
    [0x01, Buffer.from([0x02])], // ENCRYPT_NOT_SUP
    [0x02, Buffer.from([0x00])],
    [0x03, Buffer.alloc(4)],
    [0x04, Buffer.from([0x00])],
  ];
  const headerLen = options.length * 5 + 1;
  const w = new Writer();
  let off = headerLen;
  for (const [tok, data] of options) {
    w.u8(tok).u16be(off).u16be(data.length);
    off += data.length;
  }
  w.u8(0xff);
  for (const [, data] of options) w.push(data);
  return w.toBuffer();
}

// ---------- LOGIN7
export interface Login7 {
  tdsVersion: number;
  packetSize: number;
  userName: string;
  password: string;
  appName: string;
  database: string;
  hostName: string;
}

export function parseLogin7(p: Buffer): Login7 {
  const str = (offPos: number): string => {
    const off = p.readUInt16LE(offPos);
    const len = p.readUInt16LE(offPos + 2);
    return p.subarray(off, off + len * 2).toString('utf16le');
  };
  const pwOff = p.readUInt16LE(44);
  const pwLen = p.readUInt16LE(46);
  const pw = Buffer.from(p.subarray(pwOff, pwOff + pwLen * 2));
  for (let i = 0; i < pw.length; i++) {
    const b = pw[i]! ^ 0xa5;
    pw[i] = ((b & 0x0f) << 4) | (b >> 4);
  }
  return {
    tdsVersion: p.readUInt32LE(4),
    packetSize: p.readUInt32LE(8),
    hostName: str(36),
    userName: str(40),
    password: pw.toString('utf16le'),
    appName: str(48),
    database: str(68),
  };
}

// ---------- tokens
export function envChange(type: number, newValue: string, oldValue: string): Buffer {
  const body = new Writer().u8(type).bVarchar(newValue).bVarchar(oldValue).toBuffer();
  return new Writer().u8(0xe3).u16(body.length).push(body).toBuffer();
}

export function envChangeCollation(): Buffer {
  const body = new Writer().u8(7).u8(COLLATION.length).push(COLLATION).u8(0).toBuffer();
  return new Writer().u8(0xe3).u16(body.length).push(body).toBuffer();
}

/** The TDS version a LOGINACK confirms: the highest known one not above the client's (LOGIN7 holds it LE). */
export function negotiatedVersion(clientVersion: number): number {
  const known: number[] = Object.values(TDS_VERSION);
  const asked = clientVersion >>> 0;
  const v = known.filter((k) => k <= asked).pop();
  return v ?? 0x74000004;
}

export function loginAck(tdsVersion: number, productVersion: string): Buffer {
  const [maj, min, build] = productVersion.split('.').map(Number) as [number, number, number];
  const body = new Writer()
    .u8(1)
    .u32be(tdsVersion)
    .bVarchar('Microsoft SQL Server')
    .u8(maj)
    .u8(min)
    .u8(build >> 8)
    .u8(build & 0xff)
    .toBuffer();
  return new Writer().u8(0xad).u16(body.length).push(body).toBuffer();
}

export function messageToken(
  kind: 'error' | 'info',
  m: { number: number; message: string; state: number; severity: number },
  serverName: string,
  procName = '',
  line = 1,
): Buffer {
  const body = new Writer()
    .u32(m.number)
    .u8(m.state)
    .u8(m.severity)
    .usVarchar(m.message)
    .bVarchar(serverName)
    .bVarchar(procName)
    .u32(line)
    .toBuffer();
  return new Writer()
    .u8(kind === 'error' ? 0xaa : 0xab)
    .u16(body.length)
    .push(body)
    .toBuffer();
}

export const DONE = { FINAL: 0x00, MORE: 0x01, ERROR: 0x02, COUNT: 0x10, ATTN: 0x20 } as const;

/** DONE, DONEPROC or DONEINPROC; the row count is a u32 before TDS 7.2 and a u64 from 7.2 (MS-TDS 2.2.7.6). */
export function doneToken(
  token: 0xfd | 0xfe | 0xff,
  status: number,
  curCmd: number,
  count: number,
  tds: number = TDS_VERSION.V7_4,
): Buffer {
  const w = new Writer().u8(token).u16(status).u16(curCmd);
  return (hasPlp(tds) ? w.u64(BigInt(count)) : w.u32(count)).toBuffer();
}

export function returnStatus(n: number): Buffer {
  return new Writer().u8(0x79).i32(n).toBuffer();
}

// ---------- result sets
/**
 * Column type on the wire: strings longer than 4000 characters need nvarchar(max). Clients before TDS 7.2
 * get ntext/image for the max types and clients before 7.3 get datetime for datetime2, as SQL Server does
 * for down-level clients.
 */
type WireType = SqlType | { base: 'ntext' } | { base: 'image' };

function wireType(t: SqlType, maxLen: number, tds: number): WireType {
  if (t.base === 'varchar' || t.base === 'nvarchar') {
    const n = t.length ?? 4000;
    if (n === -1 || n > 4000 || maxLen > 4000)
      return hasPlp(tds) ? { base: 'nvarchar', length: -1 } : { base: 'ntext' };
    return { base: 'nvarchar', length: Math.max(1, n, maxLen) };
  }
  if (t.base === 'varbinary') return hasPlp(tds) ? { base: 'varbinary', length: -1 } : { base: 'image' };
  if (t.base === 'numeric')
    return { base: 'numeric', precision: Math.max(t.precision ?? 18, 1), scale: t.scale ?? 0 };
  if (t.base === 'date') return T.datetime;
  if (t.base === 'datetime2' && !hasDatetime2(tds)) return T.datetime;
  return t;
}

function typeInfo(w: Writer, t: WireType, tds: number): void {
  switch (t.base) {
    case 'ntext':
    case 'image':
      // TEXTTYPE/IMAGETYPE: u32 max length, collation (ntext), table name (US_VARCHAR before 7.2; 7.2+
      // would prefix a part count, but these types are only sent to clients before 7.2).
      w.u8(t.base === 'ntext' ? 0x63 : 0x22).u32(t.base === 'ntext' ? 0x7ffffffe : 0x7fffffff);
      if (t.base === 'ntext') w.push(COLLATION);
      if (hasPlp(tds)) w.u8(0);
      else w.u16(0);
      return;
    case 'nvarchar':
      w.u8(0xe7)
        .u16(t.length === -1 ? 0xffff : (t.length ?? 4000) * 2)
        .push(COLLATION);
      return;
    case 'varbinary':
      w.u8(0xa5).u16(0xffff);
      return;
    case 'int':
      w.u8(0x26).u8(4);
      return;
    case 'bigint':
      w.u8(0x26).u8(8);
      return;
    case 'smallint':
      w.u8(0x26).u8(2);
      return;
    case 'tinyint':
      w.u8(0x26).u8(1);
      return;
    case 'bit':
      w.u8(0x68).u8(1);
      return;
    case 'float':
      w.u8(0x6d).u8(8);
      return;
    case 'datetime':
      w.u8(0x6f).u8(8);
      return;
    case 'datetime2':
      w.u8(0x2a).u8(7);
      return;
    case 'uniqueidentifier':
      w.u8(0x24).u8(16);
      return;
    case 'numeric':
      w.u8(0x6c)
        .u8(17)
        .u8(t.precision ?? 38)
        .u8(t.scale ?? 0);
      return;
    default:
      w.u8(0xe7).u16(8000).push(COLLATION);
  }
}

function plp(w: Writer, data: Buffer | null): void {
  if (data === null) {
    w.u64(0xffffffffffffffffn);
    return;
  }
  w.u64(BigInt(data.length));
  if (data.length) w.u32(data.length).push(data);
  w.u32(0);
}

const EPOCH_1900 = Date.UTC(1900, 0, 1);

/** A text/ntext/image value: text pointer (16 bytes) and timestamp (8 bytes), then the data; NULL = no pointer. */
function textValue(w: Writer, data: Buffer | null): void {
  if (data === null) {
    w.u8(0);
    return;
  }
  w.u8(16).push(Buffer.alloc(16, 0xaa)).push(Buffer.alloc(8)).u32(data.length).push(data);
}

function writeValue(w: Writer, t: WireType, v: Value): void {
  switch (t.base) {
    case 'ntext':
      textValue(w, v === null ? null : Buffer.from(String(v), 'utf16le'));
      return;
    case 'image':
      textValue(w, v === null ? null : Buffer.isBuffer(v) ? v : Buffer.from(String(v)));
      return;
    case 'nvarchar': {
      const data = v === null ? null : Buffer.from(String(v), 'utf16le');
      if (t.length === -1) plp(w, data);
      else if (data === null) w.u16(0xffff);
      else w.u16(data.length).push(data);
      return;
    }
    case 'varbinary':
      plp(w, v === null ? null : Buffer.isBuffer(v) ? v : Buffer.from(String(v)));
      return;
    case 'int':
    case 'bigint':
    case 'smallint':
    case 'tinyint': {
      const size = t.base === 'int' ? 4 : t.base === 'bigint' ? 8 : t.base === 'smallint' ? 2 : 1;
      if (v === null) {
        w.u8(0);
        return;
      }
      const b = Buffer.alloc(size);
      if (size === 8) b.writeBigInt64LE(BigInt(v as number | bigint));
      else if (size === 4) b.writeInt32LE(Number(v));
      else if (size === 2) b.writeInt16LE(Number(v));
      else b.writeUInt8(Number(v) & 0xff);
      w.u8(size).push(b);
      return;
    }
    case 'bit':
      if (v === null) w.u8(0);
      else w.u8(1).u8(Number(v) ? 1 : 0);
      return;
    case 'float': {
      if (v === null) {
        w.u8(0);
        return;
      }
      const b = Buffer.alloc(8);
      b.writeDoubleLE(Number(v));
      w.u8(8).push(b);
      return;
    }
    case 'datetime': {
      if (v === null) {
        w.u8(0);
        return;
      }
      const d = v as Date;
      const ms = d.getTime() - EPOCH_1900;
      const days = Math.floor(ms / 86_400_000);
      const rest = ms - days * 86_400_000;
      w.u8(8)
        .i32(days)
        .u32(Math.round((rest * 300) / 1000));
      return;
    }
    case 'datetime2': {
      if (v === null) {
        w.u8(0);
        return;
      }
      const d = v as Date;
      const dayMs = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
      const ticks = BigInt(d.getTime() - dayMs) * 10_000n;
      const time = Buffer.alloc(8);
      time.writeBigUInt64LE(ticks);
      const base = new Date(Date.UTC(2000, 0, 1));
      base.setUTCFullYear(1, 0, 1);
      const days = Math.round((dayMs - base.getTime()) / 86_400_000);
      const date = Buffer.alloc(4);
      date.writeUInt32LE(days);
      w.u8(8).push(time.subarray(0, 5)).push(date.subarray(0, 3));
      return;
    }
    case 'uniqueidentifier': {
      if (v === null) {
        w.u8(0);
        return;
      }
      const hex = String(v).replace(/-/g, '');
      const b = Buffer.from(hex, 'hex');
      const out = Buffer.concat([
        Buffer.from(b.subarray(0, 4)).reverse(),
        Buffer.from(b.subarray(4, 6)).reverse(),
        Buffer.from(b.subarray(6, 8)).reverse(),
        b.subarray(8),
      ]);
      w.u8(16).push(out);
      return;
    }
    case 'numeric': {
      if (v === null) {
        w.u8(0);
        return;
      }
      const scale = t.scale ?? 0;
      let n = typeof v === 'bigint' ? v * 10n ** BigInt(scale) : BigInt(Math.round(Number(v) * 10 ** scale));
      const sign = n < 0n ? 0 : 1;
      if (n < 0n) n = -n;
      const mag = Buffer.alloc(16);
      mag.writeBigUInt64LE(n & 0xffffffffffffffffn, 0);
      mag.writeBigUInt64LE(n >> 64n, 8);
      w.u8(17).u8(sign).push(mag);
      return;
    }
    default: {
      const data = v === null ? null : Buffer.from(String(v), 'utf16le');
      if (data === null) w.u16(0xffff);
      else w.u16(data.length).push(data);
    }
  }
}

/** RETURNVALUE: an output parameter's final value, sent after RETURNSTATUS. */
export function returnValueToken(
  ordinal: number,
  name: string,
  type: SqlType,
  value: Value,
  tds: number = TDS_VERSION.V7_4,
): Buffer {
  const t = wireType(type, typeof value === 'string' ? value.length : 0, tds);
  const w = new Writer().u8(0xac).u16(ordinal).bVarchar(name).u8(0x01);
  // UserType is a u16 before TDS 7.2 and a u32 from 7.2 (MS-TDS 2.2.7.18)
  if (hasPlp(tds)) w.u32(0);
  else w.u16(0);
  w.u16(0x01);
  typeInfo(w, t, tds);
  writeValue(w, t, value);
  return w.toBuffer();
}

export function resultSet(
  columns: Array<{ name: string; type: SqlType }>,
  rows: Value[][],
  tds: number = TDS_VERSION.V7_4,
): Buffer {
  const types = columns.map((c, i) => {
    const maxLen = rows.reduce((m, r) => {
      const v = r[i];
      return typeof v === 'string' ? Math.max(m, v.length) : m;
    }, 0);
    return wireType(c.type, maxLen, tds);
  });
  const w = new Writer().u8(0x81).u16(columns.length);
  columns.forEach((c, i) => {
    // UserType: u16 before TDS 7.2, u32 from 7.2 (MS-TDS 2.2.7.4)
    if (hasPlp(tds)) w.u32(0);
    else w.u16(0);
    w.u16(0x01 | 0x08);
    typeInfo(w, types[i]!, tds);
    w.bVarchar(c.name);
  });
  for (const r of rows) {
    w.u8(0xd1);
    types.forEach((t, i) => writeValue(w, t, r[i] ?? null));
  }
  return w.toBuffer();
}

// ---------- requests
export class Reader {
  constructor(
    readonly b: Buffer,
    public pos = 0,
  ) {}
  u8(): number {
    return this.b.readUInt8(this.pos++);
  }
  u16(): number {
    const v = this.b.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    const v = this.b.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  bytes(n: number): Buffer {
    const v = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  ucs2(chars: number): string {
    return this.bytes(chars * 2).toString('utf16le');
  }
  get done(): boolean {
    return this.pos >= this.b.length;
  }
}

function skipAllHeaders(r: Reader, tds: number): void {
  // ALL_HEADERS is present from TDS 7.2 on; its length includes itself
  if (!hasPlp(tds) || r.b.length < 4) return;
  const total = r.b.readUInt32LE(r.pos);
  if (total >= 4 && total <= r.b.length) r.pos += total;
}

export function parseSqlBatch(p: Buffer, tds: number = TDS_VERSION.V7_4): string {
  const r = new Reader(p);
  skipAllHeaders(r, tds);
  return p.subarray(r.pos).toString('utf16le');
}

export interface RpcParam {
  name: string;
  output: boolean;
  value: TV;
}

function readPlp(r: Reader): Buffer | null {
  const lo = r.u32();
  const hi = r.u32();
  if (lo === 0xffffffff && hi === 0xffffffff) return null;
  const parts: Buffer[] = [];
  for (;;) {
    const n = r.u32();
    if (n === 0) break;
    parts.push(r.bytes(n));
  }
  return Buffer.concat(parts);
}

function readTypedValue(r: Reader): TV {
  const type = r.u8();
  switch (type) {
    case 0xe7:
    case 0xa7:
    case 0xef:
    case 0xaf: {
      const max = r.u16();
      r.bytes(5);
      const nvar = type === 0xe7 || type === 0xef;
      const t = nvar ? T.nvarchar(max === 0xffff ? -1 : max / 2) : T.varchar(max === 0xffff ? -1 : max);
      let data: Buffer | null;
      if (max === 0xffff) data = readPlp(r);
      else {
        const n = r.u16();
        data = n === 0xffff ? null : r.bytes(n);
      }
      return { v: data === null ? null : data.toString(nvar ? 'utf16le' : 'latin1'), t };
    }
    case 0xa5:
    case 0xad: {
      const max = r.u16();
      let data: Buffer | null;
      if (max === 0xffff) data = readPlp(r);
      else {
        const n = r.u16();
        data = n === 0xffff ? null : Buffer.from(r.bytes(n));
      }
      return { v: data, t: T.varbinary() };
    }
    case 0x26: {
      r.u8();
      const n = r.u8();
      if (n === 0) return { v: null, t: T.int };
      const b = r.bytes(n);
      if (n === 8) return { v: b.readBigInt64LE(0), t: T.bigint };
      if (n === 4) return { v: b.readInt32LE(0), t: T.int };
      if (n === 2) return { v: b.readInt16LE(0), t: T.smallint };
      return { v: b.readUInt8(0), t: T.tinyint };
    }
    case 0x68: {
      r.u8();
      const n = r.u8();
      return { v: n === 0 ? null : r.u8(), t: T.bit };
    }
    case 0x6d: {
      r.u8();
      const n = r.u8();
      if (n === 0) return { v: null, t: T.float };
      const b = r.bytes(n);
      return { v: n === 8 ? b.readDoubleLE(0) : b.readFloatLE(0), t: T.float };
    }
    case 0x24: {
      r.u8();
      const n = r.u8();
      if (n === 0) return { v: null, t: T.guid };
      const b = r.bytes(16);
      const hex = Buffer.concat([
        Buffer.from(b.subarray(0, 4)).reverse(),
        Buffer.from(b.subarray(4, 6)).reverse(),
        Buffer.from(b.subarray(6, 8)).reverse(),
        b.subarray(8),
      ])
        .toString('hex')
        .toUpperCase();
      return {
        v: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
        t: T.guid,
      };
    }
    case 0x6f: {
      r.u8();
      const n = r.u8();
      if (n === 0) return { v: null, t: T.datetime };
      const b = r.bytes(n);
      if (n === 4)
        return {
          v: new Date(EPOCH_1900 + b.readUInt16LE(0) * 86_400_000 + b.readUInt16LE(2) * 60_000),
          t: T.datetime,
        };
      return {
        v: new Date(
          EPOCH_1900 + b.readInt32LE(0) * 86_400_000 + Math.round((b.readUInt32LE(4) * 1000) / 300),
        ),
        t: T.datetime,
      };
    }
    case 0x28:
    case 0x2a:
    case 0x2b: {
      const scale = type === 0x28 ? 0 : r.u8();
      const n = r.u8();
      const t = type === 0x28 ? T.date : T.datetime2;
      if (n === 0) return { v: null, t };
      const b = r.bytes(n);
      const timeLen = type === 0x28 ? 0 : scale <= 2 ? 3 : scale <= 4 ? 4 : 5;
      let ticks = 0n;
      for (let i = timeLen - 1; i >= 0; i--) ticks = (ticks << 8n) | BigInt(b[i]!);
      const days = b[timeLen]! | (b[timeLen + 1]! << 8) | (b[timeLen + 2]! << 16);
      const base = new Date(Date.UTC(2000, 0, 1));
      base.setUTCFullYear(1, 0, 1);
      const ms = Number((ticks * 1000n) / 10n ** BigInt(scale));
      let when = base.getTime() + days * 86_400_000 + ms;
      if (type === 0x2b) when -= b.readInt16LE(timeLen + 3) * 60_000;
      return { v: new Date(when), t };
    }
    case 0x6a:
    case 0x6c: {
      r.u8();
      const precision = r.u8();
      const scale = r.u8();
      const n = r.u8();
      const t = T.numeric(precision, scale);
      if (n === 0) return { v: null, t };
      const sign = r.u8();
      const mag = r.bytes(n - 1);
      let x = 0n;
      for (let i = mag.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(mag[i]!);
      if (sign === 0) x = -x;
      return { v: scale === 0 ? x : Number(x) / 10 ** scale, t };
    }
    default:
      throw new SqlError(
        8016,
        `The incoming tabular data stream (TDS) remote procedure call (RPC) protocol stream is incorrect. Parameter type 0x${type.toString(16)} is not supported by the stand-in.`,
      );
  }
}

export interface RpcRequest {
  /** procedure name, or 'sp_executesql' for proc id 10 */
  proc: string;
  params: RpcParam[];
}

const PROC_IDS: Record<number, string> = {
  10: 'sp_executesql',
  11: 'sp_prepare',
  12: 'sp_execute',
  13: 'sp_prepexec',
  15: 'sp_unprepare',
};

export function parseRpc(p: Buffer, tds: number = TDS_VERSION.V7_4): RpcRequest {
  const r = new Reader(p);
  skipAllHeaders(r, tds);
  const nameLen = r.u16();
  let proc: string;
  if (nameLen === 0xffff) {
    const id = r.u16();
    proc = PROC_IDS[id] ?? `proc#${id}`;
  } else proc = r.ucs2(nameLen);
  r.u16(); // option flags
  const params: RpcParam[] = [];
  while (!r.done) {
    const first = r.b[r.pos]!;
    if (first === 0x80 || first === 0xff || first === 0xfe) break;
    const n = r.u8();
    const name = r.ucs2(n);
    const status = r.u8();
    const value = readTypedValue(r);
    params.push({ name, output: (status & 0x01) !== 0, value });
  }
  return { proc, params };
}
