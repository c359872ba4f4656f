// Package caddymodule is Gatehouse's Caddy glue: the `gatehouse` app
// (global option), the `gatehouse` and `gatehouse_api` HTTP handlers, their
// Caddyfile syntax, placeholders and metrics. The logic lives in internal/.
package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/admin"
	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/model"
)

func init() {
	caddy.RegisterModule(App{})
}

// App is the `gatehouse` app: the store, token verification, the permission
// catalog and the roles shared by every gatehouse handler of the config.
// In a Caddyfile it is the `gatehouse` global option.
type App struct {
	// StoreRaw is the store backend, a module of the gatehouse.stores
	// namespace named by its "backend" key:
	// {"backend": "bolt", "path": "./data/gatehouse.db"} or
	// {"backend": "postgres", "url": "{env.GATEHOUSE_DATABASE_URL}"}.
	// A plain string is also accepted, as configs written before the
	// backends were modules have it: a bbolt path (or a postgres:// URL,
	// as for `gatehouse store --store`). Default: bolt at its default
	// path (gatehouse/gatehouse.db under Caddy's data directory).
	StoreRaw json.RawMessage `json:"store,omitempty" caddy:"namespace=gatehouse.stores inline_key=backend"`

	// StoreTimeout bounds every store read on the request path: what a
	// cache miss reads (workspace by slug or id, membership and roles, API
	// key) for the gateway and for authenticating the management API. It
	// runs under the request's context, so a client that goes away ends it
	// too. A read that takes longer fails the request closed with 503
	// `unavailable` (never an allow, never a 404) and logs the cause.
	// Cached decisions never touch the store. Default: 2s.
	StoreTimeout caddy.Duration `json:"store_timeout,omitempty"`

	// JWT configures bearer-token verification. Required.
	JWT *JWTConfig `json:"jwt,omitempty"`

	// GlobalAdmins lists user ids (JWT subjects) who may reach
	// `global_admin` rules and the /v1/admin API. Being a global admin
	// grants no workspace permission.
	GlobalAdmins []string `json:"global_admins,omitempty"`

	// WorkspaceCreation says who may create workspaces through the API:
	// "anyone" (any authenticated user, the default) or "global_admins".
	WorkspaceCreation string `json:"workspace_creation,omitempty"`

	// Permissions declares the permission catalog. The built-in
	// administrative permissions (workspace.admin, workspace.settings,
	// workspace.members, workspace.roles, workspace.api_keys) are always
	// part of it.
	Permissions []PermissionConfig `json:"permissions,omitempty"`

	// Roles declares the system roles, present in every workspace and
	// immutable through the API. Default, when none is declared: "owner"
	// (workspace.admin) and "member" (no permission).
	Roles []RoleConfig `json:"roles,omitempty"`

	// CreatorRole is the system role given to a workspace's creator. It
	// must grant workspace.admin. Default: "owner".
	CreatorRole string `json:"creator_role,omitempty"`

	// Cache sizes the access cache.
	Cache *CacheConfig `json:"cache,omitempty"`

	// OrgRoles declares the organization roles (README "Organizations,
	// projects and plans"). Default, when none is declared: "owner"
	// (organization.admin) and "member" (no permission).
	OrgRoles []OrgRoleConfig `json:"org_roles,omitempty"`

	// ProjectRoles declares the project roles, each mapping to system
	// workspace roles a project member gets in the project's PROJECT
	// workspaces.
	ProjectRoles []ProjectRoleConfig `json:"project_roles,omitempty"`

	// Plans declares the plans, cheapest first: the first declared is
	// the cheapest (required_plan names the first plan that includes a
	// permission). None declared: nothing is gated.
	Plans []PlanConfig `json:"plans,omitempty"`

	// DefaultPlan is the plan of an organization, or a workspace outside
	// any organization, that has none set. Default: the first declared
	// plan.
	DefaultPlan string `json:"default_plan,omitempty"`
	// DefaultPlanSource locates the default_plan line for error messages.
	DefaultPlanSource string `json:"default_plan_source,omitempty"`

	// LocalWorkspaces gives every user a LOCAL workspace, created on their
	// first authenticated request. Default: off.
	LocalWorkspaces bool `json:"local_workspaces,omitempty"`

	backend  StoreBackend
	model    *model.Model
	catalog  *authz.Catalog
	shared   *sharedStore
	storeKey string
	verifier *authn.Verifier
	engine   *gateway.Engine
	logger   *zap.Logger

	signer *gatewaySigner
	// tables are the gatehouse handlers' rule tables (explain).
	tables *ruleTables
}

