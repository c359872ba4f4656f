package cli

import (
	"errors"
	"fmt"
	"os"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/gatehouse-authz/gatehouse/caddymodule"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "test",
		Usage: "FILE... [--config Caddyfile] [--adapter name] [--junit out.xml]",
		Short: "Runs YAML authorization test cases against a config's rule tables, offline",
		Long: `
Runs the requests of each YAML test file (fixture workspaces, members,
custom roles and API keys; requests with the expected status, code and
reason) against the rule tables of the config's gatehouse directives. The
config is adapted in process; the fixtures go into a temporary store; no
server is started and nothing touches the network. Each request is decided
by the gateway's own evaluator.

Exit status: 0 when every request gets what it expects, 1 on any failure,
2 on a bad test file or config (with file:line). See README "gatehouse test".`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.Flags().String("config", "Caddyfile", "The config whose rule tables to test (Caddyfile or JSON)")
			cmd.Flags().String("adapter", "", "Name of the config adapter (default: by file name, as caddy run)")
			cmd.Flags().String("junit", "", "Also write a JUnit XML report to this file")
			cmd.RunE = caddycmd.WrapCommandFuncForCobra(cmdTest)
		},
	})
}

func cmdTest(fl caddycmd.Flags) (int, error) {
	files := fl.Args()
	if len(files) == 0 {
		return 2, errors.New("give at least one test file")
	}
	raw, _, _, err := caddycmd.LoadConfig(fl.String("config"), fl.String("adapter"))
	if err != nil {
		return 2, fmt.Errorf("--config %s: %w", fl.String("config"), err)
	}
	cfg, err := caddymodule.ReadOfflineConfig(raw)
	if err != nil {
		return 2, fmt.Errorf("--config %s: %w", fl.String("config"), err)
	}
	var report []suiteReport
	failed, total := 0, 0
	for _, file := range files {
		s, err := loadSuite(file)
		if err != nil {
			return 2, err
		}
		results, err := runSuite(file, s, cfg)
		if err != nil {
			var fe *fileError
			if errors.As(err, &fe) {
				return 2, err
			}
			return 1, fmt.Errorf("%s: %w", file, err)
		}
		report = append(report, suiteReport{file: file, results: results})
		for _, r := range results {
			total++
			if r.failure != "" {
				failed++
				fmt.Fprintln(os.Stderr, "FAIL "+r.failure)
			}
		}
	}
	if out := fl.String("junit"); out != "" {
		if err := writeJUnit(out, report); err != nil {
			return 1, fmt.Errorf("--junit: %w", err)
		}
	}
	fmt.Printf("%d requests, %d passed, %d failed\n", total, total-failed, failed)
	if failed > 0 {
		return 1, errFailed
	}
	return 0, nil
}
