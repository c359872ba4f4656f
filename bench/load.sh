#!/usr/bin/env bash
# Load test of the built binary (second half of `make bench`): plain Caddy
# reverse_proxy vs gatehouse + reverse_proxy, side by side (spec §9: with a
# warm cache, gatehouse keeps >= 85% of plain reverse_proxy's req/s).
#
#   a  reverse_proxy                          -> upstream
#   b  gatehouse (20 rules) + reverse_proxy   -> upstream, driven with one repeated token
#   c  the same config as b                   -> upstream, driven with 10,000 users' tokens
#   d  the config of b with `assertion on`    -> upstream-d, driven with one repeated token
#      (spec §9: d keeps >= 95% of plain reverse_proxy's req/s; upstream-d is
#      the upstream but answers 500 to a request without X-Gatehouse-Assertion)
#
# Everything runs on 127.0.0.1 from a temp dir that is removed at exit, with
# every process this script started. Results: bench/results/latest.md (the
# table) and bench/results/cpu-b.pprof, cpu-d.pprof (CPU profiles of b and d
# under load).
#
# Knobs (environment): DURATION (15s) CONNS (32) THREADS (2) ROUNDS (3)
# WARMUP (3s) USERS (10000) PROFILE_SECONDS (10) BASE_PORT (18400)
# STORE (bolt). STORE=postgres runs b, c and d on one PostgreSQL database
# instead (a throwaway server from Debian's binaries, started and removed
# by this script; the fixture moved there with `gatehouse store export |
# gatehouse store import`): three gateways sharing the database, as in
# production; results in bench/results/latest-postgres.md (target b/a >=
# 0.97, issue 13).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-15s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-3}
WARMUP=${WARMUP:-3s}
USERS=${USERS:-10000}
PROFILE_SECONDS=${PROFILE_SECONDS:-10}
BASE_PORT=${BASE_PORT:-18400}
GO=${GO:-go}
STORE=${STORE:-bolt}
TARGET=0.85   # spec §9: b/a >= 0.85
TARGET_D=0.95 # spec §9: with assertion on, d/a >= 0.95

bin=./bin/gatehouse
results=bench/results
lua=bench/tokens.lua
path=/w/bench/messages
iss=https://bench.gatehouse.local/
aud=gatehouse-bench

log() { printf 'load: %s\n' "$*" >&2; }
die() {
	printf '\nload: ************************************************************\n' >&2
	printf 'load: FAILED: %s\n' "$*" >&2
	printf 'load: ************************************************************\n\n' >&2
	exit 1
}

case $STORE in
bolt) suffix= ;;
postgres) suffix=-postgres TARGET=0.97 ;; # issue 13: >= 0.97 with the PostgreSQL store
*) die "STORE must be bolt or postgres, got '$STORE'" ;;
esac
for v in CONNS THREADS ROUNDS USERS PROFILE_SECONDS BASE_PORT; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done
[ "$USERS" -ge 2 ] || die "USERS must be at least 2"
for v in DURATION WARMUP; do
	[[ ${!v} =~ ^[1-9][0-9]*[smh]?$ ]] || die "$v must be a wrk duration such as 15s, got '${!v}'"
done
[ -x "$bin" ] || die "$bin not found: run 'make build' first (or 'make bench')"
if ! command -v "$GO" >/dev/null && [ -x /usr/local/go/bin/go ]; then
	PATH=/usr/local/go/bin:$PATH
fi
command -v "$GO" >/dev/null || die "go not found (set GO=/path/to/go)"
command -v curl >/dev/null || die "curl not found"

# 1. wrk, from Debian when missing.
if ! command -v wrk >/dev/null; then
	if [ "$(id -u)" -eq 0 ]; then
		apt=(apt-get)
	elif command -v sudo >/dev/null; then
		apt=(sudo apt-get)
	else
		die "wrk is not installed and neither root nor sudo is available: install wrk"
	fi
	log "installing wrk: ${apt[*]} install -y wrk"
	if ! "${apt[@]}" install -y wrk >&2; then
		"${apt[@]}" update >&2 || die "apt-get update failed"
		"${apt[@]}" install -y wrk >&2 || die "could not install wrk"
	fi
