import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidRequestError, PipewrightError } from '../core/index.ts';

/** The default bound on how deeply a request body may nest objects and arrays (`server.maxJsonDepth`). */
export const defaultMaxJsonDepth = 64;

/**
 * Replaces Fastify's JSON body parser with one that uses plain `JSON.parse` when the text cannot
 * carry a prototype-poisoning key, and Fastify's secure parser otherwise. Plain `JSON.parse` is
 * several times cheaper than the secure scan, and the gateway parses a body on every request.
 * A poisoning key needs the literal `__proto__` or `constructor`, or a `\u` escape spelling one.
 *
 * Every parsed body is then checked, once, against `maxDepth`: a body nested deeper is a 400
 * naming the limit (deep nesting exhausts the stack of recursive code behind the edge).
 */
export function registerJsonBodyParser(app: FastifyInstance, options: { maxDepth?: number } = {}): void {
  const maxDepth = options.maxDepth ?? defaultMaxJsonDepth;
  const secureParse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (text.length === 0) {
      done(
        new PipewrightError({
          code: 'request.invalid_json',
          message: 'body is empty: send a JSON object',
          param: 'body',
        }),
        undefined,
      );
      return;
    }
    let parsed: unknown;
    if (text.includes('__proto__') || text.includes('constructor') || text.includes('\\u')) {
      // Fastify's default parser answers synchronously.
      const outcome: { failure: Error | null } = { failure: null };
      void secureParse(request, text, (error, value) => {
        outcome.failure = error;
        parsed = value;
      });
      const failure = outcome.failure;
      if (failure !== null) {
        done(
          new PipewrightError({
            code: 'request.invalid_json',
            message:
              'body is not valid JSON, or it has a `__proto__` or `constructor.prototype` key (refused)',
            param: 'body',
            cause: failure,
          }),
          undefined,
        );
        return;
      }
    } else {
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        done(
          new PipewrightError({
            code: 'request.invalid_json',
            message: `body is not valid JSON: ${(error as Error).message}`,
            param: 'body',
          }),
          undefined,
        );
        return;
      }
    }
    const tooDeep = findNestingBeyond(parsed, maxDepth);
    if (tooDeep !== undefined) {
      done(
        new InvalidRequestError({
          message: `${tooDeep}: nested more than ${maxDepth} levels deep (the limit of objects and arrays within one another, server.maxJsonDepth)`,
          param: tooDeep,
          details: { maxDepth },
        }),
        undefined,
      );
      return;
    }
    done(null, parsed);
  });
}

/**
 * The top-level field (or `body`) under which objects and arrays nest more than `maxDepth`
 * levels deep, or undefined. Iterative, so any depth is checked without recursion; the root
 * object or array is level 1.
 *
 * @example
 * findNestingBeyond({ a: [[1]] }, 2); // 'a'
 * findNestingBeyond({ a: [1] }, 2); // undefined
 */
export function findNestingBeyond(root: unknown, maxDepth: number): string | undefined {
  if (root === null || typeof root !== 'object') return undefined;
  // Parallel stacks of containers to visit, their depth, and the top-level key they sit under.
  const values: object[] = [root];
  const depths: number[] = [1];
  const owners: string[] = ['body'];
  while (values.length > 0) {
    const value = values.pop() as object;
    const depth = depths.pop() as number;
    const owner = owners.pop() as string;
    if (depth > maxDepth) return owner;
    if (Array.isArray(value)) {
      for (const item of value as unknown[]) {
        if (item !== null && typeof item === 'object') {
          values.push(item);
          depths.push(depth + 1);
          owners.push(depth === 1 ? 'body' : owner);
        }
      }
    } else {
      for (const key in value) {
        const item = (value as Record<string, unknown>)[key];
        if (item !== null && typeof item === 'object') {
          values.push(item);
          depths.push(depth + 1);
          owners.push(depth === 1 ? key : owner);
        }
      }
    }
  }
  return undefined;
}

/** The body of a POST route, which must be a JSON object: anything else is a 400 naming `body`. */
export function jsonObjectBody(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidRequestError({
      message: `body: must be a JSON object, got ${body === undefined ? 'no body' : Array.isArray(body) ? 'an array' : body === null ? 'null' : `a ${typeof body}`}`,
      param: 'body',
    });
  }
  return body as Record<string, unknown>;
}
