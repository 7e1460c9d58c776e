/**
 * Collations, as far as they change what a statement means: whether two strings (or two names) are equal
 * and how they sort. Microsoft Learn, "Collation and Unicode support": a collation's options are case
 * sensitivity (_CS / _CI), accent sensitivity (_AS / _AI), and binary (_BIN, _BIN2) sorting by code point.
 * "Identifier Collation": identifiers of instance-level objects, such as logins and database names, take
 * the instance's default collation; identifiers of objects within a database, such as tables, views and
 * column names, the database's. A string literal takes the current database's collation ("Collation
 * Precedence": coercible-default).
 */
import type { SimServerState } from './model.js';

export interface Collation {
  name: string;
  caseSensitive: boolean;
  accentSensitive: boolean;
  /** _BIN / _BIN2: code-point order and equality (case- and accent-sensitive). */
  binary: boolean;
}

const cache = new Map<string, Collation>();

/** The options a collation's name carries (`SQL_Latin1_General_CP1_CS_AS`, `Latin1_General_100_CI_AI_SC_UTF8`, `Latin1_General_BIN2` …). */
export function parseCollation(name: string): Collation {
  const known = cache.get(name);
  if (known) return known;
  const parts = name.toUpperCase().split('_');
  const binary = parts.includes('BIN') || parts.includes('BIN2');
  const c: Collation = {
    name,
    binary,
    caseSensitive: binary || parts.includes('CS'),
    accentSensitive: binary || !parts.includes('AI'),
  };
  cache.set(name, c);
  return c;
}

/** SQL Server's default: case-insensitive, accent-sensitive. */
export const DEFAULT_COLLATION = parseCollation('SQL_Latin1_General_CP1_CI_AS');

const stripAccents = (s: string): string => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '');

/** The key two strings share exactly when the collation calls them equal (trailing spaces never count). */
export function collationKey(s: string, c: Collation): string {
  let k = s.replace(/ +$/, '');
  if (c.binary) return k;
  if (!c.caseSensitive) k = k.toLowerCase();
  if (!c.accentSensitive) k = stripAccents(k);
  return k;
}

/** Orders two strings under a collation: -1, 0 or 1. */
export function compareStrings(a: string, b: string, c: Collation): number {
  const x = a.replace(/ +$/, '');
  const y = b.replace(/ +$/, '');
  if (c.binary) return x < y ? -1 : x > y ? 1 : 0;
  // dictionary order first (case and accents folded) …
  const fx = stripAccents(x.toLowerCase());
  const fy = stripAccents(y.toLowerCase());
  if (fx !== fy) return fx < fy ? -1 : 1;
  // … then, where the collation tells them apart, accents and case (lower case first, as Windows collations sort)
  if (c.accentSensitive) {
    const ax = x.toLowerCase();
    const ay = y.toLowerCase();
    if (ax !== ay) return ax < ay ? -1 : 1;
  }
  if (c.caseSensitive && x !== y) {
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const p = x[i]!;
      const q = y[i]!;
      if (p === q) continue;
      const pl = p === p.toLowerCase();
      const ql = q === q.toLowerCase();
      if (pl !== ql) return pl ? -1 : 1;
      return p < q ? -1 : 1;
    }
    return x.length - y.length < 0 ? -1 : 1;
  }
  return 0;
}

export function sameName(a: string, b: string, c: Collation): boolean {
  return collationKey(a, c) === collationKey(b, c);
}

/** The instance's collation: names of databases, logins, endpoints, certificates in master, AGs. */
export function serverCollation(state: SimServerState): Collation {
  return parseCollation(state.collation);
}

/** A database's collation (string literals and comparisons while it is current; its own object and column names). */
export function databaseCollation(state: SimServerState, database: string): Collation {
  const server = serverCollation(state);
  const db = state.databases.find((d) => sameName(d.name, database, server));
  return db ? parseCollation(db.collation) : server;
}

/** A database by name, resolved under the instance's collation (USE, three-part names, DB_ID, login). */
export function findDatabase(
  state: SimServerState,
  name: string,
): SimServerState['databases'][number] | undefined {
  const c = serverCollation(state);
  return state.databases.find((d) => sameName(d.name, name, c));
}

/**
 * The key of a variable (or parameter) name: "Identifier Collation" — the identifiers for variables are in
 * the instance's default collation, so on a _CS_ instance @Dag and @dag are two variables.
 */
export function variableKey(state: SimServerState, name: string): string {
  return collationKey(name, serverCollation(state));
}
