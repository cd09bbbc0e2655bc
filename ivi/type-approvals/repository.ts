import type { Database } from '../../platform/database/prisma.ts';
import type { CocDataGroupValues } from '../../schemas/ivi/index.ts';
import { cocDataGroupValuesSchema } from '../../schemas/ivi/index.ts';
import { typeApprovalSchema } from '../../schemas/ivi/type-approval.ts';
import type { TypeApproval, TypeApprovalInput } from '../../schemas/ivi/type-approval.ts';

/** The approved data a certificate starts from (ivi/compose.ts `typeApprovalValues`). */
export interface ApprovedVersionValues {
  typeApprovalId: string;
  approval: Omit<TypeApproval, 'versions'>;
  variant: string;
  version: string;
  /** The version's technical values with the approval's identity fields filled in. */
  values: CocDataGroupValues;
}

export interface TypeApprovalKey {
  manufacturerId: string;
  number: string;
  variant: string;
  version: string;
}

const isoDate = (date: Date) => date.toISOString().slice(0, 10);

export function createTypeApprovalRepository(db: Database) {
  return {
    /**
     * Creates or updates an approval and the versions given. Versions not in `input` are kept:
     * an extension that lists only new versions never erases approved data.
     */
    async upsert(input: TypeApprovalInput): Promise<{ id: string }> {
      const approval = typeApprovalSchema.parse(input);
      const columns = {
        issueDate: new Date(`${approval.issueDate}T00:00:00Z`),
        typeApprovalType: approval.typeApprovalType,
        vehicleCategory: approval.vehicleCategory,
        approvalCountry: approval.approvalCountry,
        type: approval.type,
      };
      return db.$transaction(async (tx) => {
        const row = await tx.typeApproval.upsert({
          where: { manufacturerId_number: { manufacturerId: approval.manufacturerId, number: approval.number } },
          create: { manufacturerId: approval.manufacturerId, number: approval.number, ...columns },
          update: columns,
          select: { id: true },
        });
        for (const version of approval.versions) {
          await tx.typeApprovalVersion.upsert({
            where: { typeApprovalId_variant_version: { typeApprovalId: row.id, variant: version.variant, version: version.version } },
            create: { typeApprovalId: row.id, variant: version.variant, version: version.version, values: version.values },
            update: { values: version.values },
          });
        }
        return { id: row.id };
      });
    },

    /** The approved values for a vehicle built to number + variant + version, or null if unknown. */
    async findVersionValues(key: TypeApprovalKey): Promise<ApprovedVersionValues | null> {
      const row = await db.typeApprovalVersion.findFirst({
        where: { variant: key.variant, version: key.version, typeApproval: { manufacturerId: key.manufacturerId, number: key.number } },
        include: { typeApproval: true },
      });
      if (!row) return null;
      const ta = row.typeApproval;
      const approval = typeApprovalSchema.omit({ versions: true }).parse({
        manufacturerId: ta.manufacturerId,
        number: ta.number,
        issueDate: isoDate(ta.issueDate),
        typeApprovalType: ta.typeApprovalType,
        vehicleCategory: ta.vehicleCategory,
        approvalCountry: ta.approvalCountry,
        type: ta.type,
      });
      const technical = cocDataGroupValuesSchema.parse(row.values);
      return {
        typeApprovalId: ta.id,
        approval,
        variant: row.variant,
        version: row.version,
        values: {
          ...technical,
          TypeApprovalType: approval.typeApprovalType,
          TypeApprovalNumber: approval.number,
          TypeApprovalIssueDate: approval.issueDate,
          VehicleCategory: approval.vehicleCategory,
          Type: approval.type,
          Variant: row.variant,
          Version: row.version,
        },
      };
    },
  };
}

export type TypeApprovalRepository = ReturnType<typeof createTypeApprovalRepository>;
