// Package authn verifies bearer JWTs and turns them into a Principal.
//
// The rules it enforces, most important first:
//
//   - The token's alg decides where the key comes from. HS256/384/512 use
//     only the configured HMAC secret; every other alg needs a kid naming a
//     key of the configured JWK sets, and must be an alg that key allows.
//     JWK sets never supply HMAC keys and alg "none" is never accepted, so
//     neither "alg none" nor "HMAC signed with a public key" can pass.
//   - Keys come only from configuration: the jku, x5u and jwk headers of a
//     token are never looked at.
//   - exp is required; nbf, iat, iss and aud are checked, with the
//     configured leeway.
//   - A request never waits on the network. A JWK set URL is fetched and
//     refreshed in the background; until it has been fetched once, a token
//     only it could verify fails with ErrKeysUnavailable (fail closed).
//
// Successful verifications are cached, each entry bounded by its token's
// exp and by the generation of the key set it was verified with, so a
// repeated token costs one cache lookup.
package authn
