import type { ArmRequest } from './arm-requests.js';

/**
 * What to do next for the service's error codes, exactly as the service names them (no suffix matching: a code not
 * here gets the general advice). Sources: the REST API's documented errors and the troubleshooting article, as
 * recorded in the shared notes (azure-link-api.md, health-checks.md). Where the notes give a code only by its ending
 * after a family written in full (`ManagedInstanceLinkSourceDbHasMultipleLogFiles`, `…HasFilestream`), the code is
 * completed with that family's prefix; `COMPLETED_CODES` lists those, so a test can tell them from verbatim ones.
 */
export const ARM_ADVICE: Readonly<Record<string, string>> = {
  AuthorizationFailed:
    "give milink's identity the milink custom role (or SQL Managed Instance Contributor) on the managed instance",
  AuthenticationFailed: "check milink's managed identity (AZURE_CLIENT_ID) and that it can get tokens",
  InvalidAuthenticationToken: "check milink's managed identity (AZURE_CLIENT_ID) and that it can get tokens",
  ResourceNotFound: 'check the subscription, resource group and managed instance name in the request',
  ParentResourceNotFound: 'check the subscription, resource group and managed instance name in the request',
  ResourceGroupNotFound: 'check managedInstance.resourceGroup in the request',
  SubscriptionNotFound: 'check managedInstance.subscriptionId in the request',
  InvalidPublicBlob:
    "the SQL Server certificate blob is not a whole certificate: re-run; milink sends CERTENCODED's output",
  ServerTrustCertificateAlreadyExists:
    'the instance already trusts this certificate under another name; milink reuses it when it finds it by public key',
  ManagedInstanceLinkConnectivityIsNotEstablished:
    'the instance cannot reach SQL Server: open the endpoint port on SQL Server to the instance subnet and 5022, 11000-11999 on the instance NSG; check endpointAddress and endpointPort',
  ManagedInstanceLinkCertificateNotFoundOnManagedInstance:
    "upload SQL Server's endpoint certificate to the instance (step trust-sqlserver-certificate) and re-run",
  ManagedInstanceLinkCertificateNotFoundOnSqlServer:
    "import the instance's certificate under its FQDN and the Azure roots on SQL Server (steps import-instance-certificate, import-root-certificates) and re-run",
  ManagedInstanceLinkSourceDbHasMultipleLogFiles:
    'the database must have exactly one log file: remove the extra log files',
  ManagedInstanceLinkSourceDbHasFilestream: 'databases with FILESTREAM cannot be linked',
  ManagedInstanceLinkSourceDbHasHekatonFile:
    'databases with a memory-optimized filegroup cannot be linked to General Purpose',
  ManagedInstanceLinkSourceDbTdeCertificateMissing:
    "upload the database's TDE certificate to the instance first",
  CloudLifterChimeraMIAgNameIsAlreadyUsed:
    'names.instanceAvailabilityGroup is already used on the instance: choose another name',
  OperationCanNotStartDueToMiLink:
    'another link operation is running on the instance: wait for it and re-run',
  InvalidDistributedAvailabilityGroupFailoverInstanceRole:
    'a planned failover over ARM needs the instance to be primary: fail over from SQL Server with T-SQL, or force it',
  DistributedAvailabilityGroupFailoverSecondariesNotSynchronizing:
    'the secondary is not synchronized yet: let it catch up (synchronous commit, stop the workload), then fail over',
  DistributedAvailabilityGroupFailoverLogSendQueueSizeTooBig:
    'too much log waits to be sent: let the secondary catch up, then fail over',
  DistributedAvailabilityGroupFailoverRedoQueueSizeTooBig:
    'too much log waits to be redone on the secondary: let it catch up, then fail over',
  Conflict: 'another operation is running on this resource: wait for it and re-run',
  TooManyRequests: 'Azure is throttling milink: it retried; re-run later',
  OperationTimedOut: 'the operation did not finish in time: look at the instance in the portal, then re-run',
};

/** Codes of ARM_ADVICE the notes give only by their ending, completed with their family's prefix. */
export const COMPLETED_CODES: ReadonlyArray<{ code: string; documented: string }> = [
  { code: 'ManagedInstanceLinkSourceDbHasFilestream', documented: '…HasFilestream' },
  { code: 'ManagedInstanceLinkSourceDbHasHekatonFile', documented: '…HasHekatonFile' },
  { code: 'ManagedInstanceLinkSourceDbTdeCertificateMissing', documented: '…TdeCertificateMissing' },
  { code: 'ManagedInstanceLinkConnectivityIsNotEstablished', documented: '…ConnectivityIsNotEstablished' },
  {
    code: 'ManagedInstanceLinkCertificateNotFoundOnManagedInstance',
    documented: '…CertificateNotFoundOnManagedInstance',
  },
  {
    code: 'ManagedInstanceLinkCertificateNotFoundOnSqlServer',
    documented: '…CertificateNotFoundOnSqlServer',
  },
];

export function armAdvice(code: string): string {
  return (
    ARM_ADVICE[code] ??
    'see the error message; fix the cause and re-run the request (milink skips what is already done)'
  );
}

/** An error answered by Azure Resource Manager (or Key Vault), with advice. Never holds a secret. */
export class ArmError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly advice: string,
    readonly target: string,
    readonly service: 'azure' | 'keyvault' = 'azure',
  ) {
    super(message);
    this.name = 'ArmError';
  }

  static fromResponse(status: number, json: unknown, what: string, request: ArmRequest): ArmError {
    const error = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
    const code =
      error?.code ??
      (status === 404 ? 'ResourceNotFound' : status === 429 ? 'TooManyRequests' : `Http${status}`);
    const message = `${what}: ${error?.message ?? `HTTP ${status}`}`;
    return new ArmError(
      code,
      message,
      status,
      armAdvice(code),
      `${request.method} ${request.path.split('?')[0]}`,
    );
  }
}