// PermissionConfig declares one catalog permission.
type PermissionConfig struct {
	// Name of the permission, e.g. "contact.manage".
	Name string `json:"name"`
	// Implies lists permissions or patterns that holding Name also grants.
	Implies []string `json:"implies,omitempty"`
	// Source locates the declaration ("Caddyfile:12") for error messages.
	Source string `json:"source,omitempty"`
}

// RoleConfig declares one system role.
type RoleConfig struct {
	// Slug identifies the role in memberships and the API, e.g. "owner".
	Slug string `json:"slug"`
	// Name is the display name, e.g. "Owner".
	Name string `json:"name,omitempty"`
	// Description is shown by the API.
	Description string `json:"description,omitempty"`
	// Permissions lists catalog permissions or patterns the role grants.
	Permissions []string `json:"permissions,omitempty"`
	// Source locates the declaration for error messages.
	Source string `json:"source,omitempty"`
}

// OrgRoleConfig declares one organization role.
type OrgRoleConfig struct {
	// Slug identifies the role, e.g. "owner".
	Slug string `json:"slug"`
	// Name is the display name.
	Name string `json:"name,omitempty"`
	// Description is shown by the API.
	Description string `json:"description,omitempty"`
	// Permissions lists organization permissions or patterns
	// (organization.*) the role grants.
	Permissions []string `json:"permissions,omitempty"`
	// Source locates the declaration for error messages.
	Source string `json:"source,omitempty"`
}

// ProjectRoleConfig declares one project role.
type ProjectRoleConfig struct {
	// Slug identifies the role, e.g. "developer".
	Slug string `json:"slug"`
	// Name is the display name.
	Name string `json:"name,omitempty"`
	// Description is shown by the API.
	Description string `json:"description,omitempty"`
	// WorkspaceRoles lists the system workspace roles a member with this
	// project role gets in every PROJECT workspace of the project.
	WorkspaceRoles []string `json:"workspace_roles,omitempty"`
	// Source locates the declaration for error messages.
	Source string `json:"source,omitempty"`
}

// PlanConfig declares one plan.
type PlanConfig struct {
	// Slug identifies the plan, e.g. "free".
	Slug string `json:"slug"`
	// Name is the display name.
	Name string `json:"name,omitempty"`
	// Permissions lists catalog patterns: the plan's ceiling. The
	// workspace.* and organization.* permissions are in every plan.
	Permissions []string `json:"permissions,omitempty"`
	// Features lists member_overrides, resource_restrictions,
	// custom_roles, api_keys.
	Features []string `json:"features,omitempty"`
	// Source locates the declaration for error messages.
	Source string `json:"source,omitempty"`
}

