import type { Migration, MigrationProvider } from 'kysely';
import { callRecordsMigration } from './0001-call-records.ts';
import { workflowRunsMigration } from './0002-workflow-runs.ts';
import { workflowModelCallsMigration } from './0003-workflow-model-calls.ts';
import { callRecordSavingsMigration } from './0004-call-record-savings.ts';
import { semanticCacheEntriesMigration } from './0005-semantic-cache-entries.ts';

/**
 * Every migration, by name. Names sort in the order they run; a released migration is never
 * edited, only followed by a new one.
 */
export const migrations: Readonly<Record<string, Migration>> = {
  '0001-call-records': callRecordsMigration,
  '0002-workflow-runs': workflowRunsMigration,
  '0003-workflow-model-calls': workflowModelCallsMigration,
  '0004-call-record-savings': callRecordSavingsMigration,
  '0005-semantic-cache-entries': semanticCacheEntriesMigration,
};

/** Kysely's Migrator reads migrations from here (in code, so bundling and tsx need no file scan). */
export function createMigrationProvider(): MigrationProvider {
  return { getMigrations: () => Promise.resolve({ ...migrations }) };
}
