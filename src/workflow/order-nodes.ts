import { edgesOf, type CompileState } from './compile-state.ts';

/**
 * The ordering section of `compileWorkflow`: a node reading a context field runs after the
 * field's writers; a node depending on a gated node waits for its gates too (a gate may re-run
 * its target); nothing may depend on a standby node; the graph must have no cycle; and two writers
 * of one field must be ordered, unless different cases of one branch choose them.
 */
export function orderNodes(state: CompileState): void {
  const { nodeIds, standby, deps } = state;
  for (const id of nodeIds) {
    const reads = state.readsOf.get(id);
    const readFields =
      reads === '*' ? (state.boundReads.get(id) ?? new Set<string>()) : (reads ?? new Set<string>());
    for (const field of readFields) {
      for (const writer of state.writers.get(field) ?? [])
        if (writer !== id && !standby.has(writer)) deps.get(id)?.add(writer);
    }
  }
  for (const id of nodeIds) {
    const nodeDeps = deps.get(id) as Set<string>;
    for (const dependency of edgesOf(state, id)) {
      for (const gate of state.gatesOf.get(dependency) ?? [])
        if (gate !== id && !isGateOn(state, gate, id)) nodeDeps.add(gate);
    }
  }
  for (const id of nodeIds) {
    if (!standby.has(id)) continue;
    for (const other of nodeIds) {
      if (other !== id && (deps.get(other)?.has(id) === true || state.joins.get(other)?.has(id) === true))
        state.report(`nodes.${other}`, `depends on standby node "${id}", which runs only as a substitute`);
    }
  }
  const cycle = findCycle(nodeIds, (id) => edgesOf(state, id));
  if (cycle !== undefined) state.report(`nodes.${cycle[0] ?? ''}`, `cycle: ${cycle.join(' → ')}`);
  else checkWritersOrdered(state);
}

function isGateOn(state: CompileState, gate: string, target: string): boolean {
  const node = state.definition.nodes[gate];
  return node?.type === 'gate' && node.target === target;
}

/** Writers of one field must be ordered, unless different cases of one branch choose them. */
function checkWritersOrdered(state: CompileState): void {
  const edges = (id: string) => edgesOf(state, id);
  for (const [field, fieldWriters] of state.writers) {
    for (let first = 0; first < fieldWriters.length; first += 1) {
      for (let second = first + 1; second < fieldWriters.length; second += 1) {
        const a = fieldWriters[first] as string;
        const b = fieldWriters[second] as string;
        if (exclusive(state, a, b) || reaches(a, b, edges) || reaches(b, a, edges)) continue;
        state.report(
          `nodes.${b}.writes.${field}`,
          `nodes ${a} and ${b} both write "${field}" with no order between them; add after: [${a}]`,
        );
      }
    }
  }
}

/** Whether different cases of one branch choose `a` and `b` (so they never both run). */
function exclusive(state: CompileState, a: string, b: string): boolean {
  const left = state.chosenBy.get(a);
  const right = state.chosenBy.get(b);
  if (left === undefined || right === undefined || left.branch !== right.branch) return false;
  return ![...left.cases].some((index) => right.cases.has(index));
}

/** The first cycle found, as node ids with the first repeated at the end; undefined when none. */
export function findCycle(
  ids: readonly string[],
  edges: (id: string) => readonly string[],
): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  for (const start of ids) {
    if (state.has(start)) continue;
    // Iterative DFS: definitions may be 10,000 nodes deep.
    const stack: Array<{ id: string; next: number; out: readonly string[] }> = [
      { id: start, next: 0, out: edges(start) },
    ];
    state.set(start, 'visiting');
    path.push(start);
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { id: string; next: number; out: readonly string[] };
      if (top.next < top.out.length) {
        const child = top.out[top.next] as string;
        top.next += 1;
        const seen = state.get(child);
        if (seen === 'visiting') return [...path.slice(path.indexOf(child)), child].reverse();
        if (seen === undefined) {
          state.set(child, 'visiting');
          path.push(child);
          stack.push({ id: child, next: 0, out: edges(child) });
        }
      } else {
        state.set(top.id, 'done');
        path.pop();
        stack.pop();
      }
    }
  }
  return undefined;
}

/** Whether `from` depends on `to`, directly or not (searched only for the few writer pairs). */
function reaches(from: string, to: string, edges: (id: string) => readonly string[]): boolean {
  const seen = new Set<string>([from]);
  const stack = [from];
  while (stack.length > 0) {
    for (const next of edges(stack.pop() as string)) {
      if (next === to) return true;
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(next);
      }
    }
  }
  return false;
}
