package problem

// CodeOrganizationNotFound is the 404 of a request naming an
// organization the caller cannot see: unknown, deleted, or not a member
// (spec §11; the three are identical to the caller).
const CodeOrganizationNotFound = "organization_not_found"
