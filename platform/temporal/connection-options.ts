import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { loadClientConfigProfile, toClientOptions, type ClientConfigProfile } from '@temporalio/envconfig';
import { temporalAddress } from '../../schemas/config/platform.ts';
import type { Config } from '../../schemas/config/index.ts';

/**
 * The options every Temporal connection of the app is made with: the API's and the CLI's Client
 * `Connection` and the worker's `NativeConnection` take the same shape.
 */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
}

/** The Temporal variables of the config; TEMPORAL_NAMESPACE is optional so a profile's namespace can apply. */
export type TemporalVariables = Pick<
  Config,
  | 'TEMPORAL_ADDRESS'
  | 'TEMPORAL_CONFIG_FILE'
  | 'TEMPORAL_PROFILE'
  | 'TEMPORAL_API_KEY'
  | 'TEMPORAL_TLS'
  | 'TEMPORAL_TLS_CLIENT_CERT_PATH'
  | 'TEMPORAL_TLS_CLIENT_KEY_PATH'
  | 'TEMPORAL_TLS_SERVER_CA_CERT_PATH'
  | 'TEMPORAL_TLS_SERVER_NAME'
  | 'ECOC_TEMPORAL_PORT'
> & { TEMPORAL_NAMESPACE?: string | undefined };

