/**
 * SQLCMD's preprocessing of a script, as documented ("sqlcmd - Use with scripting variables"; go-sqlcmd's
 * batch reader agrees), strictly enough that a test fails wherever real sqlcmd would substitute:
 *
 * - a line whose first non-blank character is `:` is a command; `:setvar name value` defines a variable, the
 *   value taken as written (in double quotes with `""` for `"`), never substituted (example F);
 * - a line that is `GO` ends a batch; a line starting `!!` is a shell command;
 * - everywhere else, comments, string literals and [identifiers] included, and in `!!` lines, each `$(name)` is
 *   replaced by the variable's value in one pass, left to right: a value is never read again for references;
 * - names compare without case; `:setvar` wins over `-v`; a reference to an undefined variable stops the
 *   script (`:on error exit`, `-b`), and a `$(` that does not form a reference is a syntax error.
 */
export interface SqlcmdRun {
  /** T-SQL batches as SQL Server receives them. */
  batches: string[];
  /** `!!` command lines as the shell receives them. */
  shell: string[];
}

export class SqlcmdError extends Error {}

function parseSetvarValue(raw: string, line: number): string {
  if (!raw.startsWith('"')) {
    if (/\s/.test(raw)) throw new SqlcmdError(`line ${line}: a value with spaces must be in double quotes`);
    return raw;
  }
  if (raw.length < 2 || !raw.endsWith('"')) throw new SqlcmdError(`line ${line}: unterminated value`);
  const body = raw.slice(1, -1);
  if (body.replace(/""/g, '').includes('"')) throw new SqlcmdError(`line ${line}: a lone " inside a value`);
  return body.replace(/""/g, '"');
}

/** Replaces each `$(name)` once, left to right. */
export function substitute(text: string, variables: Map<string, string>, line = 0): string {
  let out = '';
  let at = 0;
  for (let i = text.indexOf('$(', at); i !== -1; i = text.indexOf('$(', at)) {
    const close = text.indexOf(')', i + 2);
    const name = close === -1 ? '' : text.slice(i + 2, close);
    if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(name))
      throw new SqlcmdError(`line ${line}: syntax error near "${text.slice(i, i + 20)}"`);
    const value = variables.get(name.toUpperCase());
    if (value === undefined) throw new SqlcmdError(`line ${line}: '${name}' scripting variable not defined`);
    out += text.slice(at, i) + value;
    at = close + 1;
  }
  return out + text.slice(at);
}

/** Runs a script's preprocessing with `-v` values. */
export function runSqlcmd(script: string, v: Record<string, string> = {}): SqlcmdRun {
  const variables = new Map(Object.entries(v).map(([k, val]) => [k.toUpperCase(), val]));
  const batches: string[] = [];
  const shell: string[] = [];
  let batch: string[] = [];
  const end = () => {
    if (batch.some((l) => l.trim() !== '')) batches.push(batch.join('\n'));
    batch = [];
  };
  script.split('\n').forEach((text, index) => {
    const line = index + 1;
    const trimmed = text.trimStart();
    if (trimmed.startsWith(':')) {
      const setvar = /^:setvar\s+(\S+)(?:\s+(.*?))?\s*$/i.exec(trimmed);
      if (setvar) {
        if (setvar[2] === undefined) variables.delete(setvar[1]!.toUpperCase());
        else variables.set(setvar[1]!.toUpperCase(), parseSetvarValue(setvar[2], line));
      } else if (!/^:on\s+error\s+(exit|ignore)\s*$/i.test(trimmed))
        throw new SqlcmdError(`line ${line}: command not modelled: ${trimmed}`);
      return;
    }
    if (/^\s*go(\s+\d+)?\s*$/i.test(text)) return end();
    if (trimmed.startsWith('!!'))
      return void shell.push(substitute(trimmed.slice(2).trim(), variables, line));
    batch.push(substitute(text, variables, line));
  });
  end();
  return { batches, shell };
}

/** The arguments of a POSIX shell command line made of words and '…' quoted parts (no other quoting). */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (c === "'") {
      const close = command.indexOf("'", i + 1);
      if (close === -1) throw new SqlcmdError('unterminated quote');
      word = (word ?? '') + command.slice(i + 1, close);
      i = close;
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === '\\' && i + 1 < command.length) word = (word ?? '') + command[++i];
    else word = (word ?? '') + c;
  }
  if (word !== undefined) words.push(word);
  return words;
}
