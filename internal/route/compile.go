package route

import (
	"fmt"
	"slices"
	"strings"
)

// Rule is one entry of the table, as configured.
type Rule struct {
	// Methods the rule applies to, e.g. ["GET","HEAD"]; ["*"] means any
	// method. Must not be empty.
	Methods []string
	// Path is the path pattern.
	Path string
}

// label names the rule in error messages the way config writes it.
func (r Rule) label() string {
	return strings.Join(r.Methods, ",") + " " + r.Path
}

// CompileError reports a rule Compile rejected.
type CompileError struct {
	// Index is the rule's index in the rules given to Compile.
	Index int
	// Err says what is wrong with the rule and what to change.
	Err error

	label string
}

// Error implements error: `rule 3 (GET /w/{a}): ...`.
func (e *CompileError) Error() string {
	return fmt.Sprintf("rule %d (%s): %v", e.Index, e.label, e.Err)
}

// Unwrap returns Err.
func (e *CompileError) Unwrap() error { return e.Err }

// ConflictError is the Err of a CompileError for a rule that has the same
// pattern and an overlapping method as an earlier rule. It names the other
// rule so a caller can point at both in its config.
type ConflictError struct {
	// Other is the index of the earlier rule.
	Other int

	otherLabel string
}

// Error implements error.
func (e *ConflictError) Error() string {
	return fmt.Sprintf("same pattern and method as rule %d (%s)", e.Other, e.otherLabel)
}

// Table is a compiled rule table. It is immutable and safe for concurrent
// use.
type Table struct {
	root *node
}

// Compile builds the table. Errors are *CompileError naming the first bad
// rule's index and what to change.
func Compile(rules []Rule) (*Table, error) {
	t := &Table{root: new(node)}
	endpoints := make(map[string]*endpoint) // by pattern key
	for i, r := range rules {
		if err := t.add(endpoints, rules, i); err != nil {
			return nil, &CompileError{Index: i, Err: err, label: r.label()}
		}
	}
	for _, e := range endpoints {
		e.finish()
	}
	return t, nil
}

// add validates rules[i] and adds it to the table.
func (t *Table) add(endpoints map[string]*endpoint, rules []Rule, i int) error {
	r := rules[i]
	if err := validateMethods(r.Methods); err != nil {
		return err
	}
	p, err := parsePattern(r.Path)
	if err != nil {
		return err
	}
	e := endpoints[p.key]
	if e == nil {
		e = &endpoint{pattern: p.written}
		endpoints[p.key] = e
		t.root.insert(p.segments, e)
	}
	target := &ruleTarget{index: i, pattern: p.written, params: p.params}
	for _, m := range r.Methods {
		if other := e.ruleNaming(m); other != nil {
			return &ConflictError{Other: other.index, otherLabel: rules[other.index].label()}
		}
		e.add(m, target)
	}
	return nil
}

// endpoint is where a pattern ends in the trie: the rules sharing it.
type endpoint struct {
	// pattern is the pattern as its first rule writes it.
	pattern string
	// methods maps each named method to its rule; a short slice scans
	// faster than a map for the handful of methods a pattern has.
	methods []methodTarget
	// anyRule is the rule for "*", nil if none.
	anyRule *ruleTarget
	// allow is the precomputed Allow value.
	allow string
}

type methodTarget struct {
	method string
	rule   *ruleTarget
}

// ruleTarget is what a match on one rule reports.
type ruleTarget struct {
	index   int
	pattern string
	params  []string
}

func (e *endpoint) add(method string, r *ruleTarget) {
	if method == AnyMethod {
		e.anyRule = r
		return
	}
	e.methods = append(e.methods, methodTarget{method, r})
}

// ruleNaming returns the rule listing method ("*" included), nil if none.
func (e *endpoint) ruleNaming(method string) *ruleTarget {
	if method == AnyMethod {
		return e.anyRule
	}
	for i := range e.methods {
		if e.methods[i].method == method {
			return e.methods[i].rule
		}
	}
	return nil
}

// ruleFor returns the rule for method: the one naming it, else the "*"
// rule, else nil.
func (e *endpoint) ruleFor(method string) *ruleTarget {
	for i := range e.methods {
		if e.methods[i].method == method {
			return e.methods[i].rule
		}
	}
	return e.anyRule
}

// finish precomputes the Allow value once all rules are in.
func (e *endpoint) finish() {
	names := make([]string, len(e.methods))
	for i, m := range e.methods {
		names[i] = m.method
	}
	slices.Sort(names)
	e.allow = strings.Join(names, ", ")
}
