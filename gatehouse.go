// Package gatehouse is the module root, importable the way Caddy plugins
// are: a Caddy built with
//
//	xcaddy build --with github.com/gatehouse-authz/gatehouse
//
// (or any main that imports this package) gets every Gatehouse module —
// the gatehouse app and global option, the gatehouse and gatehouse_api
// HTTP handlers — and the keygen, token and store commands, the same as
// bin/gatehouse. The package itself has no API: importing it is the point.
package gatehouse

import (
	// The Caddy modules, Caddyfile directives and placeholders.
	_ "github.com/gatehouse-authz/gatehouse/caddymodule"
	// The keygen, token and store commands.
	_ "github.com/gatehouse-authz/gatehouse/internal/cli"
)
