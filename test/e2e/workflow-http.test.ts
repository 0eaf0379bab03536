import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestStack, testMasterKey, type TestStack } from '../support/start-test-stack.ts';

const directory = mkdtempSync(join(tmpdir(), 'pw-workflow-http-'));

/** A draft through the model, copied into the context, gated; `group` picks the sim deployment. */
function flow(id: string, group: string): string {
  return [
    `id: ${id}`,
    'version: 1',
    'inputs: [brief]',
    'outputs: { copy: $context.copy, checked: $nodes.check.output }',
    'context:',
    '  fields:',
    '    brief: { schema: { type: string, minLength: 3 } }',
    '    draft: { schema: { type: string } }',
    '    copy: { schema: { type: string } }',
    'nodes:',
    '  draft:',
    '    type: model',
    `    modelGroup: ${group}`,
    '    prompt: "Write a tagline for: {{input.brief}}"',
    '    input: { brief: $context.brief }',
    '    writes: { draft: $output }',
    '  polish: { type: transform, fn: identity, input: $context.draft, writes: { copy: $output } }',
    '  check: { type: gate, target: polish, check: text-check, parameters: { minLength: 1 } }',
    '',
  ].join('\n');
}

const taglinePath = join(directory, 'tagline.yaml');
const slowPath = join(directory, 'slow-tagline.yaml');
writeFileSync(taglinePath, flow('tagline', 'gpt-4o-mini'));
writeFileSync(slowPath, flow('slow-tagline', 'slow'));
after(() => rmSync(directory, { recursive: true, force: true }));

interface SseEvent {
  id: string | undefined;
  event: string | undefined;
  data: Record<string, unknown>;
}

function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((block) => block.includes('data: '))
    .map((block) => {
      const field = (name: string) =>
        block
          .split('\n')
          .find((line) => line.startsWith(`${name}: `))
          ?.slice(name.length + 2);
      return {
        id: field('id'),
        event: field('event'),
        data: JSON.parse(field('data') ?? '{}') as Record<string, unknown>,
      };
    });
}

