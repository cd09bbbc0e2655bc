import { createTypeApprovalRepository, type ApprovedVersionValues } from '../ivi/type-approvals/repository.ts';
import { composeCertificateData, type ComposedCertificateData, type ValueSource } from '../ivi/compose.ts';
import type { Database } from '../platform/database/prisma.ts';
import type { CocDataGroupValues, IviHeader } from '../schemas/ivi/index.ts';
import type { VehicleRecord } from '../schemas/vehicle-record.ts';
import { loadDataVersion, recordDelivery, type DataVersion } from './store.ts';

export interface CertificateData extends ComposedCertificateData {
  dataVersion: DataVersion;
  /** False when the type approval is not in the master data (values then come from the vehicle alone). */
  typeApprovalKnown: boolean;
  /** The master-data revision the approved values come from. */
  typeApproval: ApprovedVersionValues['revision'] & { typeApprovalId: string } | null;
}

/** The vehicle's identity fields always come from the record itself. */
function vehicleValues(record: VehicleRecord): CocDataGroupValues {
  return {
    ...record.values,
    VehicleIdentificationNumber: record.vin,
    TypeApprovalNumber: record.typeApprovalNumber,
    Variant: record.variant,
    Version: record.version,
  } as CocDataGroupValues;
}

/** A certificate's data at one version: type-approval values + the vehicle's values + corrections. */
export async function loadCertificateData(db: Database, certificateId: string, version: number): Promise<CertificateData> {
  const dataVersion = await loadDataVersion(db, certificateId, version);
  const { record } = dataVersion;
  // The revision recorded with the version: later revisions change a certificate only as a new version.
  const approved = dataVersion.typeApprovalRevisionId
    ? await createTypeApprovalRepository(db).revisionVersionValues(dataVersion.typeApprovalRevisionId, record.variant, record.version)
    : null;
  const typeApprovalValues = approved?.values;
  // A correction version carries the record of the delivery before it: credit that delivery.
  const delivery = await recordDelivery(db, certificateId, dataVersion);
  const source: ValueSource = delivery?.source === 'erp' || delivery?.source === 'vecto' ? delivery.source : 'api';
  const composed = composeCertificateData({
    typeApprovalValues: typeApprovalValues ?? {},
    typeApprovalRevisionId: approved?.revision.id,
    vehicleValues: { source, values: vehicleValues(record), by: delivery?.submittedBy ?? dataVersion.submittedBy },
    corrections: dataVersion.corrections,
  });
  return {
    ...composed,
    dataVersion,
    typeApprovalKnown: typeApprovalValues !== undefined,
    typeApproval: approved ? { typeApprovalId: approved.typeApprovalId, ...approved.revision } : null,
  };
}

/** `e6*2018/858*00264*01` → `e6`: the Member State that routes the message to its NAP. */
export function designatedTypeApprovalCountry(typeApprovalNumber: string): string | undefined {
  return /^(e\d{1,2})\*/.exec(typeApprovalNumber)?.[1];
}

/** The IVI header for a certificate's message. */
export function iviHeader(record: VehicleRecord, message: { iviReferenceId: string; messageVersion: number; at: Date }): IviHeader {
  return {
    IviReferenceId: message.iviReferenceId,
    IviVersionNumberXsd: '2.0',
    IviVersionNumber: message.messageVersion,
    IviVersionDateTime: message.at.toISOString(),
    ...(record.intendedCountryRegistration ? { IntendedCountryRegistration: record.intendedCountryRegistration } : {}),
    DesignatedTypeApprovalCountry: designatedTypeApprovalCountry(record.typeApprovalNumber),
  } as IviHeader;
}
