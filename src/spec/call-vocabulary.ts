/**
 * The words every layer uses about a call: what was asked (operation), how the caches answered it
 * (cache status) and how it ended (outcome). Declared once here, below the caches, telemetry and
 * the store that all speak them.
 */

/** The operations a call can be (the GenAI `gen_ai.operation.name` values we use). */
export const callOperations = ['chat', 'embeddings', 'images'] as const;
export type CallOperation = (typeof callOperations)[number];

/**
 * How the caches answered a call, also the value of the `x-pipewright-cache` header:
 * - `hit`: an exact entry answered; `semantic-hit`: a stored answer to a similar request did;
 * - `shared`: the call joined an identical call already in flight and got its answer;
 * - `miss`: the cache was read, had nothing, and the call went upstream;
 * - `bypass`: caching was off or not allowed for this call.
 */
export const cacheStatuses = ['hit', 'semantic-hit', 'shared', 'miss', 'bypass'] as const;
export type CacheStatus = (typeof cacheStatuses)[number];

/** True when the call was answered without an upstream call of its own. */
export function isServedFromCache(status: CacheStatus): boolean {
  return status === 'hit' || status === 'semantic-hit' || status === 'shared';
}

export const callOutcomes = ['success', 'error'] as const;
export type CallOutcome = (typeof callOutcomes)[number];
