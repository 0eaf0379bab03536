import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { WorkflowNodeStatus } from '../store/index.ts';
import { compileWorkflow, type CompiledWorkflow } from './compile-workflow.ts';
import type { NodeDefinition, WorkflowDefinition } from './workflow-definition.ts';
import {
  createRunQueue,
  createScheduler,
  judgeNode,
  listDependents,
  listOpenNodes,
  settleNodes,
  terminalNodeStatuses,
  type RunQueue,
  type ScheduleGraph,
  type ScheduleView,
} from './workflow-scheduler.ts';

const noop = () => null;

function compile(nodes: Record<string, NodeDefinition>): CompiledWorkflow {
  const definition: WorkflowDefinition = { id: 'scheduled', version: 1, context: { fields: {} }, nodes };
  return compileWorkflow(definition, { conditions: { always: () => true } });
}

function graphOf(workflow: CompiledWorkflow): ScheduleGraph {
  return { nodes: workflow.nodes, dependents: listDependents(workflow.nodes.values()) };
}

/** A view over plain maps, as a test drives it. */
function viewOf(
  statuses: Map<string, WorkflowNodeStatus>,
  cases: Map<string, number> = new Map(),
): ScheduleView {
  return { status: (id) => statuses.get(id) ?? 'pending', chosenCase: (id) => cases.get(id) };
}

describe('judgeNode and settleNodes', () => {
  test('a node waits for its dependencies, runs when they succeeded, and is skipped when one did not', () => {
    const workflow = compile({
      a: { type: 'transform', fn: noop },
      b: { type: 'transform', fn: noop, after: ['a'] },
    });
    const b = workflow.nodes.get('b');
    assert.ok(b !== undefined);
    assert.equal(judgeNode(b, viewOf(new Map([['a', 'running']]))), 'wait');
    assert.equal(judgeNode(b, viewOf(new Map([['a', 'succeeded']]))), 'ready');
    assert.deepEqual(judgeNode(b, viewOf(new Map([['a', 'failed']]))), { skip: 'dependency a failed' });
  });

  test('a branch target runs only for the case that chose it', () => {
    const workflow = compile({
      pick: {
        type: 'branch',
        cases: [{ when: { fn: 'always' }, then: ['left'] }],
        otherwise: ['right'],
      },
      left: { type: 'transform', fn: noop },
      right: { type: 'transform', fn: noop },
    });
    const statuses = new Map<string, WorkflowNodeStatus>([['pick', 'succeeded']]);
    const view = viewOf(statuses, new Map([['pick', 0]]));
    assert.equal(judgeNode(workflow.nodes.get('left') as never, view), 'ready');
    assert.deepEqual(judgeNode(workflow.nodes.get('right') as never, view), {
      skip: 'branch pick chose another case',
    });
  });

  test('joins: any is ready at the first success and skipped when none succeeded; settled waits for all', () => {
    const workflow = compile({
      a: { type: 'transform', fn: noop },
      b: { type: 'transform', fn: noop },
      first: { type: 'wait', for: ['a', 'b'], mode: 'any' },
      every: { type: 'wait', for: ['a', 'b'], mode: 'settled' },
    });
    const first = workflow.nodes.get('first');
    const every = workflow.nodes.get('every');
    assert.ok(first !== undefined && every !== undefined);
    const oneDone = viewOf(new Map([['a', 'succeeded']]));
    assert.equal(judgeNode(first, oneDone), 'ready');
    assert.equal(judgeNode(every, oneDone), 'wait');
    const bothFailed = viewOf(
      new Map<string, WorkflowNodeStatus>([
        ['a', 'failed'],
        ['b', 'cancelled'],
      ]),
    );
    assert.deepEqual(judgeNode(first, bothFailed), { skip: 'none of the joined nodes succeeded' });
    assert.equal(judgeNode(every, bothFailed), 'ready');
  });

  test('a skip cascades to dependents in the same settle; nodes that must wait are left out', () => {
    const workflow = compile({
      a: { type: 'transform', fn: noop },
      b: { type: 'transform', fn: noop, after: ['a'] },
      c: { type: 'transform', fn: noop, after: ['b'] },
      d: { type: 'transform', fn: noop },
      e: { type: 'transform', fn: noop, after: ['d'] },
    });
    const statuses = new Map<string, WorkflowNodeStatus>([['a', 'failed']]);
    assert.deepEqual(settleNodes(['b', 'e', 'd'], graphOf(workflow), viewOf(statuses)), [
      { nodeId: 'b', status: 'skipped', reason: 'dependency a failed' },
      { nodeId: 'd', status: 'ready' },
      { nodeId: 'c', status: 'skipped', reason: 'dependency b skipped' },
    ]);
    assert.deepEqual(listOpenNodes(workflow.nodes.keys(), viewOf(statuses)), ['b', 'c', 'd', 'e']);
  });
});

