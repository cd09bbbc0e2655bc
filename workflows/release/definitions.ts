import { defineQuery } from '@temporalio/workflow';

/** Per-run knobs a caller may set; anything left out comes from configuration (`ECOC_RELEASE_*`). */
export interface ReleaseOverrides {
  batchSize?: number | undefined;
  chunkSize?: number | undefined;
  concurrency?: number | undefined;
}

export interface ReleaseInput extends ReleaseOverrides {
  destination: string;
  /** Must be unique per run (claims and outcome reports are de-duplicated by it); generated when absent. */
  batchId?: string | undefined;
  /** Who asked for the run: a person's id, or `schedule:<id>`. */
  requestedBy?: string | undefined;
  /**
   * Release exactly these certificates (e.g. "release now": a batch of one) instead of selecting
   * what is waiting: the list is the run's only selection page; claims, delivery, reports and the
   * acknowledgement watch are as for any batch.
   */
  certificateIds?: string[] | undefined;
  /** Carried over by continue-as-new. */
  carried?: ReleaseCarry | undefined;
}

/** Fixed once at the start of a run (recorded in history, so replay and continue-as-new agree). */
export interface ReleasePlan {
  kind: 'nap' | 'sftp' | 'archive';
  batchSize: number;
  chunkSize: number;
  concurrency: number;
  historyEvents: number;
  /** How long a delivery step retries an outage (then its certificates go back to waiting). */
  deliveryRetryMs: number;
  ackPollIntervalMs: number;
  ackTimeoutMs: number;
  /** Only certificates waiting since before this instant belong to the run; later ones wait for the next. */
  cutoff: string;
  /** How many were waiting at the start (capped at the batch size): the progress bar's total. */
  expected: number;
}

export interface ReleaseProgress {
  batchId: string;
  destination: string;
  requestedBy?: string | undefined;
  phase: 'planning' | 'delivering' | 'completed' | 'cancelled';
  expected: number;
  /** Read from the certificate projection. */
  selected: number;
  /** Taken over from their certificate workflows (the rest had moved on: released immediately, corrected, withdrawn). */
  claimed: number;
  skipped: number;
  delivered: number;
  failed: number;
  /** Failed for good (destination rejected the message); the rest went back to awaiting_release. */
  failedPermanently: number;
  remaining: number;
  /** SFTP packages delivered (or found already delivered). */
  packages: number;
  /** Continue-as-new generations so far. */
  generation: number;
  startedAt: string;
  finishedAt?: string | undefined;
  acknowledgementWorkflowId?: string | undefined;
}

/** A certificate the batch took over: its workflow is `delivering` with the batch id. */
export interface ClaimedCertificate {
  certificateId: string;
  iviReferenceId: string;
  messageVersion: number;
}

/** One delivery step of a batch: claimed certificates for one destination. */
export interface ChunkInput {
  destination: string;
  batchId: string;
  certificates: ClaimedCertificate[];
}

export interface ChunkOutcome {
  delivered: number;
  failed: number;
  failedPermanently: number;
  /** The package delivered for this chunk whose acknowledgement comes later (SFTP), if any. */
  packageId?: string | undefined;
}

/** Where a selection page stopped: keyset on (status_changed_at, id). */
export interface SelectionCursor {
  at: string;
  id: string;
}

export interface ReleaseCarry {
  batchId: string;
  plan: ReleasePlan;
  progress: ReleaseProgress;
  cursor?: SelectionCursor | undefined;
  /** Next chunk number (package ids are `<batchId>-p<n>`, so numbering survives continue-as-new). */
  nextChunk: number;
  packageIds: string[];
}

/** What the scheduled entry point reports (shown as the schedule's recent results). */
export type ScheduledReleaseResult =
  | { outcome: 'released'; workflowId: string; summary: ReleaseProgress }
  | { outcome: 'skipped'; workflowId: string; reason: string };

export interface AcknowledgementWatchInput {
  destination: string;
  batchId: string;
  /** Packages still waiting for `<package>.ack.json`. */
  packageIds: string[];
  pollIntervalMs: number;
  /** ISO instant after which the watch gives up. */
  deadline: string;
  /** Counts so far (carried over by continue-as-new). */
  accepted?: number | undefined;
  rejected?: number | undefined;
}

export interface AcknowledgementWatchResult {
  batchId: string;
  /** Packages whose acknowledgement never came before the deadline. */
  pendingPackages: string[];
  accepted: number;
  rejected: number;
}

export const progressQuery = defineQuery<ReleaseProgress>('releaseProgress');

/**
 * One id per destination: Temporal refuses a second running workflow with the same id, so two
 * releases for one destination can never run at once, whoever starts them.
 */
export function releaseWorkflowId(destination: string): string {
  return `release-${destination}`;
}

/** The release of an explicit list (`ReleaseInput.certificateIds`), e.g. a certificate released now. */
export function releaseNowWorkflowId(batchId: string): string {
  return `release-now-${batchId}`;
}

/** The id schedules start (Temporal appends the scheduled time). */
export function scheduledReleaseWorkflowId(destination: string): string {
  return `release-${destination}-scheduled`;
}

export function releaseScheduleId(destination: string): string {
  return `release-${destination}`;
}

export function acknowledgementWorkflowId(batchId: string): string {
  return `release-ack-${batchId}`;
}

/** Package ids become file names on the partner's server: `<batchId>-p<000n>`. */
export function packageIdFor(batchId: string, chunk: number): string {
  return `${batchId}-p${String(chunk).padStart(4, '0')}`;
}

/** `<destination>-<yyyymmddThhmmssZ>-<8 hex>`: readable, sortable, unique, valid as a file name. */
export function newBatchId(destination: string, at: Date, random: string): string {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${destination}-${stamp}-${random.replace(/-/g, '').slice(0, 8)}`;
}
