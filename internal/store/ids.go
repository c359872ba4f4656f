package store

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
)

// Formats every backend shares: a store's ID, audit event ids, and the
// quoting of ids in error messages. They are part of the contract (a
// consistency token names the store ID; audit ids order a workspace's
// events and survive export and import between backends), so they live
// here rather than in each backend.

// NewStoreID returns 128 random bits in lower-case unpadded base32 (26
// characters, the alphabet ParseToken accepts): a new database's ID.
func NewStoreID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])), nil
}

const (
	auditIDPrefix = "ev_"
	auditIDDigits = 16
	// legacyAuditIDWidth is the width of the decimal ids of older stores.
	legacyAuditIDWidth = 20
)

// AuditIDForm describes FormatAuditID's ids, for error messages.
const AuditIDForm = "ev_ and 16 hex digits"

// FormatAuditID is the id of the seq-th event of a workspace: "ev_" and
// 16 hex digits, so that string order is append order.
func FormatAuditID(seq uint64) string {
	return fmt.Sprintf("%s%0*x", auditIDPrefix, auditIDDigits, seq)
}

// ParseAuditID returns the sequence number of an id in the form
// FormatAuditID produces, or false.
func ParseAuditID(id string) (uint64, bool) {
	hex, ok := strings.CutPrefix(id, auditIDPrefix)
	if !ok || len(hex) != auditIDDigits {
		return 0, false
	}
	for i := 0; i < len(hex); i++ {
		if c := hex[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(hex, 16, 64)
	return n, err == nil
}

// IsLegacyAuditID reports whether id is a 20-digit decimal id of an older
// store (which always sorts before the "ev_" ids).
func IsLegacyAuditID(id string) bool {
	if len(id) != legacyAuditIDWidth {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	_, err := strconv.ParseUint(id, 10, 64)
	return err == nil
}

// QuoteID quotes an id for an error message, shortened: ids in errors may
// come from requests.
func QuoteID(s string) string {
	const max = 80
	if len(s) > max {
		return fmt.Sprintf("%q...", s[:max])
	}
	return fmt.Sprintf("%q", s)
}

// RaiseRevision raises v to rev unless it is already at or past it:
// concurrent callers may come in any order, and the greatest wins.
func RaiseRevision(v *atomic.Uint64, rev uint64) {
	for {
		cur := v.Load()
		if rev <= cur || v.CompareAndSwap(cur, rev) {
			return
		}
	}
}
