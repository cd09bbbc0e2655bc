-- AlterTable
ALTER TABLE "certificate" ADD COLUMN     "batch_id" TEXT,
ADD COLUMN     "data_version" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN     "message_version" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN     "owner" TEXT,
ADD COLUMN     "review_deadline" TIMESTAMP(3),
ADD COLUMN     "status" TEXT NOT NULL DEFAULT 'received',
ADD COLUMN     "status_changed_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- CreateIndex
CREATE INDEX "certificate_status_destination_idx" ON "certificate"("status", "destination");
