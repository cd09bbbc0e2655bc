-- CreateTable
CREATE TABLE "type_approval" (
    "id" UUID NOT NULL,
    "manufacturer_id" TEXT NOT NULL,
    "number" TEXT NOT NULL,
    "issue_date" DATE NOT NULL,
    "type_approval_type" TEXT NOT NULL,
    "vehicle_category" TEXT NOT NULL,
    "approval_country" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "type_approval_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "type_approval_version" (
    "id" UUID NOT NULL,
    "type_approval_id" UUID NOT NULL,
    "variant" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "values" JSONB NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "type_approval_version_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "type_approval_manufacturer_id_number_key" ON "type_approval"("manufacturer_id", "number");

-- CreateIndex
CREATE UNIQUE INDEX "type_approval_version_type_approval_id_variant_version_key" ON "type_approval_version"("type_approval_id", "variant", "version");

-- AddForeignKey
ALTER TABLE "type_approval_version" ADD CONSTRAINT "type_approval_version_type_approval_id_fkey" FOREIGN KEY ("type_approval_id") REFERENCES "type_approval"("id") ON DELETE CASCADE ON UPDATE CASCADE;
