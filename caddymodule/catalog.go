package caddymodule

import (
	"github.com/gatehouse-authz/gatehouse/internal/model"
)

// modelConfig is the app's authorization configuration, for model.New.
func (a *App) modelConfig() model.Config {
	cfg := model.Config{CreatorRole: a.CreatorRole, GlobalAdmins: a.GlobalAdmins}
	for _, p := range a.Permissions {
		cfg.Permissions = append(cfg.Permissions, model.Permission{Name: p.Name, Implies: p.Implies, Source: p.Source})
	}
	for _, r := range a.Roles {
		cfg.Roles = append(cfg.Roles, model.SystemRole{Slug: r.Slug, Name: r.Name, Description: r.Description,
			Permissions: r.Permissions, Source: r.Source})
	}
	return cfg
}
