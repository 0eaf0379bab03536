import { checkBinding, checkReference } from './check-bindings.ts';
import { checkSchemaAssignable } from './check-schema-assignable.ts';
import { listNames, type CompileState } from './compile-state.ts';
import type {
  BranchCondition,
  ConditionFunction,
  JsonSchema,
  NodeDefinition,
} from './workflow-definition.ts';

/**
 * The nodes section of `compileWorkflow`: for each node, its `after` list, what its type binds
 * and names (inputs, a map's list, a branch's cases, a gate's target, a wait's members), its read
 * permission, its writes and its failure policy. Fills the graph (dependencies, joins, reads,
 * writers, branch choices, gates) that ordering and lazy evaluation use next.
 */
export function checkNodes(state: CompileState): void {
  for (const id of state.nodeIds) {
    const node = state.definition.nodes[id] as NodeDefinition;
    const path = `nodes.${id}`;
    const nodeDeps = state.deps.get(id) as Set<string>;
    (node.after ?? []).forEach((other, index) => {
      if (!(other in state.definition.nodes))
        state.report(`${path}.after[${index}]`, `unknown node "${other}"`);
      else if (other === id) state.report(`${path}.after[${index}]`, 'a node cannot wait for itself');
      else nodeDeps.add(other);
    });
    checkNodeType(state, id, node, path);
    state.readsOf.set(id, checkReads(state, id, node, path));
    checkWrites(state, id, node, path);
    checkPolicy(state, id, node, path);
  }
}

function checkNodeType(state: CompileState, id: string, node: NodeDefinition, path: string): void {
  switch (node.type) {
    case 'model':
      if (node.input !== undefined) checkBinding(state, id, node.input, `${path}.input`, undefined, {});
      return;
    case 'transform':
      if (node.input !== undefined)
        checkBinding(state, id, node.input, `${path}.input`, state.inputSchemas.get(id), {});
      return;
    case 'map': {
      const over = checkReference(state, id, node.over, `${path}.over`, {});
      const mismatch = checkSchemaAssignable(over, { type: 'array' });
      if (mismatch !== null) state.report(`${path}.over`, `${node.over} must be a list: ${mismatch}`);
      const itemSchema =
        over !== undefined && typeof over.items === 'object' && over.items !== null
          ? (over.items as JsonSchema)
          : undefined;
      const item = node.node;
      if (item.input !== undefined) {
        const expected = item.type === 'transform' ? state.itemInputSchemas.get(id) : undefined;
        checkBinding(state, id, item.input, `${path}.node.input`, expected, { item: true, itemSchema });
      }
      return;
    }
    case 'branch': {
      const resolved: Array<ConditionFunction | undefined> = [];
      node.cases.forEach((branchCase, index) => {
        resolved.push(checkCondition(state, id, branchCase.when, `${path}.cases[${index}].when`));
        branchCase.then.forEach((target, targetIndex) =>
          addBranchTarget(state, id, target, index, `${path}.cases[${index}].then[${targetIndex}]`),
        );
      });
      (node.otherwise ?? []).forEach((target, targetIndex) =>
        addBranchTarget(state, id, target, node.cases.length, `${path}.otherwise[${targetIndex}]`),
      );
      state.conditions.set(id, resolved);
      return;
    }
    case 'gate':
      return checkGate(state, id, node, path);
    case 'wait':
      node.for.forEach((other, index) => {
        if (!(other in state.definition.nodes))
          state.report(`${path}.for[${index}]`, `unknown node "${other}"`);
        else if (other === id) state.report(`${path}.for[${index}]`, 'a node cannot wait for itself');
        else if ((node.mode ?? 'all') === 'all') state.deps.get(id)?.add(other);
        else state.joins.get(id)?.add(other);
      });
      return;
  }
}

function checkGate(
  state: CompileState,
  id: string,
  node: Extract<NodeDefinition, { type: 'gate' }>,
  path: string,
): void {
  const { definition, report } = state;
  if (!(node.target in definition.nodes))
    report(`${path}.target`, `a gate on nothing: "${node.target}" is not a node`);
  else if (node.target === id) report(`${path}.target`, 'a gate cannot check itself');
  else {
    const targetType = definition.nodes[node.target]?.type;
    if (
      node.onFail === 'rerun' &&
      targetType !== 'model' &&
      targetType !== 'transform' &&
      targetType !== 'map'
    ) {
      report(
        `${path}.onFail`,
        `rerun needs a model, transform or map target; "${node.target}" is a ${String(targetType)} node`,
      );
    }
    state.deps.get(id)?.add(node.target);
    state.gatesOf.get(node.target)?.push(id);
  }
  const check = typeof node.check === 'function' ? node.check : state.functions.gates?.[node.check];
  if (check === undefined)
    report(
      `${path}.check`,
      `no gate "${String(node.check)}" is registered${listNames(state.functions.gates)}`,
    );
  else state.gateChecks.set(id, check);
  if (node.input !== undefined) checkBinding(state, id, node.input, `${path}.input`, undefined, {});
}

