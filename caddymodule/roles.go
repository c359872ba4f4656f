package caddymodule

// ConfiguredRole is a system role of a config, as the CLI checks it.
type ConfiguredRole struct {
	Slug string
	// Admin is true when the role grants workspace.admin.
	Admin bool
}

// ConfiguredRoles returns the system roles of the gatehouse app in an
// adapted Caddy config (JSON), with the defaults applied when it declares
// none, after checking the catalog and roles as Provision would. It opens
// nothing: `gatehouse store bootstrap --config` uses it offline.
func ConfiguredRoles(config []byte) ([]ConfiguredRole, error) {
	app, _, err := offlineApp(config)
	if err != nil {
		return nil, err
	}
	roles := app.model.SystemRoles()
	out := make([]ConfiguredRole, len(roles))
	for i, r := range roles {
		out[i] = ConfiguredRole{Slug: r.Slug, Admin: app.model.RoleGrantsAdmin(r.Slug)}
	}
	return out, nil
}
