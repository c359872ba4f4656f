// Command gatehouse is Caddy with the Gatehouse modules compiled in, plus
// Gatehouse's own subcommands: keygen, token and store. Every standard Caddy
// command (run, start, validate, reload, adapt, list-modules, ...) works.
package main

import (
	_ "time/tzdata"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	// Caddy's standard modules, as in the official binary.
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	// Gatehouse's modules.
	_ "github.com/gatehouse-authz/gatehouse/caddymodule"
)

func main() {
	caddycmd.Main()
}
