package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"

	"github.com/gatehouse-authz/gatehouse/internal/signing"
	"github.com/gatehouse-authz/gatehouse/internal/store"
	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore"
	"github.com/gatehouse-authz/gatehouse/internal/store/pgstore/pgtest"
)

// The cluster harness: one PostgreSQL (pgtest), one workspace bootstrapped
// with the real CLI, and N gateway processes of the real binary, each with
// its own Caddyfile, sharing the database, in front of one real upstream
// on loopback. Everything it starts is stopped by t.Cleanup, failing test
// or not: each gateway runs in its own process group, killed as a group.

// clusterMaxStaleness is the replicas' max_staleness: short, so that the
// stale-replica tests stay quick, and long enough that a 2-core machine
// under the race detector never trips it in normal operation.
const clusterMaxStaleness = 500 * time.Millisecond

const clusterCaddyfile = `{
	admin off
	auto_https off
	persist_config off
	gatehouse {
		store {{store}}
		jwt {
			jwks_file {{dir}}/jwks.json
		}
		permission workspace.admin implies *
		permission message.read
		permission message.send implies message.read
		role owner  "Owner"  workspace.admin
		role member "Member" message.read
	}
}
http://127.0.0.1:{{port}} {
	bind 127.0.0.1
	handle_path /gatehouse/* {
		gatehouse_api
	}
	handle {
		gatehouse {
			workspace param workspace
			rule GET  /healthz                public
			rule GET  /w/{workspace}          member
			rule GET  /w/{workspace}/messages message.read
			rule POST /w/{workspace}/messages message.send
		}
		reverse_proxy {{upstream}}
	}
}
`

// postgresStoreDirective is the store line of a PostgreSQL replica; the
// URL comes from the environment, as the README recommends.
var postgresStoreDirective = fmt.Sprintf("postgres {env.GATEHOUSE_DATABASE_URL} {\n\t\t\tmax_staleness %s\n\t\t\tconsistency_wait 50ms\n\t\t}", clusterMaxStaleness)

// replica is one gateway process.
type replica struct {
	t       testing.TB
	name    string
	port    int
	cfgPath string
	env     []string
	cmd     *exec.Cmd
	logs    *syncBuffer
	exited  chan struct{}
}

// cluster is a workspace "acme" (owner alice) on one store and the
// replicas serving it.
type cluster struct {
	t        testing.TB
	dir      string
	dbURL    string // "" for a bbolt cluster
	key      jwk.Key
	replicas []*replica
	client   *http.Client

	pgStore store.Store

	tokMu  sync.Mutex
	tokens map[string]string
}

// newCluster bootstraps a fresh PostgreSQL database and starts n replicas
// on it.
func newCluster(t testing.TB, n int) *cluster {
	t.Helper()
	dbURL := pgtest.NewDatabase(t)
	c := newClusterDir(t)
	c.dbURL = dbURL
	c.bootstrap(dbURL)
	for i := range n {
		c.start(fmt.Sprintf("replica%d", i+1), postgresStoreDirective)
	}
	return c
}

// newClusterDir makes the signing keys and the upstream, starting nothing.
func newClusterDir(t testing.TB) *cluster {
	t.Helper()
	dir := t.TempDir()
	if err := signing.Generate(dir, false); err != nil {
		t.Fatal(err)
	}
	key, err := signing.LoadSigningKey(filepath.Join(dir, signing.SigningKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	c := &cluster{t: t, dir: dir, key: key, tokens: map[string]string{},
		client: &http.Client{Timeout: 10 * time.Second, Transport: tr}}
	t.Cleanup(tr.CloseIdleConnections)
	return c
}

// bootstrap creates workspace acme with owner alice through the CLI.
func (c *cluster) bootstrap(storeArg string) {
	c.t.Helper()
	if _, stderr, ok := runTB(c.t, "store", "bootstrap", "--store", storeArg, "--workspace", "Acme", "--slug", "acme", "--owner", "alice"); !ok {
		c.t.Fatalf("bootstrap: %s", stderr)
	}
}

// upstream is the real upstream every replica proxies to: it answers 200
// "upstream" to anything.
var (
	upstreamOnce sync.Once
	upstreamAddr string
)

func sharedUpstream() string {
	upstreamOnce.Do(func() {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			_, _ = io.WriteString(w, "upstream")
		}))
		upstreamAddr = srv.Listener.Addr().String()
	})
	return upstreamAddr
}

