import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { erpMappingSchema, type ErpMapping } from '../schemas/erp/mapping.ts';

export class ErpMappingsError extends Error {
  override name = 'ErpMappingsError';
}

/** `ECOC_ERP_MAPPINGS_FILE`: a JSON array of mappings, at most one per manufacturer. */
export const erpMappingsFileSchema = z.array(erpMappingSchema).superRefine((mappings, context) => {
  const seen = new Set<string>();
  mappings.forEach((mapping, index) => {
    if (seen.has(mapping.manufacturerId)) context.addIssue({ code: 'custom', path: [index, 'manufacturerId'], message: `duplicate mapping for manufacturer "${mapping.manufacturerId}"` });
    seen.add(mapping.manufacturerId);
  });
});

/** Reads and validates the mappings file; errors name the file, the entry and the field. */
export async function loadErpMappings(file: string): Promise<Map<string, ErpMapping>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ErpMappingsError(`ECOC_ERP_MAPPINGS_FILE: cannot read ${file}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ErpMappingsError(`ECOC_ERP_MAPPINGS_FILE: ${file} is not JSON: ${(error as Error).message}`);
  }
  const parsed = erpMappingsFileSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `  [${issue.path.join('.')}] ${issue.message}`).join('\n');
    throw new ErpMappingsError(`ECOC_ERP_MAPPINGS_FILE: ${file} is invalid:\n${issues}`);
  }
  return new Map(parsed.data.map((mapping) => [mapping.manufacturerId, mapping]));
}

/** The mapping of one manufacturer; an unknown one names those that exist. */
export function mappingFor(mappings: Map<string, ErpMapping>, manufacturerId: string): ErpMapping {
  const mapping = mappings.get(manufacturerId);
  if (!mapping) throw new ErpMappingsError(`no ERP mapping for manufacturer "${manufacturerId}"; mapped: ${[...mappings.keys()].join(', ') || 'none'}`);
  return mapping;
}
