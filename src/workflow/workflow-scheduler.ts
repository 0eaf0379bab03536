import type { WorkflowNodeStatus } from '../store/index.ts';
import type { CompiledNode } from './compile-workflow.ts';

// The scheduler is pure: it decides what can run next and under which limits, from the nodes'
// statuses it is shown. It does no I/O, reads no clock and holds no promises; the runner applies
// its decisions (records, commits, events) and tells it when a node it dispatched is done.

/** Statuses a node never leaves. */
export const terminalNodeStatuses: ReadonlySet<WorkflowNodeStatus> = new Set([
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
]);

/** What a pending node should do now. */
export type NodeVerdict = 'wait' | 'ready' | { skip: string };

/** What the scheduler reads of a run's nodes. */
export interface ScheduleView {
  status(nodeId: string): WorkflowNodeStatus;
  /** The case a branch node chose (undefined until it succeeded). */
  chosenCase(branchId: string): number | undefined;
}

/** A run's graph as the scheduler walks it. */
export interface ScheduleGraph {
  nodes: ReadonlyMap<string, CompiledNode>;
  /** For each node, the nodes that depend on it or join it. */
  dependents: ReadonlyMap<string, readonly string[]>;
}

/** A pending node that can move on: to `ready`, or to `skipped` with the reason. */
export interface NodeDecision {
  nodeId: string;
  status: 'ready' | 'skipped';
  reason?: string;
}

/**
 * Whether a pending node waits, is ready or must be skipped: every all-of dependency must have
 * succeeded (one that did not skips the node), the branch that chooses it must have chosen one of
 * its cases, and its joins (`wait` any / settled) must have settled — for `any`, one success
 * suffices and none at all skips it.
 */
export function judgeNode(node: CompiledNode, view: ScheduleView): NodeVerdict {
  for (const dependency of node.deps) {
    const status = view.status(dependency);
    if (!terminalNodeStatuses.has(status)) return 'wait';
    if (status !== 'succeeded') return { skip: `dependency ${dependency} ${status}` };
  }
  if (node.chosenBy !== undefined) {
    const chosen = view.chosenCase(node.chosenBy.branch);
    if (chosen === undefined || !node.chosenBy.cases.has(chosen))
      return { skip: `branch ${node.chosenBy.branch} chose another case` };
  }
  if (node.joins.size > 0) {
    const joined = [...node.joins].map((id) => view.status(id));
    const mode = node.definition.type === 'wait' ? (node.definition.mode ?? 'all') : 'all';
    if (mode === 'any') {
      if (joined.includes('succeeded')) return 'ready';
      if (joined.every((status) => terminalNodeStatuses.has(status)))
        return { skip: 'none of the joined nodes succeeded' };
      return 'wait';
    }
    if (!joined.every((status) => terminalNodeStatuses.has(status))) return 'wait';
  }
  return 'ready';
}

/** For each node, the nodes whose dependencies or joins name it. */
export function listDependents(nodes: Iterable<CompiledNode>): Map<string, string[]> {
  const dependents = new Map<string, string[]>();
  for (const node of nodes) {
    for (const dependency of [...node.deps, ...node.joins]) {
      const list = dependents.get(dependency);
      if (list === undefined) dependents.set(dependency, [node.id]);
      else list.push(node.id);
    }
  }
  return dependents;
}

/**
 * Judges the pending candidates and, for every node skipped, its dependents in turn (a skip
 * cascades); returns the decisions in order. Nodes that must still wait are left out.
 *
 * @example
 * const decisions = settleNodes(graph.dependents.get('draft') ?? [], graph, view);
 */
export function settleNodes(
  candidates: Iterable<string>,
  graph: ScheduleGraph,
  view: ScheduleView,
): NodeDecision[] {
  const decided = new Map<string, WorkflowNodeStatus>();
  const current: ScheduleView = {
    status: (id) => decided.get(id) ?? view.status(id),
    chosenCase: (id) => view.chosenCase(id),
  };
  const queue = [...candidates];
  const decisions: NodeDecision[] = [];
  for (let index = 0; index < queue.length; index += 1) {
    const id = queue[index] as string;
    const node = graph.nodes.get(id);
    if (node === undefined || current.status(id) !== 'pending') continue;
    const verdict = judgeNode(node, current);
    if (verdict === 'wait') continue;
    if (verdict === 'ready') {
      decided.set(id, 'ready');
      decisions.push({ nodeId: id, status: 'ready' });
    } else {
      decided.set(id, 'skipped');
      decisions.push({ nodeId: id, status: 'skipped', reason: verdict.skip });
      queue.push(...(graph.dependents.get(id) ?? []));
    }
  }
  return decisions;
}

/** The ids of the nodes that have not reached a terminal status. */
export function listOpenNodes(nodeIds: Iterable<string>, view: Pick<ScheduleView, 'status'>): string[] {
  return [...nodeIds].filter((id) => !terminalNodeStatuses.has(view.status(id)));
}

