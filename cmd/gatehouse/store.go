package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/gatehouse-authz/gatehouse/admin"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
)

// cliLockTimeout: the store commands work offline; a store held by a
// running server must fail fast with a clear error, not hang.
const cliLockTimeout = 2 * time.Second

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "store",
		Usage: "bootstrap|stats --store <file> ...",
		Short: "Works offline on a Gatehouse store file",
		Long: `
Commands that open a Gatehouse bbolt store directly. They need the file to
be free: a store held by a running server gets an error, not a hang (change
a running server through its management API instead).`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.AddCommand(bootstrapCommand(), statsCommand())
		},
	})
}

func bootstrapCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "bootstrap --store <file> --workspace <name> --owner <sub> [--email <e>] [--role owner] [--slug <slug>] [--if-empty]",
		Short: "Creates a workspace with its first owner",
		RunE:  caddycmd.WrapCommandFuncForCobra(cmdBootstrap),
	}
	f := c.Flags()
	f.String("store", "", "Store file (required; created if missing)")
	f.String("workspace", "", "Workspace name (required)")
	f.String("slug", "", "Workspace slug (default: derived from the name)")
	f.String("owner", "", "User id (JWT subject) of the owner (required)")
	f.String("email", "", "Owner's email")
	f.StringArray("role", []string{"owner"}, "Role(s) of the owner: a system role that grants workspace.admin")
	f.Bool("if-empty", false, "Do nothing when the store already has a workspace")
	return c
}

func cmdBootstrap(fl caddycmd.Flags) (int, error) {
	path, name, owner := fl.String("store"), fl.String("workspace"), fl.String("owner")
	if path == "" || name == "" || owner == "" {
		return 2, fmt.Errorf("--store, --workspace and --owner are required")
	}
	roles, _ := fl.GetStringArray("role")
	s, err := boltstore.Open(path, boltstore.Options{Timeout: cliLockTimeout})
	if err != nil {
		return 1, err
	}
	defer s.Close()
	ctx := context.Background()
	if fl.Bool("if-empty") {
		stats, err := s.Stats(ctx)
		if err != nil {
			return 1, err
		}
		if stats.Workspaces > 0 {
			fmt.Printf("store %s already has %d workspace(s); nothing to do\n", path, stats.Workspaces)
			return 0, nil
		}
	}
	var ws store.Workspace
	err = s.Update(ctx, func(tx store.Tx) error {
		ws, err = admin.CreateWorkspace(tx, admin.NewWorkspace{
			Name:       name,
			Slug:       fl.String("slug"),
			Owner:      owner,
			OwnerEmail: fl.String("email"),
			OwnerRoles: roles,
		}, time.Now().UTC())
		return err
	})
	if errors.Is(err, store.ErrSlugTaken) {
		return 1, fmt.Errorf("slug %q is taken: choose another with --slug", fl.String("slug"))
	}
	if err != nil {
		return 1, err
	}
	fmt.Printf("created workspace %s (slug %s) with owner %s\n", ws.ID, ws.Slug, owner)
	return 0, nil
}

func statsCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "stats --store <file>",
		Short: "Prints record counts as JSON",
		RunE:  caddycmd.WrapCommandFuncForCobra(cmdStats),
	}
	c.Flags().String("store", "", "Store file (required)")
	return c
}

func cmdStats(fl caddycmd.Flags) (int, error) {
	path := fl.String("store")
	if path == "" {
		return 2, fmt.Errorf("--store is required")
	}
	if _, err := os.Stat(path); err != nil {
		return 1, fmt.Errorf("store %s: %w", path, err)
	}
	s, err := boltstore.Open(path, boltstore.Options{Timeout: cliLockTimeout, ReadOnly: true})
	if err != nil {
		return 1, err
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
