export * from './workflow-definition.ts';
export { WorkflowDefinitionError, type DefinitionProblem } from './workflow-definition-error.ts';
export {
  compileWorkflow,
  findCycle,
  type CompiledField,
  type CompiledNode,
  type CompiledWorkflow,
} from './compile-workflow.ts';
export { loadWorkflow } from './load-workflow.ts';
export { loadWorkflowFile } from './load-workflow-file.ts';
export { loadConfiguredWorkflows, type ConfiguredWorkflowSources } from './load-configured-workflows.ts';
export {
  findUnknownModelReferences,
  listModelReferences,
  type ModelReferences,
} from './list-model-references.ts';
export {
  createContextManager,
  type ContextManager,
  type ContextManagerOptions,
  type ContextReader,
  type PreparedWrites,
} from './context-manager.ts';
export { checkSchemaAssignable } from './check-schema-assignable.ts';
export { parseReference, type Reference } from './parse-reference.ts';
export type { WorkflowEngine } from './call-node-function.ts';
export {
  createWorkflowRunner,
  type StartWorkflowOptions,
  type WorkflowRunHandle,
  type WorkflowRunner,
  type WorkflowRunnerOptions,
  type WorkflowRunResult,
  type WorkflowRunView,
} from './workflow-runner.ts';
export { builtinFunctions, withBuiltinFunctions } from './builtin-functions.ts';
