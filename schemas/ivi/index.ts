import { z } from 'zod';
import { cocDataGroupSchema, cocDataGroupValuesSchema, headerSchema } from './generated/model.ts';

/**
 * The IVI 2.0 message as JSON. Keys are the XSD element names; a table holds its repeated group
 * as an array (`AxleTable: { AxleGroup: [...] }`), so the JSON maps 1:1 to the XML. Everything
 * here is generated from `schemas/xsd/IVI_2.0.xsd` (see `tools/generate.ts`).
 */
export { cocDataGroupSchema, cocDataGroupValuesSchema, headerSchema as iviHeaderSchema };
export { iviSimpleTypeSchemas } from './generated/model.ts';
export { iviDescriptor } from './generated/descriptor.ts';
export type { IviComplexType, IviDescriptor, IviElement, IviSimpleType, IviValueKind } from './descriptor-types.ts';

/** The data of an IVI message; the mandatory ds:Signature is added by signing, not modelled. */
export const iviMessageSchema = z.strictObject({
  header: headerSchema,
  cocDataGroup: cocDataGroupSchema,
});

export type IviMessage = z.infer<typeof iviMessageSchema>;
export type IviHeader = z.infer<typeof headerSchema>;
export type CocDataGroup = z.infer<typeof cocDataGroupSchema>;
/** Any part of a CocDataGroup, every level optional: type-approval version values, vehicle values. */
export type CocDataGroupValues = z.infer<typeof cocDataGroupValuesSchema>;
export type VehicleCategory = CocDataGroup['VehicleCategory'];
