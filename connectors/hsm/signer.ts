export type SignerTransport = 'software' | 'pkcs11';

export interface SignerHealth {
  transport: SignerTransport;
  /** False while the signer is reconnecting to a token that stopped answering. */
  ready: boolean;
  /** Where the key lives, without secrets (module, token label, key label/id, or key file). */
  keyLocation: string;
  lastError?: string;
  /** Token sessions (pkcs11 only): how many are open and the pool limit. */
  sessions?: { open: number; max: number };
}

/**
 * A private key that can produce RSASSA-PKCS1-v1_5 SHA-256 signatures, plus the certificate that
 * belongs to it. Transports: `software` (PEM key file, local/dev) and `pkcs11` (HSM). The key never
 * leaves the transport; callers only ever see signatures and the certificate.
 */
export interface KeySigner {
  readonly transport: SignerTransport;
  /** The configured signing certificate (PEM), already checked to match the key. */
  readonly certificatePem: string;
  /** Signs `data` (hashed with SHA-256 inside the transport); rejects with a `SigningError`. */
  signRsaSha256(data: Buffer): Promise<Buffer>;
  health(): SignerHealth;
  /** Releases sessions and the library; further signing fails. */
  close(): Promise<void>;
}
