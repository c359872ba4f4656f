// Package apikey defines Gatehouse API keys (README "API keys"): their text form
// ghk_<id>_<secret>, how they are made, and how the secret is hashed. It
// is pure logic: storing and checking keys is the store's and the
// gateway's job.
//
// A key id carries a prefix like every other Gatehouse id (ws_, inv_):
// key_ and 26 base32 characters. The key embeds its id whole, so the id
// the API lists is visibly the one inside a key (ghk_key_..._...) and the
// gateway reads it out of the token without building a string.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"
	"unsafe"
)

const (
	// Prefix starts every API key, so a bearer token is told from a JWT
	// (which starts with "ey") without parsing.
	Prefix = "ghk_"
	// SubjectPrefix starts the principal id of a key ("apikey:<id>"), the
	// value of X-Gatehouse-User. JWT subjects may not start with it.
	SubjectPrefix = "apikey:"

	// IDPrefix starts every key id.
	IDPrefix = "key_"
	// IDLen is the length of a key id: IDPrefix and 128 random bits in
	// base32.
	IDLen = len(IDPrefix) + 26
	// SecretLen is the length of a secret: 256 random bits in base32.
	SecretLen = 52
	// Len is the length of a whole key.
	Len = len(Prefix) + IDLen + 1 + SecretLen
)

// lowerBase32 uses lower-case letters and digits 2-7 only: a key survives
// any copy and paste, and '_' can only be the separator.
var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Generate returns a new key, its id, and the hex SHA-256 of its secret
// (what the store keeps). The key itself is shown once and never stored.
func Generate() (key, id, secretHash string) {
	var idBytes [16]byte
	var secretBytes [32]byte
	// crypto/rand.Read never returns an error (Go 1.24+: it crashes the
	// program instead of handing out predictable bytes).
	_, _ = rand.Read(idBytes[:])
	_, _ = rand.Read(secretBytes[:])
	id = IDPrefix + lowerBase32.EncodeToString(idBytes[:])
	secret := lowerBase32.EncodeToString(secretBytes[:])
	return Prefix + id + "_" + secret, id, HexSum(secret)
}

// Parse splits a key into its id and secret. ok is false for anything that
// does not have the exact shape of a key. It does not allocate.
func Parse(key string) (id, secret string, ok bool) {
	if len(key) != Len || !strings.HasPrefix(key, Prefix) {
		return "", "", false
	}
	rest := key[len(Prefix):]
	if rest[IDLen] != '_' {
		return "", "", false
	}
	id, secret = rest[:IDLen], rest[IDLen+1:]
	if !ValidID(id) || !isBase32(secret) {
		return "", "", false
	}
	return id, secret, true
}

// LooksLikeKey reports whether a bearer token is meant as an API key (as
// opposed to a JWT), well-formed or not.
func LooksLikeKey(token string) bool { return strings.HasPrefix(token, Prefix) }

// ValidID reports whether id has the shape of a key id.
func ValidID(id string) bool {
	return len(id) == IDLen && strings.HasPrefix(id, IDPrefix) && isBase32(id[len(IDPrefix):])
}

// Sum is the SHA-256 of a secret. A secret carries 256 random bits, so a
// fast hash is enough: there is nothing to brute-force. It does not
// allocate.
func Sum(secret string) [sha256.Size]byte {
	// The bytes are only read; converting would copy the secret to the heap.
	return sha256.Sum256(unsafe.Slice(unsafe.StringData(secret), len(secret)))
}

// HexSum is Sum in hex, the form the store keeps.
func HexSum(secret string) string {
	sum := Sum(secret)
	return hex.EncodeToString(sum[:])
}

// Subject returns the principal id of key id.
func Subject(id string) string { return SubjectPrefix + id }

// IDFromSubject returns the key id of a principal id made by Subject.
func IDFromSubject(subject string) (id string, ok bool) {
	id, ok = strings.CutPrefix(subject, SubjectPrefix)
	return id, ok
}

func isBase32(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}
