import { PipewrightError, type ErrorCode } from '../core/index.ts';

/** One problem found in a workflow definition, at a path such as `nodes.copy.writes.headline`. */
export interface DefinitionProblem {
  path: string;
  message: string;
}

/**
 * A workflow definition rejected at load time. `problems` lists every problem found (not just
 * the first), each with its path; `param` is the first one's path.
 *
 * @example
 * try { compileWorkflow(definition); } catch (error) {
 *   if (error instanceof WorkflowDefinitionError) for (const p of error.problems) console.log(p.path, p.message);
 * }
 */
export class WorkflowDefinitionError extends PipewrightError {
  readonly problems: DefinitionProblem[];

  constructor(workflowId: string, problems: DefinitionProblem[]) {
    const first = problems[0] ?? { path: '', message: 'invalid definition' };
    const more =
      problems.length > 1
        ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})`
        : '';
    super({
      code: 'workflow.definition_invalid',
      message: `workflow ${workflowId}: ${first.path === '' ? '' : `${first.path}: `}${first.message}${more}`,
      ...(first.path === '' ? {} : { param: first.path }),
      details: { problems },
    });
    this.name = 'WorkflowDefinitionError';
    this.problems = problems;
  }
}

/** A workflow error with a code from the `workflow.*` family. */
export function createWorkflowError(
  code: ErrorCode,
  message: string,
  extra: { cause?: unknown; param?: string; details?: Record<string, unknown> } = {},
): PipewrightError {
  return new PipewrightError({ code, message, ...extra });
}
