package route

// Status is the outcome of a match.
type Status uint8

const (
	// NotFound means no pattern matches the path.
	NotFound Status = iota
	// Matched means a rule applies.
	Matched
	// MethodNotAllowed means the most specific matching pattern has no
	// rule for the method.
	MethodNotAllowed
)

// String returns the status name, for logs and test failures.
func (s Status) String() string {
	switch s {
	case NotFound:
		return "NotFound"
	case Matched:
		return "Matched"
	case MethodNotAllowed:
		return "MethodNotAllowed"
	}
	return "Status(?)"
}

// Result is the outcome of Table.Match.
type Result struct {
	Status Status
	// Rule is the index of the matched rule in the rules given to
	// Compile; -1 unless Status is Matched.
	Rule int
	// Pattern is the winning pattern, normalized: the matched rule's
	// spelling when Matched, the spelling of the pattern's first rule when
	// MethodNotAllowed, "" when NotFound.
	Pattern string
	// Allow lists the methods the pattern allows, sorted and joined by
	// ", ", when MethodNotAllowed; "" otherwise.
	Allow string
}
