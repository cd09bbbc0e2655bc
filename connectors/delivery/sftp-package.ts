import { createHash } from 'node:crypto';
import yauzl from 'yauzl';
import yazl from 'yazl';
import { z } from 'zod';
import type { DeliveryBatch, PackageAcknowledgement } from './channel.ts';

/** Package ids become file names on the partner's server. */
export const packageIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'letters, digits, ".", "_" and "-" (at most 128 characters)');

export const packageManifestSchema = z.object({
  format: z.literal('ecoc-hub/ivi-package/1'),
  packageId: packageIdSchema,
  destination: z.string(),
  createdAt: z.iso.datetime({ offset: true }),
  count: z.number().int().nonnegative(),
  files: z.array(
    z.object({
      name: z.string(),
      vin: z.string(),
      iviReferenceId: z.string(),
      iviVersionNumber: z.number().int().positive(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      size: z.number().int().nonnegative(),
    }),
  ),
});

/** What a partner writes back as `<package>.ack.json`: one verdict per file of the package. */
export const packageAcknowledgementSchema = z.object({
  packageId: packageIdSchema,
  receivedAt: z.iso.datetime({ offset: true }),
  files: z
    .array(
      z.object({
        name: z.string(),
        status: z.enum(['accepted', 'rejected']),
        code: z.string().optional(),
        reason: z.string().optional(),
      }),
    )
    .min(1),
}) satisfies z.ZodType<PackageAcknowledgement>;

export type PackageManifest = z.infer<typeof packageManifestSchema>;

export interface IviPackage {
  name: string;
  zip: Buffer;
  sha256: string;
  manifest: PackageManifest;
}

export const packageFileName = (packageId: string) => `${packageId}.zip`;
export const acknowledgementFileName = (packageId: string) => `${packageId}.ack.json`;

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/**
 * Zips signed IVI files (`<VIN>_v<version>.xml`, bytes untouched) with a `manifest.json`.
 * Deterministic: entry order, timestamps and manifest derive from the request only, so a
 * retried build produces the same bytes and hash, which is what makes re-delivery detectable.
 */
export async function buildIviPackage(destinationId: string, request: DeliveryBatch): Promise<IviPackage> {
  const packageId = packageIdSchema.parse(request.packageId);
  if (request.messages.length === 0) throw new Error(`package ${packageId} has no messages`);
  const createdAt = new Date(request.createdAt);
  if (Number.isNaN(createdAt.getTime())) throw new Error(`package ${packageId}: createdAt "${request.createdAt}" is not a date`);
  const files = request.messages.map((message) => ({
    name: `${message.vin}_v${message.iviVersionNumber}.xml`,
    vin: message.vin,
    iviReferenceId: message.iviReferenceId,
    iviVersionNumber: message.iviVersionNumber,
    sha256: sha256(message.xml),
    size: message.xml.byteLength,
  }));
  const duplicate = files.find((file, index) => files.findIndex((other) => other.name === file.name) !== index);
  if (duplicate) throw new Error(`package ${packageId} contains ${duplicate.name} twice`);
  const manifest = packageManifestSchema.parse({
    format: 'ecoc-hub/ivi-package/1',
    packageId,
    destination: destinationId,
    createdAt: request.createdAt,
    count: files.length,
    files,
  });

  const zip = new yazl.ZipFile();
  const entry = { mtime: createdAt, mode: 0o100644, compress: true } as const;
  zip.addBuffer(Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), 'manifest.json', entry);
  request.messages.forEach((message, index) => zip.addBuffer(Buffer.from(message.xml), files[index]!.name, entry));
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  return { name: packageFileName(packageId), zip: bytes, sha256: sha256(bytes), manifest };
}

/** The manifest of a package's zip bytes; a zip without a valid manifest is not one of ours. */
export async function readPackageManifest(zip: Buffer): Promise<PackageManifest> {
  const text = await new Promise<string>((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (error, archive) => {
      if (error) return reject(error);
      archive.on('error', reject);
      archive.on('end', () => reject(new Error('the zip has no manifest.json')));
      archive.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName !== 'manifest.json') return archive.readEntry();
        archive.openReadStream(entry, (streamError, stream) => {
          if (streamError) return reject(streamError);
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('error', reject);
          stream.on('end', () => {
            archive.close();
            resolve(Buffer.concat(chunks).toString('utf8'));
          });
        });
      });
      archive.readEntry();
    });
  });
  return packageManifestSchema.parse(JSON.parse(text));
}
