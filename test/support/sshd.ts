import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { freePort } from '../../platform/ports.ts';
import { waitFor } from '../../platform/wait.ts';
import type { SftpEndpoint } from '../../schemas/config/destinations.ts';

export interface TestSshd {
  /** Directory the SFTP user is confined to (`ForceCommand internal-sftp -d`). */
  root: string;
  port: number;
  /** Connection settings for a test: host key fingerprint and client key file included. */
  endpoint(remoteDir?: string): SftpEndpoint;
  /** A key pair the server does not know (for "refused" cases). */
  strangerKeyFile: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops and removes everything. */
  dispose(): Promise<void>;
}

/**
 * A real Debian OpenSSH sshd on a loopback port, with its own host key, client key, config and
 * pid file in a temp directory; key-only auth, SFTP only. `stop()`/`start()` simulate an outage
 * on the same port and host key.
 */
export async function startTestSshd(): Promise<TestSshd> {
  const dir = mkdtempSync(join(tmpdir(), 'ecoc-sshd-'));
  const root = join(dir, 'sftp-root');
  mkdirSync(root);
  mkdirSync('/run/sshd', { recursive: true });
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  const clientKey = join(dir, 'client_ed25519');
  const strangerKey = join(dir, 'stranger_ed25519');
  for (const key of [hostKey, clientKey, strangerKey]) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ecoc-test', '-f', key]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKey}.pub`));
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKey}.pub`]).toString().split(' ')[1]!;
  const port = await freePort();
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'StrictModes no',
      'Subsystem sftp internal-sftp',
      `ForceCommand internal-sftp -d ${root}`,
      'AllowTcpForwarding no',
      'X11Forwarding no',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const username = userInfo().username;
  let child: ChildProcess | undefined;
  let exited: string | undefined;
  const output: string[] = [];

  const start = async () => {
    exited = undefined;
    child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (chunk: Buffer) => {
      output.push(chunk.toString());
      if (output.length > 50) output.shift();
    });
    child.once('exit', (code, signal) => {
      exited = `sshd exited with ${signal ?? code}: ${output.join('')}`;
    });
    await waitFor(
      async () => {
        if (exited) throw new Error(exited);
        return await sshBanner(port);
      },
      { timeoutMs: 15_000, what: `sshd on 127.0.0.1:${port}`, intervalMs: 50, fatal: () => exited !== undefined },
    );
  };
  const stop = async () => {
    const running = child;
    if (!running || exited) return;
    const gone = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGTERM');
    await gone;
  };
  await start();
  return {
    root,
    port,
    strangerKeyFile: strangerKey,
    endpoint: (remoteDir = '/') => ({
      host: '127.0.0.1',
      port,
      username,
      privateKeyFile: clientKey,
      hostKeySha256: fingerprint,
      remoteDir: join(root, remoteDir),
      connectTimeoutMs: 5_000,
    }),
    start,
    stop,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Readiness: the server sends its `SSH-2.0-` identification on a fresh connection. */
function sshBanner(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1_000);
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('SSH-2.0-'));
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', reject);
  });
}
