import { ConfigError, toPipewrightError } from '../core/index.ts';
import type { CompiledWorkflow } from './compile-workflow.ts';
import { findUnknownModelReferences, listModelReferences } from './list-model-references.ts';
import { loadWorkflowFile } from './load-workflow-file.ts';
import type { WorkflowFunctions } from './workflow-definition.ts';

export interface ConfiguredWorkflowSources {
  /** The config's `workflows` file paths. */
  paths: readonly string[];
  /** Configured model group names: a workflow calling another one is refused at start-up. */
  modelGroups: readonly string[];
  /**
   * Registered step type names. Undefined: step types are not checked here (the library may
   * register more after start-up; a run naming an unknown one fails at that node).
   */
  stepTypes?: readonly string[] | undefined;
  /** Transforms, gates, conditions and validators the files may name. */
  functions?: WorkflowFunctions | undefined;
}

/**
 * Reads the config's `workflows` files and checks what they call, so a bad file stops the start
 * (library, CLI or gateway alike) instead of failing runs later. Every problem names its entry.
 *
 * @example
 * const definitions = loadConfiguredWorkflows({ paths: config.workflows, modelGroups: ['fast'] });
 * // ConfigError naming workflows[1] on a problem
 */
export function loadConfiguredWorkflows(sources: ConfiguredWorkflowSources): CompiledWorkflow[] {
  const seen = new Map<string, number>();
  return sources.paths.map((path, index) => {
    const where = `workflows[${index}]`;
    let workflow: CompiledWorkflow;
    try {
      workflow = loadWorkflowFile(path, sources.functions);
    } catch (error) {
      throw new ConfigError({
        message: `${where}: ${toPipewrightError(error).message}`,
        param: where,
        cause: error,
      });
    }
    const problems = findUnknownModelReferences(workflow.definition, {
      modelGroups: sources.modelGroups,
      // Without a list, every step type the workflow names counts as known: only model groups are checked.
      stepTypes: sources.stepTypes ?? [...listModelReferences(workflow.definition).stepTypes.keys()],
    });
    if (problems.length > 0) {
      throw new ConfigError({
        message: problems
          .map((problem) => `${where} (${path}): ${problem.path}: ${problem.message}`)
          .join('\n'),
        param: where,
        details: { problems },
      });
    }
    const key = `${workflow.id}@${workflow.version}`;
    const earlier = seen.get(key);
    if (earlier !== undefined)
      throw new ConfigError({
        message: `${where} (${path}): workflow ${workflow.id} version ${workflow.version} is already defined by workflows[${earlier}]`,
        param: where,
      });
    seen.set(key, index);
    return workflow;
  });
}
