import type { Kysely, Migration } from 'kysely';

/**
 * Semantic cache entries, so a restart (or another gateway process) rebuilds the HNSW indexes
 * from them. The vector is a BLOB of little-endian float32. `bytea` is PostgreSQL's binary type;
 * SQLite accepts any declared type, and its NUMERIC affinity stores a BLOB value unchanged.
 */
export const semanticCacheEntriesMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('semantic_cache_entries')
      .addColumn('id', 'text', (column) => column.primaryKey())
      .addColumn('tenant_id', 'text', (column) => column.notNull())
      .addColumn('namespace', 'text', (column) => column.notNull())
      .addColumn('text', 'text', (column) => column.notNull())
      .addColumn('vector', 'bytea', (column) => column.notNull())
      .addColumn('answer_json', 'text', (column) => column.notNull())
      .addColumn('avoided_json', 'text', (column) => column.notNull())
      .addColumn('origin_json', 'text')
      .addColumn('created_at', 'bigint', (column) => column.notNull())
      .addColumn('expires_at', 'bigint', (column) => column.notNull())
      .execute();
    await db.schema
      .createIndex('semantic_cache_entries_tenant')
      .on('semantic_cache_entries')
      .column('tenant_id')
      .execute();
    await db.schema
      .createIndex('semantic_cache_entries_expires_at')
      .on('semantic_cache_entries')
      .column('expires_at')
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('semantic_cache_entries').execute();
  },
};
