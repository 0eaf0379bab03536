import type { Kysely, Migration } from 'kysely';

/**
 * What a cache hit saved: the cost (USD) and latency (ms) of the original call it replaced.
 * Nullable: null on every call that was not a hit, and on rows written before this migration.
 */
export const callRecordSavingsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('call_records').addColumn('saved_cost_usd', 'double precision').execute();
    await db.schema.alterTable('call_records').addColumn('saved_latency_ms', 'double precision').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('call_records').dropColumn('saved_latency_ms').execute();
    await db.schema.alterTable('call_records').dropColumn('saved_cost_usd').execute();
  },
};
