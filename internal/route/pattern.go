package route

import (
	"errors"
	"fmt"
	"strings"
)

// MaxParams is the most "{param}" segments a pattern may have. Params holds
// captured values in a fixed array of this size, so matching never
// allocates.
const MaxParams = 16

// segmentKind orders segment kinds by specificity, most specific first.
type segmentKind uint8

const (
	literalSegment segmentKind = iota
	paramSegment
	wildcardSegment
)

// segment is one parsed pattern segment.
type segment struct {
	kind segmentKind
	text string // the literal text, or the parameter name
}

// pattern is a parsed path pattern.
type pattern struct {
	segments []segment
	// written is the pattern as written, normalized (no trailing "/").
	written string
	// key identifies the pattern regardless of parameter names: rules
	// with equal keys have the same pattern.
	key string
	// params are the parameter names, in path order.
	params []string
}

// parsePattern parses and validates a path pattern.
func parsePattern(path string) (pattern, error) {
	if !strings.HasPrefix(path, "/") {
		return pattern{}, fmt.Errorf("path %q must start with \"/\"", path)
	}
	p := pattern{written: path}
	if len(path) > 1 && strings.HasSuffix(path, "/") && !strings.HasSuffix(path, "//") {
		// One trailing "/" after a segment is dropped; "//" is an
		// empty segment, reported below.
		p.written = path[:len(path)-1]
	}
	if p.written == "/" {
		p.key = "/"
		return p, nil
	}
	var key strings.Builder
	parts := strings.Split(p.written[1:], "/")
	for i, part := range parts {
		seg, err := parseSegment(part, i == len(parts)-1)
		if err != nil {
			return pattern{}, fmt.Errorf("path %s: %w", path, err)
		}
		key.WriteByte('/')
		switch seg.kind {
		case literalSegment:
			key.WriteString(seg.text)
		case paramSegment:
			if p.hasParam(seg.text) {
				return pattern{}, fmt.Errorf("path %s: parameter {%s} is used twice; give each parameter its own name", path, seg.text)
			}
			p.params = append(p.params, seg.text)
			// Literals cannot contain braces, so "{}" cannot collide.
			key.WriteString("{}")
		case wildcardSegment:
			key.WriteString("*")
		}
		p.segments = append(p.segments, seg)
	}
	if len(p.params) > MaxParams {
		return pattern{}, fmt.Errorf("path %s: %d parameters, at most %d are allowed", path, len(p.params), MaxParams)
	}
	p.key = key.String()
	return p, nil
}

func (p *pattern) hasParam(name string) bool {
	for _, existing := range p.params {
		if existing == name {
			return true
		}
	}
	return false
}

// parseSegment parses one segment; last tells whether it ends the pattern.
func parseSegment(s string, last bool) (segment, error) {
	switch {
	case s == "":
		return segment{}, errors.New(`empty segment ("//")`)
	case s == "." || s == "..":
		return segment{}, fmt.Errorf("%q segment: request paths with dot segments are rejected before matching, so this rule could never apply", s)
	case s == "*" && !last:
		return segment{}, errors.New(`"*" is only allowed as the last segment (it matches all the rest of the path)`)
	case s == "*":
		return segment{kind: wildcardSegment}, nil
	case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") && len(s) >= 2:
		name := s[1 : len(s)-1]
		if !validParamName(name) {
			return segment{}, fmt.Errorf("parameter name %q is invalid: use letters, digits and \"_\", not starting with a digit, as in {workspace}", name)
		}
		return segment{kind: paramSegment, text: name}, nil
	case strings.ContainsAny(s, "{}*"):
		return segment{}, fmt.Errorf("segment %q mixes text with \"{\", \"}\" or \"*\": a parameter or wildcard must be a whole segment, as in /{id} or /*", s)
	}
	return segment{kind: literalSegment, text: s}, nil
}

// validParamName reports whether name matches [A-Za-z_][A-Za-z0-9_]*.
func validParamName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
		digit := '0' <= c && c <= '9'
		if !letter && !(digit && i > 0) {
			return false
		}
	}
	return true
}
