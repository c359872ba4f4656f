package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/gatehouse-authz/gatehouse/internal/authn"
	"github.com/gatehouse-authz/gatehouse/internal/model"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/storeopen"
)

// cliLockTimeout: the store commands work offline on a bbolt file; one
// held by a running server must fail fast with a clear error, not hang.
const cliLockTimeout = 2 * time.Second

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "store",
		Usage: "bootstrap|stats|export|import --store <path|postgres://URL> ...",
		Short: "Works on a Gatehouse store directly (a bbolt file or PostgreSQL)",
		Long: `
Commands that open a Gatehouse store directly. --store is a bbolt file path
or a postgres:// (postgresql://) URL; any other URL scheme is refused. A
password in the URL is never printed (it shows as xxxxx).

A bbolt file must be free: one held by a running server gets an error, not
a hang (change a running server through its management API instead). On
PostgreSQL the commands run next to the running gateways, and their writes
reach them through the change feed like any other write.`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.AddCommand(bootstrapCommand(), statsCommand(), exportCommand(), importCommand())
		},
	})
}

func bootstrapCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "bootstrap --store <path|postgres://URL> --workspace <name> --owner <sub> [--email <e>] [--role owner] [--config <Caddyfile>] [--slug <slug>] [--if-empty]",
		Short: "Creates a workspace with its first owner",
		Long: `
Creates a workspace whose only member is its owner, with the given roles.

The roles are checked against the config the server runs (--config, a
Caddyfile or JSON config, adapted like 'gatehouse run' does): each must be
a declared system role, and one of them must grant workspace.admin, so the
workspace has an admin. Without --config only the default role, owner, is
accepted.`,
		RunE: caddycmd.WrapCommandFuncForCobra(cmdBootstrap),
	}
	f := c.Flags()
	f.String("store", "", "Store: path or postgres:// URL (required; a missing bbolt file is created)")
	f.String("workspace", "", "Workspace name (required)")
	f.String("slug", "", "Workspace slug (default: derived from the name)")
	f.String("owner", "", "User id (JWT subject) of the owner (required)")
	f.String("email", "", "Owner's email")
	f.StringArray("role", []string{"owner"}, "Role(s) of the owner: system roles of --config, one granting workspace.admin")
	f.String("config", "", "The server's config (Caddyfile or JSON), to check --role against")
	f.String("adapter", "", "Name of the config adapter of --config (default: by file name, as caddy run)")
	f.Bool("if-empty", false, "Do nothing when the store already has a workspace")
	return c
}

func cmdBootstrap(fl caddycmd.Flags) (int, error) {
	target, name, owner := fl.String("store"), fl.String("workspace"), fl.String("owner")
	if target == "" || name == "" || owner == "" {
		return 2, fmt.Errorf("--store, --workspace and --owner are required")
	}
	// The owner must be a subject a token can carry, or nobody could ever
	// sign in as them.
	if reason := authn.CheckSubject(owner); reason != "" {
		return 2, fmt.Errorf("--owner %q: a subject %s", owner, reason)
	}
	if reason := authn.CheckEmail(fl.String("email")); reason != "" {
		return 2, fmt.Errorf("--email %q: an email %s", fl.String("email"), reason)
	}
	roles, _ := fl.GetStringArray("role")
	if err := checkBootstrapRoles(roles, fl.String("config"), fl.String("adapter")); err != nil {
		return 2, err
	}
	if _, err := storeopen.Classify(target); err != nil {
		return 2, err
	}
	ctx := context.Background()
	s, err := storeopen.Open(ctx, target, storeopen.Options{Timeout: cliLockTimeout})
	if err != nil {
		return 1, err
	}
	defer s.Close()
	ws, created, err := bootstrap(ctx, s, model.NewWorkspace{
		Name:       name,
		Slug:       fl.String("slug"),
		Owner:      owner,
		OwnerEmail: fl.String("email"),
		OwnerRoles: roles,
		Actor:      model.ActorCLI,
	}, fl.Bool("if-empty"), time.Now().UTC())
	if errors.Is(err, store.ErrSlugTaken) {
		return 1, fmt.Errorf("slug %q is taken: choose another with --slug", fl.String("slug"))
	}
	if err != nil {
		return 1, err
	}
	if !created {
		fmt.Printf("store %s already has a workspace; nothing to do\n", storeopen.Describe(target))
		return 0, nil
	}
	fmt.Printf("created workspace %s (slug %s) with owner %s\n", ws.ID, ws.Slug, owner)
	return 0, nil
}

func statsCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "stats --store <path|postgres://URL>",
		Short: "Prints record counts as JSON",
		RunE:  caddycmd.WrapCommandFuncForCobra(cmdStats),
	}
	c.Flags().String("store", "", "Store: path or postgres:// URL (required; must exist)")
	return c
}

