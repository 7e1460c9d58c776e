/**
 * The reviewable script under SQLCMD's own preprocessing. In SQLCMD mode (sqlcmd, SSMS) every `$(name)` is a
 * scripting variable and is replaced before SQL Server sees the batch — inside string literals, [identifiers]
 * and `!!` command lines alike; sqlcmd has no escape character for `$(`. A name that holds `$(` would otherwise
 * be rewritten: `[Sales$(MasterKeyPassword)Db]` targets a database named after the master key password and
 * writes that password into the statement, the output and the server's log.
 *
 * What milink relies on, from SQLCMD's documentation ("sqlcmd - Use with scripting variables", example F,
 * "Variable expansion"): the value of `:setvar` is stored as written — `:setvar MyVar $(tablename)` gives
 * MyVar the text `$(tablename)` — and substitution is one pass: `'$(MyVar)'` yields `$(tablename)`, not the
 * value of `tablename`. (go-sqlcmd behaves the same: `:setvar` values are not expanded, and a batch's
 * references are replaced once, by position.) So the script defines, in its header,
 *
 *     :setvar MilinkDollarParen "$("
 *
 * and writes every `$(` that comes from a name as `$(MilinkDollarParen)`: SQLCMD replaces that reference with
 * the two characters `$(` and does not look at the result again, so the name reaches SQL Server (or `az rest`)
 * exactly as given, and the rest of the name is ordinary text. Variables defined by `:setvar` take precedence
 * over `sqlcmd -v` and the environment, so nobody running the script can redefine it by accident.
 *
 * Telling a name's `$(` from milink's own references needs the build: the plan is built a second time with
 * milink's references marked (`withMarkedReferences`), every `$(` in that text is a name's, and every mark is
 * milink's.
 */
import { REFERENCE_MARK, SqlcmdVariable, withMarkedReferences } from './quote.js';

export const DOLLAR_PAREN = new SqlcmdVariable(
  'MilinkDollarParen',
  'the two characters $( : how a name holding them is written, so SQLCMD substitutes nothing in it',
  'literal',
);

/** Writes every `$(` of a name's text so that SQLCMD substitutes nothing in it. */
export function escapeSqlcmd(text: string): string {
  return text.replaceAll('$(', `$(${DOLLAR_PAREN.name})`);
}

const MARK = `${REFERENCE_MARK}(`;
/** The mark as `encodeURIComponent` writes it in an ARM path (a name's own `%` is written `%25` there). */
const PATH_MARK = `${encodeURIComponent(REFERENCE_MARK)}(`;

/**
 * Text built with marked references, made ready for SQLCMD: a name's `$(` escaped, milink's marks made `$(`.
 * In an ARM path too: there an ordinary build writes milink's reference `%24(Name)`, which SQLCMD leaves alone
 * and ARM would read as a name starting with `$`; the script's URL gets the variable itself.
 */
function forSqlcmd(text: string, inPath: boolean): string {
  return escapeSqlcmd(text).replaceAll(inPath ? PATH_MARK : MARK, '$(');
}

/** Text built with marked references, as an ordinary build writes it. */
function unmarked(text: string, inPath: boolean): string {
  return inPath ? text.replaceAll(PATH_MARK, encodeURIComponent('$(')) : text.replaceAll(MARK, '$(');
}

function mapStrings<T>(value: T, f: (s: string, key: string | undefined) => string, key?: string): T {
  if (typeof value === 'string') return f(value, key) as T;
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f, key)) as T;
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f, k)])) as T;
  return value;
}

interface ScriptStep {
  title: string;
  tsql?: string[];
  arm?: Array<{ path: string; body?: unknown }>;
}

export interface ScriptPlan {
  request: unknown;
  names: unknown;
  steps: ScriptStep[];
  /** The variables the script asks for. */
  variables: SqlcmdVariable[];
}

/** A step's strings mapped, telling an ARM path (where marks are URL-encoded) from the rest. */
function mapStep<S extends ScriptStep>(step: S, f: (s: string, inPath: boolean) => string): S {
  return mapStrings(step, (s, key) => f(s, key === 'path'));
}

/**
 * The plan with every text the script shows written for SQLCMD. `rebuild` builds the same plan again (it runs
 * with milink's references marked); a rebuild that does not give the same plan is a programming error.
 * `escaped` tells whether any name held `$(` (the script then needs the `:setvar` line of `sqlcmdPreamble`).
 */
export function sqlcmdSafePlan<P extends ScriptPlan>(plan: P, rebuild: () => P): P & { escaped: boolean } {
  const marked = withMarkedReferences(rebuild);
  const same = JSON.stringify(marked.steps.map((s) => mapStep(s, unmarked))) === JSON.stringify(plan.steps);
  if (!same)
    throw new Error(
      'the reviewable script could not rebuild its plan: render it from a plan built without facts',
    );
  const steps = marked.steps.map((s) => mapStep(s, forSqlcmd));
  const request = mapStrings(plan.request, escapeSqlcmd);
  const names = mapStrings(plan.names, escapeSqlcmd);
  // Marked, milink's own references hold no `$(`: every one left came from a name.
  const escaped = JSON.stringify([marked.steps, plan.request, plan.names]).includes('$(');
  // A variable is asked for when milink refers to it, not when a name happens to spell its reference.
  const texts: string[] = [];
  marked.steps.forEach((s) => mapStep(s, (text) => (texts.push(text), text)));
  const variables = plan.variables.filter((v) =>
    texts.some((t) => t.includes(`${MARK}${v.name})`) || t.includes(`${PATH_MARK}${v.name})`)),
  );
  return { ...plan, request, names, steps, variables, escaped };
}

/** The header lines that define the escape, when the script needs it. */
export function sqlcmdPreamble(escaped: boolean): string[] {
  if (!escaped) return [];
  // No `$(` in these comments: SQLCMD substitutes inside comments too, before the variable is defined.
  return [
    `-- A dollar sign and an opening parenthesis inside a name are written with the variable ${DOLLAR_PAREN.name},`,
    '-- defined here: SQLCMD substitutes it once and never again, so no part of a name is taken for a variable.',
    `:setvar ${DOLLAR_PAREN.name} "$("`,
  ];
}
