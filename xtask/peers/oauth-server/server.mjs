// Local OAuth 2.0 / OpenID Connect authorization server for the sipgate-oauth interop
// and browser tests (`cargo xtask test`, `cargo xtask e2e`). xtask installs it under
// target/peers/oauth-server with `npm ci` from the lock file next to this script and starts
// it with PORT set to a free port on 127.0.0.1.
//
// Built on the `oidc-provider` npm package (a certified OpenID Provider
// implementation). It adds, on top of the provider:
//   * headless auto-approval of the login and consent interactions,
//   * a fake protected resource shaped like the sipgate REST API
//     (GET /v2/account, GET /v2/authorization/userinfo),
//   * optional strict enforcement of the registered client authentication
//     method (client_secret_post vs client_secret_basic),
//   * an optional Keycloak-style token response (lowercase token_type and the
//     extra fields sipgate's Keycloak returns),
//   * a log of token endpoint requests at GET /__test/token-requests.
//
// Configuration is by environment variables (all optional):
//   PORT                  port to bind on HOST (default 9400; 0 = ephemeral)
//   HOST                  bind address (default 127.0.0.1)
//   CLIENTS_FILE          client registrations (default ./clients.json)
//   SCOPES_FILE           resource-server scopes (default ./scopes.json)
//   ACCESS_TOKEN_TTL      seconds (default 300, like sipgate)
//   REFRESH_TOKEN_TTL     seconds (default 2592000 = 30 days, like sipgate)
//   AUTH_CODE_TTL         seconds (default 60)
//   ROTATE_REFRESH_TOKEN  1 = rotate on every use, reuse revokes the grant (default 1)
//   PKCE_REQUIRED         1 = reject authorization requests without PKCE (default 1)
//   STRICT_CLIENT_AUTH    1 = enforce the registered token_endpoint_auth_method (default 1)
//   KEYCLOAK_STYLE        1 = token_type "bearer" + refresh_expires_in,
//                         not-before-policy, session_state fields (default 0)
//   AUTO_ACCOUNT          account id used by the auto-login (default "w0")
//   CLOCK_TOLERANCE       seconds of leeway on expiry checks (default 0, the
//                         provider's own default of 15 would hide short TTLs)
//   PORT_FILE             if set, the bound port is written there once listening
//
// Auto-approval rules (GET /interaction/<uid>):
//   * login_hint=deny      -> the interaction ends with error=access_denied
//   * login_hint=<id>      -> logs in as <id>
//   * otherwise            -> logs in as AUTO_ACCOUNT
//   * consent              -> every requested scope is granted
// prompt=none without a session yields error=login_required (built-in).

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

import Provider, { errors } from 'oidc-provider';

const here = path.dirname(fileURLToPath(import.meta.url));
const env = (name, fallback) => (process.env[name] === undefined || process.env[name] === ''
  ? fallback : process.env[name]);
const flag = (name, fallback) => env(name, fallback ? '1' : '0') === '1';

const HOST = env('HOST', '127.0.0.1');
const PORT = Number.parseInt(env('PORT', '9400'), 10);
const ACCESS_TOKEN_TTL = Number.parseInt(env('ACCESS_TOKEN_TTL', '300'), 10);
const REFRESH_TOKEN_TTL = Number.parseInt(env('REFRESH_TOKEN_TTL', '2592000'), 10);
const AUTH_CODE_TTL = Number.parseInt(env('AUTH_CODE_TTL', '60'), 10);
const ROTATE_REFRESH_TOKEN = flag('ROTATE_REFRESH_TOKEN', true);
const PKCE_REQUIRED = flag('PKCE_REQUIRED', true);
const STRICT_CLIENT_AUTH = flag('STRICT_CLIENT_AUTH', true);
const KEYCLOAK_STYLE = flag('KEYCLOAK_STYLE', false);
const AUTO_ACCOUNT = env('AUTO_ACCOUNT', 'w0');
const CLOCK_TOLERANCE = Number.parseInt(env('CLOCK_TOLERANCE', '0'), 10);

const readJson = (file) => JSON.parse(fs.readFileSync(path.resolve(here, file), 'utf8'));
const CLIENTS = readJson(env('CLIENTS_FILE', 'clients.json')).clients;
const API_SCOPES = readJson(env('SCOPES_FILE', 'scopes.json')).scopes;

// Bind first so that PORT=0 works; the issuer needs the real port.
const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(PORT, HOST, resolve);
});
const boundPort = server.address().port;
const hostForUrl = HOST.includes(':') ? `[${HOST}]` : HOST;
const ISSUER = `http://${hostForUrl}:${boundPort}`;
// Resource indicator (RFC 8707) of the fake sipgate REST API served below.
const API_RESOURCE = `${ISSUER}/v2`;

// Signing key for ID tokens, generated per process (no dev-key warning).
const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingJwk = {
  ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), alg: 'RS256', use: 'sig',
};

