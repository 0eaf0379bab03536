export * from './call-record.ts';
export type { CallRecordSink } from './call-record-sink.ts';
export {
  cacheEvents,
  createMetrics,
  tokenUsageBuckets,
  operationDurationBuckets,
  type CacheEvent,
  type Metrics,
  type MetricsOptions,
  type HttpRequestObservation,
} from './metrics.ts';
export {
  createBatchingRecorder,
  type TelemetryRecorder,
  type BatchingRecorderOptions,
} from './telemetry-recorder.ts';
export {
  createPriceCatalog,
  costFromPrice,
  canonicalModelName,
  type ModelPrice,
  type PriceCatalog,
  type PriceCatalogOptions,
} from './price-catalog.ts';
export { buildCallRecord, type CallFacts } from './build-call-record.ts';
