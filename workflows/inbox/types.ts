/** A file waiting in a manufacturer's inbox directory (`<remoteDir>/<manufacturerId>/<name>`). */
export interface InboxFileRef {
  manufacturerId: string;
  name: string;
  size: number;
}

/**
 * What became of one inbox file: `processed` (read to the end; bad rows are in the report),
 * `rejected` (the file as a whole could not be read: encoding, structure, size, unknown type) or
 * `duplicate` (same name and content as a file already taken; moved to rejected/, not ingested).
 */
export interface InboxFileOutcome {
  manufacturerId: string;
  name: string;
  disposition: 'processed' | 'rejected' | 'duplicate';
  /** Where the file now is, relative to the inbox root, e.g. `acme/processed/vehicles.csv`. */
  movedTo: string;
  sha256: string;
  rows: number;
  accepted: number;
  rejected: number;
  fileError?: { rule: string; message: string } | undefined;
}

/** Progress of the current file, sent by the processing activity to the poller. */
export interface InboxFileProgress {
  manufacturerId: string;
  name: string;
  /** `hashing`: reading once for the SHA-256 that identifies the file; `ingesting`: rows. */
  phase: 'hashing' | 'ingesting';
  bytesHashed: number;
  rowsDone: number;
}

export interface InboxState {
  /** Polls completed (listing + every file handed to processing). */
  polls: number;
  lastPollAt?: string | undefined;
  /** Set when a poll or file failed after its retries (server down, …); cleared by a good poll. */
  lastError?: { at: string; message: string } | undefined;
  filesSeen: number;
  filesProcessed: number;
  filesRejected: number;
  duplicates: number;
  /** The file being processed now, with rows done so far. */
  current?: (InboxFileProgress & { startedAt: string }) | undefined;
  /** The last files finished, newest last. */
  recent: InboxFileOutcome[];
  /** Poll requests taken (`requestPollUpdate`) and answered by a finished poll. */
  pollRequests: number;
  pollRequestsAnswered: number;
}

export interface InboxWorkflowInput {
  carried?: InboxState | undefined;
}
