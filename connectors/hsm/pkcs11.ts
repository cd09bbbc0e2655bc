import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pkcs11js from 'pkcs11js';
import type { Logger } from '../../platform/logger.ts';
import { assertCertificateMatchesKey, certificateToPem, parseCertificate } from './certificate.ts';
import { SignerConfigurationError, SignerUnavailableError, SigningError } from './errors.ts';
import { Pkcs11Library, type Pkcs11Api } from './pkcs11-library.ts';
import type { KeySigner, SignerHealth } from './signer.ts';

export interface Pkcs11SignerOptions {
  modulePath: string;
  /** Token label, or `slot` (the slot ID as `pkcs11-tool -L` prints it); one of them is required. */
  tokenLabel?: string;
  slot?: number;
  pin: string;
  /** Private key by label and/or by CKA_ID (hex); at least one is required. */
  keyLabel?: string;
  keyId?: string;
  /** PEM certificate file; when absent the certificate object with the key's CKA_ID (or label) on the token is used. */
  certificateFile?: string;
  /** Sessions signing in parallel. */
  sessions: number;
  /** How long one signature keeps retrying a token that stopped answering before giving up (retryable). */
  retryTimeoutMs: number;
  logger?: Logger;
}

interface Session {
  handle: Buffer;
  key: Buffer;
  epoch: number;
}

const MIN_RSA_BITS = 2048;
const MAX_BACKOFF_MS = 2_000;

/** Return values that mean the request itself can never succeed; everything else counts as a token fault. */
const PIN_RESULTS = new Set(['CKR_PIN_INCORRECT', 'CKR_PIN_INVALID', 'CKR_PIN_LEN_RANGE', 'CKR_PIN_EXPIRED', 'CKR_PIN_LOCKED']);
const REFUSAL_RESULTS = new Set([
  'CKR_KEY_FUNCTION_NOT_PERMITTED',
  'CKR_KEY_TYPE_INCONSISTENT',
  'CKR_KEY_SIZE_RANGE',
  'CKR_MECHANISM_INVALID',
]);

/**
 * Signs with a private key inside a PKCS#11 token (HSM, SoftHSM2). Opens the first session, logs in,
 * finds the key and its certificate and checks they match before returning, so a wrong PIN or a
 * missing key fails at start-up. Further sessions (up to `sessions`) open on demand; a token fault
 * re-initialises the module and retries with backoff until `retryTimeoutMs` has passed.
 */
export async function openPkcs11Signer(options: Pkcs11SignerOptions): Promise<KeySigner> {
  if (options.tokenLabel === undefined && options.slot === undefined) {
    throw new SignerConfigurationError('token_unspecified', 'Set ECOC_PKCS11_TOKEN_LABEL or ECOC_PKCS11_SLOT to choose the token that holds the signing key.');
  }
  if (options.keyLabel === undefined && options.keyId === undefined) {
    throw new SignerConfigurationError('key_unspecified', 'Set ECOC_PKCS11_KEY_LABEL or ECOC_PKCS11_KEY_ID to choose the signing key on the token.');
  }
  const library = Pkcs11Library.acquire(options.modulePath);
  const signer = new Pkcs11Signer(library, options);
  try {
    await signer.start();
  } catch (error) {
    await signer.close();
    throw error;
  }
  return signer;
}

class Pkcs11Signer implements KeySigner {
  readonly transport = 'pkcs11';
  certificatePem = '';
  private readonly location: string;
  private readonly idle: Session[] = [];
  private readonly waiters: (() => void)[] = [];
  private open = 0;
  private signatureLength = 0;
  private ready = true;
  private lastError: string | undefined;
  private closed = false;

  constructor(
    private readonly library: Pkcs11Library,
    private readonly options: Pkcs11SignerOptions,
  ) {
    const token = options.tokenLabel !== undefined ? `token "${options.tokenLabel}"` : `slot ${options.slot}`;
    const key = [options.keyLabel !== undefined ? `label "${options.keyLabel}"` : '', options.keyId !== undefined ? `id ${options.keyId}` : ''].filter(Boolean).join(', ');
    this.location = `PKCS#11 ${token}, key ${key} (module ${options.modulePath})`;
  }

