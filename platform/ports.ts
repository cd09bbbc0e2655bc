import { createServer } from 'node:net';

export class PortInUseError extends Error {
  override name = 'PortInUseError';
}

/** Fails with one message naming every occupied port and the setting that moves it. */
export async function assertPortsFree(ports: { port: number; purpose: string; host?: string }[]): Promise<void> {
  const busy: string[] = [];
  for (const { port, purpose, host } of ports) {
    if (port !== 0 && !(await isPortFree(port, host ?? '127.0.0.1'))) busy.push(`  port ${port} (${purpose}) is already in use`);
  }
  if (busy.length > 0) {
    throw new PortInUseError(
      `Cannot start: ${busy.length === 1 ? 'a port is' : 'ports are'} taken by another process:\n${busy.join('\n')}\n` +
        'Stop the other process (perhaps an earlier `npm start`) or choose another port with the variable named.',
    );
  }
}

export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port the OS reports free right now (for tests and embedded servers). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host }, () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
