package boltstore

import (
	"bytes"
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/gatehouse-authz/gatehouse/internal/store"
)

// Organizations, projects and their memberships (store.OrgTx), and the
// workspace indexes PutWorkspace keeps for them (orgworkspaces.go). Each
// record kind is one bucket keyed like its workspace counterpart, with an
// index bucket per lookup the contract lists (see the layout in
// boltstore.go). As everywhere here, every check of a write comes before
// its first Put, so a refused write leaves nothing behind.

// orgBuckets are the organization buckets of a tx, opened on first use.
type orgBuckets struct {
	orgs, orgSlugs, orgMembers, userOrgs                    *bbolt.Bucket
	projects, orgProjects, projectSlugs                     *bbolt.Bucket
	projectMembers, userProjects, orgWS, projectWS, localWS *bbolt.Bucket
}

func (t *tx) orgsB() *bbolt.Bucket         { return t.bucket(&t.org.orgs, bucketOrgs) }
func (t *tx) orgSlugsB() *bbolt.Bucket     { return t.bucket(&t.org.orgSlugs, bucketOrgSlugs) }
func (t *tx) orgMembersB() *bbolt.Bucket   { return t.bucket(&t.org.orgMembers, bucketOrgMembers) }
func (t *tx) userOrgsB() *bbolt.Bucket     { return t.bucket(&t.org.userOrgs, bucketUserOrgs) }
func (t *tx) projectsB() *bbolt.Bucket     { return t.bucket(&t.org.projects, bucketProjects) }
func (t *tx) orgProjectsB() *bbolt.Bucket  { return t.bucket(&t.org.orgProjects, bucketOrgProjects) }
func (t *tx) projectSlugsB() *bbolt.Bucket { return t.bucket(&t.org.projectSlugs, bucketProjectSlugs) }
func (t *tx) projectMembersB() *bbolt.Bucket {
	return t.bucket(&t.org.projectMembers, bucketProjectMembers)
}
func (t *tx) userProjectsB() *bbolt.Bucket { return t.bucket(&t.org.userProjects, bucketUserProjects) }
func (t *tx) orgWSB() *bbolt.Bucket        { return t.bucket(&t.org.orgWS, bucketOrgWS) }
func (t *tx) projectWSB() *bbolt.Bucket    { return t.bucket(&t.org.projectWS, bucketProjectWS) }
func (t *tx) localWSB() *bbolt.Bucket      { return t.bucket(&t.org.localWS, bucketLocalWS) }

func notFoundIn(what, id, parent, parentID string) error {
	return &notFoundError{what: what, id: id, parent: parent, parentID: parentID}
}

// get1 reads the record of key id from b into a T: ErrNotFound (what) for
// a missing record or a malformed key.
func get1[T any](t *tx, b func() *bbolt.Bucket, name []byte, what, id string,
	decode func(v []byte, dst *T, bucket, key []byte) error) (T, error) {
	var r T
	if err := t.readable(); err != nil {
		return r, err
	}
	if !validKey(id) {
		return r, notFound(what, id)
	}
	k := t.scratch1(id)
	v := b().Get(k)
	if v == nil {
		return r, notFound(what, id)
	}
	err := decode(v, &r, name, k)
	return r, err
}

// get2 is get1 for a composite key parent \x00 id.
func get2[T any](t *tx, b func() *bbolt.Bucket, name []byte, what, parentWhat, parent, id string,
	decode func(v []byte, dst *T, bucket, key []byte) error) (T, error) {
	var r T
	if err := t.readable(); err != nil {
		return r, err
	}
	if !validKey(parent) || !validKey(id) {
		return r, notFoundIn(what, id, parentWhat, parent)
	}
	k := t.scratch2(parent, id)
	v := b().Get(k)
	if v == nil {
		return r, notFoundIn(what, id, parentWhat, parent)
	}
	err := decode(v, &r, name, k)
	return r, err
}

