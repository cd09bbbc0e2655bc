-- AlterTable
ALTER TABLE "audit_record" ADD COLUMN     "hash" TEXT,
ADD COLUMN     "prev_hash" TEXT;

-- CreateTable
CREATE TABLE "api_key" (
    "id" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "description" TEXT,
    "secret_hash" TEXT NOT NULL,
    "roles" TEXT[],
    "manufacturers" TEXT[],
    "created_by" TEXT NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMP(3),
    "revoked_at" TIMESTAMP(3),
    "revoked_by" TEXT,
    "last_used_at" TIMESTAMP(3),

    CONSTRAINT "api_key_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "audit_record_hash_key" ON "audit_record"("hash");

-- CreateIndex
CREATE INDEX "audit_record_occurred_at_idx" ON "audit_record"("occurred_at");

-- Append-only audit trail. A trigger (not privileges) because the embedded setup connects as
-- the table owner, whom privileges cannot restrain; triggers fire for every role. An owner or
-- superuser can still disable the trigger (ALTER TABLE ... DISABLE TRIGGER), which is why the
-- records are also hash-chained: `ecoc audit verify` detects what such a change did.
-- Archiving: export first (GET /api/v1/audit/export), then, as the owner in one transaction,
-- disable the trigger, delete the archived prefix, re-enable it; the verifier reports the
-- remaining chain's anchor (the first record's prev_hash) to compare with the archive's last hash.
CREATE FUNCTION "audit_record_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_record is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER "audit_record_no_update_delete" BEFORE UPDATE OR DELETE ON "audit_record"
  FOR EACH ROW EXECUTE FUNCTION "audit_record_append_only"();

CREATE TRIGGER "audit_record_no_truncate" BEFORE TRUNCATE ON "audit_record"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_record_append_only"();
