import { estimateRequestTokens } from '../resilience/index.ts';
import type { ModelCall } from './model.ts';

/** One estimate per request, however many limits ask for it (tenant, then each deployment tried). */
const estimates = new WeakMap<object, number>();

/** Tokens a call is expected to use, for rate limits: computed only when a limit asks, once per request. */
export function estimateTokens(call: ModelCall): number {
  const known = estimates.get(call.request);
  if (known !== undefined) return known;
  const estimate = estimateOf(call);
  estimates.set(call.request, estimate);
  return estimate;
}

function estimateOf(call: ModelCall): number {
  switch (call.operation) {
    case 'chat':
      return estimateRequestTokens((call as ModelCall<'chat'>).request);
    case 'embeddings':
      return Math.ceil(JSON.stringify((call as ModelCall<'embeddings'>).request.input).length / 4);
    case 'images':
      return Math.ceil((call as ModelCall<'images'>).request.prompt.length / 4);
  }
}
