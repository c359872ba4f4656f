// Package pgtest runs a real, throwaway PostgreSQL server for tests: one
// server per test binary, started on first use from Debian's binaries
// (/usr/lib/postgresql/<newest>/bin), in a fresh temporary directory, on a
// free loopback port, with fsync on (durability is part of what the tests
// check). NewDatabase hands each test its own empty database.
//
// A package whose tests use it stops the server when its test binary ends:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// If the server cannot start, NewDatabase fails the test with the server's
// log: a missing PostgreSQL is an error, never a skip (`make test` installs
// Debian's postgresql package when it is missing).
//
// GATEHOUSE_PG_BIN, when set, names the directory of initdb and postgres
// instead.
//
// initdb and postgres refuse to run as root. Running as root (CI does), the
// data directory is owned by the `postgres` user and both programs run under
// its uid and gid (set on the child process directly, rather than through
// runuser, so that the server is this process's own child: it gets
// Pdeathsig and dies with the test binary even when TestMain never gets to
// Stop it, so nothing is left behind).
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// startTimeout bounds initdb plus the wait for the server to accept
// connections.
const startTimeout = 90 * time.Second

// Server is a running test server.
type Server struct {
	bin     string // directory of initdb, postgres
	dir     string // temporary root: data/, the socket, server.log
	port    int
	cred    *syscall.Credential // nil when not root
	uid     int
	gid     int
	logPath string

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has exited
	running bool
}

var (
	mu      sync.Mutex
	shared  *Server
	lastErr error
	dbSeq   atomic.Uint64
)

// Main runs the tests of m and then stops the shared server, if one was
// started, and exits with m's code.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop stops the shared server and removes its directory. It is safe to
// call when no server was started, and more than once.
func Stop() {
	mu.Lock()
	defer mu.Unlock()
	if shared != nil {
		shared.shutdown()
		_ = os.RemoveAll(shared.dir)
		shared = nil
	}
}

// Shared returns the test binary's server, starting it on first use; it
// fails t (with the server's log) if the server cannot start.
func Shared(t testing.TB) *Server {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	if shared != nil {
		return shared
	}
	if lastErr != nil {
		t.Fatalf("pgtest: the PostgreSQL test server could not start earlier: %v", lastErr)
	}
	s, err := start()
	if err != nil {
		lastErr = err
		t.Fatalf("pgtest: starting a PostgreSQL test server: %v", err)
	}
	shared = s
	return s
}

// NewDatabase creates a fresh, empty database on the shared server and
// returns its URL; the database is dropped when t ends (after the cleanups
// registered later, such as closing the store on it).
func NewDatabase(t testing.TB) string {
	t.Helper()
	s := Shared(t)
	name := fmt.Sprintf("gh_%d_%d", os.Getpid(), dbSeq.Add(1))
	if err := s.exec(context.Background(), "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("pgtest: creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// FORCE: a test that failed may have left a connection open.
		if err := s.exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Logf("pgtest: dropping database %s: %v", name, err)
		}
	})
	return s.URL(name)
}

// URL is the connection URL of database name on the server.
func (s *Server) URL(name string) string {
	u := url.URL{Scheme: "postgres", User: url.User("postgres"), Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)),
		Path: "/" + name, RawQuery: "sslmode=disable"}
	return u.String()
}

// Port is the server's loopback TCP port.
func (s *Server) Port() int { return s.port }

// Log returns the server's log so far.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