  async start(): Promise<void> {
    let session: Session;
    try {
      session = await this.acquire();
    } catch (error) {
      throw classify(error, this.location);
    }
    try {
      const { publicKey, certificatePem } = await this.library.run(async (api) => {
        const publicKey = readRsaPublicKey(api, session, this.location);
        const pem = this.options.certificateFile !== undefined ? await readCertificateFile(this.options.certificateFile) : readTokenCertificate(api, session.handle, session.key, this.options, this.location);
        return { publicKey, certificatePem: pem };
      });
      const certificate = parseCertificate(certificatePem, this.options.certificateFile ?? this.location);
      assertCertificateMatchesKey(certificate, publicKey, this.location);
      this.certificatePem = certificate.toString();
      this.signatureLength = Math.ceil((publicKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8);
      this.release(session, true);
    } catch (error) {
      this.release(session, false);
      throw classify(error, this.location);
    }
  }

  async signRsaSha256(data: Buffer): Promise<Buffer> {
    let deadline: number | undefined;
    for (let attempt = 1; ; attempt += 1) {
      if (this.closed) throw new SignerConfigurationError('signer_closed', `The signer for ${this.location} was closed.`);
      const epoch = this.library.epoch;
      try {
        const signature = await this.signOnce(data);
        if (!this.ready) this.options.logger?.info({ attempt }, 'PKCS#11 token answers again');
        this.ready = true;
        this.lastError = undefined;
        return signature;
      } catch (caught) {
        const error = classify(caught, this.location);
        if (error.retryable === false) throw error;
        this.ready = false;
        this.lastError = error.message;
        deadline ??= Date.now() + this.options.retryTimeoutMs;
        if (Date.now() >= deadline) {
          throw new SignerUnavailableError('token_unavailable', `${this.location} did not answer for ${this.options.retryTimeoutMs} ms (${attempt} attempts): ${error.message}`, { cause: caught });
        }
        this.options.logger?.warn({ attempt, err: error.message }, 'PKCS#11 token fault; re-initialising the module and retrying');
        if (attempt > 1) await delay(Math.min(MAX_BACKOFF_MS, 50 * 2 ** attempt));
        await this.library.reinitialize(epoch);
      }
    }
  }

  health(): SignerHealth {
    return {
      transport: 'pkcs11',
      ready: this.ready && !this.closed,
      keyLocation: this.location,
      sessions: { open: this.open, max: this.options.sessions },
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const wake of this.waiters.splice(0)) wake();
    const sessions = this.idle.splice(0);
    await this.library.run((api) => sessions.forEach((session) => this.closeSession(api, session)));
    await this.library.release();
  }

  private async signOnce(data: Buffer): Promise<Buffer> {
    const session = await this.acquire();
    let healthy = false;
    try {
      const signature = await this.library.run((api) => {
        if (session.epoch !== this.library.epoch) throw new SignerUnavailableError('session_stale', 'session predates a module re-initialisation');
        api.C_SignInit(session.handle, { mechanism: pkcs11js.CKM_SHA256_RSA_PKCS }, session.key);
        return api.C_SignAsync(session.handle, data, Buffer.alloc(this.signatureLength));
      });
      healthy = true;
      return Buffer.from(signature);
    } finally {
      this.release(session, healthy);
    }
  }

  /** An idle session of the current epoch, a new one while under the limit, or the next one released. */
  private async acquire(): Promise<Session> {
    for (;;) {
      if (this.closed) throw new SignerConfigurationError('signer_closed', `The signer for ${this.location} was closed.`);
      const session = this.idle.pop();
      if (session) {
        if (session.epoch === this.library.epoch) return session;
        this.open -= 1; // its handle died with the old epoch
        continue;
      }
      if (this.open < this.options.sessions) {
        this.open += 1;
        try {
          return await this.library.run((api) => this.openSession(api));
        } catch (error) {
          this.open -= 1;
          this.wakeOne();
          throw error;
        }
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private release(session: Session, healthy: boolean): void {
    if (healthy && !this.closed && session.epoch === this.library.epoch) {
      this.idle.push(session);
    } else {
      this.open -= 1;
      if (session.epoch === this.library.epoch) void this.library.run((api) => this.closeSession(api, session)).catch(() => undefined);
    }
    this.wakeOne();
  }

  private wakeOne(): void {
    this.waiters.shift()?.();
  }

  private openSession(api: Pkcs11Api): Session {
    const epoch = this.library.epoch;
    const slot = findSlot(api, this.options);
    const handle = api.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
    try {
      try {
        api.C_Login(handle, pkcs11js.CKU_USER, this.options.pin);
      } catch (error) {
        // Login state is per token and process: the first session's login (which checked the PIN) covers the others.
        if (resultName(error) !== 'CKR_USER_ALREADY_LOGGED_IN') throw error;
      }
      return { handle, key: findPrivateKey(api, handle, this.options, this.location), epoch };
    } catch (error) {
      this.closeSession(api, { handle, key: Buffer.alloc(0), epoch });
      throw error;
    }
  }

  private closeSession(api: Pkcs11Api, session: Session): void {
    if (session.epoch !== this.library.epoch) return;
    try {
      api.C_CloseSession(session.handle);
    } catch {
      // Already gone with the token; nothing left to release.
    }
  }
}

function findSlot(api: Pkcs11Api, options: Pkcs11SignerOptions): Buffer {
  const slots = api.C_GetSlotList(true);
  const described = slots.map((slot) => ({ slot, id: handleNumber(slot), label: api.C_GetTokenInfo(slot).label.trim() }));
  const match = described.find(({ id, label }) => (options.tokenLabel !== undefined ? label === options.tokenLabel : id === options.slot));
  if (match) return match.slot;
  const wanted = options.tokenLabel !== undefined ? `token labelled "${options.tokenLabel}"` : `token in slot ${options.slot}`;
  const present = described.map(({ id, label }) => `"${label}" (slot ${id})`).join(', ') || 'none';
  // Could be a typo or an HSM that is offline right now: retryable, with the evidence in the message.
  throw new SignerUnavailableError('token_not_found', `The PKCS#11 module ${options.modulePath} shows no ${wanted}; tokens present: ${present}.`);
}

function keyTemplate(objectClass: number, options: Pkcs11SignerOptions): pkcs11js.Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: objectClass },
    ...(options.keyLabel !== undefined ? [{ type: pkcs11js.CKA_LABEL, value: options.keyLabel }] : []),
    ...(options.keyId !== undefined ? [{ type: pkcs11js.CKA_ID, value: Buffer.from(options.keyId, 'hex') }] : []),
  ];
}

function findObjects(api: Pkcs11Api, session: Buffer, template: pkcs11js.Template): Buffer[] {
  api.C_FindObjectsInit(session, template);
  try {
    return api.C_FindObjects(session, 16);
  } finally {
    api.C_FindObjectsFinal(session);
  }
}

function findPrivateKey(api: Pkcs11Api, session: Buffer, options: Pkcs11SignerOptions, location: string): Buffer {
  const keys = findObjects(api, session, keyTemplate(pkcs11js.CKO_PRIVATE_KEY, options));
  if (keys.length === 1) return keys[0]!;
  const present = findObjects(api, session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }]).map((key) => {
    const [label, id] = api.C_GetAttributeValue(session, key, [{ type: pkcs11js.CKA_LABEL }, { type: pkcs11js.CKA_ID }]);
    return `label "${String(label?.value ?? '')}" id ${Buffer.isBuffer(id?.value) ? id.value.toString('hex') : '?'}`;
  });
  const problem = keys.length === 0 ? 'No private key matches' : `${keys.length} private keys match`;
  throw new SignerConfigurationError(keys.length === 0 ? 'key_not_found' : 'key_ambiguous', `${problem} ${location}; private keys on the token: ${present.join('; ') || 'none'}.`);
}

