/** The SQL Server stand-in: state, TDS listener, T-SQL interpreter, certificates and fault injection. */
export * from './model.js';
export { SqlError, sqlError, sqlMessage } from './errors.js';
export {
  createServerState,
  certificateDer,
  createServerCertificate,
  addDatabase,
  newGuid,
  importCertificate,
  serverVersion,
  type ServerSpec,
  type SqlServerYear,
} from './state.js';
export {
  startSqlServer,
  createFaults,
  createCounters,
  type RunningSqlServer,
  type SqlCounters,
  type SqlFaults,
  type SqlServerHooks,
  type JournalEntry,
  type TextFault,
  type ErrorFault,
} from './server.js';
export type { DistributedAgCommand } from './tsql/ddl.js';
export {
  makeCertificate,
  makeSelfSignedCertificate,
  parseCertificate,
  type MadeCertificate,
  type ParsedCertificate,
} from './certs.js';
export { issuerPatternMatches } from './tsql/procedures.js';
