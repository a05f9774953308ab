#!/usr/bin/env node
// golfctl is TypeScript, run through tsx (a dependency) as the server is: see src/ops/golfctl.ts.
import { register } from 'tsx/esm/api';

register();
await import('../src/ops/golfctl.ts');
