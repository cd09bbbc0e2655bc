import { readFile, writeFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { prettifyError, z } from 'zod';
import { platformConfigSchema } from '../schemas/config/platform.ts';
import { typeApprovalFileFormatSchema, type TypeApprovalFileFormat } from '../schemas/ivi/type-approval-file.ts';

/**
 * `ecoc approvals …`: type-approval master data through the running API (routes and contract:
 * api/routes/type-approvals.ts, schemas/api/type-approvals.ts), so a terminal gets exactly the
 * checks, four-eyes rule and audit trail the console does. Prints the API's JSON answers; a
 * refused call prints the API's answer too and exits 1.
 */

/** Where the API is and who calls it: ECOC_API_URL, else http://127.0.0.1:<ECOC_API_PORT>; an API key (`ecoc keys create`). */
const apiClientEnvSchema = z.object({
  ECOC_API_URL: z.url({ protocol: /^https?$/ }).optional(),
  ECOC_API_PORT: platformConfigSchema.shape.ECOC_API_PORT,
  ECOC_API_TOKEN: z.string({ error: 'ECOC_API_TOKEN is not set: an API key of the caller (ecoc keys create)' }).min(1),
});

/** The API answered with an error status; `body` is its answer (JSON when it sent JSON). */
class ApiAnswerError extends Error {
  override name = 'ApiAnswerError';
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`the API answered ${status}`);
  }
}

interface ApiClient {
  json(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown>;
  file(path: string): Promise<{ bytes: Uint8Array; fileName?: string; contentType: string }>;
}

function apiClient(): ApiClient {
  const given = Object.fromEntries(Object.entries(process.env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = apiClientEnvSchema.safeParse(given);
  if (!parsed.success) throw new Error(prettifyError(parsed.error));
  const env = parsed.data;
  const base = (env.ECOC_API_URL ?? `http://127.0.0.1:${env.ECOC_API_PORT}`).replace(/\/$/, '');
  const request = async (method: string, path: string, body?: unknown) => {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${env.ECOC_API_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      // fetch says only "fetch failed"; the cause names the refusal or the unknown host.
      const cause = (error as Error & { cause?: Error }).cause?.message ?? (error as Error).message;
      throw new Error(`cannot reach the API at ${base} (${cause}); set ECOC_API_URL or ECOC_API_PORT`, { cause: error });
    }
    if (!response.ok) {
      const text = await response.text();
      throw new ApiAnswerError(response.status, (response.headers.get('content-type') ?? '').includes('json') && text ? JSON.parse(text) : text);
    }
    return response;
  };
  return {
    async json(method, path, body) {
      return (await request(method, path, body)).json();
    },
    async file(path) {
      const response = await request('GET', path);
      const fileName = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1];
      return { bytes: new Uint8Array(await response.arrayBuffer()), contentType: response.headers.get('content-type') ?? '', ...(fileName ? { fileName: basename(fileName) } : {}) };
    },
  };
}

function print(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}

/** Runs one call; an API refusal prints the API's answer and exits 1 (anything else is main's error). */
function action<A extends unknown[]>(run: (api: ApiClient, ...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      await run(apiClient(), ...args);
    } catch (error) {
      if (!(error instanceof ApiAnswerError)) throw error;
      print({ status: error.status, answer: error.body });
      process.exitCode = 1;
    }
  };
}

function format(value: string): TypeApprovalFileFormat {
  const parsed = typeApprovalFileFormatSchema.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(`expected one of ${typeApprovalFileFormatSchema.options.join(', ')}`);
  return parsed.data;
}

const query = (parameters: Record<string, string | undefined>) => {
  const search = new URLSearchParams(Object.entries(parameters).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return search.size > 0 ? `?${search}` : '';
};

export function registerApprovalCommands(program: Command): void {
  const approvals = program.command('approvals').description('Type-approval master data through the running API (ECOC_API_URL or ECOC_API_PORT, ECOC_API_TOKEN)');

  approvals
    .command('import <file>')
    .description('Import an approval file (.xlsx, .csv, .json) as a draft revision; prints the report (problems by sheet, row, column, field)')
    .option('--format <format>', 'xlsx, csv or json (default: from the file name)', format)
    .option('--manufacturer <id>', 'whose approval it is (default: your only manufacturer)')
    .option('--dry-run', 'check the file, store nothing')
    .action(
      action(async (api, file: string, options: { format?: TypeApprovalFileFormat; manufacturer?: string; dryRun?: boolean }) => {
        const fileFormat = options.format ?? typeApprovalFileFormatSchema.safeParse(extname(file).slice(1).toLowerCase()).data;
        if (!fileFormat) throw new Error(`cannot tell the format of ${file}: name it .xlsx, .csv or .json, or pass --format`);
        const content = Buffer.from(await readFile(file)).toString('base64');
        print(
          await api.json('POST', '/api/v1/type-approvals/imports', {
            format: fileFormat,
            content,
            fileName: basename(file),
            dryRun: options.dryRun ?? false,
            ...(options.manufacturer ? { manufacturerId: options.manufacturer } : {}),
          }),
        );
      }),
    );

  approvals
    .command('export <revisionId>')
    .description('Write a revision as a file in the import layout; prints where')
    .option('--format <format>', 'xlsx, csv or json', format, 'xlsx' as TypeApprovalFileFormat)
    .option('--out <path>', 'where to write it (default: the name the API gives, in the current directory)')
    .action(
      action(async (api, revisionId: string, options: { format: TypeApprovalFileFormat; out?: string }) => {
        const file = await api.file(`/api/v1/type-approvals/revisions/${encodeURIComponent(revisionId)}/export${query({ format: options.format })}`);
        const path = options.out ?? file.fileName ?? `${revisionId}.${options.format}`;
        await writeFile(path, file.bytes);
        print({ file: path, bytes: file.bytes.byteLength, contentType: file.contentType });
      }),
    );

  approvals
    .command('list')
    .description('List approvals with their published revision and open draft')
    .option('--search <text>', 'part of the number or the type')
    .option('--manufacturer <id>', 'only this manufacturer')
    .action(
      action(async (api, options: { search?: string; manufacturer?: string }) => {
        print(await api.json('GET', `/api/v1/type-approvals${query({ q: options.search, manufacturerId: options.manufacturer })}`));
      }),
    );

  approvals
    .command('show <id>')
    .description('An approval with its revisions; with --revision, one revision with its content')
    .option('--revision', 'the id is a revision id')
    .action(
      action(async (api, id: string, options: { revision?: boolean }) => {
        print(await api.json('GET', options.revision ? `/api/v1/type-approvals/revisions/${encodeURIComponent(id)}` : `/api/v1/type-approvals/${encodeURIComponent(id)}`));
      }),
    );

  approvals
    .command('diff <revisionId>')
    .description('What changed from an earlier revision (default: the one in effect before) to this one')
    .option('--against <revisionId>', 'the earlier revision')
    .action(
      action(async (api, revisionId: string, options: { against?: string }) => {
        print(await api.json('GET', `/api/v1/type-approvals/revisions/${encodeURIComponent(revisionId)}/diff${query({ against: options.against })}`));
      }),
    );

  approvals
    .command('publish <revisionId>')
    .description('Publish a draft (someone other than its drafters); the change impact starts on Temporal')
    .action(
      action(async (api, revisionId: string) => {
        print(await api.json('POST', `/api/v1/type-approvals/revisions/${encodeURIComponent(revisionId)}/publish`));
      }),
    );
}
