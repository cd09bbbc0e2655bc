import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const COMPOSE_FILE = 'docker-compose.yml';

interface ComposeService {
  image?: string;
  entrypoint?: string[];
  restart?: string;
  stop_grace_period?: string;
  volumes?: string[];
  build?: { context: string };
  command?: string[];
  environment?: Record<string, string | number>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  ports?: { published: number; target: number }[];
}

function run(command: string, args: string[], input?: string) {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', input, timeout: 60_000 });
  if (result.error && (result.error as NodeJS.ErrnoException).code === 'ENOENT') {
    expect.fail(`${command} is not installed: install Debian's docker-compose (apt-get install -y docker-compose), which validates compose files offline`);
  }
  if (result.error) throw result.error;
  return result;
}

/** YAML to JSON with Python's YAML (a docker-compose dependency). */
function yamlToJson<T>(yaml: string): T {
  const json = run('python3', ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], yaml);
  expect(json.status).toBe(0);
  return JSON.parse(json.stdout) as T;
}

/** `docker-compose config` resolves anchors, merges and defaults. */
function resolvedConfig(): { services: Record<string, ComposeService>; volumes: Record<string, unknown> } {
  const config = run('docker-compose', ['-f', COMPOSE_FILE, 'config']);
  expect(config.stderr).toBe('');
  expect(config.status).toBe(0);
  return yamlToJson(config.stdout);
}