func cmdStats(fl caddycmd.Flags) (int, error) {
	s, code, err := openExisting(fl)
	if err != nil {
		return code, err
	}
	defer s.Close()
	stats, err := s.Stats(context.Background())
	if err != nil {
		return 1, err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return 0, enc.Encode(stats)
}

func exportCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "export --store <path|postgres://URL> > snapshot.json",
		Short: "Writes every record of the store as JSON to stdout",
		Long: `
Writes a snapshot of the store — users, workspaces, memberships, custom
roles, invites, API keys (their hashes), audit events and the gateway's signing keys — as indented
JSON to stdout. ` + "`gatehouse store import`" + ` reads it back into a new store.

The snapshot contains the gateway's PRIVATE signing key (and the hashes of
pending invite tokens): treat it as a secret, like the store itself.

A bbolt file is opened read-only, but it must not be held by a running
server. Export from one backend and import into the other to move a
deployment:

  gatehouse store export --store old.db | gatehouse store import --store postgres://...`,
		RunE: caddycmd.WrapCommandFuncForCobra(cmdExport),
	}
	c.Flags().String("store", "", "Store: path or postgres:// URL (required; must exist)")
	return c
}

func cmdExport(fl caddycmd.Flags) (int, error) {
	s, code, err := openExisting(fl)
	if err != nil {
		return code, err
	}
	defer s.Close()
	var snap store.Snapshot
	err = s.View(context.Background(), func(tx store.Tx) (err error) {
		snap, err = store.Export(tx)
		return err
	})
	if err != nil {
		return 1, fmt.Errorf("store %s: %w", storeopen.Describe(fl.String("store")), err)
	}
	w := bufio.NewWriterSize(os.Stdout, 1<<16)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(snap); err != nil {
		return 1, fmt.Errorf("writing the snapshot: %w", err)
	}
	if err := w.Flush(); err != nil {
		return 1, fmt.Errorf("writing the snapshot: %w", err)
	}
	return 0, nil
}

// maxSnapshotBytes caps what import reads from stdin.
const maxSnapshotBytes = 256 << 20

func importCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "import --store <path|postgres://URL> < snapshot.json",
		Short: "Reads a snapshot (from store export) on stdin into an empty store",
		Long: `
Reads a snapshot written by ` + "`gatehouse store export`" + ` from stdin (at most
256 MiB) and writes it into the store in one transaction: either every
record is imported or none is.

The store must be empty — a new bbolt file is best; it is created if
missing. Import never merges into existing data. Unknown fields in the snapshot are
rejected rather than silently dropped.`,
		RunE: caddycmd.WrapCommandFuncForCobra(cmdImport),
	}
	c.Flags().String("store", "", "Store: path or postgres:// URL (required; must be empty; a missing bbolt file is created)")
	return c
}

func cmdImport(fl caddycmd.Flags) (int, error) {
	target := fl.String("store")
	if target == "" {
		return 2, fmt.Errorf("--store is required")
	}
	kind, err := storeopen.Classify(target)
	if err != nil {
		return 2, err
	}
	// Read and check the whole snapshot before touching the store: the
	// file lock is not held while stdin trickles in, and a bad snapshot
	// leaves no new file behind.
	snap, err := readSnapshot(os.Stdin)
	if err != nil {
		return 1, err
	}
	if err := snap.Check(); err != nil {
		return 1, fmt.Errorf("snapshot on stdin: %w", err)
	}

	created := false
	if kind == storeopen.Bolt {
		_, statErr := os.Stat(target)
		created = errors.Is(statErr, fs.ErrNotExist)
	}
	s, err := storeopen.Open(context.Background(), target, storeopen.Options{Timeout: cliLockTimeout})
	if err != nil {
		return 1, err
	}
	if err := importInto(s, snap); err != nil {
		_ = s.Close()
		if created {
			// Nothing was imported (one transaction): do not leave an
			// empty store behind that a retry would have to avoid.
			_ = os.Remove(target)
		}
		return 1, fmt.Errorf("store %s: %w", storeopen.Describe(target), err)
	}
	// The import is committed; a failing Close cannot undo it.
	if err := s.Close(); err != nil {
		return 1, fmt.Errorf("store %s: imported, but closing failed: %w", storeopen.Describe(target), err)
	}
	fmt.Printf("imported %d users, %d workspaces, %d memberships, %d roles, %d invites, %d API keys, %d audit events and %d signing keys into %s\n",
		len(snap.Users), len(snap.Workspaces), len(snap.Memberships), len(snap.Roles), len(snap.Invites), len(snap.APIKeys), len(snap.Audit), len(snap.SigningKeys), storeopen.Describe(target))
	return 0, nil
}

