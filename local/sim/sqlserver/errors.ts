/**
 * SQL Server errors as the stand-in raises them: the number, severity and state travel to the client in
 * an ERROR token, so `mssql` exposes them as `err.number`, `err.class`, `err.state`.
 *
 * Messages follow SQL Server's wording (sys.messages) where it is known; the few numbers marked
 * "approximate" below are the closest real numbers we could establish for behaviour SQL Server reports
 * in a way the stand-in cannot reproduce exactly.
 */
export class SqlError extends Error {
  constructor(
    public readonly number: number,
    message: string,
    public readonly severity = 16,
    public readonly state = 1,
  ) {
    super(message);
    this.name = 'SqlError';
  }
}

/** Message templates by number, `%1`, `%2` … replaced by arguments. */
const MESSAGES: Record<number, string> = {
  102: "Incorrect syntax near '%1'.",
  103: "The identifier that starts with '%1' is too long. Maximum length is 128.",
  113: "Missing end comment mark '*/'.",
  105: "Unclosed quotation mark after the character string '%1'.",
  134: "The variable name '%1' has already been declared. Variable names must be unique within a query batch or stored procedure.",
  137: 'Must declare the scalar variable "%1".',
  156: "Incorrect syntax near the keyword '%1'.",
  195: "'%1' is not a recognized built-in function name.",
  207: "Invalid column name '%1'.",
  208: "Invalid object name '%1'.",
  209: "Ambiguous column name '%1'.",
  241: 'Conversion failed when converting date and/or time from character string.',
  245: "Conversion failed when converting the nvarchar value '%1' to data type int.",
  1205: 'Transaction (Process ID %1) was deadlocked on lock resources with another process and has been chosen as the deadlock victim. Rerun the transaction.',
  2715: 'Column, parameter, or variable #1: Cannot find data type %1.',
  2812: "Could not find stored procedure '%1'.",
  911: "Database '%1' does not exist. Make sure that the name is entered correctly.",
  4060: 'Cannot open database "%1" requested by the login. The login failed.',
  4208: 'The statement BACKUP LOG is not allowed while the recovery model is SIMPLE. Use BACKUP DATABASE or change the recovery model using ALTER DATABASE.',
  4214: 'BACKUP LOG cannot be performed because there is no current database backup.',
  3013: '%1 is terminating abnormally.',
  1465: 'Database "%1" database is not in full recovery mode on each of the server instances. The full recovery model is required for a database to participate in database mirroring or in an availability group.',
  1475: 'Database "%1" might contain bulk logged changes that have not been backed up. Take a log backup on the principal database or primary database. Then restore this backup either on the mirror database to enable database mirroring or on every secondary database to enable you to join it to the availability group.',
  7862: 'An endpoint of the requested type already exists.  Only one endpoint of this type is supported.  Use ALTER ENDPOINT or DROP the existing endpoint and execute the CREATE ENDPOINT command.',
  15151: "Cannot %1 the %2 '%3', because it does not exist or you do not have permission.",
  15232:
    "A certificate with name '%1' already exists or this certificate already has been added to the database.",
  15247: 'User does not have permission to perform this action.',
  15468: 'An error occurred during the generation of the certificate.',
  15578: 'There is already a master key in the database. Please drop it before performing this statement.',
  15581:
    'Please create a master key in the database or open the master key in the session before performing this operation.',
  18456: "Login failed for user '%1'.",
  35221:
    'Could not process the operation. Always On Availability Groups replica manager is disabled on this instance of SQL Server. Enable Always On Availability Groups, by using the SQL Server Configuration Manager. Then, restart the SQL Server service, and retry the currently operation. For information about how to enable and disable Always On Availability Groups, see SQL Server Books Online.',
  35240:
    "Database '%1' cannot be joined to or unjoined from availability group '%2'. This operation is not supported on the primary replica of the availability group.",
  41042:
    "The availability group '%1' already exists. This error could be caused by a previous failed CREATE AVAILABILITY GROUP or DROP AVAILABILITY GROUP operation. If the availability group name you specified is correct, try dropping the availability group and then retry CREATE AVAILABILITY GROUP operation.",
  // approximate: planned failover of a distributed availability group that is not ready.
  41142:
    "The availability replica for availability group '%1' on this instance of SQL Server cannot become the primary replica. %2",
  // approximate: certificate chain validation failure (sp_validate_certificate_ca_chain).
  15299: "The certificate chain of certificate '%1' could not be validated: %2",
  // approximate: an operation that needs the local replica in a given role.
  41122:
    "Cannot failover availability group '%1' to this instance of SQL Server.  The local availability replica is already the primary replica of the availability group.  To failover this availability group to another instance, run the failover command on that instance.  If local instance is intended to host the primary replica of the availability group, then no action is required.",
  47104:
    "This operation cannot be performed on the availability group '%1', because it is not a distributed availability group.",
  50000: '%1',
};

export function sqlMessage(number: number, ...args: Array<string | number>): string {
  const template = MESSAGES[number];
  if (template === undefined) return `SQL Server error ${number}.`;
  return template.replace(/%(\d)/g, (_m, d: string) => String(args[Number(d) - 1] ?? ''));
}

export function sqlError(number: number, ...args: Array<string | number>): SqlError {
  return new SqlError(number, sqlMessage(number, ...args), number === 18456 ? 14 : 16);
}

/** True when SQL Server would word a syntax error with "near the keyword". */
const RESERVED = new Set(
  (
    'ADD ALL ALTER AND ANY AS ASC AUTHORIZATION BACKUP BEGIN BETWEEN BREAK BY CASCADE CASE CHECK CLOSE ' +
    'COLUMN COMMIT CONVERT CREATE CROSS CURRENT DATABASE DBCC DEALLOCATE DECLARE DEFAULT DELETE DENY DESC ' +
    'DISK DISTINCT DROP ELSE END ESCAPE EXCEPT EXEC EXECUTE EXISTS FETCH FILE FOR FOREIGN FROM FULL FUNCTION ' +
    'GOTO GRANT GROUP HAVING IF IN INDEX INNER INSERT INTERSECT INTO IS JOIN KEY KILL LEFT LIKE MERGE NOT ' +
    'NULL OF OFF ON OPEN OPTION OR ORDER OUTER OVER PRIMARY PRINT PROC PROCEDURE PUBLIC RAISERROR RESTORE ' +
    'RETURN REVOKE RIGHT ROLLBACK SELECT SET TABLE THEN TO TOP TRAN TRANSACTION TRUNCATE UNION UNIQUE ' +
    'UPDATE USE VALUES VIEW WHEN WHERE WHILE WITH'
  ).split(' '),
);

export function isReservedWord(word: string): boolean {
  return RESERVED.has(word.toUpperCase());
}

export function syntaxError(near: string): SqlError {
  return isReservedWord(near) ? sqlError(156, near.toUpperCase()) : sqlError(102, near);
}
