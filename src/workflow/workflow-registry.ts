import type { WorkflowRunRecord } from '../store/index.ts';
import { compileWorkflow, type CompiledWorkflow } from './compile-workflow.ts';
import { createWorkflowError } from './workflow-definition-error.ts';
import type { WorkflowDefinition, WorkflowFunctions } from './workflow-definition.ts';

/**
 * The workflows a runner knows, by id (the newest version) and by id and version: what `start`
 * may name and what `resume` needs to find a run's definition again.
 *
 * @example
 * const registry = createWorkflowRegistry(functions);
 * registry.register(definition);
 * const workflow = registry.forRun(storedRunRecord); // throws workflow.definition_changed when it changed
 */
export interface WorkflowRegistry {
  /** Compiles (when needed) and registers a workflow. */
  register(workflow: WorkflowDefinition | CompiledWorkflow): CompiledWorkflow;
  /** A registered workflow by id (the newest version) or by id and version; `workflow.not_found` otherwise. */
  lookup(id: string, version?: number): CompiledWorkflow;
  /**
   * The definition a stored run started with: registered, or recompiled from the run's stored
   * source. `workflow.definition_changed` when it is not the same definition any more.
   */
  forRun(record: WorkflowRunRecord): CompiledWorkflow;
}

export function createWorkflowRegistry(functions: WorkflowFunctions): WorkflowRegistry {
  const registry = new Map<string, CompiledWorkflow>();

  function register(workflow: WorkflowDefinition | CompiledWorkflow): CompiledWorkflow {
    const compiled = isCompiled(workflow) ? workflow : compileWorkflow(workflow, functions);
    registry.set(`${compiled.id}@${compiled.version}`, compiled);
    registry.set(compiled.id, newest(registry.get(compiled.id), compiled));
    return compiled;
  }

  return {
    register,

    lookup(id, version) {
      const found = registry.get(version === undefined ? id : `${id}@${version}`);
      if (found === undefined)
        throw createWorkflowError(
          'workflow.not_found',
          `no workflow ${id}${version === undefined ? '' : ` version ${version}`} is registered`,
          { param: 'workflow' },
        );
      return found;
    },

    forRun(record) {
      let workflow = registry.get(`${record.workflowId}@${record.workflowVersion}`);
      if (workflow === undefined && record.source !== null)
        workflow = register(JSON.parse(record.source) as WorkflowDefinition);
      if (workflow === undefined)
        throw createWorkflowError(
          'workflow.not_found',
          `run ${record.runId} needs workflow ${record.workflowId} version ${record.workflowVersion}; register it with the runner`,
          { param: 'workflow' },
        );
      if (workflow.hash !== record.definitionHash) {
        throw createWorkflowError(
          'workflow.definition_changed',
          `workflow ${record.workflowId} version ${record.workflowVersion} changed since run ${record.runId} started; bump its version for new runs and restore the old definition to resume`,
        );
      }
      return workflow;
    },
  };
}

function isCompiled(workflow: WorkflowDefinition | CompiledWorkflow): workflow is CompiledWorkflow {
  return (
    typeof (workflow as CompiledWorkflow).hash === 'string' &&
    (workflow as CompiledWorkflow).nodes instanceof Map
  );
}

function newest(current: CompiledWorkflow | undefined, candidate: CompiledWorkflow): CompiledWorkflow {
  return current === undefined || candidate.version >= current.version ? candidate : current;
}
