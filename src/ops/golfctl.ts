/**
 * golfctl's entry (the package's `bin`, through bin/golfctl.js): the commands live in cli.ts.
 *   npx golfctl --help
 */
import { runGolfctl } from './cli.js';

process.exitCode = await runGolfctl(process.argv.slice(2), {
  env: process.env,
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
});