// indexedList pages the records that index bucket idx lists under
// prefix: idx keys are prefix + id, the record of (recPrefix + id) lives
// in recordsB. A recPrefix of nil keys the record by id alone.
func indexedList[T any](t *tx, idx, recordsB *bbolt.Bucket, name []byte, index string, prefix, recPrefix []byte, cursor string, limit int,
	decode func(v []byte, dst *T, bucket, key []byte) error) ([]T, string, error) {
	items := make([]T, 0, listCap(limit))
	next, err := scan(idx, prefix, cursor, limit, func(k, _ []byte) error {
		id := k[len(prefix):]
		rk := id
		if recPrefix != nil {
			rk = append(append(t.key[:0], recPrefix...), id...)
			t.key = rk
		}
		v := recordsB.Get(rk)
		if v == nil {
			return corruptIndex(index, k)
		}
		var item T
		if err := decode(v, &item, name, rk); err != nil {
			return err
		}
		items = append(items, item)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return items, next, nil
}

func encode(what string, v any) ([]byte, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("boltstore: encoding %s: %w", what, err)
	}
	return data, nil
}

// ---- organizations

func (t *tx) Organization(id string) (store.Organization, error) {
	return get1(t, t.orgsB, bucketOrgs, "organization", id, decodeOrganization)
}

func (t *tx) OrganizationBySlug(slug string) (store.Organization, error) {
	var o store.Organization
	if err := t.readable(); err != nil {
		return o, err
	}
	if !validKey(slug) {
		return o, notFound("organization slug", slug)
	}
	id := t.orgSlugsB().Get(t.scratch1(slug))
	if id == nil {
		return o, notFound("organization slug", slug)
	}
	v := t.orgsB().Get(id)
	if v == nil {
		return o, corruptIndex("org_slugs", []byte(slug))
	}
	err := decodeOrganization(v, &o, bucketOrgs, id)
	return o, err
}

func (t *tx) PutOrganization(o store.Organization) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKey("organization id", o.ID); err != nil {
		return err
	}
	if err := checkKey("organization slug", o.Slug); err != nil {
		return err
	}
	data, err := encode("organization", o)
	if err != nil {
		return err
	}
	oB, slugB := t.orgsB(), t.orgSlugsB()
	var old store.Organization
	v := oB.Get(t.scratch1(o.ID))
	existed := v != nil
	if existed {
		if err := decodeOrganization(v, &old, bucketOrgs, t.key); err != nil {
			return err
		}
	}
	owner := slugB.Get(t.scratch1(o.Slug))
	if owner != nil && string(owner) != o.ID {
		return fmt.Errorf("boltstore: organization slug %s: %w", quote(o.Slug), store.ErrSlugTaken)
	}
	mapped := owner != nil
	t.ch.orgs().Organization(o.ID)
	if existed && old.Slug != o.Slug {
		if owner := slugB.Get(t.scratch1(old.Slug)); owner != nil && string(owner) == o.ID {
			if err := slugB.Delete(t.key); err != nil {
				return err
			}
		}
	}
	if !mapped {
		if err := slugB.Put([]byte(o.Slug), []byte(o.ID)); err != nil {
			return err
		}
	}
	return oB.Put([]byte(o.ID), data)
}

func (t *tx) Organizations(cursor string, limit int) ([]store.Organization, string, error) {
	if err := t.readable(); err != nil {
		return nil, "", err
	}
	return records(scan, t.orgsB(), bucketOrgs, nil, cursor, limit, decodeOrganization)
}

func (t *tx) OrganizationsByID(ids []string) (map[string]store.Organization, error) {
	if err := t.readable(); err != nil {
		return nil, err
	}
	return byID(t, t.orgsB(), bucketOrgs, ids, decodeOrganization)
}

// ---- organization members

func (t *tx) OrgMember(orgID, userID string) (store.OrgMember, error) {
	return get2(t, t.orgMembersB, bucketOrgMembers, "member", "organization", orgID, userID, decodeOrgMember)
}

func (t *tx) PutOrgMember(m store.OrgMember) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKey("organization member organization id", m.OrganizationID); err != nil {
		return err
	}
	if err := checkKey("organization member user id", m.UserID); err != nil {
		return err
	}
	if t.orgsB().Get(t.scratch1(m.OrganizationID)) == nil {
		return notFound("organization", m.OrganizationID)
	}
	data, err := encode("organization member", m)
	if err != nil {
		return err
	}
	t.ch.orgs().OrgMember(m.OrganizationID, m.UserID)
	if err := t.orgMembersB().Put(key2(m.OrganizationID, m.UserID), data); err != nil {
		return err
	}
	return t.userOrgsB().Put(key2(m.UserID, m.OrganizationID), []byte{})
}

func (t *tx) DeleteOrgMember(orgID, userID string) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKey("organization member organization id", orgID); err != nil {
		return err
	}
	if err := checkKey("organization member user id", userID); err != nil {
		return err
	}
	mB := t.orgMembersB()
	if mB.Get(t.scratch2(orgID, userID)) == nil {
		return notFoundIn("member", userID, "organization", orgID)
	}
	t.ch.orgs().OrgMember(orgID, userID)
	if err := mB.Delete(t.key); err != nil {
		return err
	}
	return t.userOrgsB().Delete(t.scratch2(userID, orgID))
}

func (t *tx) OrgMembers(orgID, cursor string, limit int) ([]store.OrgMember, string, error) {
	if err := t.readable(); err != nil {
		return nil, "", err
	}
	if !validKey(orgID) {
		return []store.OrgMember{}, "", nil
	}
	return records(scan, t.orgMembersB(), bucketOrgMembers, prefix1(orgID), cursor, limit, decodeOrgMember)
}