/** How a node ranks in its run's ready queue: higher priority first, then definition order. */
export interface NodeRank {
  priority: number;
  order: number;
}

/**
 * One run's ready queue and limit. The scheduler dispatches from it; the runner enqueues nodes
 * as they become ready (or ready again, for a retry).
 */
export interface RunQueue {
  /** Nodes of this run running at once, at most. */
  readonly concurrency: number;
  /** Ready node ids, best first: priority, then definition order. */
  readonly ready: readonly string[];
  /** Nodes of this run dispatched and not yet released. */
  readonly running: number;
  /** Stopped runs dispatch nothing more (their running nodes finish or abort on their own). */
  readonly stopped: boolean;
  enqueue(nodeId: string): void;
  /** Takes a node out of the ready queue (an any-of loser that never started). */
  withdraw(nodeId: string): void;
  /** Dispatches nothing more and empties the ready queue. */
  stop(): void;
}

/** The queue's side the scheduler uses: dispatching and releasing. */
interface DispatchableQueue extends RunQueue {
  /** The priority of the best ready node (-Infinity when none is ready). */
  headPriority(): number;
  take(): string | undefined;
  release(): void;
}

export function createRunQueue(
  nodes: ReadonlyMap<string, NodeRank>,
  options: { concurrency: number },
): RunQueue {
  const ready: string[] = [];
  let running = 0;
  let stopped = false;
  const rank = (id: string): NodeRank => nodes.get(id) ?? { priority: 0, order: Number.MAX_SAFE_INTEGER };
  const queue: DispatchableQueue = {
    concurrency: options.concurrency,
    ready,
    get running() {
      return running;
    },
    get stopped() {
      return stopped;
    },
    enqueue(nodeId) {
      if (stopped) return;
      const { priority, order } = rank(nodeId);
      // Binary search for the first queued node that ranks below this one.
      let low = 0;
      let high = ready.length;
      while (low < high) {
        const middle = (low + high) >>> 1;
        const other = rank(ready[middle] as string);
        if (other.priority > priority || (other.priority === priority && other.order < order))
          low = middle + 1;
        else high = middle;
      }
      ready.splice(low, 0, nodeId);
    },
    withdraw(nodeId) {
      const index = ready.indexOf(nodeId);
      if (index >= 0) ready.splice(index, 1);
    },
    stop() {
      stopped = true;
      ready.length = 0;
    },
    headPriority() {
      const head = ready[0];
      return head === undefined ? Number.NEGATIVE_INFINITY : rank(head).priority;
    },
    take() {
      const next = ready.shift();
      if (next !== undefined) running += 1;
      return next;
    },
    release() {
      running = Math.max(0, running - 1);
    },
  };
  return queue;
}

/**
 * Chooses what runs next across every run it holds, under the global limit and each run's own:
 * the best ready head among the runs with room (priority first; the run added earlier wins a
 * tie). A dispatched node counts against both limits until `release`. `Owner` is what the caller
 * keeps beside each queue (the runner's run).
 *
 * @example
 * const scheduler = createScheduler<Run>({ globalLimit: 16 });
 * scheduler.add(run.queue, run);
 * for (let next = scheduler.next(); next !== undefined; next = scheduler.next()) start(next.owner, next.nodeId);
 */
export interface Scheduler<Owner> {
  /** Nodes running at once across every run. */
  readonly running: number;
  add(queue: RunQueue, owner: Owner): void;
  remove(queue: RunQueue): void;
  /** The next node to start, marked running; undefined when none may start now. */
  next(): { owner: Owner; queue: RunQueue; nodeId: string } | undefined;
  /** A node the scheduler dispatched from `queue` has finished. */
  release(queue: RunQueue): void;
}

export function createScheduler<Owner>(options: { globalLimit: number }): Scheduler<Owner> {
  const queues = new Map<DispatchableQueue, Owner>();
  let running = 0;
  return {
    get running() {
      return running;
    },
    add(queue, owner) {
      queues.set(queue as DispatchableQueue, owner);
    },
    remove(queue) {
      queues.delete(queue as DispatchableQueue);
    },
    next() {
      if (running >= options.globalLimit) return undefined;
      let best: DispatchableQueue | undefined;
      let bestPriority = Number.NEGATIVE_INFINITY;
      for (const queue of queues.keys()) {
        if (queue.ready.length === 0 || queue.stopped || queue.running >= queue.concurrency) continue;
        const priority = queue.headPriority();
        if (best === undefined || priority > bestPriority) {
          best = queue;
          bestPriority = priority;
        }
      }
      if (best === undefined) return undefined;
      const nodeId = best.take() as string;
      running += 1;
      return { owner: queues.get(best) as Owner, queue: best, nodeId };
    },
    release(queue) {
      (queue as DispatchableQueue).release();
      running = Math.max(0, running - 1);
    },
  };
}
