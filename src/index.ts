/**
 * Pipewright's public API.
 *
 * @example
 * import { createEngine } from 'pipewright';
 * const engine = createEngine({ config: { deployments: [...], modelGroups: [...] } });
 * const { response } = await engine.chat({ model: 'fast', messages: [{ role: 'user', content: 'Hi' }] });
 *
 * @module
 */
export {
  PipewrightError,
  ProviderError,
  InvalidRequestError,
  ConfigError,
  errorCodes,
  providerErrorKinds,
} from './core/index.ts';
export type { ErrorCode, ProviderErrorKind, Clock } from './core/index.ts';
export * from './spec/index.ts';
export { parseConfig, loadConfigFile } from './config/index.ts';
export type { PipewrightConfig, PipewrightConfigInput } from './config/index.ts';
export {
  defineStepType,
  stepConfidence,
  type Engine,
  type EngineSettings,
  type EngineCallOptions,
  type EngineChatStream,
  type CallMeta,
  type CallAttempt,
  type StepResult,
  type StepTypeDefinition,
  type StepContext,
  type AdaptFunctionOptions,
  type RunStepOptions,
} from './engine/index.ts';
export { startGateway, type RunningGateway, type StartGatewayOptions } from './main.ts';
export {
  createEngine,
  type EngineOptions,
  type ConfiguredEngine,
  createPipewright,
  type Pipewright,
  type PipewrightOptions,
  type PipewrightWorkflows,
} from './pipewright.ts';
export { createServer } from './server/index.ts';
export {
  createWorkflowRunner,
  defineWorkflow,
  loadWorkflow,
  compileWorkflow,
  WorkflowDefinitionError,
  type WorkflowDefinition,
  type WorkflowFunctions,
  type WorkflowRunner,
  type WorkflowRunnerOptions,
  type WorkflowRunResult,
  type CompiledWorkflow,
} from './workflow/index.ts';
