import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { PipewrightError } from '../../core/index.ts';
import { callRecord, runStoreContract } from '../store-contract.ts';
import { createSqliteStore } from './sqlite-store.ts';

const directory = mkdtempSync(join(tmpdir(), 'pipewright-sqlite-'));
after(() => rmSync(directory, { recursive: true, force: true }));

runStoreContract({
  name: 'sqlite (file)',
  persistent: true,
  createStore: (location) => createSqliteStore({ path: join(directory, `${location}.db`) }),
});

runStoreContract({
  name: 'sqlite (:memory:)',
  createStore: () => createSqliteStore({ path: ':memory:' }),
});

describe('createSqliteStore', () => {
  test('creates the parent directories of the file and opens it in WAL mode', async () => {
    const path = join(directory, 'nested', 'deeper', 'pipewright.db');
    const store = await createSqliteStore({ path });
    try {
      await store.callRecords.insertMany([callRecord()]);
    } finally {
      await store.close();
    }
    assert.ok(existsSync(path));
    const raw = new Database(path, { readonly: true });
    try {
      assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
      const tables = raw
        .prepare("select name from sqlite_master where type = 'table' order by name")
        .pluck()
        .all();
      assert.ok(tables.includes('call_records'));
      const indexes = raw
        .prepare("select name from sqlite_master where type = 'index' and tbl_name = 'call_records'")
        .pluck()
        .all();
      assert.ok(indexes.includes('call_records_tenant_time'));
      assert.equal(raw.prepare('select count(*) from call_records').pluck().get(), 1);
    } finally {
      raw.close();
    }
  });

  test('a file that is not a database fails with store.failure, not a crash', async () => {
    const path = join(directory, 'not-a-database.db');
    writeFileSync(path, 'this is plain text, not SQLite '.repeat(100));
    await assert.rejects(
      () => createSqliteStore({ path }),
      (error: unknown) =>
        PipewrightError.isInstance(error) && error.code === 'store.failure' && error.cause !== undefined,
    );
  });

  test('a path that is a directory fails with store.failure', async () => {
    await assert.rejects(
      () => createSqliteStore({ path: directory }),
      (error: unknown) => PipewrightError.isInstance(error) && error.code === 'store.failure',
    );
  });

  test('an empty path is a configuration error naming the field', async () => {
    await assert.rejects(
      () => createSqliteStore({ path: ' ' }),
      (error: unknown) =>
        PipewrightError.isInstance(error) && error.code === 'config.invalid' && error.param === 'path',
    );
  });

  test('two stores on one file see each other’s writes', async () => {
    const path = join(directory, 'shared.db');
    const writer = await createSqliteStore({ path });
    const reader = await createSqliteStore({ path });
    try {
      await writer.callRecords.insertMany([callRecord({ id: 'call_shared' })]);
      const listed = await reader.callRecords.list({ tenantId: 'tenant_a' });
      assert.deepEqual(
        listed.map((record) => record.id),
        ['call_shared'],
      );
    } finally {
      await writer.close();
      await reader.close();
    }
  });
});