func (t *tx) UserOrgMemberships(userID, cursor string, limit int) ([]store.OrgMember, string, error) {
	if err := t.readable(); err != nil {
		return nil, "", err
	}
	if !validKey(userID) {
		return []store.OrgMember{}, "", nil
	}
	return userIndexed(t, t.userOrgsB(), t.orgMembersB(), bucketOrgMembers, "user_orgs", userID, cursor, limit, decodeOrgMember)
}

// userIndexed pages a user's memberships through a user \x00 parent
// index whose records are keyed parent \x00 user.
func userIndexed[T any](t *tx, idx, recordsB *bbolt.Bucket, name []byte, index, userID, cursor string, limit int,
	decode func(v []byte, dst *T, bucket, key []byte) error) ([]T, string, error) {
	items := make([]T, 0, listCap(limit))
	prefix := prefix1(userID)
	next, err := scan(idx, prefix, cursor, limit, func(k, _ []byte) error {
		parent := k[len(prefix):]
		rk := append(append(append(t.key[:0], parent...), 0), userID...)
		t.key = rk
		v := recordsB.Get(rk)
		if v == nil {
			return corruptIndex(index, k)
		}
		var item T
		if err := decode(v, &item, name, rk); err != nil {
			return err
		}
		items = append(items, item)
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return items, next, nil
}

// ---- projects

func (t *tx) Project(id string) (store.Project, error) {
	return get1(t, t.projectsB, bucketProjects, "project", id, decodeJSON[store.Project])
}

func (t *tx) ProjectBySlug(orgID, slug string) (store.Project, error) {
	var p store.Project
	if err := t.readable(); err != nil {
		return p, err
	}
	if !validKey(orgID) || !validKey(slug) {
		return p, notFoundIn("project slug", slug, "organization", orgID)
	}
	id := t.projectSlugsB().Get(t.scratch2(orgID, slug))
	if id == nil {
		return p, notFoundIn("project slug", slug, "organization", orgID)
	}
	v := t.projectsB().Get(id)
	if v == nil {
		return p, corruptIndex("project_slugs", key2(orgID, slug))
	}
	err := decodeJSON(v, &p, bucketProjects, id)
	return p, err
}

func (t *tx) PutProject(p store.Project) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKey("project id", p.ID); err != nil {
		return err
	}
	if err := checkKey("project organization id", p.OrganizationID); err != nil {
		return err
	}
	if err := checkKey("project slug", p.Slug); err != nil {
		return err
	}
	data, err := encode("project", p)
	if err != nil {
		return err
	}
	if t.orgsB().Get(t.scratch1(p.OrganizationID)) == nil {
		return notFound("organization", p.OrganizationID)
	}
	pB, slugB := t.projectsB(), t.projectSlugsB()
	var old store.Project
	v := pB.Get(t.scratch1(p.ID))
	existed := v != nil
	if existed {
		if err := decodeJSON(v, &old, bucketProjects, t.key); err != nil {
			return err
		}
		if old.OrganizationID != p.OrganizationID {
			return fmt.Errorf("boltstore: project %s cannot move from organization %s to %s: %w",
				quote(p.ID), quote(old.OrganizationID), quote(p.OrganizationID), store.ErrInvalid)
		}
	}
	owner := slugB.Get(t.scratch2(p.OrganizationID, p.Slug))
	if owner != nil && string(owner) != p.ID {
		return fmt.Errorf("boltstore: project slug %s in organization %s: %w", quote(p.Slug), quote(p.OrganizationID), store.ErrSlugTaken)
	}
	mapped := owner != nil
	t.ch.orgs().Project(p.OrganizationID, p.ID)
	if existed && old.Slug != p.Slug {
		if owner := slugB.Get(t.scratch2(p.OrganizationID, old.Slug)); owner != nil && string(owner) == p.ID {
			if err := slugB.Delete(t.key); err != nil {
				return err
			}
		}
	}
	if !mapped {
		if err := slugB.Put(key2(p.OrganizationID, p.Slug), []byte(p.ID)); err != nil {
			return err
		}
	}
	if err := t.orgProjectsB().Put(key2(p.OrganizationID, p.ID), []byte{}); err != nil {
		return err
	}
	return pB.Put([]byte(p.ID), data)
}

func (t *tx) DeleteProject(id string) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKey("project id", id); err != nil {
		return err
	}
	pB := t.projectsB()
	v := pB.Get(t.scratch1(id))
	if v == nil {
		return notFound("project", id)
	}
	var p store.Project
	if err := decodeJSON(v, &p, bucketProjects, t.key); err != nil {
		return err
	}
	prefix := prefix1(id)
	if k, _ := t.projectWSB().Cursor().Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) {
		return fmt.Errorf("boltstore: project %s still has workspaces (%s): %w", quote(id), quote(string(k[len(prefix):])), store.ErrInvalid)
	}
	users, err := remainders(t.projectMembersB(), prefix)
	if err != nil {
		return err
	}
	t.ch.orgs().Project(p.OrganizationID, id)
	for _, user := range users {
		t.ch.orgs().ProjectMember(p.OrganizationID, id, user)
		if err := t.userProjectsB().Delete(t.scratch2(user, id)); err != nil {
			return err
		}
		if err := t.projectMembersB().Delete(t.scratch2(id, user)); err != nil {
			return err
		}
	}
	slugB := t.projectSlugsB()
	if owner := slugB.Get(t.scratch2(p.OrganizationID, p.Slug)); owner != nil && string(owner) == id {
		if err := slugB.Delete(t.key); err != nil {
			return err
		}
	}
	if err := t.orgProjectsB().Delete(t.scratch2(p.OrganizationID, id)); err != nil {
		return err
	}
	return pB.Delete(t.scratch1(id))
}

