export * from './create-server.ts';
export * from './error-response.ts';
export * from './workflow-routes.ts';
