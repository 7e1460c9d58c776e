/** The syntax tree of a T-SQL batch, as the parser builds it and the interpreter runs it. */

export interface TypeSpec {
  /** lower-case type name: int, nvarchar, varbinary, datetime, … */
  name: string;
  /** length, or -1 for MAX */
  length?: number;
  precision?: number;
  scale?: number;
}

export type Expr =
  | { k: 'lit'; v: string | number | bigint | Buffer | null; unicode?: boolean }
  | { k: 'var'; name: string }
  | { k: 'sysvar'; name: string }
  | { k: 'col'; parts: string[] }
  | { k: 'fn'; name: string; args: Expr[]; star?: boolean; distinct?: boolean }
  | { k: 'cast'; expr: Expr; type: TypeSpec; style?: Expr }
  | { k: 'bin'; op: string; l: Expr; r: Expr }
  | { k: 'and' | 'or'; l: Expr; r: Expr }
  | { k: 'not'; e: Expr }
  | { k: 'neg'; e: Expr }
  | { k: 'isnull'; e: Expr; not: boolean }
  | { k: 'like'; e: Expr; pattern: Expr; not: boolean }
  | { k: 'in'; e: Expr; list: Expr[]; not: boolean }
  | { k: 'between'; e: Expr; lo: Expr; hi: Expr; not: boolean }
  | { k: 'exists'; q: SelectStmt }
  | { k: 'subq'; q: SelectStmt }
  | { k: 'case'; operand?: Expr; whens: Array<{ when: Expr; then: Expr }>; else?: Expr };

export interface TableRef {
  /** [database, schema, object] with missing parts as '' */
  parts: string[];
  alias?: string;
  /** the name as written, for error messages */
  written: string;
}

export interface Join {
  kind: 'INNER' | 'LEFT' | 'CROSS';
  table: TableRef;
  on?: Expr;
}

export type SelectItem = { star: true; qualifier?: string } | { star?: false; expr: Expr; alias?: string };

export interface SelectStmt {
  top?: Expr;
  distinct: boolean;
  items: SelectItem[];
  /** SELECT @v = expr, … */
  assigns?: Array<{ name: string; expr: Expr }>;
  from?: { table: TableRef; joins: Join[] };
  where?: Expr;
  groupBy?: Expr[];
  having?: Expr;
  orderBy?: Array<{ expr: Expr; desc: boolean }>;
}

/** Options written as NAME = value inside WITH ( … ) lists. */
export type OptionValue = string | number;

export interface ReplicaSpec {
  /** server name (plain AG) or member AG name (DAG) */
  name: string;
  options: Record<string, OptionValue>;
}

export interface EndpointSpec {
  state?: 'STARTED' | 'STOPPED' | 'DISABLED';
  port?: number;
  listenerIp?: string;
  role?: 'ALL' | 'PARTNER' | 'WITNESS';
  auth?: {
    windows: 'NTLM' | 'KERBEROS' | 'NEGOTIATE' | null;
    certificate: string | null;
    certificateFirst: boolean;
  };
  encryption?: { mode: 'DISABLED' | 'SUPPORTED' | 'REQUIRED'; algorithms: Array<'AES' | 'RC4'> };
  forMirroring: boolean;
}

export type Stmt = { start: number; end: number } & (
  | { t: 'use'; db: string }
  | { t: 'declare'; vars: Array<{ name: string; type: TypeSpec; init?: Expr }> }
  | { t: 'setvar'; name: string; op: string; expr: Expr }
  | { t: 'setopt'; option: string; value: string }
  | { t: 'select'; q: SelectStmt }
  | { t: 'print'; expr: Expr }
  | { t: 'if'; cond: Expr; then: Stmt; else?: Stmt }
  | { t: 'block'; body: Stmt[] }
  | { t: 'try'; body: Stmt[]; catchBody: Stmt[] }
  | { t: 'rethrow' }
  | { t: 'exec'; proc: string; args: Array<{ name?: string; expr: Expr; output: boolean }> }
  | { t: 'execdyn'; expr: Expr }
  | { t: 'createMasterKey'; password: Expr }
  | { t: 'dropMasterKey' }
  | {
      t: 'createCert';
      name: string;
      subject?: Expr;
      startDate?: Expr;
      expiryDate?: Expr;
      binary?: Expr;
      /** FROM BINARY … WITH PRIVATE KEY (BINARY = <PVK bits> [, DECRYPTION BY PASSWORD = …] [, ENCRYPTION BY PASSWORD = …]) */
      privateKey?: { binary: Expr; decryption?: Expr; encryption?: Expr };
    }
  | { t: 'dropCert'; name: string }
  | { t: 'createEndpoint' | 'alterEndpoint'; name: string; spec: EndpointSpec }
  | { t: 'dropEndpoint'; name: string }
  | {
      t: 'createAg';
      name: string;
      withOptions: Record<string, OptionValue>;
      distributed: boolean;
      databases: string[];
      replicas: ReplicaSpec[];
    }
  | { t: 'alterAg'; name: string; action: AlterAgAction }
  | { t: 'dropAg'; name: string }
  | { t: 'alterDbRecovery'; db: string; model: 'FULL' | 'SIMPLE' | 'BULK_LOGGED' }
  | {
      t: 'backup';
      kind: 'DATABASE' | 'LOG';
      db: string;
      disks: Expr[];
      options: Record<string, OptionValue | true>;
    }
  | { t: 'dbcc'; command: string; args: Expr[]; noInfoMsgs: boolean }
  | { t: 'return'; expr?: Expr }
  | { t: 'throw'; number: Expr; message: Expr; state: Expr }
  | { t: 'raiserror'; message: Expr; severity: Expr; state: Expr; args: Expr[] }
  | { t: 'noop' }
);

export type AlterAgAction =
  | { a: 'grantCreateAnyDatabase' }
  | { a: 'denyCreateAnyDatabase' }
  | { a: 'failover' }
  | { a: 'forceFailover' }
  | { a: 'setRole'; role: 'SECONDARY' }
  | { a: 'modifyAg'; members: ReplicaSpec[] }
  | { a: 'modifyReplica'; replica: ReplicaSpec }
  | { a: 'addDatabase'; db: string }
  | { a: 'removeDatabase'; db: string };
