import type { ColumnType, Insertable, Kysely, Selectable } from 'kysely';
import type { AvoidedCost, CachedAnswer, CacheOrigin, SemanticCacheRecord } from '../cache/index.ts';
import type { SemanticCacheStore } from './semantic-cache-store.ts';
import { toStoreError } from './store-error.ts';

/** The semantic_cache_entries table: PostgreSQL gives `bigint` as strings, so reads accept both. */
export interface SemanticCacheEntriesTable {
  id: string;
  tenant_id: string;
  namespace: string;
  text: string;
  /** Little-endian float32, 4 bytes per dimension. */
  vector: Uint8Array;
  answer_json: string;
  avoided_json: string;
  /** Which deployment produced the answer; null when not known. */
  origin_json: string | null;
  created_at: ColumnType<number | string, number, number>;
  expires_at: ColumnType<number | string, number, number>;
}

// A type alias, not an interface: `withTables` needs an index-signature-compatible shape.
export type SemanticCacheDatabase = {
  semantic_cache_entries: SemanticCacheEntriesTable;
};

/**
 * The semantic-cache store over any Kysely dialect. `save` is an upsert on the id (storing the
 * same request again replaces its entry), `loadAll` returns the oldest first.
 *
 * @example
 * const semanticCache = createKyselySemanticCacheStore(db.withTables<SemanticCacheDatabase>());
 * await semanticCache.save(record);
 */
export function createKyselySemanticCacheStore(db: Kysely<SemanticCacheDatabase>): SemanticCacheStore {
  return {
    async save(record) {
      const row = toRow(record);
      const { id: _id, ...changes } = row;
      try {
        await db
          .insertInto('semantic_cache_entries')
          .values(row)
          .onConflict((conflict) => conflict.column('id').doUpdateSet(changes))
          .execute();
      } catch (error) {
        throw toStoreError(error, 'save of a semantic cache entry');
      }
    },

    async delete(id) {
      try {
        await db.deleteFrom('semantic_cache_entries').where('id', '=', id).execute();
      } catch (error) {
        throw toStoreError(error, 'delete of a semantic cache entry');
      }
    },

    async loadAll() {
      try {
        const rows = await db
          .selectFrom('semantic_cache_entries')
          .selectAll()
          .orderBy('created_at', 'asc')
          .orderBy('id', 'asc')
          .execute();
        return rows.map(toRecord);
      } catch (error) {
        throw toStoreError(error, 'load of semantic cache entries');
      }
    },

    async deleteExpired(now) {
      try {
        const result = await db
          .deleteFrom('semantic_cache_entries')
          .where('expires_at', '<=', now)
          .executeTakeFirst();
        return Number(result.numDeletedRows);
      } catch (error) {
        throw toStoreError(error, 'delete of expired semantic cache entries');
      }
    },
  };
}

function toRow(record: SemanticCacheRecord): Insertable<SemanticCacheEntriesTable> {
  return {
    id: record.id,
    tenant_id: record.tenant,
    namespace: record.namespace,
    text: record.text,
    vector: encodeVector(record.vector),
    answer_json: JSON.stringify(record.answer),
    avoided_json: JSON.stringify(record.avoided),
    origin_json: record.origin === undefined ? null : JSON.stringify(record.origin),
    created_at: record.createdAt,
    expires_at: record.expiresAt,
  };
}

function toRecord(row: Selectable<SemanticCacheEntriesTable>): SemanticCacheRecord {
  const record: SemanticCacheRecord = {
    id: row.id,
    namespace: row.namespace,
    tenant: row.tenant_id,
    text: row.text,
    vector: decodeVector(row.vector),
    answer: JSON.parse(row.answer_json) as CachedAnswer,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    avoided: JSON.parse(row.avoided_json) as AvoidedCost,
  };
  if (row.origin_json !== null) record.origin = JSON.parse(row.origin_json) as CacheOrigin;
  return record;
}

/** Float32, little-endian whatever the machine: a database file moves between machines. */
function encodeVector(vector: readonly number[]): Buffer {
  const bytes = Buffer.allocUnsafe(vector.length * 4);
  vector.forEach((value, index) => bytes.writeFloatLE(value, index * 4));
  return bytes;
}

function decodeVector(bytes: Uint8Array): number[] {
  const buffer = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const vector = new Array<number>(buffer.byteLength >> 2);
  for (let index = 0; index < vector.length; index += 1) vector[index] = buffer.readFloatLE(index * 4);
  return vector;
}