describe('docker-compose.yml (production topology)', () => {
  it('validates with docker-compose config -q', () => {
    const result = run('docker-compose', ['-f', COMPOSE_FILE, 'config', '-q']);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('has Temporal on its own PostgreSQL, the Temporal UI, the app PostgreSQL, worker and API', () => {
    const { services, volumes } = resolvedConfig();
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['temporal', 'temporal-postgresql', 'temporal-ui', 'ecoc-postgresql', 'ecoc-worker', 'ecoc-api']),
    );
    // The server image, not the development auto-setup one: the schema is a one-off job's.
    expect(services.temporal!.image).toMatch(/^temporalio\/server:/);
    expect(services.temporal!.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'temporal-postgresql' });
    expect(services['temporal-ui']!.image).toMatch(/^temporalio\/ui:/);
    expect(services['temporal-ui']!.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233' });
    expect(Object.keys(volumes)).toEqual(expect.arrayContaining(['temporal-postgresql-data', 'ecoc-postgresql-data']));

    for (const [name, role] of [['ecoc-worker', 'worker'], ['ecoc-api', 'api']] as const) {
      const service = services[name]!;
      expect(service.build?.context.replace(/\/$/, '')).toBe(ROOT.replace(/\/$/, ''));
      expect(service.command).toEqual([role]);
      expect(service.environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233' });
      // The app's database is its own server, not Temporal's, reached as the app role; the owner's URL is not theirs.
      expect(String(service.environment?.DATABASE_URL)).toMatch(/^postgresql:\/\/ecoc_app:[^@]+@ecoc-postgresql:5432\/ecoc$/);
      expect(service.environment?.ECOC_DATABASE_OWNER_URL).toBeUndefined();
      expect(service.depends_on?.temporal?.condition).toBe('service_healthy');
    }
    expect(services['ecoc-api']!.ports).toEqual([{ published: 3000, target: 3000 }]);
    // Only the migration step holds the schema owner's credentials.
    expect(String(services['ecoc-migrate']!.environment?.ECOC_DATABASE_OWNER_URL)).toMatch(/^postgresql:\/\/ecoc:[^@]+@ecoc-postgresql:5432\/ecoc$/);
  });

  it('gates start-up on healthchecks of the databases, Temporal and the API', () => {
    const { services } = resolvedConfig();
    for (const name of ['temporal-postgresql', 'ecoc-postgresql', 'temporal', 'ecoc-api', 'ecoc-worker']) {
      expect(services[name]!.healthcheck?.test.length, `${name} healthcheck`).toBeGreaterThan(1);
    }
    expect(services['ecoc-api']!.healthcheck!.test.join(' ')).toContain('/readyz');
    // The worker's own operations port, on the compose network.
    expect(services['ecoc-worker']!.healthcheck!.test.join(' ')).toContain('127.0.0.1:3001/readyz');
    expect(services['ecoc-worker']!.environment?.ECOC_WORKER_OPS_HOST).toBe('0.0.0.0');
    expect(String(services['ecoc-worker']!.environment?.ECOC_WORKER_OPS_PORT)).toBe('3001');
    expect(services.temporal!.depends_on?.['temporal-postgresql']?.condition).toBe('service_healthy');
  });

  it('sets up Temporal’s schema and namespace as one-off admin-tools jobs that gate the server and the app', () => {
    const { services } = resolvedConfig();
    for (const job of ['temporal-schema', 'temporal-namespace']) {
      expect(services[job]!.image, job).toMatch(/^temporalio\/admin-tools:/);
      expect(services[job]!.restart, job).toBe('no');
    }
    const schema = services['temporal-schema']!.command!.join('\n');
    for (const step of ['--db temporal setup-schema', '--db temporal update-schema', '--db temporal_visibility setup-schema', '--db temporal_visibility update-schema']) {
      expect(schema).toContain(step);
    }
    expect(services['temporal-schema']!.environment).toMatchObject({ SQL_PLUGIN: 'postgres12', SQL_HOST: 'temporal-postgresql' });
    expect(services.temporal!.depends_on?.['temporal-schema']?.condition).toBe('service_completed_successfully');
    expect(services['temporal-namespace']!.depends_on?.temporal?.condition).toBe('service_healthy');
    for (const name of ['ecoc-worker', 'ecoc-api']) expect(services[name]!.depends_on?.['temporal-namespace']?.condition, name).toBe('service_completed_successfully');
    // Longer than the worker's shutdown grace (30s) plus the 10s it then gives cancelled activities.
    expect(services['ecoc-worker']!.stop_grace_period).toBe('60s');
  });

  it('has Prometheus scraping the worker’s operations port, the API and Temporal, from a config file in the repository', () => {
    const { services } = resolvedConfig();
    const prometheus = services.prometheus!;
    expect(prometheus.image).toMatch(/^prom\/prometheus:/);
    // docker-compose v1 prints volumes as `source:target:mode`.
    expect(prometheus.volumes).toContain(`${ROOT}deploy/prometheus:/etc/prometheus:ro`);
    const config = yamlToJson<{ scrape_configs: { job_name: string; static_configs: { targets: string[] }[]; authorization?: { credentials_file: string } }[] }>(
      readFileSync(new URL('../../deploy/prometheus/prometheus.yml', import.meta.url), 'utf8'),
    );
    const targets = Object.fromEntries(config.scrape_configs.map((job) => [job.job_name, job.static_configs.flatMap((static_) => static_.targets)]));
    expect(targets).toEqual({ 'ecoc-worker': ['ecoc-worker:3001'], 'ecoc-api': ['ecoc-api:3000'], temporal: ['temporal:8000'] });
    expect(config.scrape_configs.find((job) => job.job_name === 'ecoc-api')!.authorization!.credentials_file).toBe('/etc/prometheus/ecoc-api-token');
    expect(services.temporal!.environment?.PROMETHEUS_ENDPOINT).toBe('0.0.0.0:8000');
  });

  it('runs commands the image and CLI provide', () => {
    const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
    // Node 22 LTS; built once (workflow bundle, console) and run by the bundle, as a non-root user.
    expect(dockerfile.match(/^FROM \S+/gm)).toEqual(['FROM node:22-bookworm', 'FROM node:22-bookworm-slim']);
    expect(dockerfile).toMatch(/^RUN npm ci$/m);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toMatch(/ECOC_WORKFLOW_BUNDLE=\/app\/dist\/workflow-bundle\.js/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*CMD \["node", "cli\/healthcheck\.js"\]$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "cli\/ecoc\.js"\]$/m);
    expect(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).toContain('"build": "tsx platform/build.ts"');

    const { services } = resolvedConfig();
    const commands = new Set(Object.values(services).flatMap((service) => (service.build ? (service.command ?? []) : [])));
    const help = run('node', ['cli/ecoc.js', '--help']);
    expect(help.status).toBe(0);
    const cliCommands = new Set([...help.stdout.matchAll(/^ {2}(\S+)/gm)].map((match) => match[1]));
    for (const command of commands) expect(cliCommands, `ecoc ${command}`).toContain(command);
    expect(commands).toEqual(new Set(['worker', 'api', 'migrate']));
  });
});
