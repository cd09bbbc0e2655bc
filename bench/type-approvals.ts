// Type-approval files: reading one approval with many versions from XLSX (zip check, exceljs,
// IVI paths and schema validation), the import a homologation team does per extension.
// Run: npx tsx bench/type-approvals.ts [--versions 2000]
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { leafValues } from '../ivi/leaf-values.ts';
import { readIvi } from '../ivi/reader.ts';
import { readTypeApprovalFile, writeTypeApprovalFile } from '../ivi/type-approvals/files/index.ts';
import type { TypeApprovalDraft } from '../schemas/ivi/type-approval.ts';

export interface TypeApprovalFilesBenchResult {
  versions: number;
  /** Leaf values (cells) per version. */
  valuesPerVersion: number;
  fileBytes: number;
  readSeconds: number;
  readCpuSeconds: number;
}

export async function runTypeApprovalFilesBench(options: { versions?: number } = {}): Promise<TypeApprovalFilesBenchResult> {
  const count = options.versions ?? 2000;
  // A real M1 certificate's technical data, less what belongs to one vehicle.
  const { cocDataGroup } = readIvi(readFileSync(new URL('../test/fixtures/ivi2/M1-01_electric.xml', import.meta.url)));
  const { VehicleIdentificationNumber: _vin, DateManufactureVehicle: _date, SigningAuthorityTable: _signer, ...technical } = cocDataGroup;
  const draft: TypeApprovalDraft = {
    manufacturerId: 'toyota',
    number: 'e6*2018/858*00264*01',
    issueDate: '2023-11-24',
    typeApprovalType: 'EU',
    vehicleCategory: 'M1',
    approvalCountry: 'e6',
    type: 'EBM1(M)',
    revision: { extensionNumber: '01', effectiveDate: '2024-01-01', reason: 'benchmark' },
    versions: Array.from({ length: count }, (_, index) => ({
      variant: `V${Math.floor(index / 100)}`,
      version: `VER-${index}`,
      values: { ...technical, MassGroup: { ...technical.MassGroup, MassInRunningOrder: 2000 + (index % 500) } },
    })),
  };
  const bytes = await writeTypeApprovalFile(draft, 'xlsx');
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const result = await readTypeApprovalFile(bytes, 'xlsx', { manufacturerId: 'toyota' });
  const readSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  if (!result.draft || result.draft.versions.length !== count) throw new Error(`the benchmark file did not read back: ${JSON.stringify(result.problems.slice(0, 3))}`);
  return {
    versions: count,
    valuesPerVersion: leafValues(draft.versions[0]!.values).size,
    fileBytes: bytes.byteLength,
    readSeconds,
    readCpuSeconds: (used.user + used.system) / 1e6,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { versions: { type: 'string', default: '2000' } } });
  const result = await runTypeApprovalFilesBench({ versions: Number(values.versions) });
  console.log(`Type-approval XLSX import: ${result.versions} versions × ${result.valuesPerVersion} values, ${(result.fileBytes / 1024).toFixed(0)} KiB`);
  console.log(`  read + validate: ${result.readSeconds.toFixed(2)} s wall clock, ${result.readCpuSeconds.toFixed(2)} CPU seconds`);
}
