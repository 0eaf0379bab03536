#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader (see docs/adr/0002-ship-typescript-via-tsx.md).
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../src/cli/index.ts');
await runCli(process.argv);
