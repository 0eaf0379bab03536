export * from './chat.ts';
export * from './usage.ts';
export * from './embeddings.ts';
export * from './images.ts';
export * from './validation.ts';
export * from './call-vocabulary.ts';
export * from './output-schema.ts';
export * from './render-template.ts';