describe('run queues and the scheduler', () => {
  const ranks = new Map([
    ['low', { priority: 0, order: 0 }],
    ['high', { priority: 2, order: 1 }],
    ['mid-late', { priority: 1, order: 3 }],
    ['mid-early', { priority: 1, order: 2 }],
  ]);

  test('a queue keeps priority first, then definition order; withdraw and stop empty it', () => {
    const queue = createRunQueue(ranks, { concurrency: 2 });
    for (const id of ['low', 'mid-late', 'high', 'mid-early']) queue.enqueue(id);
    assert.deepEqual(queue.ready, ['high', 'mid-early', 'mid-late', 'low']);
    queue.withdraw('mid-early');
    assert.deepEqual(queue.ready, ['high', 'mid-late', 'low']);
    queue.stop();
    queue.enqueue('low');
    assert.deepEqual([queue.ready, queue.stopped], [[], true]);
  });

  test('the per-run and the global limit hold; a release makes room; a stopped run dispatches nothing', () => {
    const scheduler = createScheduler<string>({ globalLimit: 3 });
    const one = createRunQueue(ranks, { concurrency: 2 });
    const two = createRunQueue(ranks, { concurrency: 2 });
    scheduler.add(one, 'one');
    scheduler.add(two, 'two');
    for (const id of ['low', 'high', 'mid-early']) {
      one.enqueue(id);
      two.enqueue(id);
    }
    const started = [scheduler.next(), scheduler.next(), scheduler.next(), scheduler.next()].map((next) =>
      next === undefined ? undefined : `${next.owner}:${next.nodeId}`,
    );
    // The best heads first, the earlier run winning ties, two per run at most, three in all.
    assert.deepEqual(started, ['one:high', 'two:high', 'one:mid-early', undefined]);
    assert.equal(scheduler.running, 3);
    scheduler.release(one);
    assert.equal(scheduler.next()?.nodeId, 'mid-early', 'the better head wins over the earlier run');
    two.stop();
    scheduler.release(two);
    assert.equal(scheduler.next()?.nodeId, 'low', 'only run one may dispatch');
    assert.equal(scheduler.next(), undefined);
  });
});

/** Random DAGs (node i may depend on earlier nodes), several runs, random finishing order and failures. */
const simulationArbitrary = fc
  .record({
    size: fc.integer({ min: 1, max: 14 }),
    runs: fc.integer({ min: 1, max: 3 }),
    globalLimit: fc.integer({ min: 1, max: 5 }),
  })
  .chain(({ size, runs, globalLimit }) =>
    fc.record({
      globalLimit: fc.constant(globalLimit),
      nodes: fc.tuple(
        ...Array.from({ length: size }, (_, index) =>
          fc.record({
            deps: fc.subarray(Array.from({ length: index }, (_, earlier) => earlier)),
            priority: fc.integer({ min: 0, max: 3 }),
            fails: fc.boolean().map((value) => value && index % 3 === 0),
          }),
        ),
      ),
      concurrency: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: runs, maxLength: runs }),
      finishing: fc.array(fc.nat(), { minLength: 1, maxLength: 64 }),
    }),
  );

interface SimulatedRun {
  name: string;
  queue: RunQueue;
  statuses: Map<string, WorkflowNodeStatus>;
}

