import { parseDocument } from 'yaml';
import { compileWorkflow, type CompiledWorkflow } from './compile-workflow.ts';
import { WorkflowDefinitionError } from './workflow-definition-error.ts';
import type { WorkflowDefinition, WorkflowFunctions } from './workflow-definition.ts';

/**
 * Parses a YAML workflow definition and compiles it (see `compileWorkflow`). YAML syntax errors
 * and every definition problem are reported as one `WorkflowDefinitionError` with paths.
 *
 * @example
 * const flow = loadWorkflow(readFileSync('flow.yaml', 'utf8'), { transforms: { pick } });
 */
export function loadWorkflow(yamlText: string, functions: WorkflowFunctions = {}): CompiledWorkflow {
  const document = parseDocument(yamlText, { prettyErrors: true, uniqueKeys: true });
  if (document.errors.length > 0) {
    throw new WorkflowDefinitionError(
      '(yaml)',
      document.errors.map((error) => ({
        path: error.linePos?.[0] === undefined ? '' : `line ${error.linePos[0].line}`,
        message: error.message.split('\n')[0] ?? error.message,
      })),
    );
  }
  const value: unknown = document.toJS({ maxAliasCount: 100 });
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new WorkflowDefinitionError('(yaml)', [
      { path: '', message: 'a workflow definition must be a YAML mapping' },
    ]);
  }
  return compileWorkflow(value as WorkflowDefinition, functions);
}
