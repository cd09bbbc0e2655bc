// Prisma's schema engine compiled to WebAssembly, driven offline: Prisma 7's CLI only runs the
// native engine binary (downloaded at install, unavailable here). This package's JS API is
// internal to Prisma, so its version is pinned exactly to match `prisma` (7.10.0) in package.json.
import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils';
import * as wasmBindings from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { SchemaEngine } from '@prisma/schema-engine-wasm';
import { PrismaPGlite } from 'pglite-prisma-adapter';

export type { SchemaEngine };

// tsconfig's lib has no WebAssembly values (they live in lib.dom); Node provides the global.
declare const WebAssembly: {
  instantiate(bytes: Uint8Array, imports: Record<string, object>): Promise<{ instance: { exports: Record<string, unknown> } }>;
};

let loaded: Promise<void> | undefined;

/**
 * The package's main entry imports the .wasm file as an ES module, which Node 20 only allows
 * behind --experimental-wasm-modules; instantiating it from its JS glue works everywhere.
 */
function loadWasm(): Promise<void> {
  loaded ??= (async () => {
    const wasmFile = new URL('schema_engine_bg.wasm', import.meta.resolve('@prisma/schema-engine-wasm/schema_engine_bg'));
    const { instance } = await WebAssembly.instantiate(readFileSync(wasmFile), {
      './schema_engine_bg.js': wasmBindings,
    });
    wasmBindings.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
  })();
  return loaded;
}

/**
 * Connections the engine reaches through driver adapters (the WASM engine opens no sockets).
 * The shadow database is always a fresh in-memory PGlite, so no server needs rights to create
 * databases. Everything opened is closed by `close()`: neither adapter closes its client on dispose.
 */
class EngineConnections implements SqlMigrationAwareDriverAdapterFactory {
  readonly provider = 'postgres';
  readonly adapterName = 'ecoc-migration-tool';
  readonly #closers: (() => Promise<void>)[] = [];

  constructor(private readonly databaseUrl: string | undefined) {}

  async connect(): Promise<SqlDriverAdapter> {
    if (this.databaseUrl === undefined) return this.connectPglite();
    const adapter = await new PrismaPg({ connectionString: this.databaseUrl }).connect();
    this.#closers.push(() => adapter.dispose());
    return adapter;
  }

  connectToShadowDb(): Promise<SqlDriverAdapter> {
    return this.connectPglite();
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.#closers.splice(0).map((close) => close()));
  }

  private async connectPglite(): Promise<SqlDriverAdapter> {
    const database = new PGlite();
    this.#closers.push(() => database.close());
    // pglite-prisma-adapter is built against an older @prisma/driver-adapter-utils; the adapter interface is the same.
    const adapter = (await new PrismaPGlite(database).connect()) as unknown as SqlDriverAdapter;
    // Its executeScript (0.7.2) does not await PGlite's exec, so a failing migration would pass
    // unnoticed on the shadow database; the engine replays migrations through this method.
    // Its onError turns PostgreSQL errors into driver adapter errors the engine can report.
    const onError = (adapter as unknown as { onError(error: unknown): never }).onError.bind(adapter);
    adapter.executeScript = async (script) => {
      await database.exec(script).catch((error: unknown) => onError(error));
    };
    return adapter;
  }
}

export interface EngineOptions {
  /** Prisma schema files as [path, content]. */
  schemaFiles: [string, string][];
  /**
   * The database the engine treats as "the" database (diff target `url`, migration history).
   * Without it, an in-memory PGlite stands in: diffs between migrations and a schema need none.
   */
  databaseUrl?: string;
}

/** Runs `use` with a schema engine and closes every connection it opened afterwards. */
export async function withSchemaEngine<T>(options: EngineOptions, use: (engine: SchemaEngine) => Promise<T>): Promise<T> {
  await loadWasm();
  const connections = new EngineConnections(options.databaseUrl);
  try {
    const engine = await wasmBindings.SchemaEngine.new(
      { datamodels: options.schemaFiles },
      () => undefined, // engine trace logs (JSON lines); errors arrive as rejected promises instead
      bindMigrationAwareSqlAdapterFactory(connections),
    );
    try {
      return await use(engine);
    } finally {
      engine.free();
    }
  } finally {
    await connections.close();
  }
}
