#!/usr/bin/env node
// Container health check (Dockerfile HEALTHCHECK), plain JavaScript so it starts in milliseconds:
// healthy when the readiness endpoint of the role running here answers 200 — the API's /readyz
// (ECOC_API_PORT, 3000) or the worker's operations port /readyz (ECOC_WORKER_OPS_PORT, 3001).
// A port nothing listens on is not this container's role; at least one must answer, all that answer must be ready.
const ports = [process.env.ECOC_API_PORT ?? '3000', process.env.ECOC_WORKER_OPS_PORT ?? '3001'];

async function readiness(port) {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(4_000) });
    return response.status;
  } catch {
    return undefined;
  }
}

const statuses = (await Promise.all(ports.map(readiness))).filter((status) => status !== undefined);
process.exit(statuses.length > 0 && statuses.every((status) => status === 200) ? 0 : 1);