// CacheConfig sizes the access cache.
type CacheConfig struct {
	// MaxEntries bounds the number of cached (user, workspace) entries.
	// Default: 1000000.
	MaxEntries int64 `json:"max_entries,omitempty"`
	// MaxUnknownKeys bounds how many API key ids that nobody issued the
	// gateway remembers, so that repeating one costs no store read. Anyone
	// can send made-up ids without credentials: they are kept apart from
	// the access cache, in this fixed number of slots (about 150 bytes
	// each), and never grow memory or evict members. Default: 4096.
	MaxUnknownKeys int `json:"max_unknown_keys,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (App) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "gatehouse",
		New: func() caddy.Module { return new(App) },
	}
}

// Provision builds the catalog and roles, acquires the shared store (its
// backend decides whether it opens now or at Start), starts token
// verification and the decision engine.
func (a *App) Provision(ctx caddy.Context) error {
	a.tables = new(ruleTables)
	a.logger = ctx.Logger()
	if err := a.provisionPolicy(); err != nil {
		return err
	}
	backend, err := a.loadStoreBackend(ctx)
	if err != nil {
		return err
	}
	a.backend = backend
	shared, key, err := acquireStore(backend, a.logger)
	if err != nil {
		return fmt.Errorf("gatehouse: %w", err)
	}
	a.shared, a.storeKey = shared, key

	a.verifier, err = a.JWT.newVerifier(ctx, a.logger)
	if err != nil {
		return err
	}
	registerMetrics(ctx)
	a.engine, err = gateway.NewEngine(gateway.Options{
		Model:           a.model,
		Live:            shared.live,
		Authenticator:   a.verifier,
		CacheMaxEntries: a.cacheMaxEntries(),
		MaxUnknownKeys:  a.maxUnknownKeys(),
		StoreTimeout:    time.Duration(a.StoreTimeout),
		Observer:        metricsObserver{},
		Logger:          a.logger,
	})
	return err
}

// provisionPolicy validates everything that does not need I/O: the
// authorization model (catalog, roles, creator role: model.New), the
// workspace creation policy, the global admins.
func (a *App) provisionPolicy() error {
	if a.JWT == nil {
		return errors.New("gatehouse: a jwt block is required (jwks_file, jwks_url or hmac_secret)")
	}
	if a.StoreTimeout < 0 {
		return fmt.Errorf("gatehouse: store_timeout %s: must be positive (0 = the default, %s)", time.Duration(a.StoreTimeout), gateway.DefaultStoreTimeout)
	}
	switch a.WorkspaceCreation {
	case "":
		a.WorkspaceCreation = admin.CreationAnyone
	case admin.CreationAnyone, admin.CreationGlobalAdmins:
	default:
		return fmt.Errorf("gatehouse: workspace_creation %q: use %s or %s", a.WorkspaceCreation, admin.CreationAnyone, admin.CreationGlobalAdmins)
	}
	// A subject no token can carry would never match: say so.
	for _, sub := range a.GlobalAdmins {
		if reason := authn.CheckSubject(sub); reason != "" {
			return fmt.Errorf("gatehouse: global_admins %q: a subject %s", sub, reason)
		}
	}
	m, err := model.New(a.modelConfig())
	if err != nil {
		return fmt.Errorf("gatehouse: %w", err)
	}
	a.model, a.catalog = m, m.Catalog()
	a.CreatorRole = m.CreatorRole()
	catalog := a.catalog
	// A cycle is a warning, not an error: the closure is well defined
	// (every member grants all of them), and refusing it would break
	// configs that rely on it on purpose; but it is rarely meant.
	for _, cycle := range catalog.Cycles() {
		a.logger.Warn("permission implications form a cycle: holding any of these permissions grants all of them; if one was meant to imply the other only, remove the reverse implication",
			zap.Strings("permissions", cycle))
	}
	return nil
}

func (a *App) maxUnknownKeys() int {
	if a.Cache == nil {
		return 0
	}
	return a.Cache.MaxUnknownKeys
}

func (a *App) cacheMaxEntries() int64 {
	if a.Cache == nil {
		return 0
	}
	return a.Cache.MaxEntries
}

// Start implements caddy.App. All work starts in Provision, so that a
// handler provisioned before Start already has a working engine, except
// opening a store its backend does not open at Provision (a new bbolt
// file, PostgreSQL): Caddy's validate provisions without starting, and
// validation must create nothing.
func (a *App) Start() error {
	if err := a.shared.open(a.logger); err != nil {
		return fmt.Errorf("gatehouse: %w", err)
	}
	a.warnStalePermissions()
	return nil
}

// Stop implements caddy.App.
func (a *App) Stop() error { return nil }

// Cleanup stops background work and releases the shared store. It is also
// called after a failed Provision, so every step checks what exists.
func (a *App) Cleanup() error {
	if a.engine != nil {
		a.engine.Close()
	}
	if a.verifier != nil {
		a.verifier.Close()
	}
	if a.shared != nil {
		a.shared = nil
		return releaseStore(a.storeKey)
	}
	return nil
}

// RuleTables returns the live rule tables of the gatehouse handlers.
func (a *App) RuleTables() []*gateway.Policy { return a.tables.all() }

// Model returns the authorization model of the config.
func (a *App) Model() *model.Model { return a.model }

// Engine returns the decision engine.
func (a *App) Engine() *gateway.Engine { return a.engine }

// AssertionSigner returns the gateway's assertion signer, creating the
// gateway key in the store on first use. Only configs that use assertions
// or the API ask for it, from their Provision (Caddy provisions a config's
// modules one at a time, so the memo needs no lock).
func (a *App) AssertionSigner() (*gatewaySigner, error) {
	if a.signer == nil {
		signer, err := a.shared.signer(time.Now().UTC())
		if err != nil {
			return nil, fmt.Errorf("gatehouse: %w", err)
		}
		a.signer = signer
	}
	return a.signer, nil
}

// Interface guards
var (
	_ caddy.App          = (*App)(nil)
	_ caddy.Provisioner  = (*App)(nil)
	_ caddy.CleanerUpper = (*App)(nil)
)
