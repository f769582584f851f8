// A real OpenID provider (panva/oidc-provider, OpenID certified) for the console sign-in tests.
// Usage: node provider.mjs <port> <client_id> <client_secret> <redirect_uri>
// Users sign in on the provider's own development pages with any password; their role claims:
import Provider from 'oidc-provider';

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const USERS = {
  olive: { name: 'Olive Operator', roles: ['ld-operators'] },
  audrey: { name: 'Audrey Auditor', roles: ['ld-auditors', 'staff'] },
  nobody: { name: 'No Role', roles: ['staff'] },
};

const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  claims: { openid: ['sub'], profile: ['name', 'roles'] },
  conformIdTokenClaims: false, // the role claim in the ID token itself
  cookies: { keys: ['test-only-cookie-key'] },
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  async findAccount(_ctx, id) {
    const user = USERS[id];
    if (!user) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...user }) };
  },
});
provider.listen(Number(port), '127.0.0.1', () => console.log('listening'));
