import type { CertificateStatus } from '../../schemas/certificate.ts';

/** Replaced by the console build (console/build.ts `define`) with the list from schemas/certificate.ts. */
declare const ECOC_CERTIFICATE_STATUSES: readonly CertificateStatus[];

/**
 * The certificate states in lifecycle order, as declared once in schemas/certificate.ts. The
 * build puts the list in as a constant: importing that module here would bundle zod, which
 * declares the rest of the model, into the page (~450 KB for one array).
 */
export const certificateStatuses: readonly CertificateStatus[] = ECOC_CERTIFICATE_STATUSES;
