package cli

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// suite is one `gatehouse test` file (README "gatehouse test").
type suite struct {
	Workspaces []suiteWorkspace `yaml:"workspaces"`
	Requests   []suiteRequest   `yaml:"requests"`
}

type suiteWorkspace struct {
	Slug string `yaml:"slug"`
	// Deleted makes the workspace soft-deleted.
	Deleted bool          `yaml:"deleted"`
	Roles   []suiteRole   `yaml:"roles"`
	Members []suiteMember `yaml:"members"`
	APIKeys []suiteKey    `yaml:"api_keys"`
}

type suiteRole struct {
	Slug        string   `yaml:"slug"`
	Permissions []string `yaml:"permissions"`
}

type suiteMember struct {
	User         string              `yaml:"user"`
	Roles        []string            `yaml:"roles"`
	Grants       []string            `yaml:"grants"`
	Denies       []string            `yaml:"denies"`
	Restrictions map[string][]string `yaml:"restrictions"`
}

type suiteKey struct {
	// Name identifies the key in requests (api_key: <name>), unique in
	// the file.
	Name         string              `yaml:"name"`
	Permissions  []string            `yaml:"permissions"`
	Restrictions map[string][]string `yaml:"restrictions"`
	Revoked      bool                `yaml:"revoked"`
	Expired      bool                `yaml:"expired"`
}

type suiteRequest struct {
	Name   string `yaml:"name"`
	Method string `yaml:"method"`
	Path   string `yaml:"path"`
	// User is the JWT subject of the caller, APIKey a key's name; neither
	// sends no credentials.
	User   string      `yaml:"user"`
	APIKey string      `yaml:"api_key"`
	Expect suiteExpect `yaml:"expect"`
	line   int
}

type suiteExpect struct {
	Status int    `yaml:"status"`
	Code   string `yaml:"code"`
	Reason string `yaml:"reason"`
}

// fileError is a bad test file: exit status 2, with file:line.
type fileError struct{ msg string }

func (e *fileError) Error() string { return e.msg }

func badFile(file string, line int, format string, args ...any) error {
	where := file
	if line > 0 {
		where += ":" + strconv.Itoa(line)
	}
	return &fileError{where + ": " + fmt.Sprintf(format, args...)}
}

var yamlLine = regexp.MustCompile(`line (\d+): (.*)`)

// loadSuite reads and checks file; every error is a *fileError.
func loadSuite(file string) (*suite, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, &fileError{err.Error()}
	}
	var s suite
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			n, _ := strconv.Atoi(m[1])
			return nil, badFile(file, n, "%s", m[2])
		}
		return nil, badFile(file, 0, "%v", err)
	}
	// The lines of the requests, for messages.
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err == nil && len(root.Content) == 1 {
		doc := root.Content[0]
		for i := 0; i+1 < len(doc.Content); i += 2 {
			if doc.Content[i].Value == "requests" {
				for j, item := range doc.Content[i+1].Content {
					if j < len(s.Requests) {
						s.Requests[j].line = item.Line
					}
				}
			}
		}
	}
	if len(s.Requests) == 0 {
		return nil, badFile(file, 0, "no requests: a test file lists requests with what to expect")
	}
	slugs, users, keys := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, ws := range s.Workspaces {
		if ws.Slug == "" || slugs[ws.Slug] {
			return nil, badFile(file, 0, "workspace slug %q: empty or given twice", ws.Slug)
		}
		slugs[ws.Slug] = true
		for _, m := range ws.Members {
			if m.User == "" {
				return nil, badFile(file, 0, "workspace %s: a member without user", ws.Slug)
			}
			users[m.User] = true
		}
		for _, k := range ws.APIKeys {
			if k.Name == "" || keys[k.Name] {
				return nil, badFile(file, 0, "workspace %s: API key name %q empty or given twice", ws.Slug, k.Name)
			}
			keys[k.Name] = true
		}
	}
	for _, r := range s.Requests {
		switch {
		case r.Method == "" || r.Path == "":
			return nil, badFile(file, r.line, "a request needs method and path")
		case r.User != "" && r.APIKey != "":
			return nil, badFile(file, r.line, "give user or api_key, not both")
		case r.APIKey != "" && !keys[r.APIKey]:
			return nil, badFile(file, r.line, "api_key %q: no workspace of the file declares it", r.APIKey)
		case r.Expect.Status < 100 || r.Expect.Status > 599:
			return nil, badFile(file, r.line, "expect.status is required (200 for allowed, else the denial's status)")
		}
	}
	return &s, nil
}

var errFailed = errors.New("test failures")
