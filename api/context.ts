import type { Client } from '@temporalio/client';
import type { Registry } from 'prom-client';
import type { OidcVerifier } from '../auth/oidc.ts';
import type { Database } from '../platform/database/prisma.ts';
import type { Logger } from '../platform/logger.ts';
import type { ReadinessProbe } from '../platform/readiness.ts';
import type { Config } from '../schemas/config/index.ts';
import type { SigningCertificateStatus } from '../signing/certificate-monitor.ts';
import type { ReviewPolicy } from '../schemas/certificate.ts';
import type { RouteTable } from './routes-table.ts';

/** What the API's routes are built from (startApplication passes the real stack, tests the same). */
export interface ApiContext {
  db: Database;
  client: Client;
  taskQueue: string;
  review: ReviewPolicy;
  config: Config;
  logger: Logger;
  readinessProbes: Record<string, ReadinessProbe>;
  /** The app's metrics registry (one per app, so several apps can live in one test process). */
  metrics: Registry;
  oidc: OidcVerifier | undefined;
  /** Loopback address of the Temporal SDK's Prometheus exporter, when this process runs a worker. */
  temporalMetricsAddress?: string | undefined;
  /** The signing certificate's validity, when this process watches one (dashboard). */
  signingCertificate?: (() => SigningCertificateStatus) | undefined;
}

/** A group of routes (one resource); added to the table by createApp. */
export type RouteModule = (table: RouteTable, context: ApiContext) => void;
