-- Type approvals get revisions: what an approval says (its header and its variants/versions)
-- moves into revision 1 of each existing approval, published as it stood; certificate data
-- versions composed from it point at that revision.

-- CreateTable
CREATE TABLE "type_approval_revision" (
    "id" UUID NOT NULL,
    "type_approval_id" UUID NOT NULL,
    "sequence" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "extension_number" TEXT NOT NULL,
    "effective_date" DATE NOT NULL,
    "reason" TEXT NOT NULL,
    "base_act" TEXT,
    "issue_date" DATE NOT NULL,
    "type_approval_type" TEXT NOT NULL,
    "vehicle_category" TEXT NOT NULL,
    "approval_country" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "drafted_by" TEXT[],
    "published_by" TEXT,
    "published_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "type_approval_revision_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "type_approval_impact" (
    "revision_id" UUID NOT NULL,
    "certificate_id" TEXT NOT NULL,
    "variant" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "status_at_impact" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "data_version" INTEGER,
    "changed_fields" JSONB NOT NULL DEFAULT '[]',
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "type_approval_impact_pkey" PRIMARY KEY ("revision_id","certificate_id")
);

-- Existing approvals: revision 1, published, effective from the issue date.
INSERT INTO "type_approval_revision" ("id", "type_approval_id", "sequence", "status", "extension_number", "effective_date", "reason",
    "issue_date", "type_approval_type", "vehicle_category", "approval_country", "type", "drafted_by", "published_by", "published_at", "updated_at")
SELECT gen_random_uuid(), "id", 1, 'published', COALESCE(NULLIF(split_part("number", '*', 5), ''), '00'), "issue_date",
    'master data stored before revisions existed', "issue_date", "type_approval_type", "vehicle_category", "approval_country", "type",
    ARRAY['migration'], 'migration', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
FROM "type_approval";

-- Versions move from the approval to its revision 1.
ALTER TABLE "type_approval_version" DROP CONSTRAINT "type_approval_version_type_approval_id_fkey";
DROP INDEX "type_approval_version_type_approval_id_variant_version_key";
ALTER TABLE "type_approval_version" ADD COLUMN "revision_id" UUID;
UPDATE "type_approval_version" v SET "revision_id" = r."id" FROM "type_approval_revision" r WHERE r."type_approval_id" = v."type_approval_id";
ALTER TABLE "type_approval_version" ALTER COLUMN "revision_id" SET NOT NULL;
ALTER TABLE "type_approval_version" DROP COLUMN "type_approval_id",
DROP COLUMN "updated_at";

-- Data versions composed from an approval in the master data point at its revision 1.
ALTER TABLE "certificate_data_version" ADD COLUMN     "type_approval_revision_id" UUID;
UPDATE "certificate_data_version" d SET "type_approval_revision_id" = r."id"
FROM "type_approval" a
JOIN "type_approval_revision" r ON r."type_approval_id" = a."id"
JOIN "type_approval_version" v ON v."revision_id" = r."id"
WHERE a."manufacturer_id" = d."record"->>'manufacturerId' AND a."number" = d."record"->>'typeApprovalNumber'
  AND v."variant" = d."record"->>'variant' AND v."version" = d."record"->>'version';

-- AlterTable
ALTER TABLE "type_approval" DROP COLUMN "approval_country",
DROP COLUMN "issue_date",
DROP COLUMN "type",
DROP COLUMN "type_approval_type",
DROP COLUMN "vehicle_category";

-- CreateIndex
CREATE INDEX "type_approval_revision_type_approval_id_status_effective_da_idx" ON "type_approval_revision"("type_approval_id", "status", "effective_date");

-- CreateIndex
CREATE UNIQUE INDEX "type_approval_revision_type_approval_id_sequence_key" ON "type_approval_revision"("type_approval_id", "sequence");

-- CreateIndex
CREATE INDEX "type_approval_impact_revision_id_action_idx" ON "type_approval_impact"("revision_id", "action");

-- CreateIndex
CREATE INDEX "certificate_manufacturer_id_type_approval_number_variant_ve_idx" ON "certificate"("manufacturer_id", "type_approval_number", "variant", "version");

-- CreateIndex
CREATE UNIQUE INDEX "type_approval_version_revision_id_variant_version_key" ON "type_approval_version"("revision_id", "variant", "version");

-- AddForeignKey
ALTER TABLE "type_approval_revision" ADD CONSTRAINT "type_approval_revision_type_approval_id_fkey" FOREIGN KEY ("type_approval_id") REFERENCES "type_approval"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "type_approval_version" ADD CONSTRAINT "type_approval_version_revision_id_fkey" FOREIGN KEY ("revision_id") REFERENCES "type_approval_revision"("id") ON DELETE CASCADE ON UPDATE CASCADE;