const configuration = {
  clients: CLIENTS,
  clockTolerance: CLOCK_TOLERANCE,
  jwks: { keys: [signingJwk] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  scopes: ['openid', 'offline_access'],
  claims: { openid: ['sub'], profile: ['name', 'locale'], email: ['email'] },
  async findAccount(ctx, sub) {
    return {
      accountId: sub,
      async claims() {
        return {
          sub, name: `Test User ${sub}`, locale: 'de_DE', email: `${sub}@example.invalid`,
        };
      },
    };
  },
  features: {
    devInteractions: { enabled: false }, // replaced by the auto-approval below
    revocation: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Requests that name no `resource` get the fake sipgate API as audience.
      async defaultResource(ctx, client, oneOf) {
        if (oneOf) return oneOf.includes(API_RESOURCE) ? API_RESOURCE : oneOf;
        return API_RESOURCE;
      },
      async useGrantedResource() { return true; },
      async getResourceServerInfo(ctx, resourceIndicator) {
        if (resourceIndicator !== API_RESOURCE) throw new errors.InvalidTarget();
        return {
          scope: API_SCOPES.join(' '),
          audience: API_RESOURCE,
          accessTokenTTL: ACCESS_TOKEN_TTL,
          accessTokenFormat: 'opaque',
        };
      },
    },
  },
  pkce: { required: () => PKCE_REQUIRED },
  // sipgate (Keycloak) hands out a refresh token without offline_access.
  async issueRefreshToken(ctx, client) { return client.grantTypeAllowed('refresh_token'); },
  rotateRefreshToken: ROTATE_REFRESH_TOKEN,
  async expiresWithSession() { return false; },
  ttl: {
    AccessToken: ACCESS_TOKEN_TTL,
    AuthorizationCode: AUTH_CODE_TTL,
    RefreshToken: REFRESH_TOKEN_TTL,
    IdToken: 3600,
    Interaction: 600,
    Session: 86400,
    Grant: Math.max(REFRESH_TOKEN_TTL, 86400) * 4,
  },
  // JSON instead of the HTML error page (used when no redirect is possible,
  // e.g. unknown client or unregistered redirect_uri).
  async renderError(ctx, out) {
    ctx.type = 'json';
    ctx.body = out;
  },
};

const provider = new Provider(ISSUER, configuration);
const tokenRequests = [];

async function readRawBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function bearerChallenge(ctx, status, error, description, scope) {
  const parts = ['realm="sipgate-test"'];
  if (error) parts.push(`error="${error}"`);
  if (description) parts.push(`error_description="${description}"`);
  if (scope) parts.push(`scope="${scope}"`);
  ctx.status = status;
  ctx.set('WWW-Authenticate', `Bearer ${parts.join(', ')}`);
  ctx.body = error ? { error, error_description: description } : { error: 'unauthorized' };
}

// Validates a Bearer access token for the fake API; returns it or undefined.
async function requireToken(ctx, scope) {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('authorization'));
  if (!match) {
    bearerChallenge(ctx, 401);
    return undefined;
  }
  const token = await provider.AccessToken.find(match[1]);
  if (!token || token.isExpired || token.aud !== API_RESOURCE) {
    bearerChallenge(ctx, 401, 'invalid_token', 'access token is unknown, expired or revoked');
    return undefined;
  }
  if (!token.scopes.has(scope)) {
    bearerChallenge(ctx, 403, 'insufficient_scope', `scope ${scope} required`, scope);
    return undefined;
  }
  return token;
}

// Fake sipgate REST API (protected resource).
provider.use(async (ctx, next) => {
  if (ctx.method === 'GET' && ctx.path === '/v2/account') {
    const token = await requireToken(ctx, 'account:read');
    if (token) {
      ctx.body = {
        company: `Test Company of ${token.accountId}`,
        mainProductType: 'TEAM',
        logoUrl: '',
        verified: true,
      };
    }
    return undefined;
  }
  if (ctx.method === 'GET' && ctx.path === '/v2/authorization/userinfo') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(ctx.get('authorization'));
    const token = match ? await provider.AccessToken.find(match[1]) : undefined;
    if (!token || token.isExpired || token.aud !== API_RESOURCE) {
      bearerChallenge(ctx, 401, match ? 'invalid_token' : undefined);
      return undefined;
    }
    ctx.body = {
      sub: token.accountId, domain: 'sipgate.de', masterSipId: '1234567', locale: 'de_DE',
    };
    return undefined;
  }
  if (ctx.path === '/__test/token-requests') {
    if (ctx.method === 'DELETE') tokenRequests.length = 0;
    ctx.body = tokenRequests;
    return undefined;
  }
  return next();
});

