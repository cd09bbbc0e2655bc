import { z } from 'zod';

/** IVI messages are ~20 KB and VECTO files a few MB; 10 MiB leaves room without inviting abuse. */
export const DEFAULT_MAX_XML_BYTES = 10 * 1024 * 1024;

/** IVI message handling. */
export const iviConfigSchema = z.object({
  /** Largest untrusted XML document (IVI import, VECTO file) accepted for parsing, in bytes. */
  ECOC_XML_MAX_BYTES: z.coerce.number().int().min(1024).default(DEFAULT_MAX_XML_BYTES),
});
