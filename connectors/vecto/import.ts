import { z } from 'zod';
import type { XmlNodeData } from '../../ivi/safe-xml.ts';
import { iviFieldSchema } from '../../schemas/ivi/field-paths.ts';
import { iviSimpleTypeSchemas } from '../../schemas/ivi/index.ts';
import { vinSchema } from '../../schemas/vehicle-record.ts';
import { child, elementText, optionalChild, readDigest, readVectoFile, text, type VectoDigest } from './read.ts';

/**
 * VECTO CIF + MRF import: checks that the pair belongs together (the CIF carries the MRF's
 * digest), turns results into IVI values as proposals for a reviewer, and cross-checks them
 * against type-approval values. VECTO data is never the master: nothing here writes a record.
 *
 * Digests: VECTO digests the file's `Data` element with the transforms
 * `urn:vecto:xml:2017:canonicalization` (VECTO's XSLT: strip prefixes and xsi:type, normalise
 * whitespace, sort map entries) then exclusive C14N, and SHA-256, base64. The CIF repeats the
 * MRF's reference (`ManufacturerRecordSignature`); the check below compares the two references
 * (URI = the MRF's Data id, algorithms, digest value). Recomputing the digest from the MRF
 * content needs VECTO's XSLT run exactly as .NET runs it; that is not implemented, which the
 * result says (finding DIGEST_NOT_RECOMPUTED) instead of pretending.
 */

export const VECTO_TRANSFORMS = ['urn:vecto:xml:2017:canonicalization', 'http://www.w3.org/2001/10/xml-exc-c14n#'];
export const VECTO_DIGEST_METHOD = 'http://www.w3.org/2001/04/xmlenc#sha256';

export const vectoProposalSchema = z.object({
  /** IVI CocDataGroup path, same notation as ERP mappings' `values.` paths (without the prefix). */
  path: z.string(),
  value: z.union([z.string(), z.number()]),
  source: z.literal('vecto'),
  /** Where it came from, for the reviewer: file and element. */
  origin: z.string(),
});

export const vectoFindingSchema = z.object({
  severity: z.enum(['error', 'warning', 'info']),
  code: z.string(),
  message: z.string(),
});

export const vectoCrossCheckSchema = z.object({
  field: z.enum(['vehicleGroup', 'technicallyPermissibleMaximumLadenMass', 'energySources', 'vehicleCategory']),
  vecto: z.union([z.string(), z.number(), z.array(z.string())]),
  typeApproval: z.union([z.string(), z.number(), z.array(z.string())]),
  matches: z.boolean(),
});

export const vectoImportSchema = z.object({
  vin: z.string(),
  versions: z.object({ cif: z.string(), mrf: z.string(), simulationTool: z.string().optional() }),
  hashCheck: z.object({
    /** The MRF's own digest as recorded in the MRF. */
    mrfDigest: z.string(),
    /** The digest of the MRF that the CIF carries. */
    cifCarriesMrfDigest: z.string(),
    cifDigest: z.string(),
    matches: z.boolean(),
  }),
  proposals: z.array(vectoProposalSchema),
  crossChecks: z.array(vectoCrossCheckSchema),
  findings: z.array(vectoFindingSchema),
});

export type VectoProposal = z.infer<typeof vectoProposalSchema>;
export type VectoFinding = z.infer<typeof vectoFindingSchema>;
export type VectoImport = z.infer<typeof vectoImportSchema>;

/** Values from the type approval (master data) to compare VECTO's against. */
export interface TypeApprovalValues {
  vehicleCategory?: string;
  vehicleGroup?: string;
  /** kg */
  technicallyPermissibleMaximumLadenMass?: number;
  /** IVI energy source codes, e.g. ['20', '40']. */
  energySources?: string[];
}

export interface VectoImportOptions {
  typeApproval?: TypeApprovalValues;
  /** Which CIF summary applies when there are vocational and non-vocational ones. */
  vocational?: boolean;
  /** Size limit per file (`ECOC_XML_MAX_BYTES`). */
  maxBytes?: number;
}