// start writes a Caddyfile with the given store directive and starts a
// replica on it, waiting until it answers.
func (c *cluster) start(name, storeDirective string) *replica {
	c.t.Helper()
	port := freePortTB(c.t)
	cfg := strings.NewReplacer("{{store}}", storeDirective, "{{dir}}", c.dir,
		"{{port}}", fmt.Sprint(port), "{{upstream}}", sharedUpstream()).Replace(clusterCaddyfile)
	cfgPath := filepath.Join(c.dir, name+".Caddyfile")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		c.t.Fatal(err)
	}
	home := filepath.Join(c.dir, name)
	r := &replica{t: c.t, name: name, port: port, cfgPath: cfgPath,
		env: append(os.Environ(), "XDG_DATA_HOME="+home, "XDG_CONFIG_HOME="+home, "GATEHOUSE_DATABASE_URL="+c.dbURL)}
	r.run()
	c.replicas = append(c.replicas, r)
	return r
}

func (r *replica) run() {
	r.t.Helper()
	cmd := exec.Command(binary, "run", "--config", r.cfgPath, "--adapter", "caddyfile")
	cmd.Env = r.env
	r.logs = &syncBuffer{}
	cmd.Stdout, cmd.Stderr = r.logs, r.logs
	// Its own process group, and SIGKILL should this test binary die
	// first: nothing outlives the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("starting %s: %v", r.name, err)
	}
	r.cmd = cmd
	r.exited = make(chan struct{})
	go func() { _ = cmd.Wait(); close(r.exited) }()
	r.t.Cleanup(r.kill)
	r.waitReady()
}

// waitReady waits until the public rule answers 200 through the replica.
func (r *replica) waitReady() {
	r.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-r.exited:
			r.t.Fatalf("%s exited during startup:\n%s", r.name, r.logs.String())
		default:
		}
		resp, err := client.Get(r.url("/healthz"))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatalf("%s did not become ready:\n%s", r.name, r.logs.String())
}

// kill SIGKILLs the replica's process group and waits for it; a SIGSTOP'd
// process dies too. Safe to call more than once.
func (r *replica) kill() {
	if r.cmd == nil || r.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		r.t.Errorf("%s did not exit after SIGKILL", r.name)
	}
}

func (r *replica) url(path string) string { return fmt.Sprintf("http://127.0.0.1:%d%s", r.port, path) }

// token is a signed bearer token for user (cached: signing is not free).
func (c *cluster) token(user string) string {
	c.tokMu.Lock()
	defer c.tokMu.Unlock()
	if tok, ok := c.tokens[user]; ok {
		return tok
	}
	tok, err := signing.Sign(c.key, signing.TokenSpec{Subject: user})
	if err != nil {
		c.t.Fatal(err)
	}
	c.tokens[user] = tok
	return tok
}

// answer is what a request got.
type answer struct {
	status     int
	revision   string // Gatehouse-Revision
	retryAfter string
	body       string
}

// do sends one request as user ("" for none) with optional headers; a
// transport error is reported as status 0.
func (c *cluster) do(r *replica, method, path, user string, body any, hdr ...string) answer {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, r.url(path), rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if user != "" {
		req.Header.Set("Authorization", "Bearer "+c.token(user))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return answer{body: err.Error()}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, revision: resp.Header.Get("Gatehouse-Revision"),
		retryAfter: resp.Header.Get("Retry-After"), body: string(b)}
}

// putMember makes user a member of acme with roles, as actor, on r.
func (c *cluster) putMember(r *replica, actor, user string, roles ...string) answer {
	return c.do(r, "PUT", "/gatehouse/v1/workspaces/acme/members/"+user, actor, map[string]any{"roles": roles})
}

