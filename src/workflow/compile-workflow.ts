import { z } from 'zod';
import { hashValue } from '../core/index.ts';
import { createAjv, jsonOutputSchema, zodOutputSchema, type OutputSchema } from '../engine/index.ts';
import { formatPath } from '../spec/index.ts';
import { builtinFunctions, withBuiltinFunctions } from './builtin-functions.ts';
import { checkSchemaAssignable, schemaAtPath } from './check-schema-assignable.ts';
import { collectReferences, parseReference, type Reference } from './parse-reference.ts';
import { WorkflowDefinitionError, type DefinitionProblem } from './workflow-definition-error.ts';
import {
  workflowDefinitionSchema,
  type BranchCondition,
  type ConditionFunction,
  type FieldSchema,
  type GateFunction,
  type JsonSchema,
  type MapItemDefinition,
  type NodeDefinition,
  type TransformFunction,
  type ValidatorFunction,
  type WorkflowDefinition,
  type WorkflowFunctions,
} from './workflow-definition.ts';

/** A context field ready for use: its JSON Schema (for type checks) and a validator. */
export interface CompiledField {
  name: string;
  jsonSchema: JsonSchema | undefined;
  check: OutputSchema<unknown> | undefined;
  hasDefault: boolean;
  default: unknown;
  group: string | undefined;
  readers: ReadonlySet<string> | undefined;
  writers: ReadonlySet<string> | undefined;
}

export interface CompiledNode {
  id: string;
  definition: NodeDefinition;
  /** Index in the definition, the tie-breaker after priority. */
  order: number;
  priority: number;
  /** All-of dependencies (explicit, from references, from context reads, gates on them). */
  deps: ReadonlySet<string>;
  /** For `wait` any / settled: the nodes it joins (not in `deps`). */
  joins: ReadonlySet<string>;
  /** Fields the node may read (`*` for every field). */
  reads: ReadonlySet<string> | '*';
  writes: ReadonlyArray<{ field: string; path: Array<string | number> }>;
  outputSchema: JsonSchema | undefined;
  /** The branch node (and case) that chooses this node, if any. */
  chosenBy: { branch: string; cases: ReadonlySet<number> } | undefined;
  /** Gates whose target is this node. */
  gates: readonly string[];
  transform: TransformFunction | undefined;
  gate: GateFunction | undefined;
  /** For a branch: one per case (`fn` conditions resolved). */
  conditions: ReadonlyArray<ConditionFunction | undefined>;
  /** For a map: the item's transform. */
  itemTransform: TransformFunction | undefined;
}

/** A definition checked and ready to run. */
export interface CompiledWorkflow {
  id: string;
  version: number;
  /** SHA-256 of the definition (functions by their source): a resume refuses a changed one. */
  hash: string;
  definition: WorkflowDefinition;
  fields: ReadonlyMap<string, CompiledField>;
  nodes: ReadonlyMap<string, CompiledNode>;
  /** Nodes some declared output (or an `always` node) needs; the rest are skipped. */
  needed: ReadonlySet<string>;
  rules: ReadonlyArray<{ id: string; check: ValidatorFunction; message: string | undefined }>;
  concurrency: number;
  maxVersions: number;
  blobThresholdBytes: number;
}

const defaultConcurrency = 8;
const defaultMaxVersions = 1_000;
const defaultBlobThresholdBytes = 65_536;

/**
 * Checks a definition completely (shape, references, permissions, binding types, cycles,
 * gates) and returns it ready to run, or throws a `WorkflowDefinitionError` listing every
 * problem with its path.
 *
 * @example
 * const compiled = compileWorkflow(defineWorkflow({ ... }), { transforms: { pick: (input) => input } });
 */
