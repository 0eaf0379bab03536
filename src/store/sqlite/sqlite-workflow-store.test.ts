import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { runWorkflowStoreContract } from '../workflow-store-contract.ts';
import { createSqliteStore } from './sqlite-store.ts';

const directory = mkdtempSync(join(tmpdir(), 'pipewright-sqlite-workflow-'));
after(() => rmSync(directory, { recursive: true, force: true }));

runWorkflowStoreContract({
  name: 'sqlite (file)',
  persistent: true,
  createStore: (location) => createSqliteStore({ path: join(directory, `${location}.db`) }),
});

runWorkflowStoreContract({
  name: 'sqlite (:memory:)',
  createStore: () => createSqliteStore({ path: ':memory:' }),
});
