/**
 * The link's support matrix by SQL Server version and build, in one place: the request schema checks what the
 * request says (a version year), preflight checks what the server is (year and build).
 */

/** Minimum builds by version. */
export const MIN_BUILD: Readonly<Record<number, { build: number; label: string }>> = {
  2016: { build: 6300, label: 'SQL Server 2016 SP3 (13.0.6300) with the Azure Connect pack' },
  2017: { build: 3456, label: 'SQL Server 2017 CU31 (14.0.3456) with the Azure Connect pack' },
  2019: { build: 4312, label: 'SQL Server 2019 CU20 (15.0.4312)' },
  2022: { build: 1000, label: 'SQL Server 2022 RTM' },
  2025: { build: 1000, label: 'SQL Server 2025 RTM' },
};

/** SQL Server 2022 CU10: the first build that takes a link with the instance as initial primary. */
export const SQL2022_CU10_BUILD = 4095;

export interface VersionProblem {
  /** The request field the rule is about. */
  field: 'sqlServer.version' | 'failoverMode';
  message: string;
  advice: string;
}

/**
 * What a link of this shape needs from SQL Server and whether `year` (and, when known, `build`) has it. The request
 * schema passes the year the request gives; preflight passes what the server reports.
 */
export function versionProblems(
  shape: { initialPrimary: 'SqlServer' | 'ManagedInstance'; failoverMode: 'None' | 'Manual' },
  year: number | undefined,
  build?: number,
  productVersion = year !== undefined ? `SQL Server ${year}` : 'this SQL Server',
): VersionProblem[] {
  const out: VersionProblem[] = [];
  if (year === undefined) return out;
  if (
    shape.initialPrimary === 'ManagedInstance' &&
    (year < 2022 || (year === 2022 && build !== undefined && build < SQL2022_CU10_BUILD))
  )
    out.push({
      field: 'sqlServer.version',
      message: `${productVersion} cannot take a link with the managed instance as initial primary: that needs SQL Server 2022 CU10 or later`,
      advice: 'update SQL Server to 2022 CU10 or later',
    });
  if (shape.failoverMode === 'Manual' && year < 2022)
    out.push({
      field: 'failoverMode',
      message: `failoverMode "Manual" (two-way) needs SQL Server 2022 or later; this is ${productVersion}`,
      advice: 'use failoverMode None',
    });
  return out;
}
