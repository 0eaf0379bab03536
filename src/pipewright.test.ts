import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createFakeProviderClient, textResponse } from '../test/support/fake-provider-client.ts';
import { PipewrightError } from './core/index.ts';
import { createPipewright, type PipewrightOptions } from './index.ts';
import { createSqliteStore } from './store/index.ts';
import type { NodeCallContext, WorkflowDefinition, WorkflowFunctions } from './workflow/index.ts';

const directory = mkdtempSync(join(tmpdir(), 'pipewright-facade-'));
after(() => rmSync(directory, { recursive: true, force: true }));

const config = {
  deployments: [
    {
      id: 'primary',
      provider: 'openai',
      model: 'gpt-4o-mini',
      baseUrl: 'http://127.0.0.1:1/v1',
      apiKey: 'k',
    },
  ],
  modelGroups: [{ name: 'fast', deployments: ['primary'] }],
  defaultTenant: 'acme',
} satisfies PipewrightOptions['config'];

const tagline: WorkflowDefinition = {
  id: 'tagline',
  version: 1,
  inputs: ['topic'],
  outputs: { tagline: '$context.tagline', loud: '$nodes.shout.output' },
  context: { fields: { topic: { schema: { type: 'string' } }, tagline: { schema: { type: 'string' } } } },
  nodes: {
    write: {
      type: 'model',
      modelGroup: 'fast',
      prompt: 'A tagline for {{input}}',
      input: '$context.topic',
      writes: { tagline: '$output' },
    },
    shout: { type: 'transform', fn: 'shout', input: '$context.tagline' },
  },
};

function isCode(code: string) {
  return (error: unknown) => PipewrightError.isInstance(error) && error.code === code;
}

describe('createPipewright', () => {
  test('the engine gains workflows: start, follow, read, list, with calls recorded in the store', async () => {
    const client = createFakeProviderClient({
      chat: (request) => textResponse(`tagline for ${String(request.messages.at(-1)?.content)}`),
    });
    const path = join(directory, 'facade.db');
    const pw = await createPipewright({
      config,
      client,
      storePath: path,
      functions: { transforms: { shout: (input) => String(input).toUpperCase() } },
      workflows: [tagline],
    });
    try {
      // Still the engine.
      const { response } = await pw.chat({ model: 'fast', messages: [{ role: 'user', content: 'Hi' }] });
      assert.equal(response.choices[0]?.message.content, 'tagline for Hi');

      const handle = await pw.workflows.start('tagline', { topic: 'green tea' });
      assert.equal(handle.tenantId, 'acme', "the config's default tenant");
      const types: string[] = [];
      for await (const event of pw.workflows.events(handle.runId)) types.push(event.type);
      assert.equal(types.at(-1), 'run-finished');
      const result = await handle.result;
      assert.equal(result.status, 'succeeded', String(result.error?.message));
      assert.deepEqual(result.outputs, {
        tagline: 'tagline for A tagline for green tea',
        loud: 'TAGLINE FOR A TAGLINE FOR GREEN TEA',
      });
      assert.equal(client.calls.length, 2);

      const view = await pw.workflows.get(handle.runId);
      assert.deepEqual(
        view.nodes.map((node) => [node.nodeId, node.status]),
        [
          ['shout', 'succeeded'],
          ['write', 'succeeded'],
        ],
      );
      assert.equal((await pw.workflows.context(handle.runId)).tagline, 'tagline for A tagline for green tea');
      assert.deepEqual(
        (await pw.workflows.list()).map((run) => run.runId),
        [handle.runId],
      );
      assert.deepEqual(await pw.workflows.list({ tenantId: 'other' }), [], 'runs are tenant-scoped');
      await assert.rejects(pw.workflows.start('missing', {}), isCode('workflow.not_found'));
    } finally {
      await pw.close();
    }
    await assert.rejects(
      pw.workflows.start('tagline', { topic: 'tea' }),
      isCode('workflow.run_conflict'),
      'a closed pipewright starts nothing',
    );
    // Telemetry was flushed to the store on close: the direct call and the node's call, under its idempotency key.
    const reopened = await createSqliteStore({ path });
    try {
      const records = await reopened.callRecords.list({ tenantId: 'acme', limit: 10 });
      assert.equal(records.length, 2);
      assert.ok(
        records.some((record) => record.requestId.endsWith(':write:1')),
        JSON.stringify(records.map((record) => record.requestId)),
      );
    } finally {
      await reopened.close();
    }
  });

  test('close leaves a run resumable; a new instance on the same file resumes or cancels it', async () => {
    const path = join(directory, 'resume.db');
    const client = createFakeProviderClient({ chat: () => textResponse('Tea, slowly') });
    let started: () => void = () => undefined;
    const shoutStarted = new Promise<void>((resolve) => (started = resolve));
    const hanging: WorkflowFunctions = {
      transforms: {
        shout: (_input, call: NodeCallContext) => {
          started();
          return new Promise((_, reject) =>
            call.signal.addEventListener('abort', () => reject(call.signal.reason as Error), { once: true }),
          );
        },
      },
    };
    const first = await createPipewright({
      config,
      client,
      storePath: path,
      functions: hanging,
      workflows: [tagline],
    });
    const handle = await first.workflows.start('tagline', { topic: 'tea' });
    await shoutStarted;
    await first.close();
    assert.equal((await handle.result).status, 'interrupted');

    const second = await createPipewright({
      config,
      client,
      storePath: path,
      functions: { transforms: { shout: (input) => `${String(input)}!` } },
      workflows: [tagline],
    });
    try {
      assert.equal((await second.workflows.list({ status: 'running' })).length, 1);
      const result = await (await second.workflows.resume(handle.runId)).result;
      assert.equal(result.status, 'succeeded', String(result.error?.message));
      assert.equal(result.outputs.loud, 'Tea, slowly!');
      assert.equal(client.calls.length, 1, 'the succeeded model node did not run again');

      const other = await second.workflows.start(
        'tagline',
        { topic: 'coffee' },
        { runId: 'run_to_cancel', tenantId: 'beta' },
      );
      await second.workflows.cancel(other.runId, { tenantId: 'beta' });
      assert.equal((await other.result).status, 'cancelled');
    } finally {
      await second.close();
    }
  });

  test('a given store stays open after close; workflow files from the config load with the functions', async () => {
    const file = join(directory, 'flow.yaml');
    writeFileSync(
      file,
      'id: from-file\nversion: 1\ninputs: [n]\noutputs: { doubled: $nodes.double.output }\ncontext: { fields: { n: { schema: { type: number } } } }\nnodes:\n  double: { type: transform, fn: double, input: $context.n }\n',
    );
    const store = await createSqliteStore({ path: ':memory:' });
    try {
      const pw = await createPipewright({
        config: { ...config, workflows: [file] },
        client: createFakeProviderClient(),
        store,
        functions: { transforms: { double: (input) => Number(input) * 2 } },
      });
      const result = await (await pw.workflows.start('from-file', { n: 21 })).result;
      assert.deepEqual(result.outputs, { doubled: 42 });
      await pw.close();
      assert.equal((await store.workflows.listRuns('acme')).length, 1, 'the caller’s store is still open');
      await assert.rejects(
        createPipewright({ config: { ...config, workflows: [join(directory, 'missing.yaml')] }, store }),
        (error: unknown) =>
          isCode('config.invalid')(error) && (error as PipewrightError).param === 'workflows[0]',
      );
    } finally {
      await store.close();
    }
  });
});