function readRsaPublicKey(api: Pkcs11Api, session: Session, location: string): KeyObject {
  const [type, modulus, exponent] = api.C_GetAttributeValue(session.handle, session.key, [
    { type: pkcs11js.CKA_KEY_TYPE },
    { type: pkcs11js.CKA_MODULUS },
    { type: pkcs11js.CKA_PUBLIC_EXPONENT },
  ]);
  const keyType = Buffer.isBuffer(type?.value) ? type.value.readUInt32LE(0) : type?.value;
  if (keyType !== pkcs11js.CKK_RSA || !Buffer.isBuffer(modulus?.value) || !Buffer.isBuffer(exponent?.value)) {
    throw new SignerConfigurationError('key_unsuitable', `The key at ${location} is not an RSA key; the IVI profile signs with rsa-sha256.`);
  }
  const publicKey = createPublicKey({ key: { kty: 'RSA', n: modulus.value.toString('base64url'), e: exponent.value.toString('base64url') }, format: 'jwk' });
  const bits = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) throw new SignerConfigurationError('key_unsuitable', `The key at ${location} has ${bits} bits; the IVI profile needs RSA with at least ${MIN_RSA_BITS} bits.`);
  return publicKey;
}

function readTokenCertificate(api: Pkcs11Api, session: Buffer, key: Buffer, options: Pkcs11SignerOptions, location: string): string {
  // The PKCS#11 convention pairs a key and its certificate by CKA_ID; fall back to the configured label.
  const [id] = api.C_GetAttributeValue(session, key, [{ type: pkcs11js.CKA_ID }]);
  const template = Buffer.isBuffer(id?.value) && id.value.length > 0
    ? [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE }, { type: pkcs11js.CKA_ID, value: id.value }]
    : keyTemplate(pkcs11js.CKO_CERTIFICATE, options);
  const [certificate] = findObjects(api, session, template);
  if (!certificate) {
    throw new SignerConfigurationError('certificate_not_found', `No certificate object with the key's CKA_ID on the token for ${location}; import one or set ECOC_SIGNING_CERT_FILE.`);
  }
  const [value] = api.C_GetAttributeValue(session, certificate, [{ type: pkcs11js.CKA_VALUE }]);
  if (!Buffer.isBuffer(value?.value)) throw new SignerConfigurationError('certificate_invalid', `The certificate object for ${location} has no value.`);
  return certificateToPem(value.value);
}

