import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const COMPOSE_FILE = 'docker-compose.yml';

interface ComposeService {
  image?: string;
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

/** `docker-compose config` resolves anchors, merges and defaults; Python's YAML (a docker-compose dependency) turns it into JSON. */
function resolvedConfig(): { services: Record<string, ComposeService>; volumes: Record<string, unknown> } {
  const config = run('docker-compose', ['-f', COMPOSE_FILE, 'config']);
  expect(config.stderr).toBe('');
  expect(config.status).toBe(0);
  const json = run('python3', ['-c', 'import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], config.stdout);
  expect(json.status).toBe(0);
  return JSON.parse(json.stdout);
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
    expect(services.temporal!.image).toMatch(/^temporalio\/(auto-setup|server):/);
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

  it('runs commands the image and CLI provide', () => {
    const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20/m);
    expect(dockerfile).toMatch(/^RUN npm ci$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/app\/node_modules\/\.bin\/tsx", "cli\/main\.ts"\]$/m);

    const { services } = resolvedConfig();
    const commands = new Set(Object.values(services).flatMap((service) => (service.build ? (service.command ?? []) : [])));
    const help = run('node_modules/.bin/tsx', ['cli/main.ts', '--help']);
    expect(help.status).toBe(0);
    const cliCommands = new Set([...help.stdout.matchAll(/^ {2}(\S+)/gm)].map((match) => match[1]));
    for (const command of commands) expect(cliCommands, `ecoc ${command}`).toContain(command);
    expect(commands).toEqual(new Set(['worker', 'api', 'migrate']));
  });
});
