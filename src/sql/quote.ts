/**
 * The one place where text becomes T-SQL. Every name and value milink puts into a statement passes through
 * these functions; nothing else concatenates raw names into T-SQL.
 *
 * - identifiers are delimited with [ ] and every ] doubled (what QUOTENAME does), at most 128 characters;
 * - string literals are Unicode literals N'…' with every ' doubled;
 * - binary literals are 0x followed by an even number of hex digits.
 */

/** The longest identifier SQL Server accepts (sysname). */
export const MAX_IDENTIFIER_LENGTH = 128;

export class SqlQuotingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SqlQuotingError';
  }
}

/** A value known only at run time, shown in a reviewable script as a sqlcmd variable `$(Name)`. */
export class SqlcmdVariable {
  constructor(
    readonly name: string,
    /** What the variable stands for, shown in the script's header. */
    readonly description: string,
    /** How a value is inserted when milink runs the script itself. */
    readonly kind: 'literal' | 'binary' | 'identifier',
  ) {
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name))
      throw new SqlQuotingError(`invalid sqlcmd variable name ${name}`);
  }
  get reference(): string {
    return `${markingReferences ? REFERENCE_MARK : '$'}(${this.name})`;
  }
}

/**
 * Stands for the `$` of milink's own variable references while a reviewable script is built: a character no
 * request string can hold (control characters are refused), so after the build every `$(` left in the text
 * came from a name, and every mark from milink. See `src/sql/sqlcmd.ts`.
 */
export const REFERENCE_MARK = '\u0000';
let markingReferences = false;

/**
 * Runs a synchronous build with milink's variable references written `REFERENCE_MARK(Name)` instead of
 * `$(Name)`, so the script renderer can tell them from a `$(` inside a name.
 */
export function withMarkedReferences<T>(build: () => T): T {
  const before = markingReferences;
  markingReferences = true;
  try {
    return build();
  } finally {
    markingReferences = before;
  }
}

export type SqlText = string | SqlcmdVariable;

function hasControlCharacters(text: string): boolean {
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * `[name]` with every `]` doubled. Rejects empty names, names over 128 characters (QUOTENAME would return
 * NULL and silently empty a dynamic statement) and control characters.
 */
export function quoteIdentifier(name: SqlText): string {
  if (name instanceof SqlcmdVariable) return `[${name.reference}]`;
  if (name.length === 0) throw new SqlQuotingError('an identifier cannot be empty');
  if ([...name].length > MAX_IDENTIFIER_LENGTH)
    throw new SqlQuotingError(`an identifier is at most ${MAX_IDENTIFIER_LENGTH} characters`);
  if (hasControlCharacters(name)) throw new SqlQuotingError('an identifier cannot hold control characters');
  return `[${name.replace(/]/g, ']]')}]`;
}

/** `N'text'` with every `'` doubled. `maxLength` (characters) guards the column or variable it lands in. */
export function quoteLiteral(text: SqlText, maxLength = 4000): string {
  if (text instanceof SqlcmdVariable) return `N'${text.reference}'`;
  if ([...text].length > maxLength)
    throw new SqlQuotingError(`a string literal here is at most ${maxLength} characters`);
  return `N'${text.replace(/'/g, "''")}'`;
}

/** Normalises a hex blob (with or without 0x, any case) to upper-case hex without prefix; throws when not hex. */
export function normaliseHex(blob: string): string {
  const hex = blob.startsWith('0x') || blob.startsWith('0X') ? blob.slice(2) : blob;
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex))
    throw new SqlQuotingError(
      'a binary value must be an even number of hexadecimal digits, optionally after 0x',
    );
  return hex.toUpperCase();
}

/** `0x…` from a Buffer or a hex string (with or without 0x). */
export function binaryLiteral(value: Buffer | SqlText): string {
  if (value instanceof SqlcmdVariable) return value.reference;
  const hex = Buffer.isBuffer(value) ? value.toString('hex').toUpperCase() : normaliseHex(value);
  if (hex.length === 0) throw new SqlQuotingError('a binary value cannot be empty');
  return `0x${hex}`;
}

/** An integer literal, checked. */
export function integerLiteral(value: number): string {
  if (!Number.isSafeInteger(value)) throw new SqlQuotingError(`${value} is not an integer`);
  return String(value);
}

/**
 * Fills the sqlcmd variables of a script with values, each inserted the way its kind requires: a literal's
 * value has its `'` doubled (the script holds `N'$(X)'`), an identifier's its `]` doubled (the script holds
 * `[$(X)]`), a binary's is checked to be hex and written as 0x…. A variable without a value is an error.
 */
export function fillVariables(
  script: string,
  variables: readonly SqlcmdVariable[],
  values: Record<string, string>,
): string {
  const byName = new Map(variables.map((v) => [v.name, v]));
  return script.replace(/\$\(([A-Za-z][A-Za-z0-9_]*)\)/g, (whole, name: string) => {
    const variable = byName.get(name);
    if (!variable) return whole;
    const value = values[name];
    if (value === undefined) throw new SqlQuotingError(`no value for sqlcmd variable ${name}`);
    switch (variable.kind) {
      case 'literal':
        if (hasControlCharacters(value.replace(/[\r\n\t]/g, '')))
          throw new SqlQuotingError(`${name} holds control characters`);
        return value.replace(/'/g, "''");
      case 'identifier':
        if ([...value].length > MAX_IDENTIFIER_LENGTH)
          throw new SqlQuotingError(`${name} is over 128 characters`);
        return value.replace(/]/g, ']]');
      case 'binary':
        return `0x${normaliseHex(value)}`;
    }
  });
}
