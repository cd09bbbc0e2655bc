import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ErpMappingInput } from '../../schemas/erp/mapping.ts';
import type { ErpReport } from '../../schemas/erp/report.ts';
import type { TypeApprovalInput } from '../../schemas/ivi/type-approval.ts';
import { NAP_DESTINATION, specimenRecord } from '../support/specimen.ts';

/** The specimen's approval as master data, so ERP rows carrying only a few values compose into a complete certificate. */
export function specimenApproval(): TypeApprovalInput {
  const { values, typeApprovalNumber, variant, version } = specimenRecord('WVW00000000000000');
  const technical = { ...values } as Record<string, unknown>;
  delete technical.VehicleIdentificationNumber;
  return {
    manufacturerId: 'acme',
    number: typeApprovalNumber,
    issueDate: String(values.TypeApprovalIssueDate),
    vehicleCategory: 'M1',
    approvalCountry: 'e6',
    type: String(values.Type),
    versions: [{ variant, version, values: technical }],
  } as TypeApprovalInput;
}

const specimen = specimenRecord('WVW00000000000000');
export const APPROVAL = `${specimen.typeApprovalNumber};${specimen.variant};${specimen.version}`;

/** One mapping for CSV (`;`) and flat JSON objects with the same keys. */
export const acmeMapping: ErpMappingInput = {
  manufacturerId: 'acme',
  csv: { delimiter: ';' },
  defaults: { stage: 1 },
  columns: [
    { column: 'VIN', target: 'vin', required: true },
    { column: 'Approval', target: 'typeApprovalNumber', required: true },
    { column: 'Variant', target: 'variant', required: true },
    { column: 'Version', target: 'version', required: true },
    { column: 'Destination', target: 'destination' },
    { column: 'Actual mass (kg)', target: 'values.MassGroup.ActualMass', type: 'integer' },
    { column: 'Built', target: 'values.DateManufactureVehicle', type: 'date', dateFormat: 'DD.MM.YYYY' },
  ],
};

export const CSV_HEADER = 'VIN;Approval;Variant;Version;Destination;Actual mass (kg);Built';

export function csvRow(vin: string, mass: string | number = 2184, built = '08.04.2024'): string {
  return `${vin};${APPROVAL};${NAP_DESTINATION};${mass};${built}`;
}

export function jsonRow(vin: string | undefined, mass: number | string = 2184): Record<string, unknown> {
  return { ...(vin ? { VIN: vin } : {}), Approval: specimen.typeApprovalNumber, Variant: specimen.variant, Version: specimen.version, Destination: NAP_DESTINATION, 'Actual mass (kg)': mass, Built: '08.04.2024' };
}

/** Drops a file as a well-behaved uploader does: write `.part`, then rename. */
export function deliver(root: string, path: string, content: string | Buffer): void {
  const full = join(root, path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(`${full}.part`, content);
  renameSync(`${full}.part`, full);
}

export function readReport(root: string, path: string): ErpReport {
  return JSON.parse(readFileSync(join(root, `${path}.report.json`), 'utf8')) as ErpReport;
}

export const present = (root: string, path: string) => existsSync(join(root, path));

/** A VIN with the letter O, which VINs never contain. */
export const badVin = (vin: string) => `${vin.slice(0, 16)}O`;
