package cli

import (
	"fmt"
	"slices"
	"strings"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	"github.com/gatehouse-authz/gatehouse/caddymodule"
	"github.com/gatehouse-authz/gatehouse/internal/authz"
)

// defaultOwnerRole is the role bootstrap gives without --role, and the only
// one it accepts without --config: the default config declares it, with
// workspace.admin.
const defaultOwnerRole = "owner"

// checkBootstrapRoles refuses roles that would leave a workspace whose only
// member can do nothing: a role the config does not declare, or a set of
// roles none of which grants workspace.admin.
func checkBootstrapRoles(roles []string, configFile, adapter string) error {
	if len(roles) == 0 {
		return fmt.Errorf("--role: give at least one role")
	}
	if configFile == "" {
		for _, r := range roles {
			if r != defaultOwnerRole {
				return fmt.Errorf("--role %s: without --config only the default role %s can be checked; pass --config <Caddyfile> (the server's config) to use the roles it declares", r, defaultOwnerRole)
			}
		}
		return nil
	}
	cfg, _, _, err := caddycmd.LoadConfig(configFile, adapter)
	if err != nil {
		return fmt.Errorf("--config %s: %w", configFile, err)
	}
	declared, err := caddymodule.ConfiguredRoles(cfg)
	if err != nil {
		return fmt.Errorf("--config %s: %w", configFile, err)
	}
	slugs := make([]string, len(declared))
	for i, d := range declared {
		slugs[i] = d.Slug
	}
	admin := false
	for _, r := range roles {
		i := slices.Index(slugs, r)
		if i < 0 {
			msg := fmt.Sprintf("--role %s: %s declares no such role (its roles: %s)", r, configFile, strings.Join(slugs, ", "))
			if hint := authz.DidYouMean(r, slugs); hint != "" {
				msg += "; " + hint
			}
			return fmt.Errorf("%s", msg)
		}
		admin = admin || declared[i].Admin
	}
	if !admin {
		return fmt.Errorf("--role %s: none of these roles grants %s in %s, so the workspace would have no admin: add a role that does", strings.Join(roles, ", "), authz.PermAdmin, configFile)
	}
	return nil
}