func (t *tx) Projects(orgID, cursor string, limit int) ([]store.Project, string, error) {
	if err := t.readable(); err != nil {
		return nil, "", err
	}
	if !validKey(orgID) {
		return []store.Project{}, "", nil
	}
	return indexedList(t, t.orgProjectsB(), t.projectsB(), bucketProjects, "org_projects", prefix1(orgID), nil, cursor, limit, decodeJSON[store.Project])
}

// ---- project members

func (t *tx) ProjectMember(projectID, userID string) (store.ProjectMember, error) {
	return get2(t, t.projectMembersB, bucketProjectMembers, "member", "project", projectID, userID, decodeProjectMember)
}

func (t *tx) PutProjectMember(m store.ProjectMember) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKey("project member project id", m.ProjectID); err != nil {
		return err
	}
	if err := checkKey("project member user id", m.UserID); err != nil {
		return err
	}
	v := t.projectsB().Get(t.scratch1(m.ProjectID))
	if v == nil {
		return notFound("project", m.ProjectID)
	}
	var p store.Project
	if err := decodeJSON(v, &p, bucketProjects, t.key); err != nil {
		return err
	}
	if m.OrganizationID != p.OrganizationID {
		return fmt.Errorf("boltstore: project member of project %s names organization %s, the project's is %s: %w",
			quote(m.ProjectID), quote(m.OrganizationID), quote(p.OrganizationID), store.ErrInvalid)
	}
	data, err := encode("project member", m)
	if err != nil {
		return err
	}
	t.ch.orgs().ProjectMember(m.OrganizationID, m.ProjectID, m.UserID)
	if err := t.projectMembersB().Put(key2(m.ProjectID, m.UserID), data); err != nil {
		return err
	}
	return t.userProjectsB().Put(key2(m.UserID, m.ProjectID), []byte{})
}

func (t *tx) DeleteProjectMember(projectID, userID string) error {
	if err := t.writableErr(); err != nil {
		return err
	}
	if err := checkKey("project member project id", projectID); err != nil {
		return err
	}
	if err := checkKey("project member user id", userID); err != nil {
		return err
	}
	mB := t.projectMembersB()
	v := mB.Get(t.scratch2(projectID, userID))
	if v == nil {
		return notFoundIn("member", userID, "project", projectID)
	}
	var m store.ProjectMember
	if err := decodeProjectMember(v, &m, bucketProjectMembers, t.key); err != nil {
		return err
	}
	t.ch.orgs().ProjectMember(m.OrganizationID, projectID, userID)
	if err := mB.Delete(t.scratch2(projectID, userID)); err != nil {
		return err
	}
	return t.userProjectsB().Delete(t.scratch2(userID, projectID))
}

func (t *tx) ProjectMembers(projectID, cursor string, limit int) ([]store.ProjectMember, string, error) {
	if err := t.readable(); err != nil {
		return nil, "", err
	}
	if !validKey(projectID) {
		return []store.ProjectMember{}, "", nil
	}
	return records(scan, t.projectMembersB(), bucketProjectMembers, prefix1(projectID), cursor, limit, decodeProjectMember)
}

func (t *tx) UserProjectMemberships(userID, cursor string, limit int) ([]store.ProjectMember, string, error) {
	if err := t.readable(); err != nil {
		return nil, "", err
	}
	if !validKey(userID) {
		return []store.ProjectMember{}, "", nil
	}
	return userIndexed(t, t.userProjectsB(), t.projectMembersB(), bucketProjectMembers, "user_projects", userID, cursor, limit, decodeProjectMember)
}