/** VECTO fuel names to IVI energy source codes; natural gas depends on the tank system. */
function energySourceOf(fuel: string, tankSystem: string | undefined): string | undefined {
  if (fuel.startsWith('NG')) return tankSystem === 'Liquefied' ? '60' : '40';
  return { 'Diesel CI': '20', 'Ethanol CI': '22', 'Ethanol PI': '16', 'Petrol PI': '10', 'LPG PI': '30', 'H2 PI': '50', 'H2 CI': '50', Electricity: '95' }[fuel];
}

const ENERGY_SOURCE_PATH = (index: number) => `EnergyConvertorTable.EnergyConvertorGroup[0].EnergySourceTable.EnergySourceGroup[${index}].EnergySource`;

export function importVecto(files: { cif: string | Uint8Array; mrf: string | Uint8Array }, options: VectoImportOptions = {}): VectoImport {
  const cif = readVectoFile('cif', files.cif, options.maxBytes);
  const mrf = readVectoFile('mrf', files.mrf, options.maxBytes);
  const findings: VectoFinding[] = [];
  const proposals: VectoProposal[] = [];
  const finding = (severity: VectoFinding['severity'], code: string, message: string) => findings.push({ severity, code, message });
  // A value from the files becomes a proposal only when it fits its IVI field (type, facets, text rule).
  const propose = (path: string, value: string | number, origin: string) => {
    const problem = proposalProblem(path, value);
    if (problem === undefined) proposals.push({ path, value, source: 'vecto', origin });
    else finding('warning', 'NOT_AN_IVI_VALUE', `${origin} ${JSON.stringify(value)} does not fit ${path} (${problem}); not proposed`);
  };

  // -- identity and hash relation --------------------------------------------------------------
  const vin = text(cif.vehicle, 'VIN') ?? '';
  const mrfVin = text(mrf.vehicle, 'VIN') ?? '';
  const vinCheck = vinSchema.safeParse(vin);
  if (!vinCheck.success) finding('error', 'INVALID_VIN', `the VIN "${vin}" in the files is not a valid 17-character VIN: ${vinCheck.error.issues[0]?.message ?? ''}`);
  if (vin !== mrfVin) finding('error', 'VIN_MISMATCH', `the CIF is for VIN "${vin}", the MRF for "${mrfVin}"`);

  const carried = readDigest(child(cif.data, 'ManufacturerRecordSignature', 'VECTO Customer Information File'), 'CIF ManufacturerRecordSignature');
  const matches = checkHashRelation(carried, mrf.digest, mrf.dataId, finding);
  for (const [name, digest] of [['CIF', cif.digest], ['MRF', mrf.digest]] as const) {
    if (digest.digestMethod !== VECTO_DIGEST_METHOD || digest.transforms.join(' ') !== VECTO_TRANSFORMS.join(' ')) {
      finding('error', 'DIGEST_ALGORITHM_UNSUPPORTED', `the ${name} digest uses ${digest.digestMethod} with transforms [${digest.transforms.join(', ')}]; expected SHA-256 over VECTO + exclusive canonicalisation`);
    }
  }
  const cifInput = readDigest(child(cif.data, 'InputDataSignature', 'CIF'), 'CIF InputDataSignature');
  const mrfInput = readDigest(child(mrf.data, 'InputDataSignature', 'MRF'), 'MRF InputDataSignature');
  if (cifInput.digestValue !== mrfInput.digestValue) {
    finding('error', 'INPUT_DATA_MISMATCH', `the CIF and MRF were computed from different job input data (input digests ${cifInput.digestValue} and ${mrfInput.digestValue})`);
  }
  finding('info', 'DIGEST_NOT_RECOMPUTED', "the MRF's digest is taken as recorded in the MRF; recomputing it with VECTO's canonicalisation is not implemented");

  // -- values present in both files must agree --------------------------------------------------
  for (const element of ['VehicleCategory', 'AxleConfiguration', 'TechnicalPermissibleMaximumLadenMass', 'VehicleGroup', 'VehicleGroupCO2', 'ZeroEmissionVehicle']) {
    const [a, b] = [text(cif.vehicle, element), text(mrf.vehicle, element)];
    if (a !== undefined && b !== undefined && a !== b) finding('error', 'CIF_MRF_DIFFERENCE', `${element}: CIF says ${a}, MRF says ${b}`);
  }

  // -- proposals ------------------------------------------------------------------------------
  propose('VectoGroup.CryptographicHashManufacturerRecord', carried.digestValue, 'CIF ManufacturerRecordSignature/DigestValue');
  propose('VectoGroup.CryptographicHashCustomerInformationFile', cif.digest.digestValue, 'CIF Signature/DigestValue');
  const zeroEmission = text(cif.vehicle, 'ZeroEmissionVehicle');
  if (zeroEmission) propose('VectoGroup.ZeroEmissionHeavyDutyIndicator', zeroEmission === 'true' ? 'Y' : 'N', 'CIF Vehicle/ZeroEmissionVehicle');
  const group = text(cif.vehicle, 'VehicleGroup');
  proposeCode('VectoGroup.VehicleGroup', group, iviSimpleTypeSchemas.VehicleGroupCode, 'CIF Vehicle/VehicleGroup');
  proposeCode('VectoGroup.VehicleSubgroup', text(cif.vehicle, 'VehicleGroupCO2'), iviSimpleTypeSchemas.VehicleSubgroupCode, 'CIF Vehicle/VehicleGroupCO2');

  const summary = chooseSummary(child(cif.data, 'Results', 'CIF'), options.vocational, finding);
  if (summary) {
    const vocational = text(summary, 'Vocational');
    if (vocational) propose('VectoGroup.VocationalVehicleIndicator', vocational === 'true' ? 'Y' : 'N', 'CIF Results/Summary/Vocational');
    const payload = measured(summary, 'AveragePayload', 't');
    if (payload !== undefined) propose('VectoGroup.AveragePayload', payload, 'CIF Results/Summary/AveragePayload [t]');
    const occupancy = measured(summary, 'AveragePassengerCount', undefined);
    if (occupancy !== undefined) propose('VectoGroup.AverageOccupancy', occupancy, 'CIF Results/Summary/AveragePassengerCount');
    const co2Mass = measured(summary, 'CO2', 'g/t-km');
    if (co2Mass !== undefined) propose('VectoGroup.SpecificCo2EmissionsMass', co2Mass, 'CIF Results/Summary/CO2 [g/t-km]');
    const co2Person = measured(summary, 'CO2', 'g/p-km');
    if (co2Person !== undefined) propose('VectoGroup.SpecificCo2EmissionsPerson', co2Person, 'CIF Results/Summary/CO2 [g/p-km]');
  }

  const tankSystem = text(mrf.vehicle, 'TankSystem');
  const fuels = optionalChild(cif.vehicle, 'FuelTypes')?.children.filter((c) => c.name === 'FuelType').map((c) => elementText(c) ?? '') ?? [];
  const energySources: string[] = [];
  for (const fuel of fuels) {
    const code = energySourceOf(fuel, tankSystem);
    if (!code) {
      finding('warning', 'UNKNOWN_FUEL_TYPE', `VECTO fuel type "${fuel}" has no IVI energy source code mapping; enter it by hand`);
      continue;
    }
    if (!energySources.includes(code)) energySources.push(code);
  }
  energySources.forEach((code, index) => propose(ENERGY_SOURCE_PATH(index), code, `CIF Vehicle/FuelTypes (${fuels.join(', ')}${tankSystem ? `, tank ${tankSystem}` : ''})`));

  // -- cross-check against the type approval ----------------------------------------------------
  const crossChecks: VectoImport['crossChecks'] = [];
  const approval = options.typeApproval ?? {};
  const compare = (field: VectoImport['crossChecks'][number]['field'], vecto: string | number | string[] | undefined, typeApproval: string | number | string[] | undefined) => {
    if (vecto === undefined || typeApproval === undefined) return;
    const same = Array.isArray(vecto) && Array.isArray(typeApproval) ? [...vecto].sort().join() === [...typeApproval].sort().join() : vecto === typeApproval;
    crossChecks.push({ field, vecto, typeApproval, matches: same });
    if (!same) finding('warning', 'TYPE_APPROVAL_DIFFERENCE', `${field}: VECTO says ${JSON.stringify(vecto)}, the type approval says ${JSON.stringify(typeApproval)}`);
  };
  compare('vehicleCategory', text(cif.vehicle, 'VehicleCategory'), approval.vehicleCategory);
  compare('vehicleGroup', group, approval.vehicleGroup);
  compare('technicallyPermissibleMaximumLadenMass', measured(cif.vehicle, 'TechnicalPermissibleMaximumLadenMass', 'kg'), approval.technicallyPermissibleMaximumLadenMass);
  compare('energySources', energySources, approval.energySources);

  const simulationTool = text(child(cif.data, 'ApplicationInformation', 'CIF'), 'SimulationToolVersion');
  return vectoImportSchema.parse({
    vin,
    versions: { cif: cif.version, mrf: mrf.version, ...(simulationTool ? { simulationTool } : {}) },
    hashCheck: { mrfDigest: mrf.digest.digestValue, cifCarriesMrfDigest: carried.digestValue, cifDigest: cif.digest.digestValue, matches },
    proposals,
    crossChecks,
    findings,
  });

  function proposeCode(path: string, value: string | undefined, schema: z.ZodType, origin: string): void {
    if (value === undefined) return;
    if (schema.safeParse(value).success) propose(path, value, origin);
    else finding('warning', 'NOT_AN_IVI_CODE', `${origin} "${value}" is not a valid IVI code for ${path}; not proposed`);
  }
}

