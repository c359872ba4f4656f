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
	for _, r := range a.OrgRoles {
		cfg.OrgRoles = append(cfg.OrgRoles, model.OrgRole{Slug: r.Slug, Name: r.Name, Description: r.Description,
			Permissions: r.Permissions, Source: r.Source})
	}
	for _, r := range a.ProjectRoles {
		cfg.ProjectRoles = append(cfg.ProjectRoles, model.ProjectRole{Slug: r.Slug, Name: r.Name, Description: r.Description,
			WorkspaceRoles: r.WorkspaceRoles, Source: r.Source})
	}
	for _, p := range a.Plans {
		cfg.Plans = append(cfg.Plans, model.PlanConfig{Slug: p.Slug, Name: p.Name, Permissions: p.Permissions,
			Features: p.Features, Source: p.Source})
	}
	cfg.DefaultPlan, cfg.DefaultPlanSource = a.DefaultPlan, a.DefaultPlanSource
	cfg.LocalWorkspaces = a.LocalWorkspaces
	return cfg
}
