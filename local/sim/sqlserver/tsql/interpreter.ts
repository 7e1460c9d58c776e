/**
 * Runs parsed T-SQL against a simulated server's state. Errors follow SQL Server's batch rules: a syntax
 * error means nothing in the batch ran; most run-time errors end their statement and the batch goes on;
 * name-resolution and conversion errors end the batch.
 */
import type { Clock } from '../../clock.js';
import { SqlError, sqlError, sqlMessage } from '../errors.js';
import type { SimLogin, SimServerState } from '../model.js';
import type { Expr, SelectStmt, Stmt, TableRef, TypeSpec } from './ast.js';
import { Parser, parseBatch } from './parser.js';
import {
  compare,
  convert,
  isNumeric,
  isString,
  like,
  T,
  toText,
  tv,
  typeFromSpec,
  type SqlType,
  type TV,
  type Value,
} from './values.js';
import { MSDB_ONLY, VIEWS, type Row, type ViewContext } from '../views.js';
import { runDdl, type DdlEnv } from './ddl.js';
import { productLevel, productUpdateLevel } from '../state.js';
import { runDbcc, runProcedure } from './procedures.js';
import { randomUUID } from 'node:crypto';
import { collationKey, databaseCollation, findDatabase, variableKey, type Collation } from '../collation.js';

export interface Session {
  spid: number;
  login: SimLogin;
  database: string;
  concatNullYieldsNull: boolean;
  nocount: boolean;
  rowcount: number;
  lastError: number;
}

export interface Column {
  name: string;
  type: SqlType;
}

export type ExecEvent =
  | { k: 'rows'; columns: Column[]; rows: Value[][] }
  | { k: 'info'; number: number; message: string; state: number; severity: number }
  | { k: 'error'; error: SqlError }
  | { k: 'done'; count?: number }
  | { k: 'database'; from: string; to: string };

export interface ExecHooks {
  /** A statement's text: return an error to raise instead of running it (fault injection). */
  faultFor?(statementText: string): SqlError | null;
  /** The catalog changed. */
  onChange?(): void;
  /** The DAG command hook of the estate (called by the DDL code). */
  onDistributedAgCommand?: DdlEnv['onDistributedAgCommand'];
}

/** Errors that end the whole batch rather than the statement. */
const BATCH_ABORTING = new Set([137, 207, 208, 209, 195, 241, 245, 8114, 8115, 8169, 2715, 102, 156, 105]);

class ReturnSignal {
  constructor(public readonly status: number) {}
}

interface Variable {
  type: SqlType;
  value: TV;
}

class Scope {
  readonly vars = new Map<string, Variable>();
}

interface Source {
  alias: string;
  columns: Array<[string, SqlType]>;
  index: Map<string, number>;
  rows: Row[];
  /** Column names are case-sensitive (the view's database has a case-sensitive collation). */
  caseSensitive?: boolean;
}

interface RowCtx {
  sources: Source[];
  current: Array<Row | null>;
  group?: RowCtx[];
  outer?: RowCtx;
}

const AGGREGATES = new Set(['COUNT', 'COUNT_BIG', 'MAX', 'MIN', 'SUM', 'AVG']);

/** Errors raised inside dynamic SQL reach an outer CATCH even when they are name-resolution errors. */
const FROM_NESTED = new WeakSet<SqlError>();
const NAME_RESOLUTION = new Set([207, 208, 209]);

export class Interpreter {
  readonly events: ExecEvent[] = [];
  /** Statements that last simulated time (a long BACKUP): the listener finishes them once the clock has passed. */
  readonly lasting: Array<{ until: Date; finish: () => void }> = [];
  /** > 0 inside BEGIN TRY: errors go to the CATCH block instead of the client */
  private tryDepth = 0;
  /** the errors being handled by the enclosing CATCH blocks (ERROR_NUMBER() …) */
  private readonly caught: SqlError[] = [];

  constructor(
    private readonly state: SimServerState,
    private readonly clock: Clock,
    private readonly session: Session,
    private readonly hooks: ExecHooks = {},
    private readonly outerTry = false,
  ) {}

  /** Runs a batch; `params` are sp_executesql parameters already bound. Returns the return status. */
  runBatch(text: string, params?: Map<string, Variable>): number {
    let stmts: Stmt[];
    let declarations: Map<string, TypeSpec>;
    try {
      stmts = parseBatch(text);
      declarations = this.compileChecks(stmts, params);
      for (const spec of declarations.values()) typeFromSpec(spec, true);
    } catch (e) {
      if (e instanceof SqlError) {
        if (this.outerTry) throw e;
        this.raise(e);
        return 0;
      }
      throw e;
    }
    const scope = new Scope();
    // a variable exists from the start of its batch (NULL until its DECLARE runs), even in a branch not taken
    for (const [name, spec] of declarations) {
      const type = typeFromSpec(spec, true);
      scope.vars.set(name, { type, value: tv(null, type) });
    }
    if (params) for (const [k, v] of params) scope.vars.set(k, v);
    try {
      this.runList(stmts, scope, text);
    } catch (e) {
      if (e instanceof ReturnSignal) return e.status;
      if (e instanceof SqlError) {
        if (this.outerTry) {
          FROM_NESTED.add(e);
          throw e;
        }
        this.raise(e);
        return 0;
      }
      throw e;
    }
    return 0;
  }

  private raise(e: SqlError): void {
    this.session.lastError = e.number;
    this.events.push({ k: 'error', error: e });
  }

