package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"

	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
)

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
	var cfg struct {
		Apps map[string]json.RawMessage `json:"apps"`
	}
	if err := json.Unmarshal(config, &cfg); err != nil {
		return nil, fmt.Errorf("decoding the config: %w", err)
	}
	raw, ok := cfg.Apps["gatehouse"]
	if !ok {
		return nil, errors.New("the config has no gatehouse app: add the gatehouse global option")
	}
	var app App
	if err := json.Unmarshal(raw, &app); err != nil {
		return nil, fmt.Errorf("decoding the gatehouse app: %w", err)
	}
	app.logger = zap.NewNop()
	if err := app.provisionPolicy(); err != nil {
		return nil, err
	}
	adminID, _ := app.catalog.ID(authz.PermAdmin)
	out := make([]ConfiguredRole, len(app.systemRoles))
	for i, r := range app.systemRoles {
		out[i] = ConfiguredRole{Slug: r.Slug, Admin: app.catalog.Expand(r.Permissions).Has(adminID)}
	}
	return out, nil
}