async function readCertificateFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new SignerConfigurationError('file_unreadable', `Cannot read the signing certificate file ${file} (ECOC_SIGNING_CERT_FILE): ${(error as Error).message}`, { cause: error });
  }
}

/** Maps a PKCS#11 failure to a signing error that says whether retrying can help. */
function classify(error: unknown, location: string): SigningError {
  if (error instanceof SigningError) return error;
  const result = resultName(error);
  if (result !== undefined && PIN_RESULTS.has(result)) {
    // Never retried: repeated wrong PINs lock the token.
    return new SignerConfigurationError(result.slice(4).toLowerCase(), `Login to ${location} failed (${result}): check ECOC_PKCS11_PIN.`, { cause: error });
  }
  if (result !== undefined && REFUSAL_RESULTS.has(result)) {
    return new SignerConfigurationError(result.slice(4).toLowerCase(), `The token refused to sign with ${location} (${result}).`, { cause: error });
  }
  return new SignerUnavailableError('token_error', `PKCS#11 call failed for ${location}: ${(error as Error).message}`, { cause: error });
}

function resultName(error: unknown): string | undefined {
  return error instanceof pkcs11js.Pkcs11Error ? error.message : undefined;
}

function handleNumber(handle: Buffer): number {
  return handle.length >= 8 ? Number(handle.readBigUInt64LE(0)) : handle.readUInt32LE(0);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
