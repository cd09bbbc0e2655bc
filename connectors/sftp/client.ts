import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { SFTPWrapper } from 'ssh2';
import SftpClient from 'ssh2-sftp-client';
import type { Logger } from '../../platform/logger.ts';
import type { SftpEndpoint } from '../../schemas/config/destinations.ts';
import { PermanentConnectorError, TemporarilyUnavailableError } from '../delivery/errors.ts';
import { fingerprintMatches, hostKeyFingerprint } from './host-key.ts';

export interface RemoteFile {
  name: string;
  size: number;
  modifiedAt: Date;
  type: 'file' | 'directory' | 'link';
}

/**
 * One connected SFTP session. Paths are relative to the endpoint's `remoteDir` and may not
 * leave it; every failure is either `TemporarilyUnavailableError` (retry later) or
 * `PermanentConnectorError` (fix configuration or remote state).
 */
export interface SftpSession {
  readonly remoteDir: string;
  list(dir?: string): Promise<RemoteFile[]>;
  exists(path: string): Promise<boolean>;
  read(path: string): Promise<Buffer>;
  /** Streams a remote file without buffering it (large ERP files). */
  readStream(path: string): Readable;
  /** Writes `<path>.part`, then renames it to `path`: readers never see a half-written file. */
  uploadAtomic(path: string, data: Buffer): Promise<void>;
  move(from: string, to: string): Promise<void>;
  ensureDir(path: string): Promise<void>;
  remove(path: string): Promise<void>;
  close(): Promise<void>;
}

export interface SftpOptions {
  logger: Logger;
}

const UNREACHABLE = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|EAI_AGAIN|timed out|Timed out|Unexpected (end|close)|Not connected|No SFTP connection|Connection lost/i;

/** Connects with key authentication; the server's host key must match the configured fingerprint. */
export async function openSftpSession(endpoint: SftpEndpoint, options: SftpOptions): Promise<SftpSession> {
  const logger = options.logger.child({ component: 'sftp', host: endpoint.host, port: endpoint.port });
  const where = `sftp://${endpoint.username}@${endpoint.host}:${endpoint.port}`;
  const [privateKey, passphrase] = await Promise.all([
    readSecret(endpoint.privateKeyFile, 'private key'),
    endpoint.passphraseFile ? readSecret(endpoint.passphraseFile, 'key passphrase').then((b) => b.toString('utf8').trim()) : undefined,
  ]);
  let presentedHostKey: string | undefined;
  const client = new SftpClient(where);
  let sftp: SFTPWrapper;
  try {
    sftp = await client.connect({
      host: endpoint.host,
      port: endpoint.port,
      username: endpoint.username,
      privateKey,
      passphrase,
      readyTimeout: endpoint.connectTimeoutMs,
      // Temporal owns retries; a connector that retried on its own would multiply them.
      retries: 0,
      hostVerifier: (key: Buffer) => {
        if (fingerprintMatches(key, endpoint.hostKeySha256)) return true;
        presentedHostKey = hostKeyFingerprint(key);
        return false;
      },
    } as SftpClient.ConnectOptions);
  } catch (error) {
    await client.end().catch(() => undefined);
    if (presentedHostKey !== undefined) {
      throw new PermanentConnectorError(
        `${where}: host key verification failed: the server presented ${presentedHostKey}, configuration expects ${endpoint.hostKeySha256}`,
        'HOST_KEY_MISMATCH',
        { cause: error },
      );
    }
    throw classify(error, `${where}: connect`);
  }
  logger.debug('connected');
  return new Session(client, sftp, endpoint.remoteDir, where);
}

/** Opens a session, runs `use`, and always closes it. */
export async function withSftpSession<T>(endpoint: SftpEndpoint, options: SftpOptions, use: (session: SftpSession) => Promise<T>): Promise<T> {
  const session = await openSftpSession(endpoint, options);
  try {
    return await use(session);
  } finally {
    await session.close();
  }
}

class Session implements SftpSession {
  constructor(
    private readonly client: SftpClient,
    private readonly sftp: SFTPWrapper,
    readonly remoteDir: string,
    private readonly where: string,
  ) {}

  private resolve(path: string): string {
    const full = posix.normalize(posix.join(this.remoteDir, path));
    const root = posix.normalize(this.remoteDir).replace(/\/$/, '');
    if (full !== root && !full.startsWith(`${root}/`)) {
      throw new PermanentConnectorError(`${this.where}: path "${path}" leaves the configured directory ${this.remoteDir}`, 'PATH_OUTSIDE_ROOT');
    }
    return full;
  }

