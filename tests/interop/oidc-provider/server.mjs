// A real, certified OpenID provider (panva's oidc-provider) for stepwise's interop scenarios
// (scenarios/interop/oidc-provider/). It serves the RFC 8628 device flow with oidc-provider's
// own HTML pages: the user code form and its confirmation (hidden `xsrf` fields), the
// development login and consent pages (devInteractions), path-scoped cookies and 303s.
//
// Usage: node server.mjs [PORT] [--exit-with-stdin]
//        (or PORT=... node server.mjs; 0 or nothing: any free port)
//
// It binds 127.0.0.1 only, keeps everything in memory (the default adapter), and prints one
// line once it accepts connections:
//
//   oidc-provider ready: issuer=http://127.0.0.1:PORT
//
// The issuer has the real port, so that a test can ask for port 0 and read the port back
// without a race. It stops on SIGINT and SIGTERM, and with `--exit-with-stdin` also when its
// standard input closes: a test harness that dies without stopping it leaves no server behind.

import * as http from 'node:http';
import Provider from 'oidc-provider';

const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

// The one secret here, public on purpose: a throwaway provider for tests on 127.0.0.1.
const CONFIDENTIAL_SECRET = 'stepwise-interop-secret';

function configuration() {
  return {
    clients: [
      {
        // A device (a TV, a CLI): it cannot keep a secret.
        client_id: 'device-public',
        client_name: 'stepwise public device',
        token_endpoint_auth_method: 'none',
        grant_types: [DEVICE_CODE_GRANT, 'refresh_token'],
        response_types: [],
        redirect_uris: [],
      },
      {
        // The same grant for a client that authenticates with HTTP Basic.
        client_id: 'device-confidential',
        client_name: 'stepwise confidential device',
        client_secret: CONFIDENTIAL_SECRET,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: [DEVICE_CODE_GRANT, 'refresh_token'],
        response_types: [],
        redirect_uris: [],
      },
    ],
    scopes: ['openid', 'offline_access'],
    claims: { openid: ['sub'] },
    features: {
      // The built-in login and consent pages: any login name and password sign in.
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
    },
    // oidc-provider's own rule, written out because the scenarios depend on it: a refresh
    // token when the client may use the grant and `offline_access` was granted. (The device
    // flow sends neither `response_type` nor `prompt`, so the scope is not dropped; the
    // consent page lists it and the consent grants it.)
    issueRefreshToken(_ctx, client, code) {
      return client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access');
    },
    async findAccount(_ctx, id) {
      return {
        accountId: id,
        async claims() {
          return { sub: id };
        },
      };
    },
  };
}

const args = process.argv.slice(2);
const exitWithStdin = args.includes('--exit-with-stdin');
const positional = args.filter((a) => !a.startsWith('--'));

function parsePort() {
  const text = positional[0] ?? process.env.PORT ?? '0';
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`invalid port ${JSON.stringify(text)}: give a number from 0 to 65535`);
    process.exit(2);
  }
  return port;
}

// Listen first, so that the issuer can carry the port the system chose.
const server = http.createServer();
server.on('error', (e) => {
  console.error(`cannot listen: ${e.message}`);
  process.exit(1);
});
server.listen(parsePort(), '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, configuration());
  provider.on('server_error', (_ctx, e) => console.error('server_error', e));
  server.on('request', provider.callback());
  console.log(`oidc-provider ready: issuer=${issuer}`);
});

function stop() {
  server.close();
  server.closeAllConnections();
  process.exit(0);
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, stop);
}

if (exitWithStdin) {
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
}
