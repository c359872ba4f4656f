// Package authz holds Gatehouse's permission model: permission names,
// patterns over them, the catalog of declared permissions with their
// implications, and effective permission sets.
//
// # Names
//
// A permission name is a sequence of segments separated by "." or ":",
// for example "message.send", "read:users:email" or "workspace.api_keys".
// A segment is one or more ASCII letters, digits, "_" or "-". A name is at
// most 255 bytes long and is case-sensitive.
//
// # Patterns
//
// A pattern is written like a name, but any segment may be "*":
//
//   - "*" alone matches every name.
//   - A "*" segment that is not the last matches exactly one segment.
//   - A "*" segment that is the last matches one or more segments:
//     "message.*" matches "message.send" and "message.x.y", not "message".
//   - "*" must be a whole segment: "mess*" is invalid.
//
// Separators are significant. Split the pattern and the name into segments
// and the separators between them. Every pattern segment before a trailing
// "*" is matched against the name segment at the same position (equal
// text, or "*" for any one segment), and every separator that follows
// such a position must equal the name's separator at that position. So
// "message.*" does not match "message:send", and "a.*:c" matches
// "a.b:c" but not "a.b.c". The remainder matched by a trailing "*" thus
// starts with the separator written before the "*"; separators inside the
// remainder are free ("read:*" matches "read:users.email").
//
// # Catalog and effective sets
//
// A [Catalog] is the set of valid names, built from configuration merged
// with the built-in administrative permissions ([Builtins]). Each
// permission may imply patterns: holding it grants every catalog
// permission those patterns match, transitively, cycles allowed. A
// [Set] is an immutable bitset over a catalog's [PermID]s; [Catalog.Effective]
// computes the set a member holds from their grant and deny patterns.
package authz
