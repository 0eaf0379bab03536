import { parseYamlBounded, PipewrightError } from '../core/index.ts';
import { compileWorkflow, type CompiledWorkflow } from './compile-workflow.ts';
import { WorkflowDefinitionError, type DefinitionProblem } from './workflow-definition-error.ts';
import type { WorkflowDefinition, WorkflowFunctions } from './workflow-definition.ts';

/**
 * Parses a YAML workflow definition and compiles it (see `compileWorkflow`). The YAML is parsed
 * within bounds (1 MiB, 64 levels of nesting, 100 aliases: `parseYamlBounded`), so a hostile
 * definition is refused before it costs time or memory. YAML syntax errors, a bound exceeded and
 * every definition problem are reported as one `WorkflowDefinitionError` with paths.
 *
 * @example
 * const flow = loadWorkflow(readFileSync('flow.yaml', 'utf8'), { transforms: { pick } });
 */
export function loadWorkflow(yamlText: string, functions: WorkflowFunctions = {}): CompiledWorkflow {
  let value: unknown;
  try {
    value = parseYamlBounded(yamlText, { param: 'definition', code: 'workflow.definition_invalid' });
  } catch (error) {
    if (!PipewrightError.isInstance(error)) throw error;
    throw new WorkflowDefinitionError('(yaml)', yamlProblems(error));
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new WorkflowDefinitionError('(yaml)', [
      { path: '', message: 'a workflow definition must be a YAML mapping' },
    ]);
  }
  return compileWorkflow(value as WorkflowDefinition, functions);
}

/** Syntax errors by line; a bound exceeded as one problem naming the limit and where. */
function yamlProblems(error: PipewrightError): DefinitionProblem[] {
  const problems = error.details?.problems as Array<{ line: number; message: string }> | undefined;
  if (problems === undefined || problems.length === 0)
    return [{ path: '', message: String(error.details?.reason ?? error.message) }];
  return problems.map((problem) => ({
    path: problem.line > 0 ? `line ${problem.line}` : '',
    message: problem.message,
  }));
}
