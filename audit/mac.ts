import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadConfig } from '../platform/config.ts';
import type { Logger } from '../platform/logger.ts';

/**
 * The audit MAC key: a secret held by the app (a file under the data directory, or configuration)
 * that the database never sees. Every record carries HMAC-SHA256(key, its hash), so someone who
 * can write to the database, even as superuser, cannot make a record that verifies.
 */
export interface AuditMacKey {
  /** Public name of the key (stored with each record), derived from the secret. */
  id: string;
  secret: Buffer;
}

/** The key that MACs new records, and every key (older ones too) that verification accepts. */
export interface AuditKeyring {
  current: AuditMacKey;
  byId: Map<string, AuditMacKey>;
  /** Where the keys came from, for messages (never the secret). */
  source: string;
}

export interface AuditKeySettings {
  ECOC_DATA_DIR: string;
  ECOC_AUDIT_MAC_KEY?: string | undefined;
  ECOC_AUDIT_MAC_KEY_FILE?: string | undefined;
}

export class AuditKeyError extends Error {
  override name = 'AuditKeyError';
}

const MIN_SECRET_BYTES = 32;

/** The default key file: `<ECOC_DATA_DIR>/audit/mac-key`. */
export function defaultMacKeyFile(dataDir: string): string {
  return join(resolve(dataDir), 'audit', 'mac-key');
}

/**
 * Keys from ECOC_AUDIT_MAC_KEY (comma-separated), else from ECOC_AUDIT_MAC_KEY_FILE (one key per
 * line, `#` comments), else from the default file, which is created with a fresh random key on
 * first use. In both lists the first key MACs new records; the others only verify (rotation).
 */
export function loadAuditKeyring(settings: AuditKeySettings, logger?: Logger): AuditKeyring {
  if (settings.ECOC_AUDIT_MAC_KEY !== undefined) {
    return keyring(settings.ECOC_AUDIT_MAC_KEY.split(','), 'ECOC_AUDIT_MAC_KEY');
  }
  const file = settings.ECOC_AUDIT_MAC_KEY_FILE ?? defaultMacKeyFile(settings.ECOC_DATA_DIR);
  if (settings.ECOC_AUDIT_MAC_KEY_FILE === undefined && !existsSync(file)) {
    if (createKeyFile(file)) {
      logger?.warn({ file }, 'generated the audit MAC key; every worker and API process of this installation needs this same key (copy the file or set ECOC_AUDIT_MAC_KEY_FILE), and back it up: without it the trail cannot be verified');
    }
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new AuditKeyError(`Cannot read the audit MAC key file ${file} (ECOC_AUDIT_MAC_KEY_FILE): ${(error as Error).message}`, { cause: error });
  }
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  return keyring(lines, file);
}

function keyring(texts: string[], source: string): AuditKeyring {
  const keys = texts.map((text) => text.trim()).filter(Boolean).map((text, index) => parseKey(text, `${source} (key ${index + 1})`));
  if (keys.length === 0) throw new AuditKeyError(`${source} holds no audit MAC key.`);
  return { current: keys[0]!, byId: new Map(keys.map((key) => [key.id, key])), source };
}

/** A key is base64 or base64url text of at least 32 random bytes (`openssl rand -base64 32`). */
function parseKey(text: string, source: string): AuditMacKey {
  if (!/^[A-Za-z0-9+/_-]+=*$/.test(text)) throw new AuditKeyError(`${source} is not base64 text (expected e.g. the output of \`openssl rand -base64 32\`).`);
  const secret = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (secret.length < MIN_SECRET_BYTES) throw new AuditKeyError(`${source} is ${secret.length} bytes; an audit MAC key needs at least ${MIN_SECRET_BYTES} random bytes.`);
  return { id: macKeyId(secret), secret };
}

/** 16 hex characters naming the key (a hash of it; says nothing usable about the secret). */
export function macKeyId(secret: Buffer): string {
  return createHash('sha256').update('ecoc-audit-mac-key-id\n').update(secret).digest('hex').slice(0, 16);
}

/** HMAC-SHA256 over a record's hash, hex. */
export function recordMac(key: AuditMacKey, hash: string): string {
  return createHmac('sha256', key.secret).update(`ecoc-audit-record-v2\n${hash}`).digest('hex');
}

export function macMatches(key: AuditMacKey, hash: string, mac: string): boolean {
  const expected = Buffer.from(recordMac(key, hash), 'hex');
  const given = Buffer.from(mac, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Writes a new random key file without ever replacing one (two processes starting together agree on one). */
function createKeyFile(file: string): boolean {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const staging = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(staging, `# ecoc-hub audit MAC key (keep secret, back up; first line MACs new records)\n${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  try {
    linkSync(staging, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(staging, { force: true });
  }
}

let installed: AuditKeyring | undefined;

/** Sets this process's audit keys (the app and the CLI do so at start from their configuration). */
export function useAuditKeyring(ring: AuditKeyring): void {
  installed = ring;
}

/** This process's audit keys: as installed, or loaded from the environment's configuration on first use. */
export function auditKeyring(): AuditKeyring {
  installed ??= loadAuditKeyring(loadConfig());
  return installed;
}
