package caddymodule

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"go.uber.org/zap"

	"github.com/gatehouse-authz/gatehouse/internal/gateway"
	"github.com/gatehouse-authz/gatehouse/internal/model"
)

// OfflineConfig is what `gatehouse test` needs of an adapted Caddy config
// to decide requests without a server: the authorization model (catalog,
// system roles, global admins) and the rule table of every gatehouse
// directive.
type OfflineConfig struct {
	Model  *model.Model
	Tables []OfflineTable
}

// OfflineTable is one gatehouse directive's rules, in config order.
type OfflineTable struct {
	Rules     []gateway.RuleSpec
	Workspace gateway.WorkspaceSource
	// Organization is the handler's organization source (zero: none).
	Organization gateway.WorkspaceSource
}

// ReadOfflineConfig checks the gatehouse app of an adapted config (JSON)
// as Provision would and collects the gatehouse handlers it contains,
// wherever they are nested. It opens nothing.
func ReadOfflineConfig(config []byte) (*OfflineConfig, error) {
	app, apps, err := offlineApp(config)
	if err != nil {
		return nil, err
	}
	out := &OfflineConfig{Model: app.model}
	var walk func(v any) error
	walk = func(v any) error {
		switch v := v.(type) {
		case map[string]any:
			if v["handler"] == "gatehouse" {
				b, _ := json.Marshal(v)
				var h Handler
				if err := json.Unmarshal(b, &h); err != nil {
					return fmt.Errorf("decoding a gatehouse handler: %w", err)
				}
				src := h.sources()
				out.Tables = append(out.Tables, OfflineTable{Rules: h.ruleSpecs(), Workspace: src.Workspace, Organization: src.Organization})
				return nil
			}
			for _, k := range sortedMapKeys(v) {
				if err := walk(v[k]); err != nil {
					return err
				}
			}
		case []any:
			for _, e := range v {
				if err := walk(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	var http any
	if raw, ok := apps["http"]; ok {
		if err := json.Unmarshal(raw, &http); err != nil {
			return nil, fmt.Errorf("decoding the http app: %w", err)
		}
	}
	if err := walk(http); err != nil {
		return nil, err
	}
	if len(out.Tables) == 0 {
		return nil, errors.New("the config has no gatehouse directive: there is no rule table to test")
	}
	return out, nil
}

func sortedMapKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}

// offlineApp decodes the gatehouse app of an adapted config (JSON) and
// checks its catalog and roles as Provision would, opening nothing. It
// also returns the config's apps, undecoded.
func offlineApp(config []byte) (*App, map[string]json.RawMessage, error) {
	var cfg struct {
		Apps map[string]json.RawMessage `json:"apps"`
	}
	if err := json.Unmarshal(config, &cfg); err != nil {
		return nil, nil, fmt.Errorf("decoding the config: %w", err)
	}
	raw, ok := cfg.Apps["gatehouse"]
	if !ok {
		return nil, nil, errors.New("the config has no gatehouse app: add the gatehouse global option")
	}
	app := new(App)
	if err := json.Unmarshal(raw, app); err != nil {
		return nil, nil, fmt.Errorf("decoding the gatehouse app: %w", err)
	}
	app.logger = zap.NewNop()
	if err := app.provisionPolicy(); err != nil {
		return nil, nil, err
	}
	return app, cfg.Apps, nil
}