fi

# 2. The temp dir and the processes: all removed / killed at exit.
pids=()
tmp=
pgdir= # STORE=postgres: the server's directory (pg_ctl stops it)
as_pg=()
cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do
		for _ in {1..50}; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [ -n "$pgdir" ]; then
		"${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate -w stop >/dev/null 2>&1 || true
		rm -rf "$pgdir"
	fi
	if [ -n "$tmp" ]; then rm -rf "$tmp"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# spawn CMD...: starts CMD in the background, to be killed by cleanup;
# sets spawned. reap PID: waits for it and returns its status. Long
# commands run this way (not in the foreground) so that a signal to this
# script is handled at once rather than when the command ends.
spawn() {
	"$@" &
	spawned=$!
	pids+=("$spawned")
}
reap() {
	local rc=0 p remaining=()
	wait "$1" || rc=$?
	for p in "${pids[@]}"; do
		if [ "$p" != "$1" ]; then remaining+=("$p"); fi
	done
	pids=("${remaining[@]}")
	return "$rc"
}
run() { spawn "$@"; reap "$spawned"; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-load.XXXXXX")
mkdir -p "$tmp/home" "$tmp/data" "$tmp/config" "$tmp/fixture" "$results"

# Ports: the next free ones from BASE_PORT, a service port and an admin
# port (Caddy's admin endpoint, which serves pprof) per server.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
declare -A port admin
p=$BASE_PORT
for name in upstream upstream-d a b c d pg; do
	for kind in port admin; do
		while port_in_use "$p"; do p=$((p + 1)); done
		if [ "$kind" = port ]; then port[$name]=$p; else admin[$name]=$p; fi
		p=$((p + 1))
	done
done

# 3. The fixture: keys, a store with USERS members of workspace bench, tokens.
log "building and running the fixture generator ($USERS users)"
"$GO" build -o "$tmp/fixture-gen" ./bench/fixture
"$tmp/fixture-gen" -dir "$tmp/fixture" -users "$USERS" -slug bench -role reader \
	-iss "$iss" -aud "$aud" -ttl 2h >&2
# bbolt locks its file: b and c each get their own copy of the store.
cp "$tmp/fixture/gatehouse.db" "$tmp/store-b.db"
cp "$tmp/fixture/gatehouse.db" "$tmp/store-c.db"
cp "$tmp/fixture/gatehouse.db" "$tmp/store-d.db"
store_b=$tmp/store-b.db store_c=$tmp/store-c.db store_d=$tmp/store-d.db
store_label="bbolt store"
if [ "$STORE" = postgres ]; then
	# initdb and postgres refuse to run as root: as root, they run as the
	# postgres user in a directory it owns.
	pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
	[ -n "$pgbin" ] && [ -x "$pgbin/initdb" ] || die "STORE=postgres: no /usr/lib/postgresql/*/bin/initdb (make pg-bin installs it)"
	pgdir=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-load-pg.XXXXXX")
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$pgdir"
		as_pg=(runuser -u postgres --)
	fi
	log "starting PostgreSQL ($pgbin) on 127.0.0.1:${port[pg]}"
	"${as_pg[@]}" "$pgbin/initdb" -D "$pgdir/data" -U postgres -A trust -E UTF8 --locale=C -N >"$tmp/initdb.log" 2>&1 ||
		{ cat "$tmp/initdb.log" >&2; die "initdb failed"; }
	"${as_pg[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 60 start \
		-o "-p ${port[pg]} -k $pgdir -c listen_addresses=127.0.0.1 -c max_connections=200" >/dev/null ||
		{ cat "$pgdir/server.log" >&2; die "PostgreSQL did not start"; }
	pgurl="postgres://postgres@127.0.0.1:${port[pg]}/postgres?sslmode=disable"
	"$bin" store export --store "$tmp/fixture/gatehouse.db" >"$tmp/fixture.json" || die "store export failed"
	"$bin" store import --store "$pgurl" <"$tmp/fixture.json" >&2 || die "store import into PostgreSQL failed"
	store_b="postgres $pgurl" store_c=$store_b store_d=$store_b
	store_label="PostgreSQL store shared by b, c and d"
fi
tokens_all=$tmp/fixture/tokens.txt
token_one=$tmp/fixture/token-repeated.txt
[ "$(wc -l <"$tokens_all")" -eq "$USERS" ] || die "expected $USERS tokens in $tokens_all"

# 4./5. The Caddyfiles.
global_options() { # global_options ADMIN_PORT
	printf '\tadmin 127.0.0.1:%s\n\tauto_https off\n\tpersist_config off\n' "$1"
}
cat >"$tmp/upstream.caddyfile" <<EOF
{
$(global_options "${admin[upstream]}")
}
http://:${port[upstream]} {
	bind 127.0.0.1
	respond "ok" 200
}
EOF
# d's upstream: a request without an assertion is an error (the matcher
# runs in this process, not in d's).
cat >"$tmp/upstream-d.caddyfile" <<EOF
{
$(global_options "${admin[upstream-d]}")
}
http://:${port[upstream-d]} {
	bind 127.0.0.1
	@unsigned not header X-Gatehouse-Assertion *
	respond @unsigned "no assertion" 500
	respond "ok" 200
}
EOF
cat >"$tmp/a.caddyfile" <<EOF
{
$(global_options "${admin[a]}")
}
http://:${port[a]} {
	bind 127.0.0.1
	reverse_proxy 127.0.0.1:${port[upstream]}
}
EOF
gateway_caddyfile() { # gateway_caddyfile PORT ADMIN_PORT STORE [ASSERTION]
	local assertion= upstream=${port[upstream]}
	if [ "${4:-}" = on ]; then
		assertion=$'\n\t\tassertion on'
		upstream=${port[upstream-d]}
	fi
	cat <<EOF
{
$(global_options "$2")
	gatehouse {
		store $3
		jwt {
			jwks_file $tmp/fixture/jwks.json
			issuer    $iss
			audience  $aud
			leeway    30s
		}
		global_admins root
		permission workspace.admin implies *
		permission message.read
		permission message.send implies message.read
		permission message.delete
		permission contact.read
		permission contact.manage implies contact.read
		permission campaign.read
		permission campaign.manage implies campaign.read
		permission campaign.run implies campaign.read
		permission report.read
		role owner  "Owner"  workspace.admin
		role reader "Reader" message.read
		creator_role owner
		cache {
			max_entries 100000
		}
	}
}
http://:$1 {
	bind 127.0.0.1
	gatehouse {
		workspace param workspace$assertion
		rule GET    /healthz                                  public
		rule GET    /me                                       authenticated
		rule GET    /w/{workspace}                            member
		rule GET    /w/{workspace}/messages                   message.read
		rule POST   /w/{workspace}/messages                   message.send
		rule GET    /w/{workspace}/messages/{id}              message.read
		rule DELETE /w/{workspace}/messages/{id}              message.delete
		rule GET    /w/{workspace}/contacts                   contact.read
		rule POST   /w/{workspace}/contacts                   contact.manage
		rule GET    /w/{workspace}/contacts/{id}              contact.read
		rule *      /w/{workspace}/contacts/export            contact.manage
		rule GET    /w/{workspace}/campaigns                  campaign.read
		rule POST   /w/{workspace}/campaigns                  campaign.manage
		rule *      /w/{workspace}/campaigns/{id}/run         campaign.run
		rule GET    /w/{workspace}/instances/{instance}/chats message.read restrict instance {instance}
		rule GET    /w/{workspace}/settings                   workspace.settings
		rule PATCH  /w/{workspace}/settings                   workspace.settings
		rule GET    /w/{workspace}/members                    workspace.members
		rule GET    /w/{workspace}/reports/*                  report.read
		rule GET    /billing-admin/*                          global_admin
	}
	reverse_proxy 127.0.0.1:$upstream
}
EOF
}
gateway_caddyfile "${port[b]}" "${admin[b]}" "$store_b" >"$tmp/b.caddyfile"
gateway_caddyfile "${port[c]}" "${admin[c]}" "$store_c" >"$tmp/c.caddyfile"
gateway_caddyfile "${port[d]}" "${admin[d]}" "$store_d" on >"$tmp/d.caddyfile"
grep -q '^		assertion on$' "$tmp/d.caddyfile" || die "config d should turn the assertion on"
[ "$(grep -c '^		rule ' "$tmp/b.caddyfile")" -eq 20 ] || die "the gateway config should have 20 rules"

# Starts bin/gatehouse on a Caddyfile with HOME and XDG dirs inside $tmp;
# waits until its port accepts connections.
declare -A server_pid
start_server() { # start_server NAME
	local name=$1
	spawn env HOME="$tmp/home" XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" \
		"$bin" run --config "$tmp/$name.caddyfile" --adapter caddyfile \
		>"$tmp/$name.log" 2>&1
	server_pid[$name]=$spawned
	for _ in {1..200}; do
		if port_in_use "${port[$name]}"; then return 0; fi
		if ! kill -0 "${server_pid[$name]}" 2>/dev/null; then
			cat "$tmp/$name.log" >&2
			die "server $name exited at startup (log above)"
		fi
		sleep 0.1
	done
	cat "$tmp/$name.log" >&2
	die "server $name did not listen on 127.0.0.1:${port[$name]} within 20s"
}
log "starting upstream :${port[upstream]}, upstream-d :${port[upstream-d]}, a :${port[a]}, b :${port[b]}, c :${port[c]}, d :${port[d]} (admin ports ${admin[upstream]}, ${admin[a]}, ${admin[b]}, ${admin[c]}, ${admin[d]})"
for name in upstream upstream-d a b c d; do start_server "$name"; done

declare -A url
for c in a b c d; do url[$c]=http://127.0.0.1:${port[$c]}$path; done

# Sanity checks: each config answers 200; the gateways answer 401 without a
# token and with a token whose signature is broken (so the JWT really is
# verified, and iss/aud match: else the 200s below would be 401s).
status() { # status URL [TOKEN]
	local auth=()
	if [ -n "${2:-}" ]; then auth=(-H "Authorization: Bearer $2"); fi
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 "${auth[@]}" "$1" || true
}
expect() { # expect WANT DESCRIPTION URL [TOKEN]
	local got
	got=$(status "$3" "${4:-}")
	[ "$got" = "$1" ] || die "$2: expected $1, got $got"
	log "ok ($1) $2"
}
one=$(head -n1 "$token_one")
last=$(tail -n1 "$tokens_all")
# The repeated token's header and claims with another token's signature.
# (Not a flipped last character: that may only touch base64 padding bits.)
bad=${one%.*}.${last##*.}
expect 200 "a: plain reverse_proxy" "${url[a]}" "$one"
expect 200 "b: repeated token" "${url[b]}" "$one"
expect 401 "b: no token" "${url[b]}"
expect 401 "b: token with a broken signature" "${url[b]}" "$bad"
expect 200 "c: last user's token" "${url[c]}" "$last"
expect 401 "c: no token" "${url[c]}"
expect 200 "d: repeated token, with an assertion" "${url[d]}" "$one"
expect 401 "d: no token" "${url[d]}"
# upstream-d's check works: a request without an assertion fails.
unsigned=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:${port[upstream-d]}$path" || true)
[ "$unsigned" = 500 ] || die "upstream-d should answer 500 to a request without an assertion, got $unsigned"
log "ok (500) upstream-d: a request without an assertion"
expect 404 "b: workspace that does not exist" "http://127.0.0.1:${port[b]}/w/nope/messages" "$one"

# Warm c up: one pass over every token, each must answer 200 (this fills
# c's verified-token cache and its access cache).
log "warming c up: one request per token ($USERS)"
sep=
while IFS= read -r tok; do
	printf '%surl = "%s"\nheader = "Authorization: Bearer %s"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' "$sep" "${url[c]}" "$tok"
	sep=$'next\n'
done <"$tokens_all" >"$tmp/warmup.curl"
run curl -s --max-time 600 -K "$tmp/warmup.curl" >"$tmp/warmup.codes" || die "warm-up of c: curl failed"
ok=$(grep -c '^200$' "$tmp/warmup.codes" || true)
[ "$ok" -eq "$USERS" ] || die "warm-up of c: $ok of $USERS tokens answered 200 (codes: $(sort "$tmp/warmup.codes" | uniq -c | tr -s ' \n' ' '))"
log "ok (200) c: all $USERS users"

# 6. wrk runs. Every config is driven by the same Lua script, so wrk does
# the same work for each: a and b send the one repeated token, c rotates
# through all the tokens.
tokens_for() { if [ "$1" = c ]; then echo "$tokens_all"; else echo "$token_one"; fi; }

# run_wrk CONFIG DURATION OUT: runs wrk, fails loudly on non-2xx answers.
run_wrk() {
	run wrk -t"$THREADS" -c"$CONNS" -d"$2" --latency -s "$lua" "${url[$1]}" -- "$(tokens_for "$1")" "$THREADS" >"$3" 2>&1 ||
		{ cat "$3" >&2; die "wrk failed on config $1"; }
	check_wrk "$1" "$3"
}
check_wrk() { # check_wrk CONFIG OUT
	local non2xx sock
	non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$2")
	if [ -n "$non2xx" ] && [ "$non2xx" != 0 ]; then
		cat "$2" >&2
		echo "--- last lines of the log of server $1:" >&2
		tail -n 20 "$tmp/$1.log" >&2
		die "config $1 answered $non2xx non-2xx responses during measurement (wrk output above)"
	fi
	sock=$(sed -n 's/^ *\(Socket errors:.*\)/\1/p' "$2")
	if [ -n "$sock" ]; then
		log "WARNING: config $1: $sock"
		warnings+=("config $1: $sock")
	fi
}
# parse_wrk OUT -> "REQ_PER_S P50_MS P99_MS"
parse_wrk() {
	awk '
		function ms(v,  n, u) {
			n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
			if (u == "us") return n / 1000
			if (u == "ms") return n
			if (u == "s") return n * 1000
			if (u == "m") return n * 60000
			if (u == "h") return n * 3600000
			return -1
		}
		$1 == "50%" { p50 = ms($2) }
		$1 == "99%" { p99 = ms($2) }
		$1 == "Requests/sec:" { rps = $2 }
		END {
			if (rps == "" || p50 == "" || p99 == "" || p50 < 0 || p99 < 0) exit 1
			printf "%.2f %.4f %.4f\n", rps, p50, p99
		}' "$1"
}
median() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

warnings=()
declare -A rps p50 p99 cpu
for c in a b c d; do rps[$c]=; p50[$c]=; p99[$c]=; cpu[$c]=; done

# CPU per request of a server: its user+system time (from /proc) over a
# run divided by the requests wrk completed. Less sensitive than req/s to
# other load on a shared machine, which slows every config alike.
clk_tck=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
requests_of() { awk '$2 == "requests" && $3 == "in" {print $1}' "$1"; }

log "warm-up runs ($WARMUP each)"
for c in a b c d; do run_wrk "$c" "$WARMUP" "$tmp/warmup-$c.txt"; done

log "measuring: $ROUNDS rounds of a, b, c, d (each round starts one config later); wrk -t$THREADS -c$CONNS -d$DURATION --latency"
raw_rows=()
configs=(a b c d)
for r in $(seq 1 "$ROUNDS"); do
	for i in 0 1 2 3; do
		c=${configs[$(((r - 1 + i) % 4))]}
		out=$tmp/round$r-$c.txt
		t0=$(cpu_ticks "${server_pid[$c]}")
		run_wrk "$c" "$DURATION" "$out"
		t1=$(cpu_ticks "${server_pid[$c]}")
		read -r vrps v50 v99 < <(parse_wrk "$out") ||
			{ cat "$out" >&2; die "could not parse the wrk output of config $c, round $r"; }
		vcpu=$(awk -v t="$((t1 - t0))" -v hz="$clk_tck" -v n="$(requests_of "$out")" 'BEGIN {printf "%.1f", t / hz * 1e6 / n}')
		rps[$c]+="$vrps "
		p50[$c]+="$v50 "
		p99[$c]+="$v99 "
		cpu[$c]+="$vcpu "
		raw_rows+=("| $r | $c | $vrps | $v50 | $v99 | $vcpu |")
		log "round $r config $c: $vrps req/s, p50 $v50 ms, p99 $v99 ms, $vcpu µs CPU/request"
	done
done

declare -A med_rps med_p50 med_p99 med_cpu
for c in a b c d; do
	med_cpu[$c]=$(tr ' ' '\n' <<<"${cpu[$c]}" | grep . | median)
	med_rps[$c]=$(tr ' ' '\n' <<<"${rps[$c]}" | grep . | median)
	med_p50[$c]=$(tr ' ' '\n' <<<"${p50[$c]}" | grep . | median)
	med_p99[$c]=$(tr ' ' '\n' <<<"${p99[$c]}" | grep . | median)
done
ratio() { awk -v x="$1" -v y="$2" 'BEGIN {printf "%.3f", x / y}'; }
ratio_b=$(ratio "${med_rps[b]}" "${med_rps[a]}")
ratio_c=$(ratio "${med_rps[c]}" "${med_rps[a]}")
ratio_d=$(ratio "${med_rps[d]}" "${med_rps[a]}")
if awk -v r="$ratio_d" -v t="$TARGET_D" 'BEGIN {exit !(r >= t)}'; then
	verdict_d="MET"
else
	verdict_d="NOT MET"
fi
if awk -v r="$ratio_b" -v t="$TARGET" 'BEGIN {exit !(r >= t)}'; then
	verdict="MET"
else
	verdict="NOT MET"
fi

declare -A label=(
	[a]="a: reverse_proxy"
	[b]="b: gatehouse + reverse_proxy, 1 token"
	[c]="c: gatehouse + reverse_proxy, $USERS users"
	[d]="d: gatehouse with assertion on + reverse_proxy, 1 token"
)
table() {
	echo "| config | req/s | p50 (ms) | p99 (ms) | req/s vs a | server CPU µs/req | CPU vs a |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	local c rel
	for c in a b c d; do
		rel=$(ratio "${med_rps[$c]}" "${med_rps[a]}")
		printf '| %s | %.0f | %.3f | %.3f | %s | %.1f | %s |\n' "${label[$c]}" "${med_rps[$c]}" "${med_p50[$c]}" "${med_p99[$c]}" "$rel" \
			"${med_cpu[$c]}" "$(ratio "${med_cpu[$c]}" "${med_cpu[a]}")"
	done
	echo
	echo "- b/a = $ratio_b (spec §9 target: b/a >= $TARGET: **$verdict**)"
	echo "- c/a = $ratio_c"
	echo "- d/a = $ratio_d (spec §9 target with assertion on: d/a >= $TARGET_D: **$verdict_d**)"
}

# 7. CPU profiles of b and d under load: wrk in the background, pprof meanwhile.
declare -A top
for pc in b d; do
	log "profiling $pc: ${PROFILE_SECONDS}s CPU profile under wrk"
	prof_out=$tmp/profile-wrk-$pc.txt
	spawn wrk -t"$THREADS" -c"$CONNS" -d"$((PROFILE_SECONDS + 4))s" --latency -s "$lua" "${url[$pc]}" -- "$token_one" "$THREADS" >"$prof_out" 2>&1
	wrk_pid=$spawned
	sleep 2
	run curl -sf --max-time "$((PROFILE_SECONDS + 30))" -o "$tmp/cpu-$pc.pprof" \
		"http://127.0.0.1:${admin[$pc]}/debug/pprof/profile?seconds=$PROFILE_SECONDS" ||
		die "could not fetch the CPU profile from $pc's admin endpoint (127.0.0.1:${admin[$pc]})"
	reap "$wrk_pid" || { cat "$prof_out" >&2; die "wrk failed during the profile run"; }
	check_wrk "$pc" "$prof_out"
	mv "$tmp/cpu-$pc.pprof" "$results/cpu-$pc$suffix.pprof"
	top[$pc]=$("$GO" tool pprof -top -nodecount=25 "$results/cpu-$pc$suffix.pprof" 2>/dev/null) || die "go tool pprof failed on $results/cpu-$pc$suffix.pprof"
done

# The report.
cpu_model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
cpus=$(grep -c '^processor' /proc/cpuinfo)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain 2>/dev/null | grep -v '^?? bench/' || true)" ]; then commit+=" (with uncommitted changes)"; fi
{
	echo "# Gatehouse load test"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "- machine: $cpus CPUs, ${cpu_model:-unknown CPU} ($(uname -sr))"
	echo "- $("$GO" version), $(wrk -v 2>&1 | head -n1 | awk '{print $1, $2}'), commit $commit"
	echo "- wrk -t$THREADS -c$CONNS -d$DURATION --latency, $ROUNDS rounds (a, b, c, d alternating, each round starting one config later), medians; server CPU per request from /proc (user+system); GET $path; load generator, servers and upstream share the CPUs"
	echo "- a: plain reverse_proxy; b, c: the same config, gatehouse (20 rules, $store_label with $USERS members, JWT EdDSA via jwks_file) + reverse_proxy; b driven with one repeated token, c rotating through $USERS users' tokens (caches warmed); d: b's config with \`assertion on\`, one repeated token"
	echo
	table
	if [ "${#warnings[@]}" -gt 0 ]; then
		echo
		echo "Warnings:"
		printf -- '- %s\n' "${warnings[@]}"
	fi
	echo
	echo "Per round:"
	echo
	echo "| round | config | req/s | p50 (ms) | p99 (ms) | server CPU µs/req |"
	echo "|---:|---|---:|---:|---:|---:|"
	printf '%s\n' "${raw_rows[@]}"
	echo
	for pc in b d; do
		echo
		echo "## CPU profile of $pc under load (${PROFILE_SECONDS}s, \`go tool pprof -top -nodecount=25 bench/results/cpu-$pc$suffix.pprof\`)"
		echo
		echo '```'
		echo "${top[$pc]}"
		echo '```'
	done
} >"$results/latest$suffix.md.tmp"
mv "$results/latest$suffix.md.tmp" "$results/latest$suffix.md"

echo
table
echo
for pc in b d; do
	echo "CPU profile of $pc under load (go tool pprof -top -nodecount=25):"
	echo "${top[$pc]}"
	echo
done
echo "Written: $results/latest$suffix.md, $results/cpu-b$suffix.pprof, $results/cpu-d$suffix.pprof"
if [ "$verdict" != MET ]; then
	log "note: b/a = $ratio_b is below the spec §9 target of $TARGET"
fi
if [ "$verdict_d" != MET ]; then
	log "note: d/a = $ratio_d is below the spec §9 target of $TARGET_D (assertion on)"
fi
