package boltstore

import "github.com/gatehouse-authz/gatehouse/internal/store"

// Fast decoders (decode.go) for the organization records a three-level
// cache miss reads: the organization (its plan and deletion) and the
// user's organization and project memberships. Same subset, same
// differential property (FuzzFastDecode), same fallback.

func decodeOrganization(v []byte, dst *store.Organization, bucket, key []byte) error {
	if fastOrganization(v, dst) {
		return nil
	}
	*dst = store.Organization{}
	return unmarshal(v, dst, bucket, key)
}

func decodeOrgMember(v []byte, dst *store.OrgMember, bucket, key []byte) error {
	if fastOrgMember(v, dst) {
		return nil
	}
	*dst = store.OrgMember{}
	return unmarshal(v, dst, bucket, key)
}

func decodeProjectMember(v []byte, dst *store.ProjectMember, bucket, key []byte) error {
	if fastProjectMember(v, dst) {
		return nil
	}
	*dst = store.ProjectMember{}
	return unmarshal(v, dst, bucket, key)
}

func fastOrganization(v []byte, o *store.Organization) bool {
	d := newDecoder(v)
	return d.fields(func(key string) (bit uint16, ok bool) {
		switch key {
		case "id":
			bit = 1 << 0
			o.ID, ok = d.str()
		case "slug":
			bit = 1 << 1
			o.Slug, ok = d.str()
		case "name":
			bit = 1 << 2
			o.Name, ok = d.str()
		case "plan":
			bit = 1 << 3
			o.Plan, ok = d.str()
		case "created_at":
			bit = 1 << 4
			ok = d.time(&o.CreatedAt)
		case "updated_at":
			bit = 1 << 5
			ok = d.time(&o.UpdatedAt)
		case "deleted_at":
			bit = 1 << 6
			o.DeletedAt, ok = d.timePtr()
		}
		return bit, ok
	})
}

func fastOrgMember(v []byte, m *store.OrgMember) bool {
	d := newDecoder(v)
	return d.fields(func(key string) (bit uint16, ok bool) {
		switch key {
		case "organization_id":
			bit = 1 << 0
			m.OrganizationID, ok = d.str()
		case "user_id":
			bit = 1 << 1
			m.UserID, ok = d.str()
		case "roles":
			bit = 1 << 2
			m.Roles, ok = d.strList()
		case "joined_at":
			bit = 1 << 3
			ok = d.time(&m.JoinedAt)
		case "updated_at":
			bit = 1 << 4
			ok = d.time(&m.UpdatedAt)
		}
		return bit, ok
	})
}

func fastProjectMember(v []byte, m *store.ProjectMember) bool {
	d := newDecoder(v)
	return d.fields(func(key string) (bit uint16, ok bool) {
		switch key {
		case "project_id":
			bit = 1 << 0
			m.ProjectID, ok = d.str()
		case "organization_id":
			bit = 1 << 1
			m.OrganizationID, ok = d.str()
		case "user_id":
			bit = 1 << 2
			m.UserID, ok = d.str()
		case "roles":
			bit = 1 << 3
			m.Roles, ok = d.strList()
		case "joined_at":
			bit = 1 << 4
			ok = d.time(&m.JoinedAt)
		case "updated_at":
			bit = 1 << 5
			ok = d.time(&m.UpdatedAt)
		}
		return bit, ok
	})
}
