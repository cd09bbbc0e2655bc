-- CreateTable
CREATE TABLE "erp_inbox_file" (
    "id" UUID NOT NULL,
    "manufacturer_id" TEXT NOT NULL,
    "file_name" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "size" BIGINT NOT NULL,
    "status" TEXT NOT NULL,
    "target" TEXT,
    "report" JSONB,
    "rows" INTEGER NOT NULL DEFAULT 0,
    "accepted" INTEGER NOT NULL DEFAULT 0,
    "rejected" INTEGER NOT NULL DEFAULT 0,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "first_seen_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finished_at" TIMESTAMP(3),

    CONSTRAINT "erp_inbox_file_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "vecto_import" (
    "id" UUID NOT NULL,
    "certificate_id" TEXT NOT NULL,
    "vin" TEXT NOT NULL,
    "cif_sha256" TEXT NOT NULL,
    "mrf_sha256" TEXT NOT NULL,
    "cif" BYTEA NOT NULL,
    "mrf" BYTEA NOT NULL,
    "versions" JSONB NOT NULL,
    "hash_matches" BOOLEAN NOT NULL,
    "hash_check" JSONB NOT NULL,
    "proposals" JSONB NOT NULL,
    "cross_checks" JSONB NOT NULL,
    "findings" JSONB NOT NULL,
    "imported_by" TEXT NOT NULL,
    "imported_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "confirmed_by" TEXT,
    "confirmed_at" TIMESTAMP(3),
    "confirmed_paths" JSONB,
    "data_version" INTEGER,
    "data_hash" TEXT,

    CONSTRAINT "vecto_import_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "erp_inbox_file_manufacturer_id_file_name_sha256_key" ON "erp_inbox_file"("manufacturer_id", "file_name", "sha256");

-- CreateIndex
CREATE UNIQUE INDEX "vecto_import_certificate_id_cif_sha256_mrf_sha256_key" ON "vecto_import"("certificate_id", "cif_sha256", "mrf_sha256");

-- AddForeignKey
ALTER TABLE "vecto_import" ADD CONSTRAINT "vecto_import_certificate_id_fkey" FOREIGN KEY ("certificate_id") REFERENCES "certificate"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