/** The variables that only make sense for your own server: the embedded dev server takes plain connections. */
const SERVER_ONLY = ['TEMPORAL_API_KEY', 'TEMPORAL_TLS', 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_SERVER_NAME'] as const;

/** Which server the app uses: your own (TEMPORAL_ADDRESS, or a profile chosen with TEMPORAL_CONFIG_FILE / TEMPORAL_PROFILE) or the embedded one. */
export function usesOwnTemporal(config: Pick<Config, 'TEMPORAL_ADDRESS' | 'TEMPORAL_CONFIG_FILE' | 'TEMPORAL_PROFILE'>): boolean {
  return Boolean(config.TEMPORAL_ADDRESS || config.TEMPORAL_CONFIG_FILE || config.TEMPORAL_PROFILE);
}

/**
 * Reads the profile (file, then the variables over it) the way the Temporal SDKs and CLI do, and
 * checks it: an address, readable PEM files, a certificate with its key. Errors name the variable
 * (or the profile key) at fault. Returns the effective profile; `undefined` for the embedded server.
 */
export function resolveTemporalProfile(config: TemporalVariables, env: NodeJS.ProcessEnv = process.env): ClientConfigProfile | undefined {
  if (!usesOwnTemporal(config)) {
    const stray = SERVER_ONLY.filter((name) => config[name] !== undefined);
    if (stray.length > 0) {
      throw new Error(`${stray.join(', ')} ${stray.length === 1 ? 'is' : 'are'} set but TEMPORAL_ADDRESS is not: the embedded dev server takes plain connections; set TEMPORAL_ADDRESS (or TEMPORAL_CONFIG_FILE / TEMPORAL_PROFILE) for your own server`);
    }
    return undefined;
  }
  const file = config.TEMPORAL_CONFIG_FILE;
  let fileText: string | undefined;
  if (file) {
    try {
      fileText = readFileSync(file, 'utf8');
    } catch (error) {
      throw new Error(`TEMPORAL_CONFIG_FILE: cannot read ${file}: ${(error as Error).message}`, { cause: error });
    }
  }
  const where = `profile '${config.TEMPORAL_PROFILE ?? 'default'}' of ${file ?? 'the default profile file (~/.config/temporalio/temporal.toml)'}`;
  const overrides: Record<string, string> = {};
  // Only the validated variables (and what locates the default file) take part; nothing else from the environment.
  for (const name of ['HOME', 'XDG_CONFIG_HOME'] as const) if (env[name]) overrides[name] = env[name];
  for (const name of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', ...SERVER_ONLY] as const) {
    const value = config[name];
    if (value !== undefined) overrides[name] = String(value);
  }
  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({
      ...(config.TEMPORAL_PROFILE ? { profile: config.TEMPORAL_PROFILE } : {}),
      ...(fileText !== undefined ? { configSource: { data: fileText } } : {}),
      configFileStrict: fileText !== undefined,
      overrideEnvVars: overrides,
    });
  } catch (error) {
    const message = (error as Error).message;
    if (/Profile '.*' not found/.test(message)) throw new Error(`TEMPORAL_PROFILE: ${where} does not exist`, { cause: error });
    throw new Error(`${file ? 'TEMPORAL_CONFIG_FILE' : 'temporal.toml'}: ${where} is not valid: ${message}`, { cause: error });
  }
  const origin = (variable: string, key: string) => (config[variable as keyof TemporalVariables] !== undefined ? variable : `${key} in ${where} (or ${variable})`);
  if (!profile.address) throw new Error(`TEMPORAL_ADDRESS: not set, and ${where} has no address`);
  if (!temporalAddress.safeParse(profile.address).success) throw new Error(`${origin('TEMPORAL_ADDRESS', 'address')}: expected host:port (got ${JSON.stringify(profile.address)})`);
  const tls = profile.tls;
  if (tls && !tls.disabled) {
    const cert = readPem(tls.clientCert, origin('TEMPORAL_TLS_CLIENT_CERT_PATH', 'tls.client_cert_path'));
    const key = readPem(tls.clientKey, origin('TEMPORAL_TLS_CLIENT_KEY_PATH', 'tls.client_key_path'));
    const ca = readPem(tls.serverCACert, origin('TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'tls.server_ca_cert_path'));
    if (Boolean(cert) !== Boolean(key)) {
      throw new Error(`TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together: ${cert ? 'the certificate has no key' : 'the key has no certificate'}`);
    }
    if (cert && key) {
      const certificate = parse(() => new X509Certificate(cert.pem), `${cert.name}: ${cert.path} holds no PEM certificate`);
      const privateKey = parse(() => createPrivateKey(key.pem), `${key.name}: ${key.path} holds no PEM private key`);
      if (!certificate.checkPrivateKey(privateKey)) throw new Error(`${key.name}: ${key.path} is not the key of the certificate in ${cert.path}`);
      if (Date.parse(certificate.validTo) < Date.now()) throw new Error(`${cert.name}: the client certificate in ${cert.path} expired on ${certificate.validTo}`);
    }
    if (ca) parse(() => new X509Certificate(ca.pem), `${ca.name}: ${ca.path} holds no PEM certificate`);
  } else if (tls?.disabled && (tls.clientCert || tls.clientKey || tls.serverCACert)) {
    throw new Error(`TEMPORAL_TLS is false but TLS files are configured (${origin('TEMPORAL_TLS_CLIENT_CERT_PATH', 'tls.*_path')}): remove one or the other`);
  }
  return profile;
}

/**
 * The one function that builds Temporal connection options, for Client connections (API, CLI)
 * and the worker's NativeConnection alike. Your own server: the resolved profile (envconfig's
 * mapping, so an API key alone means TLS with the system CAs). The embedded dev server: a plain
 * connection to `embeddedAddress` (default 127.0.0.1:ECOC_TEMPORAL_PORT).
 */
export function temporalConnectionOptions(config: TemporalVariables, embeddedAddress?: string): TemporalConnectionOptions {
  const profile = resolveTemporalProfile(config);
  if (!profile) return { address: embeddedAddress ?? `127.0.0.1:${config.ECOC_TEMPORAL_PORT}` };
  const { connectionOptions } = toClientOptions(profile);
  return {
    address: connectionOptions.address!,
    ...(connectionOptions.tls ? { tls: connectionOptions.tls } : {}),
    ...(typeof connectionOptions.apiKey === 'string' ? { apiKey: connectionOptions.apiKey } : {}),
    ...(connectionOptions.metadata && Object.keys(connectionOptions.metadata).length > 0 ? { metadata: connectionOptions.metadata as Record<string, string> } : {}),
  };
}

interface Pem {
  name: string;
  path: string;
  pem: Buffer;
}

function readPem(source: { path: string } | { data: string | Uint8Array } | undefined, name: string): Pem | undefined {
  if (!source) return undefined;
  if ('data' in source) return { name, path: '(inline data)', pem: Buffer.from(source.data) };
  try {
    return { name, path: source.path, pem: readFileSync(source.path) };
  } catch (error) {
    throw new Error(`${name}: cannot read ${source.path}: ${(error as Error).message}`, { cause: error });
  }
}

function parse<T>(make: () => T, message: string): T {
  try {
    return make();
  } catch (error) {
    throw new Error(message, { cause: error });
  }
}
