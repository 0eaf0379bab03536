export type { CallRecordQuery, CallRecordStore, CallRecordSummary } from './call-record-store.ts';
export type { Store } from './store.ts';
export type { SemanticCacheStore } from './semantic-cache-store.ts';
export {
  createKyselySemanticCacheStore,
  type SemanticCacheDatabase,
  type SemanticCacheEntriesTable,
} from './kysely-semantic-cache-store.ts';
export { createSqliteStore, type SqliteStoreOptions } from './sqlite/sqlite-store.ts';
export {
  createKyselyCallRecordStore,
  defaultListLimit,
  maxListLimit,
  type StoreDatabase,
  type CallRecordsTable,
} from './kysely-call-record-store.ts';
export { migrations, createMigrationProvider } from './migrations/index.ts';
export { toStoreError } from './store-error.ts';
export type {
  ContextWriteRecord,
  ModelCallRecord,
  WorkflowCommit,
  WorkflowErrorRecord,
  WorkflowEventRecord,
  WorkflowNodeRecord,
  WorkflowNodeStatus,
  WorkflowRunRecord,
  WorkflowRunStatus,
  WorkflowStore,
} from './workflow-store.ts';
export { createKyselyWorkflowStore, type WorkflowDatabase } from './kysely-workflow-store.ts';
