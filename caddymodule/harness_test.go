package caddymodule

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	_ "github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/gatehouse-authz/gatehouse/internal/signing"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/boltstore"
	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore/pgtest"
)

func TestMain(m *testing.M) {
	// Caddy keeps data and autosaved config under these; keep tests out
	// of the developer's home.
	tmp, err := os.MkdirTemp("", "gatehouse-caddy-test")
	if err != nil {
		panic(err)
	}
	os.Setenv("XDG_DATA_HOME", filepath.Join(tmp, "data"))
	os.Setenv("XDG_CONFIG_HOME", filepath.Join(tmp, "config"))
	code := m.Run()
	pgtest.Stop() // the PostgreSQL of the replica tests, if one started
	os.RemoveAll(tmp)
	os.Exit(code)
}

// server is a real Caddy, serving a Caddyfile on a loopback port, in front
// of a real upstream that records what it receives.
type server struct {
	t        *testing.T
	dir      string
	key      jwk.Key
	port     int
	upstream *recordingUpstream
	client   *http.Client
}

func newServer(t *testing.T) *server {
	t.Helper()
	dir := t.TempDir()
	if err := signing.Generate(dir, false); err != nil {
		t.Fatal(err)
	}
	key, err := signing.LoadSigningKey(filepath.Join(dir, signing.SigningKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, dir: dir, key: key, port: freePort(t), upstream: newRecordingUpstream(t),
		client: &http.Client{Timeout: 10 * time.Second}}
	t.Cleanup(func() {
		if err := caddy.Stop(); err != nil {
			t.Errorf("stopping caddy: %v", err)
		}
	})
	return s
}

// storePath is the bbolt file every test config uses.
func (s *server) storePath() string { return filepath.Join(s.dir, "gatehouse.db") }

// expand fills the template variables of a test Caddyfile.
func (s *server) expand(caddyfile string) string {
	return strings.NewReplacer(
		"{{dir}}", s.dir,
		"{{port}}", fmt.Sprint(s.port),
		"{{upstream}}", s.upstream.addr(),
	).Replace(caddyfile)
}

// adapt turns a Caddyfile into JSON config.
func adapt(t *testing.T, caddyfile string) []byte {
	t.Helper()
	cfg, warnings, err := caddyconfig.GetAdapter("caddyfile").Adapt([]byte(caddyfile), map[string]any{"filename": "Caddyfile"})
	if err != nil {
		t.Fatalf("adapting Caddyfile: %v", err)
	}
	for _, w := range warnings {
		t.Logf("adapt warning: %s", w)
	}
	return cfg
}

// load (re)loads the config and waits until the gateway answers.
func (s *server) load(caddyfile string) {
	s.t.Helper()
	if err := s.tryLoad(caddyfile); err != nil {
		s.t.Fatalf("loading config: %v", err)
	}
	// A reload shuts the old servers down, closing their idle keep-alive
	// connections: a request sent on one of them as it closes fails with
	// EOF (net/http does not retry a POST). Start fresh.
	s.client.CloseIdleConnections()
	s.waitUp()
}

func (s *server) tryLoad(caddyfile string) error {
	return caddy.Load(adapt(s.t, s.expand(caddyfile)), true)
}

func (s *server) waitUp() {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", s.addr(), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("gateway did not come up on %s", s.addr())
}

func (s *server) addr() string { return fmt.Sprintf("127.0.0.1:%d", s.port) }

func (s *server) url(path string) string { return "http://" + s.addr() + path }

func (s *server) token(sub string) string {
	s.t.Helper()
	tok, err := signing.Sign(s.key, signing.TokenSpec{Subject: sub, Email: sub + "@example.com"})
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

// do sends a request; headers are name, value pairs.
func (s *server) do(method, path, token string, headers ...string) *response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.url(path), nil)
	if err != nil {
		s.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return &response{Response: resp, body: body}
}

// raw sends bytes as they are (for paths an HTTP client would clean up).
func (s *server) raw(request string) *response {
	s.t.Helper()
	conn, err := net.Dial("tcp", s.addr())
	if err != nil {
		s.t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, request); err != nil {
		s.t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return &response{Response: resp, body: body}
}

type response struct {
	*http.Response
	body []byte
}

// problem decodes a problem+json body.
func (r *response) problem(t *testing.T) map[string]any {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json; body %s", ct, r.body)
	}
	var p map[string]any
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("problem body %q: %v", r.body, err)
	}
	return p
}

// recordingUpstream is the real backend behind the gateway.
type recordingUpstream struct {
	srv  *httptest.Server
	mu   sync.Mutex
	last http.Header
	// lastTrailer holds the trailers of the last request, read after its
	// body; lastBody the body.
	lastTrailer http.Header
	lastBody    string
	hits        int
}

func newRecordingUpstream(t *testing.T) *recordingUpstream {
	u := &recordingUpstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body) // trailers arrive after the body
		u.mu.Lock()
		u.last = r.Header.Clone()
		u.lastTrailer = r.Trailer.Clone()
		u.lastBody = string(body)
		u.hits++
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"path": r.URL.Path, "raw_path": r.URL.RawPath})
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *recordingUpstream) addr() string { return strings.TrimPrefix(u.srv.URL, "http://") }

// received returns the headers of the last request and the hit count.
func (u *recordingUpstream) received() (http.Header, int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last, u.hits
}

// receivedTrailers returns the trailers and body of the last request.
func (u *recordingUpstream) receivedTrailers() (http.Header, string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.lastTrailer, u.lastBody
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// seed writes records into a store file no server holds.
func seed(t *testing.T, path string, fn func(tx store.Tx) error) {
	t.Helper()
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// pooledStore returns the store a running config holds.
func pooledStore(t *testing.T, path string) store.Store {
	t.Helper()
	abs, _ := filepath.Abs(path)
	var found store.Store
	storePool.Range(func(key, value any) bool {
		if key == abs {
			// The open database itself, so a test can close it.
			if db := value.(*sharedStore).load(); db != nil {
				found = db
			}
		}
		return true
	})
	if found == nil {
		t.Fatalf("no pooled store for %s", abs)
	}
	return found
}
