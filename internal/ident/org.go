package ident

import "strings"

// OrganizationPrefix starts every organization id. It differs from
// WorkspacePrefix, so an organization id can never be a workspace id:
// organization-level audit events are stored under the organization's id
// as their workspace id (README "Organizations API") without colliding
// with any workspace's events.
const OrganizationPrefix = "org_"

// NewOrganizationID returns a fresh organization id.
func NewOrganizationID() string { return New(OrganizationPrefix) }

// IsOrganizationID reports whether ref has the shape of an organization id
// (rather than a slug: a slug never contains an underscore).
func IsOrganizationID(ref string) bool { return strings.HasPrefix(ref, OrganizationPrefix) }
