-- Per-chain audit trail with MACs and signed, witnessed checkpoints (audit/chain.ts,
-- audit/checkpoint.ts, api/README.md "Audit integrity").

-- AlterTable: the new columns start nullable so existing records can be placed first.
ALTER TABLE "audit_record" ADD COLUMN     "chain" TEXT,
ADD COLUMN     "mac" TEXT,
ADD COLUMN     "mac_key" TEXT,
ADD COLUMN     "recorded_at" TIMESTAMP(3),
ADD COLUMN     "seq" INTEGER;

-- Records written before this migration formed one database-wide chain in id order. They become
-- the closed `legacy` segment, numbered in that order and verified as before (version 1 hashes,
-- no MAC); the first checkpoint commits to its head. A fresh install has none. Only the owner
-- running this migration may switch the append-only trigger off for this one statement.
ALTER TABLE "audit_record" DISABLE TRIGGER "audit_record_no_update_delete";
UPDATE "audit_record" AS r SET "chain" = 'legacy', "seq" = o."n"
  FROM (SELECT "id", row_number() OVER (ORDER BY "id") AS "n" FROM "audit_record") AS o
  WHERE r."id" = o."id";
ALTER TABLE "audit_record" ENABLE TRIGGER "audit_record_no_update_delete";

ALTER TABLE "audit_record" ALTER COLUMN "chain" SET NOT NULL,
ALTER COLUMN "seq" SET NOT NULL;

-- CreateTable
CREATE TABLE "audit_checkpoint" (
    "number" INTEGER NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL,
    "prev_digest" TEXT NOT NULL,
    "root" TEXT NOT NULL,
    "leaf_count" INTEGER NOT NULL,
    "changes" JSONB NOT NULL,
    "digest" TEXT NOT NULL,
    "signature" TEXT NOT NULL,
    "certificate" TEXT NOT NULL,

    CONSTRAINT "audit_checkpoint_pkey" PRIMARY KEY ("number")
);

-- CreateIndex
CREATE UNIQUE INDEX "audit_checkpoint_digest_key" ON "audit_checkpoint"("digest");

-- CreateIndex
CREATE INDEX "audit_record_recorded_at_idx" ON "audit_record"("recorded_at");

-- CreateIndex
CREATE UNIQUE INDEX "audit_record_chain_seq_key" ON "audit_record"("chain", "seq");

-- One append-only rule for both audit tables (the message names the table). The app connects as
-- a role that owns nothing and holds only INSERT and SELECT on them (platform/database/roles.ts),
-- so it can neither change rows nor switch these triggers off; the owner and superusers can, which
-- the MACs, checkpoints and the witness outside the database detect (`ecoc audit verify`).
CREATE OR REPLACE FUNCTION "audit_record_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER "audit_checkpoint_no_update_delete" BEFORE UPDATE OR DELETE ON "audit_checkpoint"
  FOR EACH ROW EXECUTE FUNCTION "audit_record_append_only"();

CREATE TRIGGER "audit_checkpoint_no_truncate" BEFORE TRUNCATE ON "audit_checkpoint"
  FOR EACH STATEMENT EXECUTE FUNCTION "audit_record_append_only"();

-- The legacy segment is closed: nothing new joins it.
CREATE FUNCTION "audit_record_legacy_closed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the legacy audit segment is closed: new records chain per certificate' USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER "audit_record_no_legacy_insert" BEFORE INSERT ON "audit_record"
  FOR EACH ROW WHEN (NEW."chain" = 'legacy') EXECUTE FUNCTION "audit_record_legacy_closed"();
