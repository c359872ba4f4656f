package caddymodule

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store/storeopen"
)

func init() {
	httpcaddyfile.RegisterGlobalOption("gatehouse", parseGlobalOption)
	httpcaddyfile.RegisterHandlerDirective("gatehouse", parseHandler)
	httpcaddyfile.RegisterHandlerDirective("gatehouse_api", parseAPIHandler)
	// Authorization runs before the handlers that serve or proxy the
	// request, like forward_auth; the API terminates like reverse_proxy.
	// With these, users need no `order` option.
	httpcaddyfile.RegisterDirectiveOrder("gatehouse", httpcaddyfile.After, "forward_auth")
	httpcaddyfile.RegisterDirectiveOrder("gatehouse_api", httpcaddyfile.Before, "reverse_proxy")
}

// parseGlobalOption sets up the gatehouse app from its global option block.
func parseGlobalOption(d *caddyfile.Dispenser, existing any) (any, error) {
	if existing != nil {
		return nil, d.Err("the gatehouse global option may appear only once")
	}
	app := new(App)
	if err := app.UnmarshalCaddyfile(d); err != nil {
		return nil, err
	}
	return httpcaddyfile.App{Name: "gatehouse", Value: caddyconfig.JSON(app, nil)}, nil
}

// UnmarshalCaddyfile sets up the app from Caddyfile tokens:
//
//	gatehouse {
//		store              [bolt] <path>  |  postgres <url> [{ max_staleness <d>  consistency_wait <d> }]
//		store_timeout      <duration>
//		jwt { ... }
//		global_admins      <user-id...>
//		workspace_creation anyone|global_admins
//		permission         <name> [implies <pattern...>]
//		role               <slug> <"Name"> [<pattern...>] [{ description <text> }]
//		creator_role       <slug>
//		cache { max_entries <n>  max_unknown_keys <n> }
//		org_role           <slug> <"Name"> [<organization permission...>] [{ description <text> }]
//		project_role       <slug> <"Name"> [workspace_roles <role...>] [{ description <text> }]
//		plan               <slug> <"Name"> [{ permissions <pattern...>  features <feature...> }]
//		default_plan       <slug>
//		local_workspaces   on|off
//	}
func (a *App) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the option name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		var err error
		switch d.Val() {
		case "store":
			err = a.unmarshalStore(d)
		case "store_timeout":
			err = durationArg(d, &a.StoreTimeout)
		case "jwt":
			a.JWT = new(JWTConfig)
			err = a.JWT.unmarshalCaddyfile(d)
		case "global_admins":
			args := d.RemainingArgs()
			if len(args) == 0 {
				return d.ArgErr()
			}
			a.GlobalAdmins = append(a.GlobalAdmins, args...)
		case "workspace_creation":
			err = singleArg(d, &a.WorkspaceCreation)
		case "permission":
			err = a.unmarshalPermission(d)
		case "role":
			err = a.unmarshalRole(d)
		case "creator_role":
			err = singleArg(d, &a.CreatorRole)
		case "cache":
			a.Cache = new(CacheConfig)
			err = a.Cache.unmarshalCaddyfile(d)
		case "org_role":
			err = a.unmarshalOrgRole(d)
		case "project_role":
			err = a.unmarshalProjectRole(d)
		case "plan":
			err = a.unmarshalPlan(d)
		case "default_plan":
			if a.DefaultPlan != "" {
				return d.Errf("default_plan is set twice (first: %s at %s)", a.DefaultPlan, a.DefaultPlanSource)
			}
			a.DefaultPlanSource = source(d)
			err = singleArg(d, &a.DefaultPlan)
		case "local_workspaces":
			err = onOffArg(d, "local_workspaces", &a.LocalWorkspaces)
		default:
			return d.Errf("unknown gatehouse option %q: expected store, store_timeout, jwt, global_admins, workspace_creation, permission, role, creator_role, cache, org_role, project_role, plan, default_plan or local_workspaces", d.Val())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// storeSyntax is what every error about the store option suggests.
const storeSyntax = "expected `store <path>`, `store bolt <path>` or `store postgres <url> { max_staleness <duration>  consistency_wait <duration> }`"

// store <path> | store bolt <path> | store postgres <url> [{ ... }]
//
// A lone argument is classified as `gatehouse store --store` is: a
// postgres:// URL is the PostgreSQL backend, another URL scheme an error,
// anything else a bbolt path.
func (a *App) unmarshalStore(d *caddyfile.Dispenser) error {
	args := d.RemainingArgs()
	var backend, target string
	switch len(args) {
	case 1:
		switch args[0] {
		case "bolt":
			return d.Errf("store bolt: the bolt backend needs a path; %s", storeSyntax)
		case "postgres":
			return d.Errf("store postgres: the postgres backend needs a url; %s", storeSyntax)
		}
		kind, err := storeopen.Classify(args[0])
		if err != nil {
			return d.Errf("%v; %s", err, storeSyntax)
		}
		backend, target = "bolt", args[0]
		if kind == storeopen.Postgres {
			backend = "postgres"
		}
	case 2:
		backend, target = args[0], args[1]
	default:
		return d.Err(storeSyntax)
	}
	var mod caddy.Module
	switch backend {
	case "bolt":
		if d.NextBlock(1) {
			return d.Errf("store bolt takes no block (%q): %s", d.Val(), storeSyntax)
		}
		mod = &BoltStore{Path: target}
	case "postgres":
		// A URL without placeholders is checked here, where the error
		// can name the line; one with placeholders when it is resolved.
		if !strings.Contains(target, "{") {
			if kind, err := storeopen.Classify(target); err != nil || kind != storeopen.Postgres {
				return d.Errf("store postgres %s: not a PostgreSQL URL: expected postgres://user:password@host:5432/database (a bbolt file is `store bolt <path>`)", redactedURL(target))
			}
			if _, err := storeopen.ParsePostgresURL(target); err != nil {
				return d.Err(err.Error())
			}
		}
		pg := &PostgresStore{URL: target}
		if err := pg.unmarshalCaddyfile(d); err != nil {
			return err
		}
		mod = pg
	default:
		return d.Errf("store %s %s: unknown store backend %q; %s", args[0], redactedURL(args[1]), backend, storeSyntax)
	}
	a.StoreRaw = caddyconfig.JSONModuleObject(mod, "backend", backend, nil)
	return nil
}

// { max_staleness <duration>  consistency_wait <duration> }
func (p *PostgresStore) unmarshalCaddyfile(d *caddyfile.Dispenser) error {
	for d.NextBlock(1) {
		var dst *caddy.Duration
		switch name := d.Val(); name {
		case "max_staleness":
			dst = &p.MaxStaleness
		case "consistency_wait":
			dst = &p.ConsistencyWait
		default:
			return d.Errf("unknown store postgres option %q: expected max_staleness or consistency_wait", name)
		}
		name := d.Val()
		if err := durationArg(d, dst); err != nil {
			return err
		}
		if *dst <= 0 {
			return d.Errf("store postgres: %s %s: must be positive", name, time.Duration(*dst))
		}
	}
	return nil
}

// permission <name> [implies <pattern...>]
func (a *App) unmarshalPermission(d *caddyfile.Dispenser) error {
	args := d.RemainingArgs()
	if len(args) == 0 {
		return d.Err("permission needs a name: permission <name> [implies <permission...>]")
	}
	p := PermissionConfig{Name: args[0], Source: source(d)}
	if len(args) > 1 {
		if args[1] != "implies" || len(args) < 3 {
			return d.Errf("permission %s: expected `implies <permission...>` after the name", args[0])
		}
		p.Implies = args[2:]
	}
	a.Permissions = append(a.Permissions, p)
	return nil
}

// role <slug> <"Name"> [<pattern...>] [{ description <text> }]
func (a *App) unmarshalRole(d *caddyfile.Dispenser) error {
	args := d.RemainingArgs()
	if len(args) < 2 {
		return d.Err(`role needs a slug and a display name: role <slug> "<Name>" [<permission...>]`)
	}
	r := RoleConfig{Slug: args[0], Name: args[1], Permissions: args[2:], Source: source(d)}
	for d.NextBlock(1) {
		switch d.Val() {
		case "description":
			if err := singleArg(d, &r.Description); err != nil {
				return err
			}
		default:
			return d.Errf("unknown role option %q: expected description", d.Val())
		}
	}
	a.Roles = append(a.Roles, r)
	return nil
}

// org_role <slug> <"Name"> [<organization permission...>] [{ description <text> }]
func (a *App) unmarshalOrgRole(d *caddyfile.Dispenser) error {
	args := d.RemainingArgs()
	if len(args) < 2 {
		return d.Err(`org_role needs a slug and a display name: org_role <slug> "<Name>" [<organization permission...>]`)
	}
	r := OrgRoleConfig{Slug: args[0], Name: args[1], Permissions: args[2:], Source: source(d)}
	if err := descriptionBlock(d, "org_role", &r.Description); err != nil {
		return err
	}
	a.OrgRoles = append(a.OrgRoles, r)
	return nil
}

// project_role <slug> <"Name"> [workspace_roles <role...>] [{ description <text> }]
func (a *App) unmarshalProjectRole(d *caddyfile.Dispenser) error {
	args := d.RemainingArgs()
	const syntax = `project_role <slug> "<Name>" [workspace_roles <role...>]`
	if len(args) < 2 {
		return d.Err("project_role needs a slug and a display name: " + syntax)
	}
	r := ProjectRoleConfig{Slug: args[0], Name: args[1], Source: source(d)}
	if len(args) > 2 {
		if args[2] != "workspace_roles" || len(args) < 4 {
			return d.Errf("project_role %s: expected `workspace_roles <role...>` after the name: %s", args[0], syntax)
		}
		r.WorkspaceRoles = args[3:]
	}
	if err := descriptionBlock(d, "project_role", &r.Description); err != nil {
		return err
	}
	a.ProjectRoles = append(a.ProjectRoles, r)
	return nil
}

// plan <slug> <"Name"> [{ permissions <pattern...>  features <feature...> }]
//
// Feature names are checked here, so the error names their own line;
// permissions need the catalog, which may be declared further down, and
// are checked with the plan's line when the model is built.
func (a *App) unmarshalPlan(d *caddyfile.Dispenser) error {
	args := d.RemainingArgs()
	if len(args) != 2 {
		return d.Err(`plan needs a slug and a display name, then a block: plan <slug> "<Name>" { permissions <pattern...>  features <feature...> }`)
	}
	p := PlanConfig{Slug: args[0], Name: args[1], Source: source(d)}
	for d.NextBlock(1) {
		switch d.Val() {
		case "permissions":
			perms := d.RemainingArgs()
			if len(perms) == 0 {
				return d.Errf("plan %s: permissions needs at least one pattern (the workspace.* permissions are in every plan)", p.Slug)
			}
			p.Permissions = append(p.Permissions, perms...)
		case "features":
			features := d.RemainingArgs()
			if len(features) == 0 {
				return d.Errf("plan %s: features needs at least one of %s", p.Slug, strings.Join(model.Features(), ", "))
			}
			for _, f := range features {
				if !slices.Contains(model.Features(), f) {
					msg := fmt.Sprintf("plan %s: unknown feature %q (features: %s)", p.Slug, f, strings.Join(model.Features(), ", "))
					if hint := authz.DidYouMean(f, model.Features()); hint != "" {
						msg += "; " + hint
					}
					return d.Err(msg)
				}
			}
			p.Features = append(p.Features, features...)
		default:
			return d.Errf("plan %s: unknown plan option %q: expected permissions or features", p.Slug, d.Val())
		}
	}
	a.Plans = append(a.Plans, p)
	return nil
}

// descriptionBlock reads a role's optional { description <text> } block.
func descriptionBlock(d *caddyfile.Dispenser, directive string, dst *string) error {
	for d.NextBlock(1) {
		switch d.Val() {
		case "description":
			if err := singleArg(d, dst); err != nil {
				return err
			}
		default:
			return d.Errf("unknown %s option %q: expected description", directive, d.Val())
		}
	}
	return nil
}

// jwt { jwks_file | jwks_url | jwks_refresh | hmac_secret | issuer | audience | user_claim | email_claim | leeway | token_cache_size }
func (c *JWTConfig) unmarshalCaddyfile(d *caddyfile.Dispenser) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(1) {
		var err error
		switch d.Val() {
		case "jwks_file":
			err = singleArg(d, &c.JWKSFile)
		case "jwks_url":
			err = singleArg(d, &c.JWKSURL)
		case "jwks_refresh":
			err = durationArg(d, &c.JWKSRefresh)
		case "hmac_secret":
			err = singleArg(d, &c.HMACSecret)
		case "issuer":
			err = singleArg(d, &c.Issuer)
		case "audience":
			err = singleArg(d, &c.Audience)
		case "user_claim":
			err = singleArg(d, &c.UserClaim)
		case "email_claim":
			err = singleArg(d, &c.EmailClaim)
		case "leeway":
			err = durationArg(d, &c.Leeway)
		case "token_cache_size":
			err = intArg(d, &c.TokenCacheSize)
		default:
			return d.Errf("unknown jwt option %q: expected jwks_file, jwks_url, jwks_refresh, hmac_secret, issuer, audience, user_claim, email_claim, leeway or token_cache_size", d.Val())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// cache { max_entries <n>  max_unknown_keys <n> }
func (c *CacheConfig) unmarshalCaddyfile(d *caddyfile.Dispenser) error {
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(1) {
		switch d.Val() {
		case "max_entries":
			var n int
			if err := intArg(d, &n); err != nil {
				return err
			}
			if n <= 0 {
				return d.Err("max_entries must be positive")
			}
			c.MaxEntries = int64(n)
		case "max_unknown_keys":
			if err := intArg(d, &c.MaxUnknownKeys); err != nil {
				return err
			}
			if c.MaxUnknownKeys <= 0 {
				return d.Err("max_unknown_keys must be positive")
			}
		default:
			return d.Errf("unknown cache option %q: expected max_entries or max_unknown_keys", d.Val())
		}
	}
	return nil
}

// parseHandler sets up the gatehouse handler from a directive.
func parseHandler(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	handler := new(Handler)
	err := handler.UnmarshalCaddyfile(h.Dispenser)
	return handler, err
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens:
//
//	gatehouse {
//		workspace param|header|query|placeholder <name>
//		organization param|header|query|placeholder <name>
//		rule <METHODS> <path> <requirement> [restrict <type> {<param>}]
//		assertion on|off
//		keep_override_headers
//	}
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the directive name
	if d.NextArg() {
		return d.ArgErr()
	}
	for d.NextBlock(0) {
		switch d.Val() {
		case "workspace":
			args := d.RemainingArgs()
			if len(args) != 2 {
				return d.Err("workspace needs a source and a name: workspace param|header|query|placeholder <name>")
			}
			h.Workspace = &WorkspaceSource{From: args[0], Name: args[1]}
		case "organization":
			src, err := unmarshalOrgSource(d, h.Organization != nil)
			if err != nil {
				return err
			}
			h.Organization = src
		case "rule":
			r, err := unmarshalRule(d)
			if err != nil {
				return err
			}
			h.Rules = append(h.Rules, r)
		case "assertion":
			var v string
			if err := singleArg(d, &v); err != nil {
				return err
			}
			if v != "on" && v != "off" {
				return d.Errf("assertion %q: use on or off", v)
			}
			h.Assertion = v == "on"
		case "keep_override_headers":
			if d.NextArg() {
				return d.ArgErr()
			}
			h.KeepOverrideHeaders = true
		default:
			return d.Errf("unknown gatehouse directive option %q: expected workspace, organization, rule, assertion or keep_override_headers", d.Val())
		}
	}
	return nil
}

// organization param|header|query|placeholder <name>: where requests
// name the organization of org_member and organization.* rules. Said
// twice is an error rather than a silent override.
func unmarshalOrgSource(d *caddyfile.Dispenser, already bool) (*WorkspaceSource, error) {
	const syntax = "organization param|header|query|placeholder <name>, e.g. organization param org"
	if already {
		return nil, d.Errf("organization is set twice in this gatehouse block: keep one (%s)", syntax)
	}
	args := d.RemainingArgs()
	if len(args) != 2 {
		return nil, d.Errf("organization needs a source and a name: %s", syntax)
	}
	switch args[0] {
	case gateway.FromParam, gateway.FromHeader, gateway.FromQuery, gateway.FromPlaceholder:
	default:
		return nil, d.Errf("organization %s: unknown source: %s", args[0], syntax)
	}
	return &WorkspaceSource{From: args[0], Name: args[1]}, nil
}

// rule <METHODS> <path> <requirement> [restrict <type> {<param>}]
func unmarshalRule(d *caddyfile.Dispenser) (RuleConfig, error) {
	args := d.RemainingArgs()
	if len(args) != 3 && len(args) != 6 {
		return RuleConfig{}, d.Err("rule expects: rule <METHODS> <path> <requirement> [restrict <type> {<param>}]")
	}
	methods, err := parseMethods(args[0])
	if err != nil {
		return RuleConfig{}, d.Err(err.Error())
	}
	r := RuleConfig{Methods: methods, Path: args[1], Require: args[2], Source: source(d)}
	if len(args) == 6 {
		param := args[5]
		if args[3] != "restrict" || !strings.HasPrefix(param, "{") || !strings.HasSuffix(param, "}") || len(param) < 3 {
			return RuleConfig{}, d.Err("after the requirement, expected: restrict <type> {<param>}")
		}
		r.Restrict = &RestrictConfig{Type: args[4], Param: param[1 : len(param)-1]}
	}
	return r, nil
}

// parseMethods reads "*" or a comma list such as "GET,HEAD". Methods are
// case-sensitive (RFC 9110), so a lower-case one could never match and is
// refused rather than silently ignored.
func parseMethods(s string) ([]string, error) {
	if s == "*" {
		return []string{"*"}, nil
	}
	methods := strings.Split(s, ",")
	for _, m := range methods {
		if m == "" || strings.Trim(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
			return nil, fmt.Errorf("invalid method %q in %q: methods are upper-case and comma-separated, e.g. GET,HEAD, or * for any", m, s)
		}
	}
	return methods, nil
}

func source(d *caddyfile.Dispenser) string {
	return fmt.Sprintf("%s:%d", d.File(), d.Line())
}

func singleArg(d *caddyfile.Dispenser, dst *string) error {
	if !d.AllArgs(dst) {
		return d.ArgErr()
	}
	return nil
}

func onOffArg(d *caddyfile.Dispenser, name string, dst *bool) error {
	var v string
	if err := singleArg(d, &v); err != nil {
		return err
	}
	if v != "on" && v != "off" {
		return d.Errf("%s %q: use on or off", name, v)
	}
	*dst = v == "on"
	return nil
}

func durationArg(d *caddyfile.Dispenser, dst *caddy.Duration) error {
	var s string
	if !d.AllArgs(&s) {
		return d.ArgErr()
	}
	dur, err := caddy.ParseDuration(s)
	if err != nil {
		return d.Errf("invalid duration %q: %v", s, err)
	}
	*dst = caddy.Duration(dur)
	return nil
}

func intArg(d *caddyfile.Dispenser, dst *int) error {
	var s string
	if !d.AllArgs(&s) {
		return d.ArgErr()
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return d.Errf("invalid number %q", s)
	}
	*dst = n
	return nil
}

// Interface guards
var (
	_ caddyfile.Unmarshaler = (*App)(nil)
	_ caddyfile.Unmarshaler = (*Handler)(nil)
)
