-- AlterTable
ALTER TABLE "certificate_data_version" ADD COLUMN     "corrections" JSONB NOT NULL DEFAULT '[]';
