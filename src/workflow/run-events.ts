import type { WorkflowEventRecord, WorkflowStore } from '../store/index.ts';
import { createWorkflowError } from './workflow-definition-error.ts';

/**
 * The live events of one active run: the journal publishes each transition's events once they
 * are stored, and `end` tells every subscriber that no more will come.
 *
 * @example
 * const stream = createRunEventStream();
 * const unsubscribe = stream.subscribe((event) => console.log(event?.type ?? 'ended'));
 * stream.publish([event]);
 * stream.end();
 */
export interface RunEventStream {
  publish(events: readonly WorkflowEventRecord[]): void;
  /** The run is over (finished or interrupted): subscribers receive `undefined`. */
  end(): void;
  /** Receives every event published from now on, then `undefined` at the end. */
  subscribe(listener: (event: WorkflowEventRecord | undefined) => void): () => void;
}

export function createRunEventStream(): RunEventStream {
  const listeners = new Set<(event: WorkflowEventRecord | undefined) => void>();
  return {
    publish(events) {
      for (const event of events) for (const listener of listeners) listener(event);
    },
    end() {
      for (const listener of listeners) listener(undefined);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

const pageSize = 1_000;

/**
 * A run's events from `afterSeq`: the stored ones page by page, then (while the run is active
 * here) the live ones, each once and in seq order. Ends at `run-finished`, when the live stream
 * ends, or when `signal` aborts (a client that went away).
 */
export function followRunEvents(options: {
  store: WorkflowStore;
  tenantId: string;
  runId: string;
  afterSeq?: number;
  signal?: AbortSignal;
  /** The run's live stream when it is active in this runner, looked up when iteration starts. */
  live: () => RunEventStream | undefined;
}): AsyncIterable<WorkflowEventRecord> {
  const { store, tenantId, runId, signal } = options;
  return {
    async *[Symbol.asyncIterator]() {
      const buffered: Array<WorkflowEventRecord | undefined> = [];
      let wake: (() => void) | undefined;
      const onAbort = () => wake?.();
      // A function, not a property read: TypeScript would narrow `aborted` across the awaits.
      const stopped = () => signal?.aborted === true;
      signal?.addEventListener('abort', onAbort, { once: true });
      const stream = options.live();
      const unsubscribe = stream?.subscribe((event) => {
        buffered.push(event);
        wake?.();
      });
      try {
        let last = options.afterSeq ?? 0;
        if (stream === undefined && (await store.getRun(tenantId, runId)) === undefined) {
          throw createWorkflowError('workflow.run_not_found', `no run ${runId} for tenant ${tenantId}`, {
            param: 'runId',
          });
        }
        for (;;) {
          const page = await store.listEvents(tenantId, runId, { afterSeq: last, limit: pageSize });
          for (const stored of page) {
            last = stored.seq;
            yield stored;
            if (stored.type === 'run-finished') return;
          }
          if (page.length < pageSize) break;
        }
        if (stream === undefined) return;
        for (;;) {
          if (stopped()) return;
          while (buffered.length > 0) {
            const next = buffered.shift();
            if (next === undefined) return;
            if (next.seq <= last) continue;
            last = next.seq;
            yield next;
            if (next.type === 'run-finished') return;
          }
          if (stopped()) return;
          await new Promise<void>((resolve) => (wake = resolve));
          wake = undefined;
        }
      } finally {
        unsubscribe?.();
        signal?.removeEventListener('abort', onAbort);
      }
    },
  };
}
