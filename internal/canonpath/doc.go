// Package canonpath decides whether a request path is canonical: spelled
// the one way that the gateway, the rule table and the upstream all
// understand alike. Gatehouse authorizes the path it matched and forwards
// that same path, so any spelling that a backend could resolve to a
// different resource (dot segments, encoded slashes, backslashes, path
// parameters) is an authorization bypass waiting to happen; such requests
// are refused with 400 instead of being cleaned up.
package canonpath
