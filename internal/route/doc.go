// Package route is Gatehouse's rule table: it maps a request method and
// path to the one rule that governs it.
//
// # Path patterns
//
// A pattern starts with "/" and is made of segments separated by "/":
//
//   - a literal segment matches itself (case-sensitive, compared with the
//     decoded request path);
//   - "{name}" matches exactly one non-empty segment and captures it;
//   - "*" as the final segment matches one or more further segments:
//     "/a/*" matches "/a/x" and "/a/x/y", not "/a".
//
// "/" alone matches only the root. A trailing "/" on a pattern is dropped
// ("/x/" is "/x"), and a trailing "/" on a request path is ignored for
// matching ("/w/acme/messages/" matches "/w/{workspace}/messages").
//
// # Precedence
//
// The rule order does not matter. Among the patterns matching a path, the
// most specific wins: compare them segment by segment, a literal beats a
// "{param}", which beats "*"; if one pattern is a prefix of the other, the
// longer wins. Patterns differing only in parameter names are the same
// pattern. Among the rules sharing the winning pattern, the rule naming the
// request method beats a rule for any method ("*"). When none applies the
// answer is MethodNotAllowed with the pattern's allowed methods: the table
// never falls back to a less specific pattern, because that would let a
// broad rule govern a route someone deliberately restricted.
package route