  /** What SQL Server finds when it compiles the batch: undeclared variables and version-specific syntax. */
  private compileChecks(stmts: Stmt[], params?: Map<string, Variable>): Map<string, TypeSpec> {
    const declared = new Set<string>(params ? [...params.keys()] : []);
    const declarations = new Map<string, TypeSpec>();
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) {
        for (const n of node) walk(n);
        return;
      }
      if (!node || typeof node !== 'object' || Buffer.isBuffer(node)) return;
      const o = node as Record<string, unknown>;
      if (o.t === 'declare') {
        for (const v of o.vars as Array<{ name: string; type: TypeSpec; init?: Expr }>) {
          if (v.init) walk(v.init);
          if (declared.has(this.varKey(v.name))) throw sqlError(134, v.name);
          declarations.set(this.varKey(v.name), v.type);
          declared.add(this.varKey(v.name));
        }
        return;
      }
      if (o.k === 'var' && typeof o.name === 'string' && !declared.has(this.varKey(o.name)))
        throw sqlError(137, o.name);
      if (o.t === 'setvar' && typeof o.name === 'string' && !declared.has(this.varKey(o.name)))
        throw sqlError(137, o.name);
      if (Array.isArray(o.assigns))
        for (const a of o.assigns as Array<{ name: string }>)
          if (!declared.has(this.varKey(a.name))) throw sqlError(137, a.name);
      if (
        o.t === 'createAg' &&
        this.state.version.year === 2016 &&
        'CLUSTER_TYPE' in (o.withOptions as object)
      )
        throw sqlError(102, 'CLUSTER_TYPE');
      for (const v of Object.values(o)) walk(v);
    };
    walk(stmts);
    return declarations;
  }

  private runList(stmts: Stmt[], scope: Scope, text: string): void {
    for (const s of stmts) {
      try {
        this.run(s, scope, text);
      } catch (e) {
        if (e instanceof SqlError && !BATCH_ABORTING.has(e.number) && this.tryDepth === 0 && !this.outerTry) {
          this.raise(e);
          continue;
        }
        throw e;
      }
    }
  }

  private run(s: Stmt, scope: Scope, text: string): void {
    if (s.t !== 'if' && s.t !== 'block') {
      const fault = this.hooks.faultFor?.(text.slice(s.start, s.end));
      if (fault) throw fault;
    }
    switch (s.t) {
      case 'noop':
        return;
      case 'use': {
        const db = this.database(s.db);
        if (!db) throw sqlError(911, s.db);
        const from = this.session.database;
        this.session.database = db.name;
        this.events.push({ k: 'database', from, to: db.name });
        this.info(5701, `Changed database context to '${db.name}'.`);
        return;
      }
      case 'declare':
        for (const v of s.vars) {
          const type = typeFromSpec(v.type, true);
          const value = v.init ? convert(this.eval(v.init, scope), type) : tv(null, type);
          scope.vars.set(this.varKey(v.name), { type, value });
        }
        return;
      case 'setvar': {
        const variable = this.variable(scope, s.name);
        let value = this.eval(s.expr, scope);
        if (s.op !== '=') value = this.arith(s.op === '+=' ? '+' : '-', variable.value, value);
        variable.value = convert(value, variable.type);
        return;
      }
      case 'setopt':
        if (s.option.split(',').includes('CONCAT_NULL_YIELDS_NULL'))
          this.session.concatNullYieldsNull = s.value === 'ON';
        if (s.option.split(',').includes('NOCOUNT')) this.session.nocount = s.value === 'ON';
        return;
      case 'select':
        this.select(s.q, scope);
        return;
      case 'print': {
        const v = this.eval(s.expr, scope);
        this.info(0, toText(convert(v, T.nvarchar(-1))) ?? '', 1, 0);
        return;
      }
      case 'if': {
        const c = this.cond(s.cond, scope);
        if (c === true) this.runList([s.then], scope, text);
        else if (s.else) this.runList([s.else], scope, text);
        return;
      }
      case 'block':
        this.runList(s.body, scope, text);
        return;
      case 'try': {
        this.tryDepth++;
        let failure: SqlError | null = null;
        try {
          this.runList(s.body, scope, text);
        } catch (e) {
          if (!(e instanceof SqlError)) throw e;
          // name-resolution errors at the TRY's own level are not caught (SQL Server's rule)
          if (NAME_RESOLUTION.has(e.number) && !FROM_NESTED.has(e)) throw e;
          failure = e;
        } finally {
          this.tryDepth--;
        }
        if (failure) {
          // result sets and messages already produced stay; the error itself does not reach the client
          this.caught.push(failure);
          try {
            this.runList(s.catchBody, scope, text);
          } finally {
            this.caught.pop();
          }
        }
        return;
      }
      case 'rethrow': {
        const e = this.caught[this.caught.length - 1];
        if (!e)
          throw new SqlError(
            10704,
            'To rethrow an error, a THROW statement must be used inside a CATCH block. Insert the THROW statement inside a CATCH block, or add error parameters to the THROW statement.',
          );
        throw e;
      }
      case 'exec':
        this.exec(s.proc, s.args, scope);
        return;
      case 'execdyn': {
        const sql = toText(this.eval(s.expr, scope)) ?? '';
        this.nested(sql);
        return;
      }
      case 'return':
        throw new ReturnSignal(s.expr ? Number(convert(this.eval(s.expr, scope), T.int).v ?? 0) : 0);
      case 'throw': {
        const number = Number(convert(this.eval(s.number, scope), T.int).v);
        const message = toText(this.eval(s.message, scope)) ?? '';
        const st = Number(convert(this.eval(s.state, scope), T.int).v);
        throw new SqlError(number, message, 16, st);
      }
      case 'raiserror': {
        const message = toText(this.eval(s.message, scope)) ?? '';
        const severity = Number(convert(this.eval(s.severity, scope), T.int).v);
        const st = Number(convert(this.eval(s.state, scope), T.int).v);
        const args = s.args.map((a) => toText(this.eval(a, scope)) ?? '(null)');
        let i = 0;
        const text2 = message.replace(/%[-+ 0#]*\d*(?:\.\d+)?[dislouxX]/g, () => args[i++] ?? '(null)');
        if (severity <= 10) this.info(50000, text2, st, severity);
        else throw new SqlError(50000, text2, severity, st);
        return;
      }
      case 'dbcc':
        runDbcc(
          s.command,
          s.args.map((a) => this.eval(a, scope)),
          s.noInfoMsgs,
          this.procEnv(),
        );
        return;
      default: {
        this.requireSysadmin();
        const env: DdlEnv = {
          state: this.state,
          clock: this.clock,
          session: this.session,
          eval: (e) => this.eval(e, scope),
          info: (n, m) => this.info(n, m),
          error: (err) => this.raise(err),
          database: (n) => this.database(n),
          onDistributedAgCommand: this.hooks.onDistributedAgCommand,
          lasts: (until, finish) => this.lasting.push({ until, finish }),
        };
        runDdl(s, env);
        this.hooks.onChange?.();
      }
    }
  }

  private requireSysadmin(): void {
    if (!this.session.login.serverRoles.includes('sysadmin')) throw sqlError(15247);
  }

  info(number: number, message: string, state = 1, severity = 0): void {
    this.events.push({ k: 'info', number, message, state, severity });
  }

  /** A database by name under the instance's collation (on a _CS_ instance [salesdb] is not SalesDb). */
  database(name: string): SimServerState['databases'][number] | undefined {
    return findDatabase(this.state, name);
  }

  private collationMemo: { database: string; collation: Collation } | null = null;

  /** Variable names compare under the instance's collation ("Identifier Collation"). */
  private varKey(name: string): string {
    return variableKey(this.state, name);
  }

  /** The current database's collation: string literals and comparisons follow it. */
  private collation(): Collation {
    const database = this.session.database;
    if (this.collationMemo?.database !== database)
      this.collationMemo = { database, collation: databaseCollation(this.state, database) };
    return this.collationMemo.collation;
  }

  private variable(scope: Scope, name: string): Variable {
    const v = scope.vars.get(this.varKey(name));
    if (!v) throw sqlError(137, name);
    return v;
  }

  private nested(sql: string, params?: Map<string, Variable>): number {
    const inner = new Interpreter(
      this.state,
      this.clock,
      this.session,
      this.hooks,
      this.tryDepth > 0 || this.outerTry,
    );
    try {
      return inner.runDynamic(sql, params);
    } finally {
      this.events.push(...inner.events);
      this.lasting.push(...inner.lasting);
    }
  }

  /**
   * Runs dynamic SQL (sp_executesql, EXEC (…), and every RPC to sp_executesql): like a batch, except that a
   * USE inside it lasts only until it ends, as on SQL Server.
   */
  runDynamic(sql: string, params?: Map<string, Variable>): number {
    const before = this.session.database;
    try {
      return this.runBatch(sql, params);
    } finally {
      if (this.session.database !== before) {
        this.events.push({ k: 'database', from: this.session.database, to: before });
        this.session.database = before;
      }
    }
  }

  // ---- EXEC
  private exec(
    proc: string,
    args: Array<{ name?: string; expr: Expr; output: boolean }>,
    scope: Scope,
  ): void {
    const name = proc.toLowerCase().replace(/^(master\.)?(dbo|sys)?\.?/, '');
    const values = args.map((a) => ({ name: a.name?.toLowerCase(), value: this.eval(a.expr, scope) }));
    const arg = (pos: number, named: string): TV | undefined =>
      values.find((v) => v.name === named)?.value ??
      (values[pos] && !values[pos]!.name ? values[pos]!.value : undefined);
    switch (name) {
      case 'sp_executesql': {
        const stmt = arg(0, '@stmt') ?? arg(0, '@statement');
        if (!stmt || stmt.v === null) return;
        if (!isString(stmt.t))
          throw new SqlError(214, "Procedure expects parameter '@statement' of type 'ntext/nchar/nvarchar'.");
        const declText = arg(1, '@params');
        const bound = new Map<string, Variable>();
        if (declText && declText.v !== null) {
          const decls = new Parser(toText(declText) ?? '').parseParamDeclarations();
          const rest = values.slice(2);
          decls.forEach((d, i) => {
            const type = typeFromSpec(d.type, false);
            const given =
              rest.find((r) => r.name === d.name.toLowerCase()) ??
              (rest[i] && !rest[i]!.name ? rest[i] : undefined);
            if (!given)
              throw new SqlError(
                8178,
                `The parameterized query '(${toText(declText)})' expects the parameter '${d.name}', which was not supplied.`,
              );
            bound.set(this.varKey(d.name), { type, value: convert(given.value, type) });
          });
        }
        this.nested(toText(stmt) ?? '', bound);
        return;
      }
      default: {
        const env = this.procEnv();
        runProcedure(name, proc, values, env);
      }
    }
  }

  private procEnv(): ProcEnv {
    return {
      state: this.state,
      clock: this.clock,
      session: this.session,
      info: (n, m) => this.info(n, m),
      rows: (columns, rows) => {
        this.events.push({ k: 'rows', columns, rows });
        this.events.push({ k: 'done', count: rows.length });
      },
      requireSysadmin: () => this.requireSysadmin(),
      changed: () => {
        this.hooks.onChange?.();
      },
    };
  }

  /** Runs a stored procedure called by RPC (by name), with already-typed parameters. */
  runProcedureRpc(proc: string, params: Array<{ name?: string; value: TV }>): number {
    try {
      const name = proc.toLowerCase().replace(/^(master\.)?(dbo|sys)?\.?/, '');
      if (name === 'sp_executesql') throw new SqlError(50000, 'sp_executesql is handled by the RPC layer');
      runProcedure(
        name,
        proc,
        params.map((p) => ({ name: p.name?.toLowerCase(), value: p.value })),
        this.procEnv(),
      );
    } catch (e) {
      if (e instanceof SqlError) this.raise(e);
      else throw e;
    }
    return 0;
  }

  // ---- SELECT
  private resolveTable(ref: TableRef): Source {
    const [dbPart, schemaPart, obj] = ref.parts as [string, string, string];
    const schema = (schemaPart || 'dbo').toLowerCase();
    const key = `${schema}.${obj.toLowerCase()}`;
    const dbName = dbPart || this.session.database;
    const db = this.database(dbName);
    const view = VIEWS[key];
    if (!db || !view || (MSDB_ONLY.has(key) && db.name !== 'msdb')) throw sqlError(208, ref.written);
    // In a database with a case-sensitive collation, object names are case-sensitive too: sys.databases
    // resolves, SYS.DATABASES does not (208).
    const caseSensitive = databaseCollation(this.state, db.name).caseSensitive;
    if (caseSensitive && `${schemaPart || 'dbo'}.${obj}` !== key) throw sqlError(208, ref.written);
    const ctx: ViewContext = { state: this.state, database: db, clock: this.clock };
    const index = new Map<string, number>();
    view.columns.forEach(([n], i) => index.set(n.toLowerCase(), i));
    return {
      alias: (ref.alias ?? obj).toLowerCase(),
      columns: view.columns,
      index,
      rows: view.rows(ctx),
      caseSensitive,
    };
  }

  private containsAggregate(e: Expr | undefined): boolean {
    if (!e) return false;
    if (e.k === 'fn' && AGGREGATES.has(e.name)) return true;
    if (e.k === 'exists' || e.k === 'subq') return false;
    return Object.values(e).some((v) => {
      if (Array.isArray(v))
        return v.some((x) => x && typeof x === 'object' && 'k' in x && this.containsAggregate(x as Expr));
      return v && typeof v === 'object' && 'k' in v && this.containsAggregate(v as Expr);
    });
  }

  /** Evaluates a query to columns and rows (no events). */
  query(q: SelectStmt, scope: Scope, outer?: RowCtx): { columns: Column[]; rows: TV[][]; ctxs: RowCtx[] } {
    const sources: Source[] = [];
    let ctxs: RowCtx[];
    if (q.from) {
      const first = this.resolveTable(q.from.table);
      sources.push(first);
      let combos: Array<Array<Row | null>> = first.rows.map((r) => [r]);
      for (const j of q.from.joins) {
        const src = this.resolveTable(j.table);
        sources.push(src);
        const next: Array<Array<Row | null>> = [];
        for (const combo of combos) {
          let matched = false;
          for (const r of src.rows) {
            const cur = [...combo, r];
            if (j.kind === 'CROSS' || this.cond(j.on!, scope, { sources, current: cur, outer }) === true) {
              next.push(cur);
              matched = true;
            }
          }
          if (!matched && j.kind === 'LEFT') next.push([...combo, null]);
        }
        combos = next;
      }
      ctxs = combos.map((current) => ({ sources, current, outer }));
    } else ctxs = [{ sources, current: [], outer }];
    if (q.where) ctxs = ctxs.filter((c) => this.cond(q.where!, scope, c) === true);

    // expand the select list
    const items: Array<{ expr: Expr; name: string }> = [];
    for (const it of q.items) {
      if (it.star) {
        const srcs = it.qualifier ? sources.filter((s) => s.alias === it.qualifier!.toLowerCase()) : sources;
        if (it.qualifier && srcs.length === 0)
          throw new SqlError(
            107,
            `The column prefix '${it.qualifier}' does not match with a table name or alias name used in the query.`,
          );
        if (sources.length === 0) throw new SqlError(263, 'Must specify table to select from.');
        for (const s of srcs)
          for (const [n] of s.columns) items.push({ expr: { k: 'col', parts: [s.alias, n] }, name: n });
      } else {
        let name = it.alias ?? '';
        if (!it.alias && it.expr.k === 'col') {
          const last = it.expr.parts[it.expr.parts.length - 1]!;
          const src = sources.find((s) => s.index.has(last.toLowerCase()));
          name = src ? src.columns[src.index.get(last.toLowerCase())!]![0] : last;
        }
        items.push({ expr: it.expr, name });
      }
    }
    const aggregate =
      q.items.some((it) => !it.star && this.containsAggregate(it.expr)) ||
      (q.assigns ?? []).some((a) => this.containsAggregate(a.expr));
    if (q.groupBy) {
      const groups = new Map<string, RowCtx[]>();
      for (const c of ctxs) {
        const key = JSON.stringify(
          q.groupBy.map((g) => {
            const v = this.eval(g, scope, c);
            return v.v === null ? null : collationKey(toText(v, 1) ?? '', this.collation());
          }),
        );
        const list = groups.get(key);
        if (list) list.push(c);
        else groups.set(key, [c]);
      }
      ctxs = [...groups.values()].map((g) => ({ ...g[0]!, group: g }));
    } else if (aggregate || q.having) {
      const base = ctxs[0] ?? { sources, current: sources.map(() => null), outer };
      ctxs = [{ ...base, group: ctxs }];
    }
    if (q.having) ctxs = ctxs.filter((c) => this.cond(q.having!, scope, c) === true);

    if (q.assigns) {
      for (const c of ctxs) {
        for (const a of q.assigns) {
          const v = this.variable(scope, a.name);
          v.value = convert(this.eval(a.expr, scope, c), v.type);
        }
      }
      return { columns: [], rows: [], ctxs };
    }

    let rows = ctxs.map((c) => ({ c, vals: items.map((it) => this.eval(it.expr, scope, c)) }));
    if (q.distinct) {
      const seen = new Set<string>();
      rows = rows.filter((r) => {
        const key = JSON.stringify(
          r.vals.map((v) => (v.v === null ? null : collationKey(toText(v, 1) ?? '', this.collation()))),
        );
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
    }
    if (q.orderBy) {
      const keyed = rows.map((r) => ({
        r,
        keys: q.orderBy!.map((o) => {
          if (o.expr.k === 'lit' && typeof o.expr.v === 'number') {
            const v = r.vals[o.expr.v - 1];
            if (!v)
              throw new SqlError(
                108,
                `The ORDER BY position number ${o.expr.v} is out of range of the number of items in the select list.`,
              );
            return v;
          }
          if (o.expr.k === 'col' && o.expr.parts.length === 1) {
            const idx = items.findIndex(
              (it) => it.name.toLowerCase() === (o.expr as { parts: string[] }).parts[0]!.toLowerCase(),
            );
            const aliasIdx = q.items.findIndex(
              (it) =>
                !it.star &&
                it.alias?.toLowerCase() === (o.expr as { parts: string[] }).parts[0]!.toLowerCase(),
            );
            if (aliasIdx >= 0 && idx >= 0) return r.vals[idx]!;
          }
          return this.eval(o.expr, scope, r.c);
        }),
      }));
      keyed.sort((a, b) => {
        for (let i = 0; i < q.orderBy!.length; i++) {
          const x = a.keys[i]!;
          const y = b.keys[i]!;
          let c: number;
          if (x.v === null && y.v === null) c = 0;
          else if (x.v === null) c = -1;
          else if (y.v === null) c = 1;
          else c = compare(x, y, this.collation()) ?? 0;
          if (c !== 0) return q.orderBy![i]!.desc ? -c : c;
        }
        return 0;
      });
      rows = keyed.map((k) => k.r);
    }
    if (q.top) {
      const n = Number(convert(this.eval(q.top, scope), T.bigint).v ?? 0);
      rows = rows.slice(0, Math.max(0, n));
    }
    // column types: the first non-null value's type, else the type the expression has on an all-NULL row
    const nullCtx: RowCtx = {
      sources,
      current: sources.map((s) => Object.fromEntries(s.columns.map(([n]) => [n, null]))),
      outer,
      group: [],
    };
    const columns: Column[] = items.map((it, i) => {
      const firstNonNull = rows.find((r) => r.vals[i]!.v !== null)?.vals[i];
      let type: SqlType;
      if (firstNonNull) type = firstNonNull.t;
      else {
        try {
          type = this.eval(it.expr, scope, nullCtx).t;
        } catch {
          type = T.int;
        }
      }
      return { name: it.name, type };
    });
    return { columns, rows: rows.map((r) => r.vals), ctxs: rows.map((r) => r.c) };
  }

  private select(q: SelectStmt, scope: Scope): void {
    const r = this.query(q, scope);
    if (q.assigns) return;
    const rows = r.rows.map((vals) =>
      vals.map((v, i) => {
        const col = r.columns[i]!;
        if (v.v === null || v.t.base === col.type.base) return v.v;
        return convert(v, col.type).v;
      }),
    );
    this.session.rowcount = rows.length;
    this.events.push({ k: 'rows', columns: r.columns, rows });
    this.events.push({ k: 'done', count: rows.length });
  }

  // ---- expressions
  private column(parts: string[], ctx: RowCtx | undefined): TV {
    const name = parts[parts.length - 1]!.toLowerCase();
    const qual = parts.length > 1 ? parts[parts.length - 2]!.toLowerCase() : undefined;
    for (let c: RowCtx | undefined = ctx; c; c = c.outer) {
      const hits: number[] = [];
      const written = parts[parts.length - 1]!;
      c.sources.forEach((s, i) => {
        if ((!qual || s.alias === qual) && s.index.has(name)) {
          // a case-sensitive database's column names match only as written (NAME is not name: 207)
          if (s.caseSensitive && s.columns[s.index.get(name)!]![0] !== written) return;
          hits.push(i);
        }
      });
      if (hits.length > 1) throw sqlError(209, parts[parts.length - 1]!);
      if (hits.length === 1) {
        const s = c.sources[hits[0]!]!;
        const [colName, type] = s.columns[s.index.get(name)!]!;
        const row = c.current[hits[0]!];
        const v = row ? row[colName] : null;
        return tv(v ?? null, type);
      }
    }
    if (qual && !(ctx?.sources ?? []).some((s) => s.alias === qual))
      throw new SqlError(4104, `The multi-part identifier "${parts.join('.')}" could not be bound.`);
    throw sqlError(207, parts[parts.length - 1]!);
  }

  /** Three-valued predicate evaluation: true, false or null (unknown). */
  cond(e: Expr, scope: Scope, ctx?: RowCtx): boolean | null {
    switch (e.k) {
      case 'and': {
        const l = this.cond(e.l, scope, ctx);
        if (l === false) return false;
        const r = this.cond(e.r, scope, ctx);
        if (r === false) return false;
        return l === null || r === null ? null : true;
      }
      case 'or': {
        const l = this.cond(e.l, scope, ctx);
        if (l === true) return true;
        const r = this.cond(e.r, scope, ctx);
        if (r === true) return true;
        return l === null || r === null ? null : false;
      }
      case 'not': {
        const v = this.cond(e.e, scope, ctx);
        return v === null ? null : !v;
      }
      case 'bin': {
        if (!['=', '<>', '<', '>', '<=', '>='].includes(e.op)) break;
        const c = compare(this.eval(e.l, scope, ctx), this.eval(e.r, scope, ctx), this.collation());
        if (c === null) return null;
        switch (e.op) {
          case '=':
            return c === 0;
          case '<>':
            return c !== 0;
          case '<':
            return c < 0;
          case '>':
            return c > 0;
          case '<=':
            return c <= 0;
          default:
            return c >= 0;
        }
      }
      case 'isnull': {
        const v = this.eval(e.e, scope, ctx);
        return (v.v === null) !== e.not;
      }
      case 'like': {
        const v = this.eval(e.e, scope, ctx);
        const p = this.eval(e.pattern, scope, ctx);
        if (v.v === null || p.v === null) return null;
        return like(toText(v) ?? '', toText(p) ?? '', this.collation()) !== e.not;
      }
      case 'in': {
        const v = this.eval(e.e, scope, ctx);
        if (v.v === null) return null;
        let unknown = false;
        for (const item of e.list) {
          const c = compare(v, this.eval(item, scope, ctx), this.collation());
          if (c === 0) return !e.not;
          if (c === null) unknown = true;
        }
        return unknown ? null : e.not;
      }
      case 'between': {
        const v = this.eval(e.e, scope, ctx);
        const a = compare(v, this.eval(e.lo, scope, ctx), this.collation());
        const b = compare(v, this.eval(e.hi, scope, ctx), this.collation());
        if (a === null || b === null) return null;
        return (a >= 0 && b <= 0) !== e.not;
      }
      case 'exists':
        return this.query(e.q, scope, ctx).rows.length > 0;
      default:
        break;
    }
    throw sqlError(4145, '');
  }

  arith(op: string, a: TV, b: TV): TV {
    if (op === '+' && (isString(a.t) || isString(b.t)) && !(isNumeric(a.t) || isNumeric(b.t))) {
      const type = a.t.base === 'nvarchar' || b.t.base === 'nvarchar' ? T.nvarchar(-1) : T.varchar(-1);
      if (a.v === null || b.v === null) {
        if (this.session.concatNullYieldsNull) return tv(null, type);
      }
      return tv((toText(a) ?? '') + (toText(b) ?? ''), type);
    }
    if (op === '+' && Buffer.isBuffer(a.v) && Buffer.isBuffer(b.v))
      return tv(Buffer.concat([a.v, b.v]), T.varbinary());
    if (a.v === null || b.v === null) return tv(null, isNumeric(a.t) ? a.t : b.t);
    if (a.v instanceof Date && typeof b.v === 'number')
      return tv(new Date(a.v.getTime() + (op === '-' ? -1 : 1) * b.v * 86_400_000), a.t);
    let x = a;
    let y = b;
    if (!isNumeric(x.t)) x = convert(x, T.int);
    if (!isNumeric(y.t)) y = convert(y, T.int);
    const isFloat =
      x.t.base === 'float' ||
      y.t.base === 'float' ||
      (typeof x.v === 'number' && !Number.isInteger(x.v)) ||
      (typeof y.v === 'number' && !Number.isInteger(y.v));
    if (!isFloat && (typeof x.v === 'bigint' || typeof y.v === 'bigint')) {
      const p = BigInt(x.v as number | bigint);
      const q = BigInt(y.v as number | bigint);
      if ((op === '/' || op === '%') && q === 0n)
        throw new SqlError(8134, 'Divide by zero error encountered.');
      const r = op === '+' ? p + q : op === '-' ? p - q : op === '*' ? p * q : op === '/' ? p / q : p % q;
      return tv(r, T.bigint);
    }
    const p = Number(x.v);
    const q = Number(y.v);
    if ((op === '/' || op === '%') && q === 0) throw new SqlError(8134, 'Divide by zero error encountered.');
    let r: number;
    switch (op) {
      case '+':
        r = p + q;
        break;
      case '-':
        r = p - q;
        break;
      case '*':
        r = p * q;
        break;
      case '/':
        r = isFloat ? p / q : Math.trunc(p / q);
        break;
      case '%':
        r = p % q;
        break;
      case '&':
        r = p & q;
        break;
      case '|':
        r = p | q;
        break;
      default:
        r = p ^ q;
    }
    return tv(
      r,
      isFloat
        ? T.float
        : x.t.base === 'bit' && y.t.base === 'bit'
          ? T.int
          : x.t.base === 'int' || y.t.base === 'int'
            ? T.int
            : x.t,
    );
  }

  eval(e: Expr, scope: Scope, ctx?: RowCtx): TV {
    switch (e.k) {
      case 'lit': {
        const v = e.v;
        if (v === null) return tv(null, T.int);
        if (typeof v === 'string')
          return tv(v, e.unicode ? T.nvarchar(Math.max(1, v.length)) : T.varchar(Math.max(1, v.length)));
        if (typeof v === 'bigint') return tv(v, T.numeric(19, 0));
        if (typeof v === 'number') return tv(v, Number.isInteger(v) ? T.int : T.float);
        return tv(v as Value, T.varbinary(Math.max(1, (v as Buffer).length)));
      }
      case 'var':
        return this.variable(scope, e.name).value;
      case 'sysvar':
        return this.sysvar(e.name);
      case 'col':
        return this.column(e.parts, ctx);
      case 'cast': {
        const v = this.eval(e.expr, scope, ctx);
        const style = e.style ? Number(convert(this.eval(e.style, scope, ctx), T.int).v ?? 0) : 0;
        return convert(v, typeFromSpec(e.type as TypeSpec, false), style);
      }
      case 'bin':
        if (['+', '-', '*', '/', '%', '&', '|', '^'].includes(e.op))
          return this.arith(e.op, this.eval(e.l, scope, ctx), this.eval(e.r, scope, ctx));
        break;
      case 'neg': {
        const v = this.eval(e.e, scope, ctx);
        if (v.v === null) return v;
        if (typeof v.v === 'bigint') return tv(-v.v, v.t);
        return tv(-Number(convert(v, isNumeric(v.t) ? v.t : T.int).v), isNumeric(v.t) ? v.t : T.int);
      }
      case 'subq': {
        const r = this.query(e.q, scope, ctx);
        if (r.rows.length > 1)
          throw new SqlError(
            512,
            'Subquery returned more than 1 value. This is not permitted when the subquery follows =, !=, <, <= , >, >= or when the subquery is used as an expression.',
          );
        return r.rows[0]?.[0] ?? tv(null, r.columns[0]?.type ?? T.int);
      }
      case 'case': {
        const resultType = (): SqlType => this.eval(e.whens[0]!.then, scope, ctx).t;
        for (const w of e.whens) {
          const hit = e.operand
            ? compare(this.eval(e.operand, scope, ctx), this.eval(w.when, scope, ctx), this.collation()) === 0
            : this.cond(w.when, scope, ctx) === true;
          if (hit) return this.eval(w.then, scope, ctx);
        }
        return e.else ? this.eval(e.else, scope, ctx) : tv(null, resultType());
      }
      case 'fn':
        return this.fn(e, scope, ctx);
      default:
        break;
    }
    // a predicate used as a value is a syntax error in T-SQL
    const c = this.cond(e, scope, ctx);
    return tv(c === null ? null : c ? 1 : 0, T.bit);
  }

  private sysvar(name: string): TV {
    const s = this.state;
    switch (name) {
      case '@@SERVERNAME':
        return tv(s.serverName, T.nvarchar(128));
      case '@@SERVICENAME':
        return tv(
          s.serverName.includes('\\') ? s.serverName.split('\\')[1]! : 'MSSQLSERVER',
          T.nvarchar(128),
        );
      case '@@VERSION':
        return tv(versionString(s), T.nvarchar(300));
      case '@@SPID':
        return tv(this.session.spid, T.smallint);
      case '@@ROWCOUNT':
        return tv(this.session.rowcount, T.int);
      case '@@ERROR':
        return tv(this.session.lastError, T.int);
      case '@@TRANCOUNT':
        return tv(0, T.int);
      case '@@LANGUAGE':
        return tv('us_english', T.nvarchar(128));
      case '@@MAX_PRECISION':
        return tv(38, T.tinyint);
      default:
        throw sqlError(137, name);
    }
  }

  private fn(e: Expr & { k: 'fn' }, scope: Scope, ctx?: RowCtx): TV {
    if (AGGREGATES.has(e.name)) return this.aggregate(e, scope, ctx);
    const a = (i: number): TV => {
      const x = e.args[i];
      if (!x) throw new SqlError(174, `The ${e.name.toLowerCase()} function requires ${i + 1} argument(s).`);
      return this.eval(x, scope, ctx);
    };
    const str = (i: number): string | null => toText(a(i));
    const int = (i: number): number | null => {
      const v = convert(a(i), T.bigint).v;
      return v === null ? null : Number(v);
    };
    const now = this.clock.now();
    const s = this.state;
    switch (e.name) {
      case 'ERROR_NUMBER':
      case 'ERROR_MESSAGE':
      case 'ERROR_SEVERITY':
      case 'ERROR_STATE':
      case 'ERROR_LINE':
      case 'ERROR_PROCEDURE': {
        const c = this.caught[this.caught.length - 1];
        if (e.name === 'ERROR_MESSAGE') return tv(c ? c.message : null, T.nvarchar(4000));
        if (e.name === 'ERROR_PROCEDURE') return tv(null, T.nvarchar(128));
        const n = !c
          ? null
          : e.name === 'ERROR_NUMBER'
            ? c.number
            : e.name === 'ERROR_SEVERITY'
              ? c.severity
              : e.name === 'ERROR_STATE'
                ? c.state
                : 1;
        return tv(n, T.int);
      }
      case 'SERVERPROPERTY':
        return serverProperty(s, str(0) ?? '');
      case 'IS_SRVROLEMEMBER': {
        const role = (str(0) ?? '').toLowerCase();
        const loginName = e.args[1] ? str(1) : this.session.login.name;
        if (
          ![
            'sysadmin',
            'serveradmin',
            'securityadmin',
            'setupadmin',
            'processadmin',
            'diskadmin',
            'dbcreator',
            'bulkadmin',
            'public',
          ].includes(role)
        )
          return tv(null, T.int);
        const login = s.logins.find((l) => l.name.toLowerCase() === (loginName ?? '').toLowerCase());
        if (!login) return tv(null, T.int);
        return tv(role === 'public' || login.serverRoles.includes(role) ? 1 : 0, T.int);
      }
      case 'HAS_PERMS_BY_NAME':
        return tv(this.session.login.serverRoles.includes('sysadmin') ? 1 : 0, T.int);
      case 'CERT_ID': {
        const n = str(0);
        const c =
          this.inMaster() && n !== null
            ? s.certificates.find((x) => x.name.toLowerCase() === n.toLowerCase())
            : undefined;
        return tv(c ? c.certificateId : null, T.int);
      }
      case 'CERTENCODED': {
        const id = int(0);
        const c = this.inMaster() ? s.certificates.find((x) => x.certificateId === id) : undefined;
        return tv(c ? Buffer.from(c.der) : null, T.varbinary());
      }
      case 'CERTPROPERTY': {
        const id = int(0);
        const prop = (str(1) ?? '').toLowerCase();
        const c = this.inMaster() ? s.certificates.find((x) => x.certificateId === id) : undefined;
        if (!c) return tv(null, T.nvarchar());
        if (prop === 'expiry_date') return tv(c.expiryDate, T.datetime);
        if (prop === 'start_date') return tv(c.startDate, T.datetime);
        if (prop === 'issuer_name') return tv(c.issuerName, T.nvarchar());
        if (prop === 'subject') return tv(c.subject, T.nvarchar());
        return tv(null, T.nvarchar());
      }
      case 'DB_ID': {
        if (e.args.length === 0) return tv(this.database(this.session.database)!.databaseId, T.smallint);
        const n = str(0);
        return tv(n === null ? null : (this.database(n)?.databaseId ?? null), T.smallint);
      }
      case 'DB_NAME': {
        if (e.args.length === 0) return tv(this.session.database, T.nvarchar(128));
        const id = int(0);
        return tv(s.databases.find((d) => d.databaseId === id)?.name ?? null, T.nvarchar(128));
      }
      case 'SUSER_SNAME':
      case 'SUSER_NAME':
      case 'ORIGINAL_LOGIN':
        return tv(this.session.login.name, T.nvarchar(128));
      case 'USER_NAME':
        return tv(
          this.session.login.serverRoles.includes('sysadmin') ? 'dbo' : this.session.login.name,
          T.nvarchar(128),
        );
      case 'GETUTCDATE':
      case 'GETDATE':
      case 'CURRENT_TIMESTAMP':
        return tv(now, T.datetime);
      case 'SYSUTCDATETIME':
      case 'SYSDATETIME':
        return tv(now, T.datetime2);
      case 'CHAR':
      case 'NCHAR': {
        const n = int(0);
        return tv(
          n === null ? null : String.fromCharCode(n),
          e.name === 'CHAR' ? T.varchar(1) : T.nvarchar(1),
        );
      }
      case 'QUOTENAME': {
        const v = str(0);
        const q = e.args[1] ? (str(1) ?? '') : '[';
        if (v === null || v.length > 128) return tv(null, T.nvarchar(258));
        const [open, close] =
          q === '[' || q === ']'
            ? ['[', ']']
            : q === '"'
              ? ['"', '"']
              : q === "'"
                ? ["'", "'"]
                : q === '(' || q === ')'
                  ? ['(', ')']
                  : q === '<' || q === '>'
                    ? ['<', '>']
                    : q === '{' || q === '}'
                      ? ['{', '}']
                      : q === '`'
                        ? ['`', '`']
                        : [null, null];
        if (!open || !close) return tv(null, T.nvarchar(258));
        return tv(open + v.split(close).join(close + close) + close, T.nvarchar(258));
      }
      case 'LEN': {
        const v = str(0);
        return tv(v === null ? null : v.replace(/ +$/, '').length, T.int);
      }
      case 'DATALENGTH': {
        const v = a(0);
        if (v.v === null) return tv(null, T.int);
        if (Buffer.isBuffer(v.v)) return tv(v.v.length, T.int);
        const t = toText(v) ?? '';
        return tv(v.t.base === 'nvarchar' ? t.length * 2 : isString(v.t) ? t.length : 8, T.int);
      }
      case 'UPPER':
      case 'LOWER':
      case 'LTRIM':
      case 'RTRIM':
      case 'TRIM': {
        const v = a(0);
        const t = toText(v);
        if (t === null) return tv(null, isString(v.t) ? v.t : T.varchar());
        const r =
          e.name === 'UPPER'
            ? t.toUpperCase()
            : e.name === 'LOWER'
              ? t.toLowerCase()
              : e.name === 'LTRIM'
                ? t.replace(/^ +/, '')
                : e.name === 'RTRIM'
                  ? t.replace(/ +$/, '')
                  : t.replace(/^ +| +$/g, '');
        return tv(r, isString(v.t) ? v.t : T.varchar());
      }
      case 'REPLACE': {
        const v = a(0);
        const t = toText(v);
        const f = str(1);
        const r = str(2);
        if (t === null || f === null || r === null) return tv(null, T.nvarchar(-1));
        if (f === '') return tv(t, v.t);
        return tv(
          t.replace(new RegExp(f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi'), () => r),
          isString(v.t) ? v.t : T.varchar(-1),
        );
      }
      case 'SUBSTRING': {
        const v = a(0);
        const t = toText(v);
        const start = int(1);
        const len = int(2);
        if (t === null || start === null || len === null) return tv(null, v.t);
        const from = Math.max(1, start);
        const end = start + len;
        return tv(end <= from ? '' : t.slice(from - 1, end - 1), isString(v.t) ? v.t : T.varchar());
      }
      case 'LEFT':
      case 'RIGHT': {
        const v = a(0);
        const t = toText(v);
        const n = int(1);
        if (t === null || n === null) return tv(null, T.nvarchar());
        return tv(
          e.name === 'LEFT' ? t.slice(0, n) : n === 0 ? '' : t.slice(-n),
          isString(v.t) ? v.t : T.varchar(),
        );
      }
      case 'CHARINDEX': {
        const f = str(0);
        const t = str(1);
        if (f === null || t === null) return tv(null, T.int);
        const start = e.args[2] ? Math.max(1, int(2) ?? 1) : 1;
        const cs = this.collation().caseSensitive;
        return tv((cs ? t : t.toLowerCase()).indexOf(cs ? f : f.toLowerCase(), start - 1) + 1, T.int);
      }
      case 'ISNULL': {
        const v = a(0);
        return v.v === null
          ? convert(a(1), v.t.base === 'int' && v.v === null && e.args[0]!.k === 'lit' ? a(1).t : v.t)
          : v;
      }
      case 'COALESCE': {
        for (let i = 0; i < e.args.length; i++) {
          const v = a(i);
          if (v.v !== null) return v;
        }
        return tv(null, e.args.length ? a(0).t : T.int);
      }
      case 'NULLIF': {
        const x = a(0);
        return compare(x, a(1), this.collation()) === 0 ? tv(null, x.t) : x;
      }
      case 'IIF': {
        const c = this.cond(e.args[0]!, scope, ctx);
        return c === true ? a(1) : a(2);
      }
      case 'CONCAT': {
        let out = '';
        for (let i = 0; i < e.args.length; i++) out += str(i) ?? '';
        return tv(out, T.nvarchar(-1));
      }
      case 'NEWID':
        return tv(randomUUID().toUpperCase(), T.guid);
      case 'ABS': {
        const v = a(0);
        if (v.v === null) return v;
        return typeof v.v === 'bigint'
          ? tv(v.v < 0n ? -v.v : v.v, v.t)
          : tv(Math.abs(Number(convert(v, T.float).v)), isNumeric(v.t) ? v.t : T.float);
      }
      case 'ROUND': {
        const v = convert(a(0), T.float);
        const d = int(1) ?? 0;
        if (v.v === null) return v;
        const f = 10 ** d;
        return tv(Math.round((v.v as number) * f) / f, a(0).t);
      }
      case 'DATEADD': {
        const part = datePart(e.args[0]);
        const n = int(1);
        const d = convert(a(2), a(2).t.base === 'datetime2' ? T.datetime2 : T.datetime);
        if (n === null || d.v === null) return tv(null, d.t);
        return tv(dateAdd(part, n, d.v as Date), d.t);
      }
      case 'DATEDIFF': {
        const part = datePart(e.args[0]);
        const x = convert(a(1), T.datetime2).v as Date | null;
        const y = convert(a(2), T.datetime2).v as Date | null;
        if (!x || !y) return tv(null, T.int);
        return tv(dateDiff(part, x, y), T.int);
      }
      case 'YEAR':
      case 'MONTH':
      case 'DAY': {
        const d = convert(a(0), T.datetime2).v as Date | null;
        if (!d) return tv(null, T.int);
        return tv(
          e.name === 'YEAR' ? d.getUTCFullYear() : e.name === 'MONTH' ? d.getUTCMonth() + 1 : d.getUTCDate(),
          T.int,
        );
      }
      case 'BITNOT': {
        const v = int(0);
        return tv(v === null ? null : ~v, T.int);
      }
      default:
        throw sqlError(195, e.name.toLowerCase());
    }
  }

  private aggregate(e: Expr & { k: 'fn' }, scope: Scope, ctx?: RowCtx): TV {
    const group = ctx?.group;
    if (!group)
      throw new SqlError(
        147,
        'An aggregate may not appear in the WHERE clause unless it is in a subquery contained in a HAVING clause or a select list, and the column being aggregated is an outer reference.',
      );
    if (e.name === 'COUNT' || e.name === 'COUNT_BIG') {
      const type = e.name === 'COUNT' ? T.int : T.bigint;
      if (e.star) return tv(e.name === 'COUNT' ? group.length : BigInt(group.length), type);
      let vals = group.map((c) => this.eval(e.args[0]!, scope, c)).filter((v) => v.v !== null);
      if (e.distinct)
        vals = vals.filter((v, i) => vals.findIndex((w) => compare(v, w, this.collation()) === 0) === i);
      return tv(e.name === 'COUNT' ? vals.length : BigInt(vals.length), type);
    }
    const vals = group.map((c) => this.eval(e.args[0]!, scope, c));
    const nonNull = vals.filter((v) => v.v !== null);
    const type = vals[0]?.t ?? this.eval(e.args[0]!, scope, { ...ctx, group: undefined }).t;
    if (nonNull.length === 0) return tv(null, type);
    if (e.name === 'MAX' || e.name === 'MIN') {
      return nonNull.reduce((best, v) => {
        const c = compare(v, best, this.collation()) ?? 0;
        return e.name === 'MAX' ? (c > 0 ? v : best) : c < 0 ? v : best;
      });
    }
    const sum = nonNull.reduce((acc, v) => this.arith('+', acc, v));
    if (e.name === 'SUM') return sum;
    return this.arith('/', sum, tv(nonNull.length, T.int));
  }

  private inMaster(): boolean {
    return this.session.database.toLowerCase() === 'master';
  }
}

// ---- helpers shared with procedures
export interface ProcEnv {
  state: SimServerState;
  clock: Clock;
  session: Session;
  info(number: number, message: string): void;
  rows(columns: Column[], rows: Value[][]): void;
  requireSysadmin(): void;
  changed(): void;
}

function datePart(e: Expr | undefined): string {
  if (e && e.k === 'col' && e.parts.length === 1) return e.parts[0]!.toLowerCase();
  if (e && e.k === 'lit' && typeof e.v === 'string') return e.v.toLowerCase();
  throw new SqlError(1023, 'Invalid parameter 1 specified for dateadd.');
}

const PART_MS: Record<string, number> = {
  millisecond: 1,
  ms: 1,
  second: 1000,
  ss: 1000,
  s: 1000,
  minute: 60_000,
  mi: 60_000,
  n: 60_000,
  hour: 3_600_000,
  hh: 3_600_000,
  day: 86_400_000,
  dd: 86_400_000,
  d: 86_400_000,
  week: 604_800_000,
  wk: 604_800_000,
  ww: 604_800_000,
};

function dateAdd(part: string, n: number, d: Date): Date {
  const ms = PART_MS[part];
  if (ms) return new Date(d.getTime() + n * ms);
  const r = new Date(d.getTime());
  if (part === 'month' || part === 'mm' || part === 'm') r.setUTCMonth(r.getUTCMonth() + n);
  else if (part === 'year' || part === 'yy' || part === 'yyyy') r.setUTCFullYear(r.getUTCFullYear() + n);
  else throw new SqlError(155, `'${part}' is not a recognized dateadd option.`);
  return r;
}

function dateDiff(part: string, a: Date, b: Date): number {
  if (part === 'year' || part === 'yy' || part === 'yyyy') return b.getUTCFullYear() - a.getUTCFullYear();
  if (part === 'month' || part === 'mm' || part === 'm')
    return (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + b.getUTCMonth() - a.getUTCMonth();
  const ms = PART_MS[part];
  if (!ms) throw new SqlError(155, `'${part}' is not a recognized datediff option.`);
  if (ms >= 86_400_000) {
    const day = (d: Date): number => Math.floor(d.getTime() / 86_400_000);
    return Math.floor((day(b) - day(a)) / (ms / 86_400_000));
  }
  return Math.floor(b.getTime() / ms) - Math.floor(a.getTime() / ms);
}

export function versionString(s: SimServerState): string {
  const level = productLevel(s.version);
  const upd = productUpdateLevel(s.version);
  return (
    `Microsoft SQL Server ${s.version.year} (${level}${upd ? '-' + upd : ''}) (KB5000000) - ${s.version.productVersion} (X64) \n` +
    `\t${new Date(Date.UTC(s.version.year, 5, 1)).toUTCString().slice(5, 16)} \n\tCopyright (C) ${s.version.year} Microsoft Corporation\n` +
    `\t${s.edition} on Windows Server 2022 Datacenter 10.0 <X64> (Build 20348: ) (Hypervisor)\n`
  );
}

function serverProperty(s: SimServerState, prop: string): TV {
  const N = T.nvarchar(128);
  const [host, instance] = s.serverName.split('\\') as [string, string | undefined];
  switch (prop.toLowerCase()) {
    case 'productversion':
      return tv(s.version.productVersion, N);
    case 'productlevel':
      return tv(productLevel(s.version), N);
    case 'productupdatelevel':
      return tv(productUpdateLevel(s.version), N);
    case 'productmajorversion':
      return tv(String(s.version.major), N);
    case 'productbuild':
      return tv(s.version.productVersion.split('.')[2] ?? null, N);
    case 'edition':
      return tv(s.edition, N);
    case 'engineedition':
      return tv(/standard/i.test(s.edition) ? 2 : /express/i.test(s.edition) ? 4 : 3, T.int);
    case 'servername':
      return tv(s.serverName, N);
    case 'machinename':
    case 'computernamephysicalnetbios':
      return tv(host, N);
    case 'instancename':
      return tv(instance ?? null, N);
    case 'ishadrenabled':
      return tv(s.hadrEnabled ? 1 : 0, T.int);
    case 'hadrmanagerstatus':
      return tv(s.hadrEnabled ? 1 : 2, T.int);
    case 'collation':
      return tv(s.collation, N);
    case 'isclustered':
    case 'isfulltextinstalled':
    case 'isintegratedsecurityonly':
    case 'issingleuser':
      return tv(0, T.int);
    default:
      return tv(null, N);
  }
}

export { sqlMessage };