// Token endpoint: request log, strict client authentication, Keycloak style.
provider.use(async (ctx, next) => {
  if (ctx.method !== 'POST' || !['/token', '/token/revocation', '/token/introspection'].includes(ctx.path)) {
    return next();
  }
  const raw = await readRawBody(ctx.req);
  ctx.req.body = raw; // oidc-provider falls back to this once the stream is consumed
  const params = new URLSearchParams(raw);
  const authz = ctx.get('authorization');
  let usedMethod = 'none';
  let clientId = params.get('client_id');
  if (/^basic\s/i.test(authz)) {
    usedMethod = 'client_secret_basic';
    try {
      const decoded = Buffer.from(authz.split(/\s+/)[1] || '', 'base64').toString('utf8');
      const user = decoded.slice(0, decoded.indexOf(':'));
      clientId = decodeURIComponent(user.replace(/\+/g, '%20'));
    } catch { /* reported by the provider itself */ }
  } else if (params.has('client_secret')) {
    usedMethod = 'client_secret_post';
  }
  const entry = {
    at: new Date().toISOString(),
    endpoint: ctx.path,
    grant_type: params.get('grant_type'),
    client_id: clientId,
    client_auth: usedMethod,
    has_code_verifier: params.has('code_verifier'),
    redirect_uri: params.get('redirect_uri'),
    scope: params.get('scope'),
  };
  tokenRequests.push(entry);
  if (tokenRequests.length > 200) tokenRequests.shift();

  if (STRICT_CLIENT_AUTH && clientId) {
    const client = await provider.Client.find(clientId);
    const registered = client?.clientAuthMethod;
    if (registered && ['client_secret_post', 'client_secret_basic'].includes(registered)
        && usedMethod !== 'none' && usedMethod !== registered) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Basic realm="sipgate-test"');
      ctx.set('Cache-Control', 'no-store');
      ctx.body = {
        error: 'invalid_client',
        error_description: `client is registered for ${registered} but used ${usedMethod}`,
      };
      entry.status = ctx.status;
      entry.error = 'invalid_client';
      return undefined;
    }
  }

  await next();
  entry.status = ctx.status;
  if (ctx.body && typeof ctx.body === 'object' && ctx.body.error) entry.error = ctx.body.error;

  if (KEYCLOAK_STYLE && ctx.path === '/token' && ctx.status === 200
      && ctx.body && typeof ctx.body === 'object' && ctx.body.access_token) {
    ctx.body = {
      ...ctx.body,
      token_type: String(ctx.body.token_type).toLowerCase(),
      refresh_expires_in: ctx.body.refresh_token ? REFRESH_TOKEN_TTL : 0,
      'not-before-policy': 0,
      session_state: crypto.randomUUID(),
    };
  }
  return undefined;
});

// Headless auto-approval of the login and consent interactions.
provider.use(async (ctx, next) => {
  const match = /^\/interaction\/([^/]+)$/.exec(ctx.path);
  if (ctx.method !== 'GET' || !match) return next();
  ctx.set('Cache-Control', 'no-store');
  let details;
  try {
    details = await provider.interactionDetails(ctx.req, ctx.res);
  } catch (err) {
    ctx.status = err.status || 400;
    ctx.body = { error: err.error || 'invalid_request', error_description: err.error_description || err.message };
    return undefined;
  }
  const { prompt, params, session } = details;
  if (params.login_hint === 'deny') {
    return provider.interactionFinished(ctx.req, ctx.res, {
      error: 'access_denied',
      error_description: 'End-User denied the authorization request (login_hint=deny)',
    }, { mergeWithLastSubmission: false });
  }
  if (prompt.name === 'login') {
    const accountId = params.login_hint || AUTO_ACCOUNT;
    return provider.interactionFinished(ctx.req, ctx.res, { login: { accountId } }, {
      mergeWithLastSubmission: false,
    });
  }
  if (prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const d = prompt.details;
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    if (d.missingResourceScopes) {
      for (const [indicator, scopes] of Object.entries(d.missingResourceScopes)) {
        grant.addResourceScope(indicator, scopes.join(' '));
      }
    }
    const grantId = await grant.save();
    const consent = details.grantId ? {} : { grantId };
    return provider.interactionFinished(ctx.req, ctx.res, { consent }, {
      mergeWithLastSubmission: true,
    });
  }
  ctx.status = 400;
  ctx.body = { error: 'invalid_request', error_description: `unsupported prompt ${prompt.name}` };
  return undefined;
});

server.on('request', provider.callback());

const settings = {
  issuer: ISSUER,
  api: API_RESOURCE,
  access_token_ttl: ACCESS_TOKEN_TTL,
  refresh_token_ttl: REFRESH_TOKEN_TTL,
  rotate_refresh_token: ROTATE_REFRESH_TOKEN,
  pkce_required: PKCE_REQUIRED,
  strict_client_auth: STRICT_CLIENT_AUTH,
  keycloak_style: KEYCLOAK_STYLE,
  clients: CLIENTS.map((c) => c.client_id),
};
if (process.env.PORT_FILE) fs.writeFileSync(process.env.PORT_FILE, `${boundPort}\n`);
console.log(`oauth test server listening: ${JSON.stringify(settings)}`);

const shutdown = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
