package canonpath

import "strconv"

// maxEcho is how much of a rejected path an error repeats: enough to
// recognize it, not enough to turn a problem detail or a log line into an
// amplifier for whatever the client sent.
const maxEcho = 64

// Error says why a path is not canonical. Its message is meant for the
// client, as the detail of a 400 problem.
type Error struct {
	// Path is the rejected path, cut to its first 64 bytes.
	Path string
	// Offset is the byte offset of the problem in the full path.
	Offset int
	// Reason says what is wrong, e.g. `has a ".." segment`.
	Reason string

	truncated bool
}

// Error implements error: `path "/a/../b" has a ".." segment`.
func (e *Error) Error() string {
	quoted := strconv.Quote(e.Path)
	if e.truncated {
		quoted += "..."
	}
	return "path " + quoted + " " + e.Reason
}

func newError(path string, offset int, reason string) *Error {
	e := &Error{Path: path, Offset: offset, Reason: reason}
	if len(path) > maxEcho {
		e.Path, e.truncated = path[:maxEcho], true
	}
	return e
}
