/**
 * The one error type of the allocator. `code` is the seed's error code
 * (AWS EC2 or Alibaba VpcIpam); callers and tests match on it, never on the
 * wording. The message says what to change.
 */
export type IpamErrorCode =
  | "InvalidParameterValue"
  | "InvalidParameterCombination"
  | "IdempotentParameterMismatch"
  | "InvalidIpamPoolId.NotFound"
  | "InvalidIpamPoolAllocationId.NotFound"
  | "InvalidAllocationID.NotFound"
  | "OperationDenied.AvailableCidrInsufficient"
  | "OperationDenied.CidrInExcludeCidrs"
  | "OperationDenied.CidrUnavailableInPool"
  | "OperationDenied.ResourceTypeIsNotCustom"
  | "IllegalParam.Cidr"
  | "IllegalParam.CidrMask"
  | "QuotaExceeded.IpamPoolQuotaDepth"
  // Seed 003: a nested pool's ipamScopeId is not its source's scope.
  | "Mismatch.IpamScopeAndSourceIpamPool"
  | "DependencyViolation"
  | "DryRunOperation"
  // Retryable: another process held the SQLite store's write lock past busyTimeoutMs.
  | "ServiceUnavailable.StoreBusy"
  // A cloud API's own code where none of ours means the same (kept as the API said it).
  | (string & {});

export class IpamError extends Error {
  constructor(
    readonly code: IpamErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = "IpamError";
  }
}

export function isIpamError(e: unknown, code?: IpamErrorCode): e is IpamError {
  return e instanceof IpamError && (code === undefined || e.code === code);
}
