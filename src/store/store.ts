import type { CallRecordStore } from './call-record-store.ts';
import type { SemanticCacheStore } from './semantic-cache-store.ts';
import type { WorkflowStore } from './workflow-store.ts';

/**
 * The persistence Pipewright needs, behind one interface: SQLite now, PostgreSQL later. Every
 * implementation must pass `runStoreContract`.
 *
 * @example
 * const store = await createSqliteStore({ path: '.pipewright/pipewright.db' });
 * await store.callRecords.insertMany(records);
 * await store.close();
 */
export interface Store {
  readonly callRecords: CallRecordStore;
  /** Workflow runs, node states, context versions, blobs and events. */
  readonly workflows: WorkflowStore;
  /** The semantic cache's persisted entries (the cache's `persistence` option). */
  readonly semanticCache: SemanticCacheStore;
  /** Closes the connection; the store cannot be used afterwards. */
  close(): Promise<void>;
}
