import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { loadConfigFile } from '../config/index.ts';
import type { Engine } from '../engine/index.ts';
import { createEngine } from '../pipewright.ts';
import { startSimServer, type SimServer } from '../providers/sim/index.ts';
import { createSqliteStore, type Store } from '../store/index.ts';
import { loadWorkflow } from './load-workflow.ts';
import { createWorkflowRunner, type WorkflowRunner } from './workflow-runner.ts';

const examples = new URL('../../examples/workflows/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, examples), 'utf8');

describe('the example workflows run on the sim as they are', () => {
  let sim: SimServer;
  let engine: Engine;
  let store: Store;
  let runner: WorkflowRunner;
  before(async () => {
    sim = await startSimServer({ host: '127.0.0.1', port: 0, seed: 5 });
    engine = createEngine({
      config: loadConfigFile(new URL('sim.yaml', examples).pathname, { SIM_URL: sim.url }),
    });
    store = await createSqliteStore({ path: ':memory:' });
    runner = createWorkflowRunner({ engine, store: store.workflows });
  });
  after(async () => {
    await runner.close();
    await store.close();
    await engine.close();
    await sim.close();
  });

  test('campaign: copy for every channel in parallel, brand-checked, one selected', async () => {
    const handle = await runner.start(
      loadWorkflow(read('campaign.yaml')),
      { brief: 'Launch our new green tea to busy office workers', channels: ['email', 'social'] },
      { tenantId: 'acme' },
    );
    const result = await handle.result;
    assert.equal(result.status, 'succeeded', result.error?.message);
    const variants = result.outputs.variants as string[];
    assert.equal(variants.length, 2);
    for (const [index, channel] of ['email', 'social'].entries()) {
      assert.match(variants[index] ?? '', /^\[simulated\]/, 'every answer is labelled simulated');
      assert.match(variants[index] ?? '', new RegExp(channel), 'results come back in channel order');
    }
    assert.ok(variants.includes(result.outputs.selection as string));
    assert.equal((result.outputs.brandCheck as { pass: boolean }).pass, true);
    assert.ok(result.costUsd > 0);
    const nodes = (await runner.get(handle.runId, { tenantId: 'acme' })).nodes;
    assert.ok(
      nodes.every((node) => node.status === 'succeeded'),
      JSON.stringify(nodes.map((node) => [node.nodeId, node.status])),
    );
  });

  test('document fan-out: a summary per document in order, joined into a digest', async () => {
    const documents = [
      'Tea harvests rose by a tenth this spring.',
      'The new packaging uses recycled paper.',
      'Shops in three cities now stock the range.',
    ];
    const result = await (
      await runner.start(loadWorkflow(read('document-fan-out.yaml')), { documents })
    ).result;
    assert.equal(result.status, 'succeeded', result.error?.message);
    const summaries = result.outputs.summaries as string[];
    assert.equal(summaries.length, 3);
    assert.match(summaries[1] ?? '', /recycled paper/);
    assert.equal(result.outputs.digest, summaries.join('\n---\n'));
    assert.equal((result.outputs.lengthCheck as { flagged: boolean }).flagged, false);
  });
});
