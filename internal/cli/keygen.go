// Package cli holds Gatehouse's own commands (keygen, token, store). They
// register themselves with Caddy's command line when the package is
// imported, which the module root does, so a Caddy built with xcaddy has
// them as well as bin/gatehouse.
package cli

import (
	"fmt"
	"path/filepath"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/gatehouse-authz/gatehouse/internal/signing"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "keygen",
		Usage: "--dir <dir> [--force]",
		Short: "Creates a development signing key and its public JWK set",
		Long: `
Writes <dir>/signing.jwk, a private Ed25519 JWK with a key id, and
<dir>/jwks.json, the public JWK set to put in the jwks_file option of the
gatehouse global option. Existing files are kept unless --force is given.

For development and tests: production tokens come from your identity
provider.`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.Flags().String("dir", "", "Directory to write the key files into (required)")
			cmd.Flags().Bool("force", false, "Overwrite existing key files")
			cmd.RunE = caddycmd.WrapCommandFuncForCobra(cmdKeygen)
		},
	})
}

func cmdKeygen(fl caddycmd.Flags) (int, error) {
	dir := fl.String("dir")
	if dir == "" {
		return 2, fmt.Errorf("--dir is required")
	}
	if err := signing.Generate(dir, fl.Bool("force")); err != nil {
		return 1, err
	}
	fmt.Printf("wrote %s and %s\n", filepath.Join(dir, signing.SigningKeyFile), filepath.Join(dir, signing.JWKSFile))
	return 0, nil
}
