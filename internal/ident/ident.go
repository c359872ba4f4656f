// Package ident generates and recognizes Gatehouse identifiers: opaque
// workspace ids and human slugs. A workspace reference in a request may be
// either; the "ws_" prefix tells them apart without a lookup, because a
// slug can never contain an underscore.
package ident

import (
	"crypto/rand"
	"encoding/base32"
	"strings"
)

// WorkspacePrefix starts every workspace id.
const WorkspacePrefix = "ws_"

// lowerBase32 has no padding and only lower-case letters and digits 2-7,
// so ids are URL-safe and case-stable.
var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// New returns prefix followed by 128 random bits (26 base32 characters).
func New(prefix string) string {
	var b [16]byte
	// crypto/rand.Read never returns an error: since Go 1.24 it crashes
	// the program irrecoverably instead, so there is nothing to handle.
	_, _ = rand.Read(b[:])
	return prefix + lowerBase32.EncodeToString(b[:])
}

// NewWorkspaceID returns a fresh workspace id.
func NewWorkspaceID() string { return New(WorkspacePrefix) }

// IsWorkspaceID reports whether ref has the shape of a workspace id (rather
// than a slug).
func IsWorkspaceID(ref string) bool { return strings.HasPrefix(ref, WorkspacePrefix) }
