import { isGrpcServiceError } from '@temporalio/client';

/** gRPC's UNAVAILABLE (`status.UNAVAILABLE` of @grpc/grpc-js): no connection to the server. */
const GRPC_UNAVAILABLE = 14;

/**
 * Whether an error means the Temporal server cannot be reached (down or restarting: retry later),
 * as opposed to a refusal or a bug: a gRPC error UNAVAILABLE, raw (a probe's call) or as the
 * cause of a client's `ServiceError` once the SDK's own retries gave up. Decided by type and
 * code along the cause chain, never by message text.
 */
export function isTemporalUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 6; current = (current as { cause?: unknown }).cause, depth++) {
    if (isGrpcServiceError(current) && current.code === GRPC_UNAVAILABLE) return true;
  }
  return false;
}
