import { resolveFaultPlan } from './resolve-fault-plan.ts';
import { respondWithPlan } from './respond-with-plan.ts';
import { headerFacts, type SimExchange } from './sim-exchange.ts';

/** Model ids listed when the config names none (any name is accepted in calls). */
export const defaultSimModels = [
  'gpt-4o-mini',
  'gpt-4o',
  'text-embedding-3-small',
  'dall-e-3',
  'gpt-image-1',
  'claude-sonnet-4-5',
  'claude-haiku-4-5',
  'gemini-2.5-flash',
  'gemini-2.5-pro',
  'text-embedding-004',
];

/** `GET /v1/models` (OpenAI or Anthropic shape) and Gemini's `GET /v1beta/models`. */
export async function handleModels(exchange: SimExchange): Promise<void> {
  const { route, runtime } = exchange;
  const models = runtime.faults.config.models ?? defaultSimModels;
  const plan = resolveFaultPlan(runtime.faults, {
    endpoint: 'models',
    format: route.format,
    model: '',
    stream: false,
    tokens: 0,
    ...headerFacts(exchange),
  });
  const created = 1_700_000_000;
  const render = (): string => {
    switch (route.format) {
      case 'anthropic':
        return JSON.stringify({
          data: models.map((id) => ({
            type: 'model',
            id,
            display_name: `${id} (simulated)`,
            created_at: new Date(created * 1000).toISOString(),
            simulated: true,
          })),
          has_more: false,
          first_id: models[0] ?? null,
          last_id: models.at(-1) ?? null,
        });
      case 'gemini':
        return JSON.stringify({
          models: models.map((id) => ({
            name: `models/${id}`,
            version: 'sim',
            displayName: `${id} (simulated)`,
            description: 'Simulated by Pipewright',
            inputTokenLimit: 1_048_576,
            outputTokenLimit: 65_536,
            supportedGenerationMethods: /embed/.test(id)
              ? ['embedContent']
              : ['generateContent', 'countTokens'],
            simulated: true,
          })),
        });
      case 'openai':
      case 'azure':
        return JSON.stringify({
          object: 'list',
          data: models.map((id) => ({
            id,
            object: 'model',
            created,
            owned_by: 'pipewright-sim',
            simulated: true,
          })),
        });
    }
  };
  await respondWithPlan(exchange, plan, { kind: 'json', body: render }, { promptTokens: 0 });
}
