import { configSchema, type Config } from '../schemas/config/index.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates configuration; an invalid value stops start-up naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const variable = issue.path.join('.');
      const given = variable in input ? ` (got ${JSON.stringify(input[variable])})` : '';
      return `  ${variable}: ${issue.message}${given}`;
    });
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return result.data;
}