  private async run<T>(what: string, path: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      throw classify(error, `${this.where}: ${what} ${path}`);
    }
  }

  async list(dir = '.'): Promise<RemoteFile[]> {
    const full = this.resolve(dir);
    const entries = await this.run('list', full, () => this.client.list(full));
    return entries.map((entry) => ({
      name: entry.name,
      size: entry.size,
      modifiedAt: new Date(entry.modifyTime),
      type: entry.type === 'd' ? 'directory' : entry.type === 'l' ? 'link' : 'file',
    }));
  }

  async exists(path: string): Promise<boolean> {
    const full = this.resolve(path);
    return (await this.run('stat', full, () => this.client.exists(full))) !== false;
  }

  async read(path: string): Promise<Buffer> {
    const full = this.resolve(path);
    const data = await this.run('read', full, () => this.client.get(full));
    if (!Buffer.isBuffer(data)) throw new PermanentConnectorError(`${this.where}: read ${full} returned no data`, 'READ_FAILED');
    return data;
  }

  readStream(path: string): Readable {
    return this.client.createReadStream(this.resolve(path)) as unknown as Readable;
  }

  async uploadAtomic(path: string, data: Buffer): Promise<void> {
    const full = this.resolve(path);
    const part = `${full}.part`;
    await this.run('upload', part, () => this.client.put(data, part)).catch((error: unknown) => this.uploadFailed(part, data.byteLength, error));
    // The client library can report success although the server refused writes (a full disk): only a complete file is renamed.
    const written = (await this.run('stat', part, () => this.client.stat(part))).size;
    if (written !== data.byteLength) await this.uploadFailed(part, data.byteLength, new Error(`${written} of ${data.byteLength} bytes written`));
    // posix-rename replaces the target atomically, so a leftover from a crashed attempt cannot block it.
    await this.run('rename', full, () => this.client.posixRename(part, full));
  }

  /**
   * Removes what an upload left behind (its space is the partner's) and says whether retrying can
   * help: a partner whose disk has no room for the file is an outage that ends when space is freed.
   */
  private async uploadFailed(part: string, size: number, error: unknown): Promise<never> {
    await this.client.delete(part, true).catch(() => undefined);
    const free = await this.freeBytes();
    if (free !== undefined && free < size) {
      throw new TemporarilyUnavailableError(`${this.where}: upload ${part} failed: the partner's disk is full (${free} bytes free, ${size} needed)`, undefined, { cause: error });
    }
    if (error instanceof PermanentConnectorError || error instanceof TemporarilyUnavailableError) throw error;
    throw new TemporarilyUnavailableError(`${this.where}: upload ${part} incomplete: ${(error as Error).message}`, undefined, { cause: error });
  }

  /** Free bytes in the remote directory (OpenSSH's statvfs extension); undefined where the server has none. */
  private freeBytes(): Promise<number | undefined> {
    return new Promise((resolve) => {
      try {
        this.sftp.ext_openssh_statvfs(this.remoteDir, (error, info: { f_bavail?: number; f_frsize?: number } | undefined) => {
          resolve(error || info?.f_bavail === undefined || info.f_frsize === undefined ? undefined : info.f_bavail * info.f_frsize);
        });
      } catch {
        resolve(undefined); // the server does not offer the extension
      }
    });
  }

  async move(from: string, to: string): Promise<void> {
    const source = this.resolve(from);
    const target = this.resolve(to);
    await this.run('move', `${source} -> ${target}`, () => this.client.posixRename(source, target));
  }

  async ensureDir(path: string): Promise<void> {
    const full = this.resolve(path);
    if ((await this.run('stat', full, () => this.client.exists(full))) === 'd') return;
    await this.run('mkdir', full, () => this.client.mkdir(full, true));
  }

  async remove(path: string): Promise<void> {
    const full = this.resolve(path);
    await this.run('delete', full, () => this.client.delete(full, true));
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}

function classify(error: unknown, context: string): Error {
  if (error instanceof PermanentConnectorError || error instanceof TemporarilyUnavailableError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  if (/authentication methods failed|ERR_BAD_AUTH/i.test(message) || code === 'ERR_BAD_AUTH') {
    return new PermanentConnectorError(`${context}: the server refused the key (${message})`, 'AUTHENTICATION_FAILED', { cause: error });
  }
  if (UNREACHABLE.test(message) || (typeof code === 'string' && UNREACHABLE.test(code)) || code === 'ERR_NOT_CONNECTED' || code === 'ERR_GENERIC_CLIENT') {
    return new TemporarilyUnavailableError(`${context}: server unavailable (${message})`, undefined, { cause: error });
  }
  if (code === 2 || code === 'ENOENT' || /No such file/i.test(message)) {
    return new PermanentConnectorError(`${context}: no such file or directory`, 'NOT_FOUND', { cause: error });
  }
  if (code === 3 || code === 'EACCES' || /Permission denied/i.test(message)) {
    return new PermanentConnectorError(`${context}: permission denied`, 'PERMISSION_DENIED', { cause: error });
  }
  return new PermanentConnectorError(`${context}: ${message}`, 'SFTP_ERROR', { cause: error });
}

async function readSecret(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new PermanentConnectorError(`cannot read the SFTP ${what} from ${file}: ${(error as Error).message}`, 'SECRET_UNREADABLE', { cause: error });
  }
}
