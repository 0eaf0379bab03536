export * from './parse-retry-after.ts';
export * from './json-body.ts';
export * from './error-classification.ts';
export * from './wire-schema.ts';
