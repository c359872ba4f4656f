package store

import (
	"errors"
	"strconv"
	"strings"
)

// Consistency tokens (README "Consistency tokens"): a 2xx answer of the management API that
// changed something carries Gatehouse-Revision: <token>, and a request may
// carry Gatehouse-Consistency: <token> to be decided on data at least that
// fresh. The format is "r1.<store id>.<revision>" — opaque to clients; the
// "r1" names the format so that it can change without misreading old ones.

const tokenPrefix = "r1."

// Errors of CheckToken. Each means 400 invalid_consistency_token.
var (
	ErrTokenMalformed  = errors.New("malformed consistency token")
	ErrTokenOtherStore = errors.New("the consistency token is from another database")
	ErrTokenFuture     = errors.New("the consistency token names a revision this database has not reached")
)

// FormatToken returns the token of revision rev of the store with id id.
func FormatToken(id string, rev uint64) string {
	return tokenPrefix + id + "." + strconv.FormatUint(rev, 10)
}

// ParseToken parses a token strictly: the prefix, a store id of 1 to 64
// lower-case letters and digits, and a revision in canonical decimal (no
// sign, no leading zero, no overflow). Anything else is ErrTokenMalformed.
func ParseToken(tok string) (id string, rev uint64, err error) {
	rest, ok := strings.CutPrefix(tok, tokenPrefix)
	if !ok {
		return "", 0, ErrTokenMalformed
	}
	id, num, ok := strings.Cut(rest, ".")
	if !ok || len(id) == 0 || len(id) > 64 || len(num) == 0 || len(num) > 20 {
		return "", 0, ErrTokenMalformed
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return "", 0, ErrTokenMalformed
		}
	}
	for i := 0; i < len(num); i++ {
		if c := num[i]; c < '0' || c > '9' {
			return "", 0, ErrTokenMalformed
		}
	}
	if num[0] == '0' && len(num) > 1 {
		return "", 0, ErrTokenMalformed
	}
	rev, perr := strconv.ParseUint(num, 10, 64)
	if perr != nil {
		return "", 0, ErrTokenMalformed
	}
	return id, rev, nil
}

// CheckToken reports whether the store can honour tok: nil when it is a
// well-formed token of this store at a revision it has reached. A store
// that applies every commit before Update returns (bbolt, one process) is
// always at least as fresh as any token it issued, so there is nothing to
// wait for; a revision beyond the current one cannot have been issued by
// this database (or was issued before it was restored from an older
// backup) and is refused rather than treated as satisfied.
func CheckToken(s Store, tok string) error {
	id, rev, err := ParseToken(tok)
	if err != nil {
		return err
	}
	if id != s.ID() {
		return ErrTokenOtherStore
	}
	if rev > s.Revision() {
		return ErrTokenFuture
	}
	return nil
}
