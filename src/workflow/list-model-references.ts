import type { WorkflowDefinition } from './workflow-definition.ts';

/** The model groups and step types a workflow calls, each with the first node path naming it. */
export interface ModelReferences {
  modelGroups: Map<string, string>;
  stepTypes: Map<string, string>;
}

/**
 * Lists the model groups and step types a definition's model nodes name (map items and retry
 * adjustments included), so a caller can check them against the engine before a run starts
 * rather than fail halfway through it.
 *
 * @example
 * const { modelGroups } = listModelReferences(flow.definition);
 * for (const [group, path] of modelGroups) if (!known.has(group)) throw new Error(`${path}: unknown model group ${group}`);
 */
export function listModelReferences(definition: WorkflowDefinition): ModelReferences {
  const references: ModelReferences = { modelGroups: new Map(), stepTypes: new Map() };
  const note = (kind: keyof ModelReferences, name: unknown, path: string) => {
    if (typeof name === 'string' && !references[kind].has(name)) references[kind].set(name, path);
  };
  for (const [id, node] of Object.entries(definition.nodes)) {
    const path = `nodes.${id}`;
    const called =
      node.type === 'model'
        ? node
        : node.type === 'map' && node.node.type === 'model'
          ? node.node
          : undefined;
    const calledPath = node.type === 'map' ? `${path}.node` : path;
    if (called !== undefined && 'stepType' in called)
      note('stepTypes', called.stepType, `${calledPath}.stepType`);
    if (called !== undefined && 'modelGroup' in called)
      note('modelGroups', called.modelGroup, `${calledPath}.modelGroup`);
    node.onError?.adjust?.forEach((adjust, index) =>
      note('modelGroups', adjust.modelGroup, `${path}.onError.adjust[${index}].modelGroup`),
    );
  }
  return references;
}

/**
 * The model groups and step types a definition names that `known` lacks, one problem each with
 * the node path naming it (empty when everything is there).
 *
 * @example
 * const problems = findUnknownModelReferences(flow.definition, { modelGroups: engine.modelGroups().map((g) => g.name), stepTypes: engine.stepTypes() });
 */
export function findUnknownModelReferences(
  definition: WorkflowDefinition,
  known: { modelGroups: Iterable<string>; stepTypes: Iterable<string> },
): Array<{ path: string; message: string }> {
  const references = listModelReferences(definition);
  const groups = new Set(known.modelGroups);
  const steps = new Set(known.stepTypes);
  const problems: Array<{ path: string; message: string }> = [];
  for (const [name, path] of references.modelGroups) {
    if (!groups.has(name))
      problems.push({
        path,
        message: `model group "${name}" is not configured (configured: ${[...groups].join(', ') || 'none'})`,
      });
  }
  for (const [name, path] of references.stepTypes) {
    if (!steps.has(name))
      problems.push({
        path,
        message: `step type "${name}" is not registered (registered: ${[...steps].join(', ') || 'none'})`,
      });
  }
  return problems;
}
