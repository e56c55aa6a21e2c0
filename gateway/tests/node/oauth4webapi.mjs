// Scenarios driven with oauth4webapi 3 (the low-level library: every request and every
// response check is a call of its own). One exported function per scenario;
// node_clients.rs names them as `oauth4webapi:<name>`.

import * as oauth from 'oauth4webapi'
import { ask, check, jwtClaims, rejectsWith } from './harness.mjs'

/** The authorization server's metadata, checked against the issuer by the library. */
async function discover(issuer) {
  const url = new URL(issuer)
  return oauth.processDiscoveryResponse(url, await oauth.discoveryRequest(url, { algorithm: 'oidc' }))
}

/**
 * Authorization code + PKCE + nonce: the ID token validated by the library (its signature
 * too, against the JWKS), userinfo, refresh, introspection, revocation.
 */
export async function code(input) {
  const as = await discover(input.issuer)
  const c = { client_id: input.client_id }
  const auth = oauth.ClientSecretBasic(input.client_secret)
  const verifier = oauth.generateRandomCodeVerifier()
  const nonce = oauth.generateRandomNonce()
  const state = oauth.generateRandomState()
  const url = new URL(as.authorization_endpoint)
  for (const [k, v] of Object.entries({
    client_id: c.client_id,
    redirect_uri: input.redirect_uri,
    response_type: 'code',
    scope: 'openid email profile offline_access',
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
    prompt: 'consent',
  })) url.searchParams.set(k, v)

  const { callback } = await ask('authorize', { url: url.href })
  const params = oauth.validateAuthResponse(as, c, new URL(callback), state)
  const response = await oauth.authorizationCodeGrantRequest(as, c, auth, params,
    input.redirect_uri, verifier)
  const tokens = await oauth.processAuthorizationCodeResponse(as, c, response, {
    expectedNonce: nonce,
    requireIdToken: true,
  })
  await oauth.validateApplicationLevelSignature(as, response)
  const id = oauth.getValidatedIdTokenClaims(tokens)
  check(id?.nonce === nonce, 'the ID token carries the nonce', id)

  const userinfo = await oauth.processUserInfoResponse(as, c, id.sub,
    await oauth.userInfoRequest(as, c, tokens.access_token))

  const refreshed = await oauth.processRefreshTokenResponse(as, c,
    await oauth.refreshTokenGrantRequest(as, c, auth, tokens.refresh_token))
  check(refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token,
    'a refresh rotates the refresh token', refreshed)
  const introspect = async (token) => oauth.processIntrospectionResponse(as, c,
    await oauth.introspectionRequest(as, c, auth, token))
  const introspected = await introspect(refreshed.access_token)
  check(introspected.active === true, 'the new access token is active', introspected)

  // Revoking the first access token denies it alone.
  await oauth.processRevocationResponse(
    await oauth.revocationRequest(as, c, auth, tokens.access_token))
  const revoked = await introspect(tokens.access_token)
  check(revoked.active === false, 'a revoked access token introspects inactive', revoked)
  check((await introspect(refreshed.access_token)).active === true,
    'revoking one access token leaves the others of its chain')

  // Presenting the first refresh token again is reuse: the whole chain is revoked.
  await rejectsWith(
    oauth.processRefreshTokenResponse(as, c,
      await oauth.refreshTokenGrantRequest(as, c, auth, tokens.refresh_token)),
    'invalid_grant', 'a rotated-out refresh token')
  const afterReuse = await introspect(refreshed.access_token)
  check(afterReuse.active === false, 'reuse revokes the access tokens of the chain', afterReuse)

  return {
    id_token: id,
    userinfo,
    introspection: introspected,
    access_token: jwtClaims(tokens.access_token),
    reused_refresh_token: tokens.refresh_token,
    revoked_refresh_token: refreshed.refresh_token,
  }
}

/**
 * client_credentials for an API named with `resource` (RFC 8707); the access token then
 * checked as that API would, by the library's RFC 9068 validation against the JWKS.
 */
export async function client_credentials(input) {
  const as = await discover(input.issuer)
  const c = { client_id: input.client_id }
  const auth = oauth.ClientSecretPost(input.client_secret)
  const grant = (resource) => oauth.clientCredentialsGrantRequest(as, c, auth,
    { resource, ...(input.scope ? { scope: input.scope } : {}) })
  const tokens = await oauth.processClientCredentialsResponse(as, c, await grant(input.resource))
  check(tokens.refresh_token === undefined, 'no refresh token for a machine client', tokens)
  const claims = await oauth.validateJwtAccessToken(as,
    new Request(input.resource, { headers: { authorization: `Bearer ${tokens.access_token}` } }),
    input.resource)
  const refused = await rejectsWith(
    oauth.processClientCredentialsResponse(as, c, await grant(input.forbidden_resource)),
    'invalid_target', 'an API the client may not call')
  return { token_type: tokens.token_type, scope: tokens.scope, access_token: claims, refused }
}
