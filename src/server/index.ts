export * from './create-server.ts';
export * from './error-response.ts';