test('on random DAGs the scheduler runs every node once after its dependencies, by priority, within both limits, and never deadlocks', () => {
  fc.assert(
    fc.property(simulationArbitrary, ({ globalLimit, nodes, concurrency, finishing }) => {
      const definitionNodes: Record<string, NodeDefinition> = {};
      nodes.forEach((node, index) => {
        definitionNodes[`n${index}`] = {
          type: 'transform',
          fn: noop,
          priority: node.priority,
          ...(node.deps.length === 0 ? {} : { after: node.deps.map((dep) => `n${dep}`) }),
        };
      });
      const workflow = compile(definitionNodes);
      const graph = graphOf(workflow);
      const scheduler = createScheduler<SimulatedRun>({ globalLimit });
      const runs: SimulatedRun[] = concurrency.map((limit, index) => ({
        name: `run${index}`,
        queue: createRunQueue(workflow.nodes, { concurrency: limit }),
        statuses: new Map([...workflow.nodes.keys()].map((id) => [id, 'pending' as WorkflowNodeStatus])),
      }));
      const settle = (run: SimulatedRun, candidates: Iterable<string>) => {
        for (const decision of settleNodes(candidates, graph, viewOf(run.statuses))) {
          run.statuses.set(decision.nodeId, decision.status);
          if (decision.status === 'ready') run.queue.enqueue(decision.nodeId);
        }
      };
      for (const run of runs) {
        scheduler.add(run.queue, run);
        settle(run, workflow.nodes.keys());
      }

      const dispatched = new Set<string>();
      const running: Array<{ run: SimulatedRun; nodeId: string }> = [];
      for (let step = 0; ; step += 1) {
        for (;;) {
          const withRoom = runs.filter(
            (run) => run.queue.ready.length > 0 && run.queue.running < run.queue.concurrency,
          );
          const best = Math.max(
            ...withRoom.map((run) => workflow.nodes.get(run.queue.ready[0] as string)?.priority ?? 0),
          );
          const next = scheduler.next();
          if (next === undefined) {
            assert.ok(
              withRoom.length === 0 || scheduler.running === globalLimit,
              'a node could start but did not',
            );
            break;
          }
          const { owner: run, nodeId } = next;
          const node = workflow.nodes.get(nodeId);
          assert.ok(node !== undefined);
          assert.ok(!dispatched.has(`${run.name}:${nodeId}`), `${nodeId} dispatched twice`);
          dispatched.add(`${run.name}:${nodeId}`);
          assert.equal(node.priority, best, `${nodeId} started while a higher priority was ready`);
          for (const waiting of run.queue.ready) {
            const other = workflow.nodes.get(waiting);
            assert.ok(
              other !== undefined &&
                (other.priority < node.priority ||
                  (other.priority === node.priority && other.order > node.order)),
              `${nodeId} started before the better ranked ${waiting}`,
            );
          }
          for (const dependency of node.deps)
            assert.equal(run.statuses.get(dependency), 'succeeded', `${nodeId} started before ${dependency}`);
          run.statuses.set(nodeId, 'running');
          running.push({ run, nodeId });
          assert.ok(run.queue.running <= run.queue.concurrency, 'above the run limit');
          assert.ok(scheduler.running <= globalLimit, 'above the global limit');
        }
        if (running.length === 0) break;
        const [done] = running.splice((finishing[step % finishing.length] ?? 0) % running.length, 1);
        assert.ok(done !== undefined);
        const index = Number(done.nodeId.slice(1));
        done.run.statuses.set(done.nodeId, nodes[index]?.fails === true ? 'failed' : 'succeeded');
        scheduler.release(done.run.queue);
        settle(done.run, graph.dependents.get(done.nodeId) ?? []);
      }

      assert.equal(scheduler.running, 0);
      for (const run of runs) {
        // No deadlock: every node ended; a node was skipped exactly when a dependency did not succeed.
        for (const [id, status] of run.statuses) {
          assert.ok(terminalNodeStatuses.has(status), `${run.name}:${id} left ${status}`);
          const node = workflow.nodes.get(id);
          const blocked = [...(node?.deps ?? [])].some((dep) => run.statuses.get(dep) !== 'succeeded');
          assert.equal(status === 'skipped', blocked, `${run.name}:${id} ${status}`);
        }
      }
    }),
    { numRuns: 300 },
  );
});