// readSnapshot decodes one Snapshot from r, strictly: unknown fields,
// trailing data and input over maxSnapshotBytes are errors.
func readSnapshot(r io.Reader) (store.Snapshot, error) {
	var snap store.Snapshot
	data, err := io.ReadAll(io.LimitReader(r, maxSnapshotBytes+1))
	if err != nil {
		return snap, fmt.Errorf("reading the snapshot from stdin: %w", err)
	}
	if len(data) > maxSnapshotBytes {
		return snap, fmt.Errorf("the snapshot on stdin is larger than %d MiB", maxSnapshotBytes>>20)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return snap, fmt.Errorf("no snapshot on stdin: pipe in the output of `gatehouse store export`")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&snap); err != nil {
		return snap, fmt.Errorf("the snapshot on stdin is not valid: %s (expected the output of `gatehouse store export`)", describeJSONError(data, err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return snap, fmt.Errorf("the snapshot on stdin is not valid: data after the snapshot's closing brace at byte %d (expected a single JSON object)", dec.InputOffset())
	}
	return snap, nil
}

// describeJSONError adds the line of a syntax or type error to its message.
func describeJSONError(data []byte, err error) string {
	var offset int64 = -1
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		offset = syn.Offset
	case errors.As(err, &typ):
		offset = typ.Offset
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "it ends in the middle of the JSON (truncated?)"
	}
	if offset < 0 || offset > int64(len(data)) {
		return err.Error()
	}
	line := 1 + bytes.Count(data[:offset], []byte("\n"))
	return fmt.Sprintf("line %d: %v", line, err)
}

// importInto imports snap into s in one transaction, after checking that s
// is empty.
func importInto(s store.Store, snap store.Snapshot) error {
	ctx := context.Background()
	// The count names what the store holds; the transaction checks again,
	// since on a shared database (PostgreSQL) another process may write
	// in between (bbolt's file lock excludes that).
	st, err := s.Stats(ctx)
	if err != nil {
		return err
	}
	var has []string
	for _, c := range []struct {
		n    int
		what string
	}{
		{st.Users, "user(s)"},
		{st.Workspaces + st.DeletedWorkspaces, "workspace(s)"},
		{st.Memberships, "membership(s)"},
		{st.Roles, "custom role(s)"},
		{st.Invites, "invite(s)"},
		{st.APIKeys, "API key(s)"},
		{st.AuditEvents, "audit event(s)"},
		{st.SigningKeys, "signing key(s)"},
		{st.Organizations, "organization(s)"},
		{st.Projects, "project(s)"},
	} {
		if c.n > 0 {
			has = append(has, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	if len(has) > 0 {
		return errNotEmpty(strings.Join(has, ", "))
	}
	return s.Update(ctx, func(tx store.Tx) error {
		if err := stillEmpty(tx); err != nil {
			return err
		}
		if err := store.Import(tx, snap); err != nil {
			return err
		}
		return auditImport(tx, snap, time.Now().UTC())
	})
}

// auditImport records the import in each imported workspace's log: like
// every change made with the CLI, a restore from a snapshot is audited.
func auditImport(tx store.Tx, snap store.Snapshot, now time.Time) error {
	summary, err := json.Marshal(map[string]int{"users": len(snap.Users), "workspaces": len(snap.Workspaces),
		"memberships": len(snap.Memberships), "roles": len(snap.Roles), "invites": len(snap.Invites), "api_keys": len(snap.APIKeys), "audit_events": len(snap.Audit)})
	if err != nil {
		return err
	}
	for _, ws := range snap.Workspaces {
		_, err := tx.AppendAudit(store.AuditEvent{WorkspaceID: ws.ID, Actor: model.ActorCLI, Action: "store.import",
			Target: "workspace:" + ws.ID, Time: now, Summary: summary})
		if err != nil {
			return err
		}
	}
	return nil
}

// stillEmpty repeats the emptiness check inside the import's transaction.
// Every other record belongs to a workspace or an organization or names a
// user, so users, workspaces (deleted ones included), organizations
// (likewise), audit and signing keys cover them.
func stillEmpty(tx store.Tx) error {
	users, _, err := tx.Users("", 1)
	if err != nil {
		return err
	}
	orgs, _, err := tx.Organizations("", 1)
	if err != nil {
		return err
	}
	workspaces, _, err := tx.Workspaces("", 1)
	if err != nil {
		return err
	}
	audited, _, err := tx.AuditWorkspaces("", 1)
	if err != nil {
		return err
	}
	keys, err := tx.SigningKeys()
	if err != nil {
		return err
	}
	if len(users)+len(orgs)+len(workspaces)+len(audited)+len(keys) > 0 {
		return errNotEmpty("records written by another process since the import started")
	}
	return nil
}

func errNotEmpty(has string) error {
	return fmt.Errorf("import needs an empty store, and this one has %s: import into a new file (a bbolt path that does not exist yet) or an empty database", has)
}

// openExisting opens the --store read-only; it must exist (a read-only
// open would not create it, and "no such file" says more than bbolt does).
// The exit code goes with the error: 2 for a usage mistake, 1 otherwise.
func openExisting(fl caddycmd.Flags) (store.Store, int, error) {
	target := fl.String("store")
	if target == "" {
		return nil, 2, fmt.Errorf("--store is required")
	}
	if _, err := storeopen.Classify(target); err != nil {
		return nil, 2, err
	}
	s, err := storeopen.Open(context.Background(), target, storeopen.Options{Timeout: cliLockTimeout, ReadOnly: true, MustExist: true})
	if err != nil {
		return nil, 1, err
	}
	return s, 0, nil
}