/** Why a value does not fit the IVI field at a proposal path (`A.B[0].C`, 0-based), or undefined. */
function proposalProblem(path: string, value: string | number): string | undefined {
  const field = iviFieldSchema(path.split('.').map((part) => part.replace(/\[(\d+)\]$/, (_match, index: string) => `[${Number(index) + 1}]`)).join('/'));
  if ('problem' in field) return field.problem;
  const checked = field.schema.safeParse(value);
  return checked.success ? undefined : checked.error.issues.map((issue) => issue.message).join('; ');
}

function checkHashRelation(carried: VectoDigest, mrf: VectoDigest, mrfDataId: string, finding: (severity: 'error', code: string, message: string) => void): boolean {
  let matches = true;
  if (carried.uri !== `#${mrfDataId}`) {
    matches = false;
    finding('error', 'MRF_REFERENCE_MISMATCH', `the CIF refers to MRF data "${carried.uri}", but this MRF's data is "#${mrfDataId}": the files do not belong together`);
  }
  if (carried.digestValue !== mrf.digestValue) {
    matches = false;
    finding('error', 'MRF_DIGEST_MISMATCH', `the CIF carries MRF digest ${carried.digestValue}, but the MRF's digest is ${mrf.digestValue}: one of the files was altered or they are from different runs`);
  }
  if (carried.digestMethod !== mrf.digestMethod || carried.transforms.join(' ') !== mrf.transforms.join(' ')) {
    matches = false;
    finding('error', 'MRF_DIGEST_MISMATCH', 'the CIF and the MRF name different digest algorithms or transforms for the MRF');
  }
  return matches;
}

function chooseSummary(results: XmlNodeData, vocational: boolean | undefined, finding: (severity: 'warning' | 'info', code: string, message: string) => void): XmlNodeData | undefined {
  const summaries = results.children.filter((c) => c.name === 'Summary');
  if (summaries.length <= 1) return summaries[0];
  if (vocational !== undefined) {
    const wanted = summaries.find((s) => text(s, 'Vocational') === String(vocational));
    if (wanted) return wanted;
  }
  const chosen = summaries.find((s) => text(s, 'Vocational') === 'false') ?? summaries[0]!;
  finding('warning', 'SUMMARY_CHOSEN', `the CIF has ${summaries.length} result summaries (vocational and not); proposals use Vocational=${text(chosen, 'Vocational') ?? '?'}: confirm it matches the vehicle`);
  return chosen;
}

/** The number in `<name unit="…">` (the first with that unit when given), or undefined. */
function measured(parent: XmlNodeData, name: string, unit: string | undefined): number | undefined {
  const element = parent.children.find((c) => c.name === name && (unit === undefined || c.attributes.unit === unit));
  const value = element ? Number(element.text.trim()) : NaN;
  return Number.isFinite(value) ? value : undefined;
}
