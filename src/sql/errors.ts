/** SQL Server error numbers milink meets, what they mean and what to do (facts: the link's SQL Server side). */
const advice: Record<number, string> = {
  18456:
    'the SQL login failed: check sqlServer.login and the password in its Key Vault secret (sqlServer.loginSecret)',
  4060: 'the login cannot open the database: check its default database and rights',
  15247: 'the login lacks permission: milink needs a sysadmin login',
  262: 'the login lacks permission: milink needs a sysadmin login',
  15578:
    'a master key already exists in master (milink checks before creating; this means a race with another session)',
  15232: 'a certificate with this name already exists',
  15151: 'the object does not exist or the login cannot see it',
  15468: 'the certificate blob is not valid: re-read the instance certificate and re-run',
  15118:
    'the master key password does not meet the Windows password policy: put a stronger one in the Key Vault secret',
  1475: 'start a new backup chain: take a full backup without COPY_ONLY (milink does this in prepare-database when backupPath is given)',
  4214: 'BACKUP LOG needs a full backup first',
  4208: 'the database is in SIMPLE recovery: the link needs FULL recovery',
  35220:
    'Always On availability groups are not enabled on SQL Server: enable them in SQL Server Configuration Manager and restart the service',
  19405: 'Always On availability groups are not enabled on SQL Server',
  7862: 'a DATABASE_MIRRORING endpoint already exists: milink alters the existing one instead',
  7859: 'an endpoint with this name already exists',
  19428: 'an availability group with this name already exists',
  41158: 'the database could not join the availability group: check FULL recovery and a full backup',
  41973: "the instance does not trust SQL Server's certificate: re-run trust-sqlserver-certificate",
  41974: "SQL Server does not hold the instance's certificate: re-run import-instance-certificate",
  41976: 'the availability group is not responding: check the AG on SQL Server',
  41986:
    'the connection failed or the secondary is unresponsive: check network paths (endpoint port, 5022, 11000-11999)',
  47521: 'the secondary did not receive the request: check network paths and retry',
  41977: 'the target database is unresponsive',
  41962: 'the link was not initiated within 5 minutes: check connectivity and re-run',
  1408: 'the log was truncated during seeding: drop the link and create it again (enable trace flag 12381)',
  1412: 'the log was truncated during seeding: drop the link and create it again (enable trace flag 12381)',
  19499: 'the listener URL was rejected: update SQL Server to a supported build',
  1205: 'deadlock: milink retried the step',
  40613: 'the database is not available right now: milink retried the step',
  102: 'SQL Server rejected the syntax: report this as a milink bug with the step id',
  208: 'an object milink reads does not exist on this SQL Server build: check the version against the support matrix',
  2812: 'a stored procedure milink calls is missing: SQL Server 2016/2017 need the Azure Connect pack',
};

export function sqlAdvice(number: number | undefined): string {
  return (
    (number !== undefined && advice[number]) ||
    'see the error message; fix the cause and re-run (milink skips what is already done)'
  );
}

/** Error numbers worth retrying inside a step. */
export const TRANSIENT_SQL_ERRORS = new Set([
  1205, 40613, 40197, 40501, 49918, 49919, 49920, 10928, 10929, -2,
]);

/** Driver error codes (tedious/mssql) for connections that dropped or timed out. */
export const TRANSIENT_DRIVER_CODES = new Set([
  'ESOCKET',
  'ECONNRESET',
  'ECONNCLOSED',
  'ETIMEOUT',
  'ECONNREFUSED',
  'ENOTOPEN',
  'EREQINPROG',
]);