// TerminateListeners ends, with pg_terminate_backend, every connection to
// the database of dbURL whose latest statement is a LISTEN, and returns
// how many it ended.
func TerminateListeners(t testing.TB, dbURL string) int {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	db := strings.TrimPrefix(u.Path, "/")
	s := Shared(t)
	conn, err := pgx.Connect(context.Background(), s.URL("postgres"))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	defer conn.Close(context.Background())
	var n int
	err = conn.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))
		FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND query ILIKE 'listen %'`, db).Scan(&n)
	if err != nil {
		t.Fatalf("pgtest: terminating listeners: %v", err)
	}
	return n
}

// Restart stops the shared server (fast shutdown: connections are cut) and
// starts it again on the same port and data directory.
func Restart(t testing.TB) {
	t.Helper()
	s := Shared(t)
	s.shutdown()
	if err := s.run(); err != nil {
		t.Fatalf("pgtest: restarting the server: %v", err)
	}
}

// StopServer stops the shared server without removing its data, so that a
// test can see how clients behave while it is down; Restart brings it back.
func StopServer(t testing.TB) {
	t.Helper()
	Shared(t).shutdown()
}

// ---- starting and stopping

func binDir() (string, error) {
	if d := os.Getenv("GATEHOUSE_PG_BIN"); d != "" {
		return d, nil
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		return "", errors.New("no /usr/lib/postgresql/*/bin/initdb: install Debian's postgresql package (`make test` does)")
	}
	// The newest major version.
	sort.Slice(matches, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(matches[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(matches[j]))))
		return vi < vj
	})
	return filepath.Dir(matches[len(matches)-1]), nil
}

// dirPrefix names the servers' directories: the prefix, the pid of the
// test binary, a random suffix.
const dirPrefix = "gatehouse-pgtest-"

// removeStale removes the directories of test binaries that died without
// stopping their server (killed: their server died with them, through
// Pdeathsig, but the directory stays).
func removeStale() {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, m := range matches {
		rest := strings.TrimPrefix(filepath.Base(m), dirPrefix)
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			// Only once its server is gone too: postmaster.pid names it.
			if raw, err := os.ReadFile(filepath.Join(m, "data", "postmaster.pid")); err == nil {
				line, _, _ := strings.Cut(string(raw), "\n")
				if spid, err := strconv.Atoi(strings.TrimSpace(line)); err == nil && syscall.Kill(spid, 0) == nil {
					continue
				}
			}
			_ = os.RemoveAll(m)
		}
	}
}

func start() (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	removeStale()
	dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", dirPrefix, os.Getpid()))
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, dir: dir, logPath: filepath.Join(dir, "server.log"), uid: -1, gid: -1}
	fail := func(err error) (*Server, error) {
		log := s.Log()
		_ = os.RemoveAll(dir)
		if log != "" {
			return nil, fmt.Errorf("%w\n--- server log ---\n%s", err, log)
		}
		return nil, err
	}
	if os.Geteuid() == 0 {
		pg, err := user.Lookup("postgres")
		if err != nil {
			return fail(fmt.Errorf("running as root, and there is no postgres user to run the server as: %w", err))
		}
		s.uid, _ = strconv.Atoi(pg.Uid)
		s.gid, _ = strconv.Atoi(pg.Gid)
		s.cred = &syscall.Credential{Uid: uint32(s.uid), Gid: uint32(s.gid), Groups: []uint32{}}
		if err := os.Chown(dir, s.uid, s.gid); err != nil {
			return fail(err)
		}
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	// -N: initdb's own files need no fsync (a crash during initdb is a
	// failed test start); the server below runs with fsync on.
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"),
		"-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "-N")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %v\n%s", err, out))
	}
	// A free port: the kernel's choice for a listener we close at once.
	// Another process could take it before the server binds; retry then.
	for attempt := 0; ; attempt++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fail(err)
		}
		s.port = l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		err = s.run()
		if err == nil {
			return s, nil
		}
		if attempt == 2 || !strings.Contains(s.Log(), "could not bind") {
			return fail(err)
		}
	}
}

// run starts the server on s.port and waits until it accepts connections.
func (s *Server) run() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	logf, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if s.cred != nil {
		_ = logf.Chown(s.uid, s.gid)
	}
	cmd := exec.Command(filepath.Join(s.bin, "postgres"), "-D", filepath.Join(s.dir, "data"),
		"-p", strconv.Itoa(s.port), "-k", s.dir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=on", "-c", "synchronous_commit=on",
		"-c", "max_connections=200",
		"-c", "logging_collector=off")
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: s.cred,
		// Fast shutdown when this process dies without calling Stop.
		Pdeathsig: syscall.SIGINT,
		Setpgid:   true,
	}
	exited := make(chan struct{})
	started := make(chan error, 1)
	// Pdeathsig fires when the THREAD that forked the child exits, and Go
	// may retire threads: start and wait on a goroutine locked to its
	// thread, which lives exactly as long as the server.
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			close(exited)
			return
		}
		started <- nil
		_ = cmd.Wait()
		_ = logf.Close()
		close(exited)
	}()
	if err := <-started; err != nil {
		_ = logf.Close()
		return fmt.Errorf("starting postgres: %w", err)
	}
	s.cmd, s.exited, s.running = cmd, exited, true

	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-exited:
			s.running = false
			return fmt.Errorf("postgres exited during startup (%v)\n--- server log ---\n%s", cmd.ProcessState, s.Log())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, s.URL("postgres"))
		if err == nil {
			_ = conn.Close(ctx)
			cancel()
			return nil
		}
		cancel()
		if time.Now().After(deadline) {
			s.shutdownLocked()
			return fmt.Errorf("postgres did not accept connections within %v: %v\n--- server log ---\n%s", startTimeout, err, s.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// shutdown stops the server with a fast shutdown (SIGINT) and waits for
// it; after 30 s it kills the process group.
func (s *Server) shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shutdownLocked()
}

func (s *Server) shutdownLocked() {
	if !s.running {
		return
	}
	s.running = false
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
	}
}

// exec runs one statement as the superuser on the maintenance database.
func (s *Server) exec(ctx context.Context, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}
