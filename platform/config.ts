import { configSchema, type Config } from '../schemas/config/index.ts';
import { resolveTemporalProfile } from './temporal/connection-options.ts';

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
  const config = result.data;
  // Your own Temporal server: the profile file and the variables over it, checked now (files
  // readable, certificate with its key). The effective address and namespace are written back, so
  // TEMPORAL_ADDRESS is set whenever the app uses its own server, whichever source named it.
  try {
    const profile = resolveTemporalProfile({ ...config, TEMPORAL_NAMESPACE: input.TEMPORAL_NAMESPACE }, env);
    if (profile) {
      config.TEMPORAL_ADDRESS = profile.address;
      config.TEMPORAL_NAMESPACE = profile.namespace ?? config.TEMPORAL_NAMESPACE;
    }
  } catch (error) {
    throw new ConfigError(`Invalid configuration:\n  ${(error as Error).message}`, { cause: error });
  }
  return config;
}
