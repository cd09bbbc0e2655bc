import { createServer, type Server } from 'node:http';
import type { Express } from 'express';
import { assertPortsFree } from '../platform/ports.ts';

export interface RunningApi {
  url: string;
  server: Server;
  stop(): Promise<void>;
}

export async function listen(app: Express, host: string, port: number): Promise<RunningApi> {
  await assertPortsFree([{ port, host, purpose: 'API (ECOC_API_PORT)' }]);
  const server = createServer(app);
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;
  // Idle keep-alive connections outlive a client's or load balancer's own idle timeout (typically
  // 60 s), so the server is not the side that closes a connection just as it is reused (ECONNRESET).
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://${host}:${actualPort}`,
    server,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
