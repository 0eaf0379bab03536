import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type SqliteDatabase } from 'kysely';
import { LRUCache } from 'lru-cache';
import { ConfigError, PipewrightError } from '../../core/index.ts';
import { createKyselyCallRecordStore, type StoreDatabase } from '../kysely-call-record-store.ts';
import {
  createKyselySemanticCacheStore,
  type SemanticCacheDatabase,
} from '../kysely-semantic-cache-store.ts';
import { createKyselyWorkflowStore, type WorkflowDatabase } from '../kysely-workflow-store.ts';
import { createMigrationProvider } from '../migrations/index.ts';
import type { Store } from '../store.ts';
import { toStoreError } from '../store-error.ts';

export interface SqliteStoreOptions {
  /** A file path (its directory is created when missing) or `:memory:`. */
  path: string;
  /** How long a write waits for another connection's lock before failing, in ms (default 5,000). */
  busyTimeoutMs?: number;
}

/**
 * Opens (creating when needed) a SQLite store through Kysely over better-sqlite3, in WAL mode
 * with `synchronous=NORMAL`, and runs pending migrations before resolving.
 *
 * @example
 * const store = await createSqliteStore({ path: '.pipewright/pipewright.db' });
 * await store.callRecords.insertMany(records);
 * const summary = await store.callRecords.summarize({ tenantId: 'acme', since: Date.now() - 86_400_000 });
 * await store.close();
 */
export async function createSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  if (typeof options.path !== 'string' || options.path.trim().length === 0) {
    throw new ConfigError({ message: 'the SQLite store needs a file path or ":memory:"', param: 'path' });
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;
  let database: Database.Database;
  try {
    database = openDatabase(options.path, busyTimeoutMs);
  } catch (error) {
    throw toStoreError(error, `open of ${options.path}`);
  }

  const db = new Kysely<StoreDatabase>({
    dialect: new SqliteDialect({ database: reusingStatements(database) }),
  });
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw toStoreError(error, `migration of ${options.path}`);
  }

  let closing: Promise<void> | undefined;
  return {
    callRecords: createKyselyCallRecordStore(db),
    workflows: createKyselyWorkflowStore(db.withTables<WorkflowDatabase>()),
    semanticCache: createKyselySemanticCacheStore(db.withTables<SemanticCacheDatabase>()),
    close() {
      closing ??= db.destroy().catch((error: unknown) => {
        throw toStoreError(error, 'close');
      });
      return closing;
    },
  };
}

/**
 * Kysely prepares every query anew; better-sqlite3 statements are reusable, and keeping the few
 * hundred distinct ones saves the parse on every query (a workflow commits several per node).
 */
function reusingStatements(database: Database.Database): SqliteDatabase {
  const statements = new LRUCache<string, Database.Statement>({ max: 500 });
  return {
    close: () => database.close(),
    prepare(sql) {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = database.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

function openDatabase(path: string, busyTimeoutMs: number): Database.Database {
  const inMemory = path === ':memory:';
  if (!inMemory) mkdirSync(dirname(resolve(path)), { recursive: true });
  const database = new Database(path, { timeout: busyTimeoutMs });
  try {
    // WAL lets readers (the dashboard) run while the recorder writes; NORMAL is durable across
    // process crashes in WAL mode and only risks the last commits on power loss.
    if (!inMemory) database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    database.pragma('foreign_keys = ON');
  } catch (error) {
    database.close();
    throw error;
  }
  return database;
}

async function migrateToLatest(db: Kysely<StoreDatabase>): Promise<void> {
  const migrator = new Migrator({ db, provider: createMigrationProvider() });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((result) => result.status === 'Error')?.migrationName;
    const reason = error instanceof Error ? error.message : String(error);
    const name = failed === undefined ? 'migration' : `migration ${failed}`;
    throw new PipewrightError({
      code: 'store.failure',
      message: `store ${name} failed: ${reason}`,
      cause: error,
    });
  }
}
