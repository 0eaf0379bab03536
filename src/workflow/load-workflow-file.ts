import { readFileSync } from 'node:fs';
import type { CompiledWorkflow } from './compile-workflow.ts';
import { loadWorkflow } from './load-workflow.ts';
import { WorkflowDefinitionError } from './workflow-definition-error.ts';
import type { WorkflowFunctions } from './workflow-definition.ts';

/**
 * Reads and compiles a YAML workflow file; every problem is reported against the file's path
 * (`workflow flows/campaign.yaml: nodes.copy.over: …`), an unreadable file included.
 *
 * @example
 * const flow = loadWorkflowFile('examples/workflows/campaign.yaml');
 */
export function loadWorkflowFile(path: string, functions: WorkflowFunctions = {}): CompiledWorkflow {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new WorkflowDefinitionError(path, [{ path: '', message: `cannot read the file: ${reason}` }]);
  }
  try {
    return loadWorkflow(text, functions);
  } catch (error) {
    if (error instanceof WorkflowDefinitionError) throw new WorkflowDefinitionError(path, error.problems);
    throw error;
  }
}
