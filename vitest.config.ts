import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const pkg = (name: string, entry = 'index') => fileURLToPath(new URL(`./packages/${name}/src/${entry}.ts`, import.meta.url));

// Tests run against the TypeScript sources; the built dist is exercised by the
// examples and the type tests.
export default defineConfig({
  resolve: {
    // Subpaths first: a string alias also matches `<name>/…`.
    alias: {
      '@idgate/core/adapter': fileURLToPath(new URL('./packages/core/src/adapter.ts', import.meta.url)),
      '@idgate/core/node': fileURLToPath(new URL('./packages/core/src/node.ts', import.meta.url)),
      '@idgate/core': pkg('core'),
      '@idgate/express': pkg('express'),
      '@idgate/koa': pkg('koa'),
      '@idgate/fastify': pkg('fastify'),
      '@idgate/hono': pkg('hono'),
      '@idgate/nestjs': pkg('nestjs'),
      '@idgate/redis': pkg('redis'),
      '@idgate/chat': pkg('chat'),
      '@idgate/kyc': pkg('kyc'),
      '@idgate/mock-upstream': pkg('mock-upstream'),
      '@idgate/telemetry/prometheus': pkg('telemetry', 'prometheus'),
      '@idgate/telemetry/opentelemetry': pkg('telemetry', 'opentelemetry'),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts', 'examples/*/src/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