function client(url: string) {
  return async (
    method: string,
    path: string,
    options: { tenant?: string; body?: unknown; signal?: AbortSignal } = {},
  ) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${testMasterKey}`,
        ...(options.tenant === undefined ? {} : { 'x-pipewright-tenant': options.tenant }),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    return response;
  };
}

async function json<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

interface RunBody {
  id: string;
  status: string;
  outputs: Record<string, unknown> | null;
  costUsd: number;
  nodes: Array<{ id: string; status: string; durationMs: number | null; costUsd: number; output?: unknown }>;
}

describe('workflow HTTP API', () => {
  let stack: TestStack;
  let call: ReturnType<typeof client>;
  before(async () => {
    stack = await startTestStack({ extraConfig: { workflows: [taglinePath, slowPath] } });
    call = client(stack.gateway.url);
  });
  after(async () => stack.close());

  test('the configured workflows are listed', async () => {
    const body = await json<{ data: Array<{ id: string; inputs: string[] }> }>(
      await call('GET', '/v1/workflows'),
    );
    assert.deepEqual(
      body.data.map((workflow) => [workflow.id, workflow.inputs]),
      [
        ['tagline', ['brief']],
        ['slow-tagline', ['brief']],
      ],
    );
  });

  test('start a run, follow its events to the end, read its state and its context at two versions', async () => {
    const started = await call('POST', '/v1/workflows/runs', {
      tenant: 'acme',
      body: { workflow: 'tagline', input: { brief: 'green tea for offices' } },
    });
    assert.equal(started.status, 202);
    const run = await json<RunBody>(started);
    assert.equal(started.headers.get('location'), `/v1/workflows/runs/${run.id}`);
    assert.equal(run.status, 'running');

    const events = await call('GET', `/v1/workflows/runs/${run.id}/events`, { tenant: 'acme' });
    assert.equal(events.status, 200);
    assert.match(events.headers.get('content-type') ?? '', /^text\/event-stream/);
    // The stream ends by itself once the run has finished.
    const received = parseSse(await events.text());
    assert.equal(received[0]?.event, 'run-started');
    const last = received.at(-1);
    assert.equal(last?.event, 'run-finished');
    assert.equal((last?.data.data as { status: string }).status, 'succeeded');
    assert.deepEqual(
      received.map((event) => Number(event.id)),
      received.map((_, index) => index + 1),
      'every event once, in order',
    );
    assert.ok(received.some((event) => event.event === 'node-succeeded' && event.data.nodeId === 'draft'));

    // Reconnecting with Last-Event-ID replays only what came after.
    const replay = await fetch(`${stack.gateway.url}/v1/workflows/runs/${run.id}/events`, {
      headers: {
        authorization: `Bearer ${testMasterKey}`,
        'x-pipewright-tenant': 'acme',
        'last-event-id': String(received.length - 1),
      },
    });
    assert.deepEqual(
      parseSse(await replay.text()).map((event) => event.event),
      ['run-finished'],
    );

    const state = await json<RunBody>(await call('GET', `/v1/workflows/runs/${run.id}`, { tenant: 'acme' }));
    assert.equal(state.status, 'succeeded');
    assert.deepEqual(state.nodes.map((node) => [node.id, node.status]).sort(), [
      ['check', 'succeeded'],
      ['draft', 'succeeded'],
      ['polish', 'succeeded'],
    ]);
    const draft = state.nodes.find((node) => node.id === 'draft');
    assert.ok(typeof draft?.durationMs === 'number' && draft.durationMs >= 0);
    assert.ok(
      (draft?.costUsd ?? 0) > 0 && state.costUsd >= (draft?.costUsd ?? 0),
      'costs per node and for the run',
    );
    assert.match(String(state.outputs?.copy), /^\[simulated\]/);
    assert.deepEqual(state.outputs?.checked, { pass: true, score: 1, reasons: [], flagged: false });

    const initial = await json<{ version: number; context: Record<string, unknown> }>(
      await call('GET', `/v1/workflows/runs/${run.id}/context?version=0`, { tenant: 'acme' }),
    );
    assert.deepEqual(initial, {
      object: 'workflow.context',
      runId: run.id,
      version: 0,
      latestVersion: 2,
      context: { brief: 'green tea for offices' },
    });
    const latest = await json<{ version: number; context: Record<string, unknown> }>(
      await call('GET', `/v1/workflows/runs/${run.id}/context`, { tenant: 'acme' }),
    );
    assert.equal(latest.version, 2);
    assert.equal(latest.context.copy, state.outputs?.copy);
    assert.equal(latest.context.draft, state.outputs?.copy);

    const gone = await call('GET', `/v1/workflows/runs/${run.id}/context?version=9`, { tenant: 'acme' });
    assert.equal(gone.status, 410);
    const listed = await json<{ data: Array<{ id: string }> }>(
      await call('GET', '/v1/workflows/runs?limit=5', { tenant: 'acme' }),
    );
    assert.ok(listed.data.some((entry) => entry.id === run.id));

    // Another tenant cannot see, follow, read, cancel or resume it: every route answers 404.
    for (const [method, path] of [
      ['GET', `/v1/workflows/runs/${run.id}`],
      ['GET', `/v1/workflows/runs/${run.id}/context`],
      ['GET', `/v1/workflows/runs/${run.id}/events`],
      ['POST', `/v1/workflows/runs/${run.id}/cancel`],
      ['POST', `/v1/workflows/runs/${run.id}/resume`],
    ] as const) {
      const response = await call(method, path, { tenant: 'globex' });
      assert.equal(response.status, 404, `${method} ${path}`);
      assert.equal((await json<{ error: { code: string } }>(response)).error.code, 'workflow.run_not_found');
    }
    const otherList = await json<{ data: unknown[] }>(
      await call('GET', '/v1/workflows/runs', { tenant: 'globex' }),
    );
    assert.deepEqual(otherList.data, []);

    const again = await call('POST', `/v1/workflows/runs/${run.id}/resume`, { tenant: 'acme' });
    assert.equal(again.status, 409, 'a finished run has nothing to resume');
  });

  test('an inline YAML definition runs; cancel stops a running run', async () => {
    const started = await call('POST', '/v1/workflows/runs', {
      body: {
        definition: flow('inline-slow', 'slow'),
        input: { brief: 'a slow one' },
        runId: 'run_inline_cancel',
      },
    });
    assert.equal(started.status, 202);
    const cancelled = await call('POST', '/v1/workflows/runs/run_inline_cancel/cancel');
    assert.equal(cancelled.status, 200);
    const body = await json<RunBody>(cancelled);
    assert.equal(body.status, 'cancelled');
    assert.ok(
      body.nodes.every((node) => node.status === 'cancelled'),
      JSON.stringify(body.nodes),
    );
    const events = parseSse(await (await call('GET', '/v1/workflows/runs/run_inline_cancel/events')).text());
    assert.deepEqual(events.at(-1)?.data.data, {
      status: 'cancelled',
      costUsd: 0,
      error: { code: 'workflow.cancelled', message: 'run run_inline_cancel was cancelled' },
    });
  });

  test('a client leaving an event stream is let go, and the server keeps serving', async () => {
    await call('POST', '/v1/workflows/runs', {
      body: { workflow: 'slow-tagline', input: { brief: 'left early' }, runId: 'run_left' },
    });
    const controller = new AbortController();
    const response = await call('GET', '/v1/workflows/runs/run_left/events', { signal: controller.signal });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.match(first, /event: run-started/);
    controller.abort();
    await reader.closed.catch(() => undefined);
    const events = parseSse(await (await call('GET', '/v1/workflows/runs/run_left/events')).text());
    assert.equal(events.at(-1)?.event, 'run-finished');
  });

  test('bad requests name what is wrong', async () => {
    const cases: Array<[unknown, number, string, string | null]> = [
      [
        { workflow: 'tagline', input: { brief: 'ok brief', colour: 'red' } },
        400,
        'workflow.input_invalid',
        'input.colour',
      ],
      [{ workflow: 'tagline', input: {} }, 400, 'workflow.input_invalid', 'input.brief'],
      [{ workflow: 'nope' }, 404, 'workflow.not_found', 'workflow'],
      [{ workflow: 'tagline', definition: 'id: x' }, 400, 'request.invalid', 'workflow'],
      [{ workflow: 'tagline', input: 'brief' }, 400, 'request.invalid', 'input'],
      [
        { definition: flow('uses-missing', 'no-such-group'), input: { brief: 'abc' } },
        400,
        'workflow.definition_invalid',
        'definition.nodes.draft.modelGroup',
      ],
      [
        {
          definition: {
            id: 'broken',
            version: 1,
            context: { fields: {} },
            nodes: { a: { type: 'transform', fn: 'missing-fn' } },
          },
        },
        400,
        'workflow.definition_invalid',
        'definition.nodes.a.fn',
      ],
      [{ definition: flow('tagline', 'gpt-4o-mini') }, 400, 'request.invalid', 'definition.id'],
    ];
    for (const [body, status, code, param] of cases) {
      const response = await call('POST', '/v1/workflows/runs', { body });
      const error = (await json<{ error: { code: string; param: string | null; message: string } }>(response))
        .error;
      assert.deepEqual(
        [response.status, error.code, error.param],
        [status, code, param],
        `${JSON.stringify(body)} → ${error.message}`,
      );
    }
  });
});

test('a gateway resumes at start-up the runs its last process left running', async () => {
  const storePath = join(directory, 'resume.db');
  const first = await startTestStack({ storePath, extraConfig: { workflows: [slowPath] } });
  const started = await client(first.gateway.url)('POST', '/v1/workflows/runs', {
    tenant: 'acme',
    body: { workflow: 'slow-tagline', input: { brief: 'survives a restart' }, runId: 'run_restart' },
  });
  assert.equal(started.status, 202);
  // Closing mid-run is what a restart does: the run stays `running` in the store.
  await first.close();

  const second = await startTestStack({ storePath, extraConfig: { workflows: [slowPath] } });
  try {
    const events = parseSse(
      await (
        await client(second.gateway.url)('GET', '/v1/workflows/runs/run_restart/events', { tenant: 'acme' })
      ).text(),
    );
    assert.ok(
      events.some((event) => event.event === 'run-resumed'),
      events.map((event) => event.event).join(', '),
    );
    assert.equal((events.at(-1)?.data.data as { status: string }).status, 'succeeded');
  } finally {
    await second.close();
  }
});
