import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { createSqliteStore, type Store } from '../store/index.ts';
import type { NodeDefinition, WorkflowDefinition } from './workflow-definition.ts';
import { createWorkflowRunner, type WorkflowRunner } from './workflow-runner.ts';

let store: Store;
let runner: WorkflowRunner;
before(async () => {
  store = await createSqliteStore({ path: ':memory:' });
  runner = createWorkflowRunner({ store: store.workflows, concurrency: 3 });
});
after(async () => {
  await runner.close();
  await store.close();
});

/** A random DAG: node i may depend on any earlier node, by `after` or by reading its output. */
const dagArbitrary = fc.integer({ min: 1, max: 18 }).chain((size) =>
  fc.record({
    nodes: fc.tuple(
      ...Array.from({ length: size }, (_, index) =>
        fc.record({
          deps: fc.subarray(Array.from({ length: index }, (_, earlier) => earlier)),
          byReference: fc.boolean(),
          priority: fc.integer({ min: 0, max: 3 }),
          yields: fc.integer({ min: 0, max: 4 }),
        }),
      ),
    ),
    concurrency: fc.integer({ min: 1, max: 4 }),
  }),
);

test('on random DAGs every node runs exactly once, after its dependencies, within the limits, and the run never deadlocks', async () => {
  await fc.assert(
    fc.asyncProperty(dagArbitrary, async ({ nodes, concurrency }) => {
      const started: number[] = [];
      const finished = new Set<number>();
      let running = 0;
      let peak = 0;
      const definitionNodes: Record<string, NodeDefinition> = {};
      nodes.forEach((node, index) => {
        const referenced = node.byReference ? node.deps : [];
        const ordered = node.byReference ? [] : node.deps;
        definitionNodes[`n${index}`] = {
          type: 'transform',
          priority: node.priority,
          ...(ordered.length === 0 ? {} : { after: ordered.map((dep) => `n${dep}`) }),
          input: Object.fromEntries(referenced.map((dep) => [`n${dep}`, `$nodes.n${dep}.output`])),
          fn: async (input) => {
            started.push(index);
            for (const dep of node.deps)
              assert.ok(finished.has(dep), `n${index} started before its dependency n${dep} finished`);
            running += 1;
            peak = Math.max(peak, running);
            for (let step = 0; step < node.yields; step += 1)
              await new Promise<void>((resolve) => setImmediate(resolve));
            running -= 1;
            finished.add(index);
            // Each output is 1 + the sum of the outputs it read: checks the data that flowed.
            return 1 + Object.values(input as Record<string, number>).reduce((sum, value) => sum + value, 0);
          },
        };
      });
      const definition: WorkflowDefinition = {
        id: 'random-dag',
        version: 1,
        context: { fields: {} },
        nodes: definitionNodes,
      };
      const handle = await runner.start(definition, {}, { concurrency });
      let timer: NodeJS.Timeout | undefined;
      const deadlock = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the run did not finish within 5 s: deadlock')), 5_000);
      });
      const result = await Promise.race([handle.result, deadlock]).finally(() => clearTimeout(timer));
      assert.equal(result.status, 'succeeded', result.error?.message);
      assert.deepEqual(
        [...started].sort((a, b) => a - b),
        nodes.map((_, index) => index),
        'each node ran exactly once',
      );
      assert.ok(peak <= Math.min(concurrency, 3), `peak ${peak} above the limits`);

      const expected: number[] = [];
      nodes.forEach((node, index) => {
        expected[index] =
          1 + (node.byReference ? node.deps.reduce((sum, dep) => sum + (expected[dep] ?? 0), 0) : 0);
      });
      const stored = await runner.get(handle.runId);
      for (const record of stored.nodes) {
        assert.equal(record.status, 'succeeded');
        assert.equal(JSON.parse(record.outputJson ?? 'null'), expected[Number(record.nodeId.slice(1))]);
      }
    }),
    { numRuns: 60 },
  );
});
