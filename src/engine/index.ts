export * from './create-engine.ts';
export * from './engine-types.ts';
export * from './step-type.ts';
export type { EngineChatStream } from './call-pipeline.ts';
export type { ModelGroup } from './model-catalog.ts';
export type { RunStepOptions } from './run-step.ts';
export { stepConfidence } from './run-step.ts';
export type { AdaptFunctionOptions, ExternalCallReport } from './adapt-function.ts';
export * from './engine-settings.ts';
