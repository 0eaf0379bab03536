import { listNames, schemaOf, type CompileState } from './compile-state.ts';
import type {
  FieldSchema,
  JsonSchema,
  MapItemDefinition,
  NodeDefinition,
  TransformFunction,
} from './workflow-definition.ts';

/**
 * The node functions section of `compileWorkflow`: each transform resolved (inline or
 * registered, with its declared input and output schemas) and each node's output schema, which
 * the bindings of the nodes reading it are checked against.
 */
export function compileNodeOutputs(state: CompileState): void {
  for (const id of state.nodeIds) {
    const node = state.definition.nodes[id] as NodeDefinition;
    state.outputSchemas.set(id, outputSchemaOf(state, id, node));
  }
}

const branchOutput: JsonSchema = {
  type: 'object',
  properties: { case: { type: 'integer' }, chosen: { type: 'array', items: { type: 'string' } } },
};

const gateOutput: JsonSchema = {
  type: 'object',
  properties: {
    pass: { type: 'boolean' },
    score: { type: 'number' },
    reasons: { type: 'array', items: { type: 'string' } },
    flagged: { type: 'boolean' },
  },
};

function outputSchemaOf(state: CompileState, id: string, node: NodeDefinition): JsonSchema | undefined {
  const path = `nodes.${id}`;
  switch (node.type) {
    case 'model':
      return modelOutputSchema(state, node, path);
    case 'transform': {
      const resolved = resolveTransform(state, node.fn, `${path}.fn`);
      if (resolved !== undefined) {
        state.transforms.set(id, resolved.run);
        state.inputSchemas.set(id, resolved.input);
      }
      return schemaOf(state, node.output, `${path}.output`) ?? resolved?.output;
    }
    case 'map': {
      const item = itemOutputSchema(state, node.node, id, `${path}.node`);
      return item === undefined ? { type: 'array' } : { type: 'array', items: item };
    }
    case 'branch':
      return branchOutput;
    case 'gate':
      return gateOutput;
    case 'wait':
      return { type: 'object' };
  }
}

function resolveTransform(
  state: CompileState,
  fn: string | TransformFunction,
  path: string,
): { run: TransformFunction; input: JsonSchema | undefined; output: JsonSchema | undefined } | undefined {
  if (typeof fn === 'function') return { run: fn, input: undefined, output: undefined };
  const registered = state.functions.transforms?.[fn];
  if (registered === undefined) {
    state.report(path, `no transform "${fn}" is registered${listNames(state.functions.transforms)}`);
    return undefined;
  }
  if (typeof registered === 'function') return { run: registered, input: undefined, output: undefined };
  return {
    run: registered.run,
    input: schemaOf(state, registered.input, path),
    output: schemaOf(state, registered.output, path),
  };
}

function itemOutputSchema(
  state: CompileState,
  item: MapItemDefinition,
  nodeId: string,
  path: string,
): JsonSchema | undefined {
  if (item.type === 'transform') {
    const resolved = resolveTransform(state, item.fn, `${path}.fn`);
    if (resolved !== undefined) {
      state.itemTransforms.set(nodeId, resolved.run);
      state.itemInputSchemas.set(nodeId, resolved.input);
    }
    return schemaOf(state, item.output, `${path}.output`) ?? resolved?.output;
  }
  return modelOutputSchema(state, item, path);
}

/** A model call's output: its declared schema, or a string for a text chat answer. */
function modelOutputSchema(
  state: CompileState,
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
    state.report(path, 'a model node needs exactly one of stepType (engine.run) or prompt (a chat call)');
  if (node.prompt !== undefined && node.modelGroup === undefined)
    state.report(`${path}.modelGroup`, 'a chat call needs the model group to call');
  const declared = schemaOf(state, node.output, `${path}.output`);
  if (declared !== undefined) return declared;
  return node.prompt !== undefined && node.responseFormat !== 'json' ? { type: 'string' } : undefined;
}
