#!/usr/bin/env bash
# End-to-end check of the built binary, as a new user meets it:
# Caddyfile.example validates, `make run`'s demo starts from an empty
# directory, and the two curl commands it prints answer as printed.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
demo_pid=
cleanup() {
	if [ -n "$demo_pid" ]; then kill "$demo_pid" 2>/dev/null || true; wait "$demo_pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/bin" "$work/scripts"
cp bin/gatehouse "$work/bin/"
cp Caddyfile.example "$work/"
cp scripts/demo.sh "$work/scripts/"

for port in 8080 9090 2019; do
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "smoke: port $port is in use (is 'make run' running?); stop it and retry" >&2
		exit 1
	fi
done

"$work/scripts/demo.sh" >"$work/demo.out" 2>"$work/demo.err" &
demo_pid=$!

# Wait for the gateway.
for _ in $(seq 1 100); do
	if curl -s -o /dev/null http://127.0.0.1:8080/healthz; then break; fi
	if ! kill -0 "$demo_pid" 2>/dev/null; then
		echo "smoke: demo exited early" >&2; cat "$work/demo.out" "$work/demo.err" >&2; exit 1
	fi
	sleep 0.1
done

mapfile -t curls < <(grep -E '^  curl ' "$work/demo.out")
if [ "${#curls[@]}" -ne 2 ]; then
	echo "smoke: expected 2 curl commands in the demo output, got ${#curls[@]}" >&2
	cat "$work/demo.out" >&2; exit 1
fi

check() { # check <curl command> <expected status> <expected body text>
	local status body
	status=$(eval "${1/curl -i/curl -s -o $work/body -w %\{http_code\}}")
	body=$(cat "$work/body")
	if [ "$status" != "$2" ] || ! grep -q -- "$3" <<<"$body"; then
		echo "smoke: '$1' answered $status, expected $2 with '$3':" >&2
		echo "$body" >&2
		exit 1
	fi
	echo "smoke: ok ($2) ${1:0:40}..."
}
check "${curls[0]}" 200 "X-Gatehouse-User:           alice"
check "${curls[1]}" 404 '"code":"workspace_not_found"'

# The admin console serves its (dev) login page.
status=$(curl -s -o "$work/body" -w '%{http_code}' http://127.0.0.1:8080/console/login)
if [ "$status" != 200 ] || ! grep -q 'name="subject"' "$work/body"; then
	echo "smoke: console login page answered $status:" >&2; cat "$work/body" >&2; exit 1
fi
echo "smoke: ok (200) console login page"
# dev_login signs a token the app's jwt block accepts: alice sees acme.
status=$(curl -s -o /dev/null -c "$work/cookies" -w '%{http_code}' --data 'subject=alice&email=alice@example.com' http://127.0.0.1:8080/console/login)
page=$(curl -s -b "$work/cookies" http://127.0.0.1:8080/console/)
if [ "$status" != 303 ] || ! grep -q 'data-slug="acme"' <<<"$page"; then
	echo "smoke: console dev login answered $status; the switcher shows:" >&2; echo "$page" >&2; exit 1
fi
echo "smoke: ok (303) console dev login lists acme"

# The management API answers as the README shows (curl --json).
alice=$(sed -E "s/.*Bearer ([^']+)'.*/\1/" <<<"${curls[0]}")
api() { # api <expected status> <curl args...>
	local want=$1 status; shift
	status=$(curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $alice" "$@")
	if [ "$status" != "$want" ]; then
		echo "smoke: API $* answered $status, expected $want:" >&2; cat "$work/body" >&2; exit 1
	fi
	echo "smoke: ok ($want) API ${*: -1}"
}
api 200 http://127.0.0.1:8080/gatehouse/v1/me
grep -q '"slug":"acme"' "$work/body" || { echo "smoke: /v1/me does not list acme" >&2; exit 1; }
api 201 --json '{"name":"Globex Corp"}' http://127.0.0.1:8080/gatehouse/v1/workspaces
api 409 -X DELETE http://127.0.0.1:8080/gatehouse/v1/workspaces/acme/members/alice
grep -q '"code":"last_admin"' "$work/body" || { echo "smoke: expected last_admin" >&2; exit 1; }

# An API key made through the API works at the gateway, and stops when revoked.
api 201 --json '{"name":"smoke","permissions":["message.read"]}' http://127.0.0.1:8080/gatehouse/v1/workspaces/acme/api-keys
key=$(sed -E 's/.*"key":"(ghk_[a-z2-7_]+)".*/\1/' "$work/body")
key_id=$(sed -E 's/.*"id":"(key_[a-z2-7]+)".*/\1/' "$work/body")
gateway_status() { curl -s -o "$work/body" -w '%{http_code}' -H "Authorization: Bearer $key" http://127.0.0.1:8080/w/acme/messages; }
[ "$(gateway_status)" = 200 ] || { echo "smoke: the API key was refused at the gateway:" >&2; cat "$work/body" >&2; exit 1; }
echo "smoke: ok (200) gateway with an API key"
api 204 -X DELETE "http://127.0.0.1:8080/gatehouse/v1/workspaces/acme/api-keys/$key_id"
[ "$(gateway_status)" = 401 ] || { echo "smoke: a revoked API key still works:" >&2; cat "$work/body" >&2; exit 1; }
echo "smoke: ok (401) gateway with the revoked key"

# Caddyfile.example loads with `gatehouse validate` (validation opens no
# store, so it would work next to the demo too; stop the demo first all the
# same, so the demo's own store is not touched).
kill "$demo_pid"; wait "$demo_pid" 2>/dev/null || true; demo_pid=
(cd "$work" && ./bin/gatehouse validate --config Caddyfile.example --adapter caddyfile >/dev/null 2>"$work/validate.err") || {
	echo "smoke: gatehouse validate failed:" >&2; cat "$work/validate.err" >&2; exit 1
}
echo "smoke: ok validate Caddyfile.example"