/** The fields a node may read: its `reads` (fields, groups, `*`), or the fields it binds. */
function checkReads(state: CompileState, id: string, node: NodeDefinition, path: string): Set<string> | '*' {
  const bound = state.boundReads.get(id) ?? new Set<string>();
  if (node.reads === undefined) return new Set(bound);
  if (node.reads.includes('*')) return '*';
  const granted = new Set<string>();
  node.reads.forEach((entry, index) => {
    if (entry.startsWith('group:')) {
      const members = state.groups.get(entry.slice('group:'.length));
      if (members === undefined)
        state.report(`${path}.reads[${index}]`, `unknown group "${entry.slice('group:'.length)}"`);
      else members.forEach((member) => granted.add(member));
    } else if (!state.fields.has(entry))
      state.report(`${path}.reads[${index}]`, `unknown context field "${entry}"`);
    else granted.add(entry);
  });
  for (const field of bound) {
    if (!granted.has(field))
      state.report(`${path}.reads`, `node ${id} binds $context.${field} but its reads do not include it`);
  }
  for (const field of granted) {
    const compiled = state.fields.get(field);
    if (compiled?.readers !== undefined && !compiled.readers.has(id))
      state.report(`${path}.reads`, `node ${id} may not read context field "${field}"`);
  }
  return granted;
}

/** Each write: a known field the node may write, from `$output…`, of a type the field accepts. */
function checkWrites(state: CompileState, id: string, node: NodeDefinition, path: string): void {
  for (const [field, source] of Object.entries(node.writes ?? {})) {
    const at = `${path}.writes.${field}`;
    const compiled = state.fields.get(field);
    if (compiled === undefined) {
      state.report(at, `unknown context field "${field}"`);
      continue;
    }
    if (compiled.writers !== undefined && !compiled.writers.has(id)) {
      state.report(
        at,
        `node ${id} may not write context field "${field}" (access.write lists ${[...compiled.writers].join(', ') || 'no node'})`,
      );
      continue;
    }
    const sourceSchema = checkReference(state, id, source, at, { output: true });
    if (!source.startsWith('$output')) state.report(at, `writes take $output or $output.path, not ${source}`);
    const mismatch = checkSchemaAssignable(sourceSchema, compiled.jsonSchema);
    if (mismatch !== null) state.report(at, `${source} does not fit context field "${field}": ${mismatch}`);
    state.writers.set(field, [...(state.writers.get(field) ?? []), id]);
  }
}

/** A substitute must be another, standby node; only model and transform nodes stand by. */
function checkPolicy(state: CompileState, id: string, node: NodeDefinition, path: string): void {
  const policy = node.onError;
  if (policy?.action === 'substitute') {
    const at = `${path}.onError.node`;
    if (policy.node === undefined) state.report(at, 'substitute needs the node to run instead');
    else if (!(policy.node in state.definition.nodes)) state.report(at, `unknown node "${policy.node}"`);
    else if (!state.standby.has(policy.node))
      state.report(at, `"${policy.node}" must be declared with standby: true`);
    else if (policy.node === id) state.report(at, 'a node cannot substitute itself');
  }
  if (node.standby === true && node.type !== 'model' && node.type !== 'transform')
    state.report(`${path}.standby`, 'only model and transform nodes can stand by');
}

function addBranchTarget(
  state: CompileState,
  branch: string,
  target: string,
  caseIndex: number,
  path: string,
): void {
  if (!(target in state.definition.nodes)) return void state.report(path, `unknown node "${target}"`);
  if (target === branch) return void state.report(path, 'a branch cannot choose itself');
  const existing = state.chosenBy.get(target);
  if (existing !== undefined && existing.branch !== branch)
    return void state.report(
      path,
      `"${target}" is already chosen by branch ${existing.branch}; join the branches with a wait node`,
    );
  const entry = existing ?? { branch, cases: new Set<number>() };
  entry.cases.add(caseIndex);
  state.chosenBy.set(target, entry);
  state.deps.get(target)?.add(branch);
}

function checkCondition(
  state: CompileState,
  nodeId: string,
  condition: BranchCondition,
  path: string,
): ConditionFunction | undefined {
  if ('ref' in condition) {
    checkReference(state, nodeId, condition.ref, `${path}.ref`, {});
    return undefined;
  }
  if (condition.input !== undefined)
    checkBinding(state, nodeId, condition.input, `${path}.input`, undefined, {});
  const conditions = state.functions.conditions;
  const fn = typeof condition.fn === 'function' ? condition.fn : conditions?.[condition.fn];
  if (fn === undefined)
    state.report(
      `${path}.fn`,
      `no condition "${String(condition.fn)}" is registered${listNames(conditions)}`,
    );
  return fn;
}
