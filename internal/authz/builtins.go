package authz

// The built-in administrative permissions. The management API checks them,
// so every catalog holds them whatever the configuration declares.
const (
	// PermAdmin grants everything in the workspace: it implies "*".
	PermAdmin = "workspace.admin"
	// PermSettings allows changing the workspace's name, slug and description.
	PermSettings = "workspace.settings"
	// PermMembers allows managing members and invites.
	PermMembers = "workspace.members"
	// PermRoles allows managing the workspace's custom roles.
	PermRoles = "workspace.roles"
	// PermAPIKeys allows managing the workspace's API keys.
	PermAPIKeys = "workspace.api_keys"
)

// Builtins returns the declarations every catalog starts from. The slice is
// new on each call, so callers may modify it.
func Builtins() []Declaration {
	return []Declaration{
		{Name: PermAdmin, Implies: []string{"*"}},
		{Name: PermSettings},
		{Name: PermMembers},
		{Name: PermRoles},
		{Name: PermAPIKeys},
	}
}
