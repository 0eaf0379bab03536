import { checkReference } from './check-bindings.ts';
import { edgesOf, type CompileState } from './compile-state.ts';
import { parseReference } from './parse-reference.ts';

/**
 * The outputs section of `compileWorkflow`: checks each declared output's reference and returns
 * the nodes a run needs (lazy evaluation) — those the outputs read, directly or through the
 * context's writers, with everything they depend on and their gates, plus `always` nodes.
 * Without declared outputs every node but the standby ones is needed.
 */
export function findNeededNodes(state: CompileState): Set<string> {
  const { definition, standby } = state;
  const seeds = new Set<string>();
  for (const [name, reference] of Object.entries(definition.outputs ?? {})) {
    checkReference(state, undefined, reference, `outputs.${name}`, {});
    const parsed = parseReference(reference);
    if (typeof parsed === 'string') continue;
    if (parsed.kind === 'node') seeds.add(parsed.node);
    if (parsed.kind === 'context')
      for (const writer of state.writers.get(parsed.field) ?? []) seeds.add(writer);
  }
  const lazy = Object.keys(definition.outputs ?? {}).length > 0;
  for (const id of state.nodeIds) {
    if (!standby.has(id) && (!lazy || definition.nodes[id]?.always === true)) seeds.add(id);
  }
  const needed = new Set<string>();
  const stack = [...seeds];
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (needed.has(id) || standby.has(id)) continue;
    needed.add(id);
    stack.push(...edgesOf(state, id), ...(state.gatesOf.get(id) ?? []));
  }
  return needed;
}