func (c *cluster) mustPutMember(r *replica, actor, user string, roles ...string) answer {
	c.t.Helper()
	a := c.putMember(r, actor, user, roles...)
	if a.status != http.StatusOK && a.status != http.StatusCreated {
		c.t.Fatalf("PUT member %s on %s: %d %s", user, r.name, a.status, a.body)
	}
	return a
}

func (c *cluster) deleteMember(r *replica, actor, user string) answer {
	return c.do(r, "DELETE", "/gatehouse/v1/workspaces/acme/members/"+user, actor, nil)
}

// read is the member rule's answer for user on r.
func (c *cluster) read(r *replica, user string, hdr ...string) answer {
	return c.do(r, "GET", "/w/acme/messages", user, nil, hdr...)
}

// statusRevoked stands for the answers to a user who is not (or no
// longer) a member: 404 workspace_not_found (a non-member does not learn
// that the workspace exists) or 403.
const statusRevoked = -1

func matches(status, want int) bool {
	if want == statusRevoked {
		return status == http.StatusNotFound || status == http.StatusForbidden
	}
	return status == want
}

// waitStatus polls r every ~1 ms until user's read answers want, and
// returns how long that took; ok is false after limit.
func (c *cluster) waitStatus(r *replica, user string, want int, limit time.Duration) (time.Duration, bool) {
	start := time.Now()
	for {
		if matches(c.read(r, user).status, want) {
			return time.Since(start), true
		}
		if time.Since(start) > limit {
			return time.Since(start), false
		}
		time.Sleep(time.Millisecond)
	}
}

// logs returns every replica's log, for failure messages.
func (c *cluster) logs() string {
	var b strings.Builder
	for _, r := range c.replicas {
		fmt.Fprintf(&b, "--- %s ---\n%s\n", r.name, tail(r.logs.String(), 4000))
	}
	return b.String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// percentiles of d (sorted in place): p50, p99, max.
func percentiles(d []time.Duration) (p50, p99, maxD time.Duration) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	at := func(q float64) time.Duration {
		i := int(q*float64(len(d))+0.999999) - 1
		if i < 0 {
			i = 0
		}
		if i >= len(d) {
			i = len(d) - 1
		}
		return d[i]
	}
	return at(0.50), at(0.99), d[len(d)-1]
}

// runTB is run for a testing.TB (benchmarks use the harness too).
func runTB(t testing.TB, args ...string) (stdout, stderr string, ok bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("gatehouse %s: hung", strings.Join(args, " "))
	}
	return out.String(), errOut.String(), err == nil
}

func freePortTB(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// pg is a store on the cluster's database, for seeding and reading back
// (opened on first use, closed by t.Cleanup).
func (c *cluster) pg() store.Store {
	c.t.Helper()
	if c.pgStore == nil {
		s, err := pgstore.Open(context.Background(), c.dbURL, pgstore.Options{})
		if err != nil {
			c.t.Fatal(err)
		}
		c.pgStore = s
		c.t.Cleanup(func() { s.Close() })
	}
	return c.pgStore
}

// seedMembers makes users members of acme with roles, in one transaction
// on s: the management API only adds users who already share a
// workspace with the actor (others are invited by email), and an invite
// round trip per user would make the fixtures slow.
func seedMembers(t testing.TB, s store.Store, roles []string, users ...string) {
	t.Helper()
	now := time.Now().UTC()
	err := s.Update(context.Background(), func(tx store.Tx) error {
		ws, err := tx.WorkspaceBySlug("acme")
		if err != nil {
			return err
		}
		for _, u := range users {
			if err := tx.PutUser(store.User{ID: u, FirstSeen: now, LastSeen: now}); err != nil {
				return err
			}
			if err := tx.PutMember(store.Membership{WorkspaceID: ws.ID, UserID: u, Roles: roles, JoinedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("seeding members: %v", err)
	}
}
