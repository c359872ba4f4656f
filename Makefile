# Gatehouse — the two commands a new machine needs are `make run` and `make test`.

export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)
GO      ?= go
BIN     := bin/gatehouse
PKGS    := ./...
# Fuzz targets run briefly in `make test`, with an execution count rather
# than a duration: Go 1.26's fuzz coordinator can report a spurious
# "context deadline exceeded" when a -fuzztime duration expires
# (golang/go#75804). Run longer by hand: make fuzz FUZZTIME=20000000x
FUZZTIME ?= 100000x
FUZZ_TARGETS := \
	./internal/canonpath:FuzzCheck \
	./internal/canonpath:FuzzCheckPlain \
	./internal/route:FuzzMatch \
	./internal/gateway:FuzzQueryWorkspace \
	./internal/authz:FuzzMatch \
	./internal/authz:FuzzValidateName \
	./internal/authn:FuzzVerify \
	./internal/apikey:FuzzParse \
	./internal/store/boltstore:FuzzFastDecode \
	./internal/store:FuzzParseToken \
	./caddymodule:FuzzHandlerCaddyfile@5000x \
	./caddymodule:FuzzOrgPlanCaddyfile@5000x

.PHONY: all deps build run test unit cluster xcaddy fuzz smoke bench lint clean pg-bin chromium-bin

all: build

deps:
	$(GO) mod download

build: deps
	@echo "compiling Caddy and Gatehouse; the first build takes a few minutes"
	$(GO) build -v -trimpath -o $(BIN) ./cmd/gatehouse

# The demo: dev keys, a demo workspace, two curl commands, the gateway.
run: build
	./scripts/demo.sh

# Everything CI checks: formatting, vet, unit and integration tests with the
# race detector (benchmarks are compiled, not run), fuzzing briefly, and the
# end-to-end demo smoke test of the built binary.
test: deps lint unit cluster fuzz smoke

# A Caddy built like xcaddy does (only the module root imported) has the
# Gatehouse modules and commands. `unit` (so `make test`) runs it too.
xcaddy:
	$(GO) test -count=1 -run '^TestXcaddyStyleBuild$$' .

unit: pg-bin chromium-bin
	$(GO) test -race -count=1 -timeout 15m -skip '^TestCluster' $(PKGS)

# Three gateway processes on one PostgreSQL (README "Running several
# gateways"). They run on their own, after the other packages and without
# the race detector in the test process (the gateways are the built binary
# either way), because they measure a bound: revocation seen by every
# replica within 100 ms (p99), which CPU contention from other packages'
# tests on a small machine would measure instead.
cluster: pg-bin
	$(GO) test -count=1 -timeout 10m -run '^TestCluster' ./cmd/gatehouse

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; time=$(FUZZTIME); \
		case $$name in *@*) time=$${name#*@}; name=$${name%@*};; esac; \
		echo "fuzz $$pkg $$name ($$time)"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $$time $$pkg; \
	done

smoke: build
	./scripts/smoke.sh

# Go benchmarks (among them the PostgreSQL cache miss at 1M memberships and
# the three-replica cluster's admin writes and revoke propagation), then the
# load test of the built binary on bbolt and on PostgreSQL (bench/README.md;
# knobs: DURATION, CONNS, THREADS, ROUNDS).
bench: build pg-bin
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)
	GO="$(GO)" ./bench/load.sh
	STORE=postgres GO="$(GO)" ./bench/load.sh

# The PostgreSQL store's tests run their own throwaway server from Debian's
# binaries (internal/store/pgstore/pgtest). Install them when missing, once,
# non-interactively, and without the system cluster: postgresql-common goes
# first and is told not to create (so never to start) a main cluster.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
pg-bin:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "installing Debian's postgresql (binaries only) for the PostgreSQL store tests"; \
		set -e; \
		$(SUDO) apt-get update; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-common; \
		echo 'create_main_cluster = false' | $(SUDO) tee -a /etc/postgresql-common/createcluster.conf >/dev/null; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql; \
	fi

# The console's browser tests (caddymodule/console_browser_test.go) drive
# Debian's chromium through chromedp; they fail, never skip, without it.
chromium-bin:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing Debian's chromium for the console's browser tests"; \
		set -e; \
		$(SUDO) apt-get update; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; \
	fi

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

clean:
	rm -rf bin