export function compileWorkflow(
  definition: WorkflowDefinition,
  registered: WorkflowFunctions = {},
): CompiledWorkflow {
  const functions = withBuiltinFunctions(registered);
  const workflowId =
    typeof (definition as { id?: unknown }).id === 'string' ? (definition as { id: string }).id : '(unnamed)';
  const parsed = workflowDefinitionSchema.safeParse(definition);
  if (!parsed.success) {
    throw new WorkflowDefinitionError(
      workflowId,
      parsed.error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message })),
    );
  }
  const problems: DefinitionProblem[] = [];
  const report = (path: string, message: string) => problems.push({ path, message });
  const ajv = createAjv();

  // ---- fields
  const fields = new Map<string, CompiledField>();
  const groups = new Map<string, string[]>();
  for (const [name, field] of Object.entries(definition.context.fields)) {
    const path = `context.fields.${name}`;
    let check: OutputSchema<unknown> | undefined;
    if (field.schema !== undefined) {
      try {
        check = isZod(field.schema)
          ? zodOutputSchema(field.schema)
          : jsonOutputSchema(field.schema, ajv, `${path}.schema`);
      } catch (error) {
        report(`${path}.schema`, (error as Error).message);
      }
    }
    const hasDefault = 'default' in field && field.default !== undefined;
    if (hasDefault && check !== undefined) {
      const result = check.check(field.default);
      if (!result.ok)
        report(`${path}.default`, `does not match the field's schema: ${result.problems.join('; ')}`);
    }
    if (field.group !== undefined) groups.set(field.group, [...(groups.get(field.group) ?? []), name]);
    fields.set(name, {
      name,
      jsonSchema: check?.jsonSchema,
      check,
      hasDefault,
      default: field.default,
      group: field.group,
      readers: field.access?.read === undefined ? undefined : new Set(field.access.read),
      writers: field.access?.write === undefined ? undefined : new Set(field.access.write),
    });
    for (const kind of ['read', 'write'] as const) {
      (field.access?.[kind] ?? []).forEach((nodeId, index) => {
        if (!(nodeId in definition.nodes))
          report(`${path}.access.${kind}[${index}]`, `unknown node "${nodeId}"`);
      });
    }
  }

  for (const [index, input] of (definition.inputs ?? []).entries()) {
    if (!fields.has(input)) report(`inputs[${index}]`, `"${input}" is not a context field`);
  }

  const rules: Array<{ id: string; check: ValidatorFunction; message: string | undefined }> = [];
  (definition.context.rules ?? []).forEach((rule, index) => {
    const check = typeof rule.check === 'function' ? rule.check : functions.validators?.[rule.check];
    if (check === undefined)
      report(
        `context.rules[${index}].check`,
        `no validator "${String(rule.check)}" is registered${listNames(functions.validators)}`,
      );
    else rules.push({ id: rule.id, check, message: rule.message });
  });

  // ---- nodes, first pass: references, permissions, functions
  const nodeIds = Object.keys(definition.nodes);
  const deps = new Map<string, Set<string>>(nodeIds.map((id) => [id, new Set<string>()]));
  const joins = new Map<string, Set<string>>(nodeIds.map((id) => [id, new Set<string>()]));
  const readsOf = new Map<string, Set<string> | '*'>();
  const boundReads = new Map<string, Set<string>>(nodeIds.map((id) => [id, new Set<string>()]));
  const writers = new Map<string, string[]>();
  const chosenBy = new Map<string, { branch: string; cases: Set<number> }>();
  const gatesOf = new Map<string, string[]>(nodeIds.map((id) => [id, []]));
  const outputSchemas = new Map<string, JsonSchema | undefined>();
  const transforms = new Map<string, TransformFunction>();
  const gateChecks = new Map<string, GateFunction>();
  const conditions = new Map<string, Array<ConditionFunction | undefined>>();
  const itemTransforms = new Map<string, TransformFunction>();

  const standby = new Set(nodeIds.filter((id) => definition.nodes[id]?.standby === true));

  function schemaOf(schema: FieldSchema | undefined, path: string): JsonSchema | undefined {
    if (schema === undefined) return undefined;
    try {
      return isZod(schema)
        ? zodOutputSchema(schema).jsonSchema
        : (jsonOutputSchema(schema, ajv, path).jsonSchema as JsonSchema);
    } catch (error) {
      report(path, (error as Error).message);
      return undefined;
    }
  }

  function resolveTransform(
    fn: string | TransformFunction,
    path: string,
  ): { run: TransformFunction; input: JsonSchema | undefined; output: JsonSchema | undefined } | undefined {
    if (typeof fn === 'function') return { run: fn, input: undefined, output: undefined };
    const registered = functions.transforms?.[fn];
    if (registered === undefined) {
      report(path, `no transform "${fn}" is registered${listNames(functions.transforms)}`);
      return undefined;
    }
    if (typeof registered === 'function') return { run: registered, input: undefined, output: undefined };
    return {
      run: registered.run,
      input: schemaOf(registered.input, path),
      output: schemaOf(registered.output, path),
    };
  }

  // Output schemas first: bindings are checked against them.
  const inputSchemas = new Map<string, JsonSchema | undefined>();
  const itemInputSchemas = new Map<string, JsonSchema | undefined>();
  function itemOutputSchema(item: MapItemDefinition, nodeId: string, path: string): JsonSchema | undefined {
    if (item.type === 'transform') {
      const resolved = resolveTransform(item.fn, `${path}.fn`);
      if (resolved !== undefined) {
        itemTransforms.set(nodeId, resolved.run);
        itemInputSchemas.set(nodeId, resolved.input);
      }
      return schemaOf(item.output, `${path}.output`) ?? resolved?.output;
    }
    return modelOutputSchema(item, path);
  }
  function modelOutputSchema(
    node: {
      stepType?: string | undefined;
      prompt?: string | undefined;
      modelGroup?: string | undefined;
      responseFormat?: 'text' | 'json' | undefined;
      output?: FieldSchema | undefined;
    },
    path: string,
  ): JsonSchema | undefined {
    if ((node.stepType === undefined) === (node.prompt === undefined))
      report(path, 'a model node needs exactly one of stepType (engine.run) or prompt (a chat call)');
    if (node.prompt !== undefined && node.modelGroup === undefined)
      report(`${path}.modelGroup`, 'a chat call needs the model group to call');
    const declared = schemaOf(node.output, `${path}.output`);
    if (declared !== undefined) return declared;
    return node.prompt !== undefined && node.responseFormat !== 'json' ? { type: 'string' } : undefined;
  }

  nodeIds.forEach((id) => {
    const node = definition.nodes[id] as NodeDefinition;
    const path = `nodes.${id}`;
    switch (node.type) {
      case 'model':
        outputSchemas.set(id, modelOutputSchema(node, path));
        break;
      case 'transform': {
        const resolved = resolveTransform(node.fn, `${path}.fn`);
        if (resolved !== undefined) {
          transforms.set(id, resolved.run);
          inputSchemas.set(id, resolved.input);
        }
        outputSchemas.set(id, schemaOf(node.output, `${path}.output`) ?? resolved?.output);
        break;
      }
      case 'map': {
        const item = itemOutputSchema(node.node, id, `${path}.node`);
        outputSchemas.set(id, item === undefined ? { type: 'array' } : { type: 'array', items: item });
        break;
      }
      case 'branch':
        outputSchemas.set(id, {
          type: 'object',
          properties: { case: { type: 'integer' }, chosen: { type: 'array', items: { type: 'string' } } },
        });
        break;
      case 'gate':
        outputSchemas.set(id, {
          type: 'object',
          properties: {
            pass: { type: 'boolean' },
            score: { type: 'number' },
            reasons: { type: 'array', items: { type: 'string' } },
            flagged: { type: 'boolean' },
          },
        });
        break;
      case 'wait':
        outputSchemas.set(id, { type: 'object' });
        break;
    }
  });

  /** Checks one reference used by `nodeId` at `path`; returns the schema of the value it reads. */
  function checkReference(
    nodeId: string | undefined,
    text: string,
    path: string,
    allowed: { item?: boolean; output?: boolean },
  ): JsonSchema | undefined {
    const reference = parseReference(text);
    if (typeof reference === 'string') {
      report(path, reference);
      return undefined;
    }
    return referenceSchema(nodeId, reference, path, allowed);
  }

  function referenceSchema(
    nodeId: string | undefined,
    reference: Reference,
    path: string,
    allowed: { item?: boolean; output?: boolean; itemSchema?: JsonSchema | undefined },
  ): JsonSchema | undefined {
    let base: JsonSchema | undefined;
    switch (reference.kind) {
      case 'context': {
        const field = fields.get(reference.field);
        if (field === undefined) {
          report(path, `unknown context field "${reference.field}" in ${reference.text}`);
          return undefined;
        }
        if (nodeId !== undefined) {
          boundReads.get(nodeId)?.add(reference.field);
          if (field.readers !== undefined && !field.readers.has(nodeId))
            report(
              path,
              `node ${nodeId} may not read context field "${reference.field}" (access.read lists ${[...field.readers].join(', ') || 'no node'})`,
            );
        }
        base = field.jsonSchema;
        break;
      }
      case 'node': {
        if (!(reference.node in definition.nodes)) {
          report(path, `unknown node "${reference.node}" in ${reference.text}`);
          return undefined;
        }
        if (reference.node === nodeId) {
          report(path, `node ${nodeId} cannot read its own output`);
          return undefined;
        }
        if (standby.has(reference.node)) {
          report(
            path,
            `node "${reference.node}" is a standby node; read the output of the node it substitutes`,
          );
          return undefined;
        }
        if (nodeId !== undefined) deps.get(nodeId)?.add(reference.node);
        base = outputSchemas.get(reference.node);
        break;
      }
      case 'item':
      case 'index':
        if (allowed.item !== true) {
          report(path, `${reference.text} is only bound inside a map node's node`);
          return undefined;
        }
        base = reference.kind === 'index' ? { type: 'integer' } : allowed.itemSchema;
        break;
      case 'output':
        if (allowed.output !== true) {
          report(path, `${reference.text}: $output is only used in writes`);
          return undefined;
        }
        base = nodeId === undefined ? undefined : outputSchemas.get(nodeId);
        break;
    }
    const at = schemaAtPath(base, reference.path);
    if (typeof at === 'string') {
      report(path, `${reference.text}: ${at}`);
      return undefined;
    }
    return at;
  }

  function checkBinding(
    nodeId: string,
    binding: unknown,
    path: string,
    expected: JsonSchema | undefined,
    allowed: { item?: boolean; itemSchema?: JsonSchema | undefined },
  ): void {
    if (typeof binding === 'string' && binding.startsWith('$') && !binding.startsWith('$$')) {
      const reference = parseReference(binding);
      if (typeof reference === 'string') return void report(path, reference);
      const actual = referenceSchema(nodeId, reference, path, allowed);
      const mismatch = checkSchemaAssignable(actual, expected);
      if (mismatch !== null) report(path, `${binding} does not fit the expected input: ${mismatch}`);
      return;
    }
    if (binding !== null && typeof binding === 'object' && !Array.isArray(binding)) {
      const properties =
        expected !== undefined && typeof expected.properties === 'object' && expected.properties !== null
          ? (expected.properties as Record<string, JsonSchema>)
          : {};
      for (const [key, value] of Object.entries(binding))
        checkBinding(nodeId, value, `${path}.${key}`, properties[key], allowed);
      return;
    }
    for (const reference of collectReferences(binding, path)) {
      const parsed = parseReference(reference.text);
      if (typeof parsed === 'string') report(reference.path, parsed);
      else referenceSchema(nodeId, parsed, reference.path, allowed);
    }
  }

  nodeIds.forEach((id) => {
    const node = definition.nodes[id] as NodeDefinition;
    const path = `nodes.${id}`;
    const nodeDeps = deps.get(id) as Set<string>;
    (node.after ?? []).forEach((other, index) => {
      if (!(other in definition.nodes)) report(`${path}.after[${index}]`, `unknown node "${other}"`);
      else if (other === id) report(`${path}.after[${index}]`, 'a node cannot wait for itself');
      else nodeDeps.add(other);
    });

    switch (node.type) {
      case 'model':
        if (node.input !== undefined) checkBinding(id, node.input, `${path}.input`, undefined, {});
        break;
      case 'transform':
        if (node.input !== undefined) checkBinding(id, node.input, `${path}.input`, inputSchemas.get(id), {});
        break;
      case 'map': {
        const over = checkReference(id, node.over, `${path}.over`, {});
        const mismatch = checkSchemaAssignable(over, { type: 'array' });
        if (mismatch !== null) report(`${path}.over`, `${node.over} must be a list: ${mismatch}`);
        const itemSchema =
          over !== undefined && typeof over.items === 'object' && over.items !== null
            ? (over.items as JsonSchema)
            : undefined;
        const item = node.node;
        if (item.input !== undefined)
          checkBinding(
            id,
            item.input,
            `${path}.node.input`,
            item.type === 'transform' ? itemInputSchemas.get(id) : undefined,
            { item: true, itemSchema },
          );
        break;
      }
      case 'branch': {
        const resolved: Array<ConditionFunction | undefined> = [];
        node.cases.forEach((branchCase, index) => {
          resolved.push(checkCondition(id, branchCase.when, `${path}.cases[${index}].when`));
          branchCase.then.forEach((target, targetIndex) =>
            addBranchTarget(id, target, index, `${path}.cases[${index}].then[${targetIndex}]`),
          );
        });
        (node.otherwise ?? []).forEach((target, targetIndex) =>
          addBranchTarget(id, target, node.cases.length, `${path}.otherwise[${targetIndex}]`),
        );
        conditions.set(id, resolved);
        break;
      }
      case 'gate': {
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
          nodeDeps.add(node.target);
          gatesOf.get(node.target)?.push(id);
        }
        const check = typeof node.check === 'function' ? node.check : functions.gates?.[node.check];
        if (check === undefined)
          report(
            `${path}.check`,
            `no gate "${String(node.check)}" is registered${listNames(functions.gates)}`,
          );
        else gateChecks.set(id, check);
        if (node.input !== undefined) checkBinding(id, node.input, `${path}.input`, undefined, {});
        break;
      }
      case 'wait':
        node.for.forEach((other, index) => {
          if (!(other in definition.nodes)) report(`${path}.for[${index}]`, `unknown node "${other}"`);
          else if (other === id) report(`${path}.for[${index}]`, 'a node cannot wait for itself');
          else if ((node.mode ?? 'all') === 'all') nodeDeps.add(other);
          else joins.get(id)?.add(other);
        });
        break;
    }

    // Read permission.
    let reads: Set<string> | '*' = new Set(boundReads.get(id));
    if (node.reads !== undefined) {
      if (node.reads.includes('*')) reads = '*';
      else {
        const granted = new Set<string>();
        node.reads.forEach((entry, index) => {
          if (entry.startsWith('group:')) {
            const members = groups.get(entry.slice('group:'.length));
            if (members === undefined)
              report(`${path}.reads[${index}]`, `unknown group "${entry.slice('group:'.length)}"`);
            else members.forEach((member) => granted.add(member));
          } else if (!fields.has(entry))
            report(`${path}.reads[${index}]`, `unknown context field "${entry}"`);
          else granted.add(entry);
        });
        for (const field of boundReads.get(id) ?? []) {
          if (!granted.has(field))
            report(`${path}.reads`, `node ${id} binds $context.${field} but its reads do not include it`);
        }
        for (const field of granted) {
          const compiled = fields.get(field);
          if (compiled?.readers !== undefined && !compiled.readers.has(id))
            report(`${path}.reads`, `node ${id} may not read context field "${field}"`);
        }
        reads = granted;
      }
    }
    readsOf.set(id, reads);

    // Writes.
    for (const [field, source] of Object.entries(node.writes ?? {})) {
      const at = `${path}.writes.${field}`;
      const compiled = fields.get(field);
      if (compiled === undefined) {
        report(at, `unknown context field "${field}"`);
        continue;
      }
      if (compiled.writers !== undefined && !compiled.writers.has(id)) {
        report(
          at,
          `node ${id} may not write context field "${field}" (access.write lists ${[...compiled.writers].join(', ') || 'no node'})`,
        );
        continue;
      }
      const sourceSchema = checkReference(id, source, at, { output: true });
      if (!source.startsWith('$output')) report(at, `writes take $output or $output.path, not ${source}`);
      const mismatch = checkSchemaAssignable(sourceSchema, compiled.jsonSchema);
      if (mismatch !== null) report(at, `${source} does not fit context field "${field}": ${mismatch}`);
      writers.set(field, [...(writers.get(field) ?? []), id]);
    }

    // Failure policy.
    const policy = node.onError;
    if (policy?.action === 'substitute') {
      if (policy.node === undefined)
        report(`${path}.onError.node`, 'substitute needs the node to run instead');
      else if (!(policy.node in definition.nodes))
        report(`${path}.onError.node`, `unknown node "${policy.node}"`);
      else if (!standby.has(policy.node))
        report(`${path}.onError.node`, `"${policy.node}" must be declared with standby: true`);
      else if (policy.node === id) report(`${path}.onError.node`, 'a node cannot substitute itself');
    }
    if (node.standby === true && node.type !== 'model' && node.type !== 'transform')
      report(`${path}.standby`, 'only model and transform nodes can stand by');
  });

  function addBranchTarget(branch: string, target: string, caseIndex: number, path: string): void {
    if (!(target in definition.nodes)) return void report(path, `unknown node "${target}"`);
    if (target === branch) return void report(path, 'a branch cannot choose itself');
    const existing = chosenBy.get(target);
    if (existing !== undefined && existing.branch !== branch)
      return void report(
        path,
        `"${target}" is already chosen by branch ${existing.branch}; join the branches with a wait node`,
      );
    const entry = existing ?? { branch, cases: new Set<number>() };
    entry.cases.add(caseIndex);
    chosenBy.set(target, entry);
    deps.get(target)?.add(branch);
  }

  function checkCondition(
    nodeId: string,
    condition: BranchCondition,
    path: string,
  ): ConditionFunction | undefined {
    if ('ref' in condition) {
      checkReference(nodeId, condition.ref, `${path}.ref`, {});
      return undefined;
    }
    if (condition.input !== undefined) checkBinding(nodeId, condition.input, `${path}.input`, undefined, {});
    const fn = typeof condition.fn === 'function' ? condition.fn : functions.conditions?.[condition.fn];
    if (fn === undefined)
      report(
        `${path}.fn`,
        `no condition "${String(condition.fn)}" is registered${listNames(functions.conditions)}`,
      );
    return fn;
  }

  // Context reads order a node after the fields' writers.
  for (const id of nodeIds) {
    const reads = readsOf.get(id);
    const readFields =
      reads === '*' ? (boundReads.get(id) ?? new Set<string>()) : (reads ?? new Set<string>());
    for (const field of readFields) {
      for (const writer of writers.get(field) ?? [])
        if (writer !== id && !standby.has(writer)) deps.get(id)?.add(writer);
    }
  }
  // Nodes that depend on a gated node also wait for its gates (a gate may re-run its target).
  for (const id of nodeIds) {
    const nodeDeps = deps.get(id) as Set<string>;
    for (const dependency of [...nodeDeps, ...(joins.get(id) ?? [])]) {
      for (const gate of gatesOf.get(dependency) ?? [])
        if (gate !== id && !isGateOn(gate, id)) nodeDeps.add(gate);
    }
  }
  function isGateOn(gate: string, target: string): boolean {
    const node = definition.nodes[gate];
    return node?.type === 'gate' && node.target === target;
  }
  for (const id of nodeIds) {
    if (!standby.has(id)) continue;
    for (const other of nodeIds) {
      if (other !== id && (deps.get(other)?.has(id) === true || joins.get(other)?.has(id) === true)) {
        report(`nodes.${other}`, `depends on standby node "${id}", which runs only as a substitute`);
      }
    }
  }

  const cycle = findCycle(nodeIds, (id) => [...(deps.get(id) ?? []), ...(joins.get(id) ?? [])]);
  if (cycle !== undefined) report(`nodes.${cycle[0] ?? ''}`, `cycle: ${cycle.join(' → ')}`);

  // Writers of one field must be ordered, unless different cases of one branch choose them.
  if (cycle === undefined) {
    const edges = (id: string) => [...(deps.get(id) ?? []), ...(joins.get(id) ?? [])];
    for (const [field, fieldWriters] of writers) {
      for (let first = 0; first < fieldWriters.length; first += 1) {
        for (let second = first + 1; second < fieldWriters.length; second += 1) {
          const a = fieldWriters[first] as string;
          const b = fieldWriters[second] as string;
          if (exclusive(a, b) || reaches(a, b, edges) || reaches(b, a, edges)) continue;
          report(
            `nodes.${b}.writes.${field}`,
            `nodes ${a} and ${b} both write "${field}" with no order between them; add after: [${a}]`,
          );
        }
      }
    }
  }
  function exclusive(a: string, b: string): boolean {
    const left = chosenBy.get(a);
    const right = chosenBy.get(b);
    if (left === undefined || right === undefined || left.branch !== right.branch) return false;
    return ![...left.cases].some((index) => right.cases.has(index));
  }

  // Outputs and lazy evaluation.
  const seeds = new Set<string>();
  for (const [name, reference] of Object.entries(definition.outputs ?? {})) {
    checkReference(undefined, reference, `outputs.${name}`, {});
    const parsedOutput = parseReference(reference);
    if (typeof parsedOutput === 'string') continue;
    if (parsedOutput.kind === 'node') seeds.add(parsedOutput.node);
    if (parsedOutput.kind === 'context')
      for (const writer of writers.get(parsedOutput.field) ?? []) seeds.add(writer);
  }
  const lazy = Object.keys(definition.outputs ?? {}).length > 0;
  for (const id of nodeIds) {
    const node = definition.nodes[id] as NodeDefinition;
    if (!standby.has(id) && (!lazy || node.always === true)) seeds.add(id);
  }
  const needed = new Set<string>();
  const stack = [...seeds];
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (needed.has(id) || standby.has(id)) continue;
    needed.add(id);
    for (const dependency of [...(deps.get(id) ?? []), ...(joins.get(id) ?? [])]) stack.push(dependency);
    for (const gate of gatesOf.get(id) ?? []) stack.push(gate);
  }

  if (problems.length > 0) throw new WorkflowDefinitionError(workflowId, problems);

  const nodes = new Map<string, CompiledNode>();
  nodeIds.forEach((id, order) => {
    const node = definition.nodes[id] as NodeDefinition;
    nodes.set(id, {
      id,
      definition: node,
      order,
      priority: node.priority ?? 0,
      deps: deps.get(id) as Set<string>,
      joins: joins.get(id) as Set<string>,
      reads: readsOf.get(id) ?? new Set(),
      writes: Object.entries(node.writes ?? {}).map(([field, source]) => {
        const reference = parseReference(source) as Reference;
        return { field, path: reference.path };
      }),
      outputSchema: outputSchemas.get(id),
      chosenBy: chosenBy.get(id),
      gates: gatesOf.get(id) ?? [],
      transform: transforms.get(id),
      gate: gateChecks.get(id),
      conditions: conditions.get(id) ?? [],
      itemTransform: itemTransforms.get(id),
    });
  });

  return {
    id: definition.id,
    version: definition.version,
    hash: hashValue(toHashable(definition)),
    definition,
    fields,
    nodes,
    needed,
    rules,
    concurrency: definition.concurrency ?? defaultConcurrency,
    maxVersions: definition.context.history?.maxVersions ?? defaultMaxVersions,
    blobThresholdBytes: definition.context.blobThresholdBytes ?? defaultBlobThresholdBytes,
  };
}

function isZod(schema: FieldSchema): schema is z.ZodType {
  return schema instanceof z.ZodType;
}

function listNames(registry: Record<string, unknown> | undefined): string {
  const builtin = new Set([
    ...Object.keys(builtinFunctions.transforms ?? {}),
    ...Object.keys(builtinFunctions.gates ?? {}),
  ]);
  const names = Object.keys(registry ?? {}).filter((name) => !builtin.has(name));
  return names.length === 0 ? ' (none are)' : ` (registered: ${names.join(', ')})`;
}

/** Functions by their source and zod schemas by their JSON Schema, so the hash sees changes. */
function toHashable(value: unknown): unknown {
  if (typeof value === 'function') return `function:${value.toString()}`;
  if (value instanceof z.ZodType) return { zod: zodOutputSchema(value).jsonSchema };
  if (Array.isArray(value)) return value.map(toHashable);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toHashable(item)]));
  }
  return value;
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
