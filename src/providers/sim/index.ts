/**
 * The simulated provider: a real HTTP server that stands in for OpenAI, Azure OpenAI, Anthropic
 * and Gemini in tests, benchmarks and demos, with deterministic answers and scripted faults.
 * See README.md for the fault header grammar and the config format.
 */
export { startSimServer, type SimServer, type SimServerOptions } from './start-sim-server.ts';
export {
  simProviderDefinition,
  simDeploymentWireFormats,
  type SimDeploymentWireFormat,
} from './sim-provider-definition.ts';
export {
  parseSimConfig,
  simConfigSchema,
  wireFormats,
  endpointKinds,
  type SimConfig,
  type SimConfigInput,
  type SimRule,
  type WireFormat,
  type EndpointKind,
} from './sim-config.ts';
export { parseFaultHeader, FaultSyntaxError, type FaultSpec, type FaultKind } from './parse-fault-header.ts';
export { parseDistribution, type Distribution } from './parse-distribution.ts';
export { countSimRequests, type SimStats, type SimCounter } from './sim-stats.ts';
export { invalidJsonMarker } from './generate-completion.ts';
export { defaultSimModels } from './handle-models.ts';
export { embedText, defaultEmbeddingDimensions } from './embed-text.ts';
export { createRandom, hashString, type Random } from './create-random.ts';
