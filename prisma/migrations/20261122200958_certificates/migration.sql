-- AlterTable
ALTER TABLE "audit_record" ADD COLUMN     "entry_key" TEXT;

-- CreateTable
CREATE TABLE "certificate" (
    "id" TEXT NOT NULL,
    "manufacturer_id" TEXT NOT NULL,
    "vin" TEXT NOT NULL,
    "stage" INTEGER NOT NULL,
    "type_approval_number" TEXT NOT NULL,
    "variant" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "destination" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "certificate_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "certificate_data_version" (
    "certificate_id" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "record" JSONB NOT NULL,
    "hash" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "submitted_by" TEXT NOT NULL,
    "reason" TEXT,
    "findings" JSONB,
    "rule_set_version" TEXT,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "certificate_data_version_pkey" PRIMARY KEY ("certificate_id","version")
);

-- CreateTable
CREATE TABLE "certificate_message" (
    "ivi_reference_id" TEXT NOT NULL,
    "certificate_id" TEXT NOT NULL,
    "message_version" INTEGER NOT NULL,
    "data_version" INTEGER NOT NULL,
    "unsigned_xml" TEXT NOT NULL,
    "unsigned_hash" TEXT NOT NULL,
    "signed_xml" BYTEA,
    "signed_hash" TEXT,
    "signature_value" TEXT,
    "certificate_fingerprint" TEXT,
    "signed_at" TIMESTAMP(3),
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "certificate_message_pkey" PRIMARY KEY ("ivi_reference_id")
);

-- CreateTable
CREATE TABLE "delivery_receipt" (
    "id" TEXT NOT NULL,
    "certificate_id" TEXT NOT NULL,
    "ivi_reference_id" TEXT NOT NULL,
    "message_version" INTEGER NOT NULL,
    "destination" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "reference" TEXT NOT NULL,
    "batch_id" TEXT,
    "detail" JSONB NOT NULL DEFAULT '{}',
    "delivered_at" TIMESTAMP(3) NOT NULL,
    "acknowledged_at" TIMESTAMP(3),

    CONSTRAINT "delivery_receipt_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "certificate_manufacturer_id_idx" ON "certificate"("manufacturer_id");

-- CreateIndex
CREATE UNIQUE INDEX "certificate_vin_stage_key" ON "certificate"("vin", "stage");

-- CreateIndex
CREATE INDEX "certificate_message_certificate_id_message_version_idx" ON "certificate_message"("certificate_id", "message_version");

-- CreateIndex
CREATE INDEX "delivery_receipt_certificate_id_idx" ON "delivery_receipt"("certificate_id");

-- CreateIndex
CREATE UNIQUE INDEX "delivery_receipt_ivi_reference_id_destination_kind_key" ON "delivery_receipt"("ivi_reference_id", "destination", "kind");

-- CreateIndex
CREATE UNIQUE INDEX "audit_record_entry_key_key" ON "audit_record"("entry_key");

-- AddForeignKey
ALTER TABLE "certificate_data_version" ADD CONSTRAINT "certificate_data_version_certificate_id_fkey" FOREIGN KEY ("certificate_id") REFERENCES "certificate"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "certificate_message" ADD CONSTRAINT "certificate_message_certificate_id_fkey" FOREIGN KEY ("certificate_id") REFERENCES "certificate"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "delivery_receipt" ADD CONSTRAINT "delivery_receipt_certificate_id_fkey" FOREIGN KEY ("certificate_id") REFERENCES "certificate"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
