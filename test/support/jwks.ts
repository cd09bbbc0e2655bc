import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { freePort } from '../../platform/ports.ts';

export interface TestIdentityProvider {
  jwksUrl: string;
  issuer: string;
  audience: string;
  /** A token signed by the provider's key (only this test knows it); `expiresIn: null` leaves `exp` out. */
  token(claims: JWTPayload, options?: { expiresIn?: string | number | null; issuer?: string; audience?: string; key?: CryptoKey; kid?: string }): Promise<string>;
  /** A key pair the provider does not publish, for forgeries. */
  foreignKey(): Promise<CryptoKey>;
  stop(): Promise<void>;
}

/** A local OIDC provider for tests: its JWKS over HTTP on loopback, tokens signed with a key made here. */
export async function startTestIdentityProvider(): Promise<TestIdentityProvider> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const kid = 'test-key-1';
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }] };
  const server: Server = createServer((req, res) => {
    if (req.url === '/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    } else res.writeHead(404).end();
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${port}/`;
  const audience = 'ecoc-hub';
  return {
    jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
    issuer,
    audience,
    token: (claims, options = {}) => {
      const jwt = new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: options.kid ?? kid })
        .setIssuer(options.issuer ?? issuer)
        .setAudience(options.audience ?? audience)
        .setIssuedAt();
      if (options.expiresIn !== null) jwt.setExpirationTime(options.expiresIn ?? '5m');
      return jwt.sign(options.key ?? privateKey);
    },
    foreignKey: async () => (await generateKeyPair('ES256')).privateKey,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
