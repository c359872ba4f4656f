// Command gatehouse is Caddy with the Gatehouse modules compiled in, plus
// Gatehouse's own subcommands: keygen, token and store. Every standard Caddy
// command (run, start, validate, reload, adapt, list-modules, ...) works.
//
// It is the main xcaddy would generate for
// `xcaddy build --with github.com/gatehouse-authz/gatehouse`, except for
// the command name in help texts.
package main

import (
	_ "time/tzdata"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	// Caddy's standard modules, as in the official binary.
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	// Gatehouse: its modules and its commands.
	_ "github.com/gatehouse-authz/gatehouse"
)

func main() {
	// Help and usage texts name the binary users actually run.
	caddy.CustomBinaryName = "gatehouse"
	caddy.CustomLongDescription = longDescription
	caddycmd.Main()
}

// longDescription replaces Caddy's, which tells users to run `caddy ...`.
const longDescription = `Gatehouse is a workspace-aware authorization gateway: Caddy with the
Gatehouse modules (the gatehouse global option, the gatehouse and
gatehouse_api handlers) and Gatehouse's own commands compiled in.

To run it, use:

	- 'gatehouse run --config Caddyfile' to run in the foreground.
	- 'gatehouse validate --config Caddyfile' to check a config; it
	  creates nothing (no store file, no directory).
	- 'gatehouse keygen', 'gatehouse token' for development keys and
	  tokens, 'gatehouse store ...' to work offline on a store file.

Every Caddy command (run, start, stop, reload, validate, adapt, fmt,
list-modules, ...) works as documented at
https://caddyserver.com/docs/command-line, with 'gatehouse' in place of
'caddy'. Gatehouse's README documents the gatehouse options.
`
