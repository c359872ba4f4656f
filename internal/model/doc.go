// Package model is Gatehouse's authorization model: the permission
// catalog, system roles, compiling a member's access, the invariants every
// write keeps, and the workspace and user services. The gateway, the
// management API, the console and the CLI all call it; it imports
// internal/authz and internal/store only (and internal/ident, the leaf
// package of workspace ids and slugs that the workspace service needs,
// which imports nothing of ours).
//
// A [Model] is built once per configuration by [New] from a [Config],
// which it validates (every error names the declaration to change). It is
// immutable and safe for concurrent use. Everything that reads the store
// takes a store.Tx, so a caller decides which transaction a rule is
// checked in: the management API checks its invariants inside the write
// transaction of the change they guard.
package model
