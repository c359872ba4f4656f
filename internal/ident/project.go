package ident

import "strings"

// ProjectPrefix starts every project id. A project is named by id or by
// its slug, and a slug never contains an underscore, so the two never
// collide.
const ProjectPrefix = "prj_"

// NewProjectID returns a fresh project id.
func NewProjectID() string { return New(ProjectPrefix) }

// IsProjectID reports whether ref has the shape of a project id (rather
// than a slug).
func IsProjectID(ref string) bool { return strings.HasPrefix(ref, ProjectPrefix) }
