#!/usr/bin/env bash
# Runs the Gatehouse demo (make run): dev keys, a demo workspace, two
# ready-to-paste curl commands, then the gateway in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=./bin/gatehouse
issuer=https://dev.gatehouse.local/
audience=gatehouse-demo

if [ ! -f dev/signing.jwk ]; then
	"$bin" keygen --dir dev
fi

# The demo workspace "Acme" (slug acme), owned by alice.
"$bin" store bootstrap --store data/gatehouse.db --if-empty \
	--workspace "Acme" --slug acme --owner alice --email alice@example.com

token() {
	"$bin" token --key dev/signing.jwk --iss "$issuer" --aud "$audience" --ttl 12h "$@"
}
alice=$(token --sub alice --email alice@example.com)
bob=$(token --sub bob --email bob@example.com)

cat <<MSG

Gatehouse demo on http://127.0.0.1:8080 (tokens valid 12h). In another terminal:

  # allowed: alice owns workspace acme, so she holds message.read (200, echoed by the upstream)
  curl -i -H 'Authorization: Bearer $alice' http://127.0.0.1:8080/w/acme/messages

  # denied: bob is not a member of acme (404 workspace_not_found, problem+json)
  curl -i -H 'Authorization: Bearer $bob' http://127.0.0.1:8080/w/acme/messages

  # the admin console (dev login: sign in as alice; demo only, anyone can pick any user)
  console: http://127.0.0.1:8080/console/

More tokens: $bin token --key dev/signing.jwk --iss $issuer --aud $audience --sub <user>
Stop with Ctrl-C.

MSG

exec "$bin" run --config Caddyfile.example --adapter caddyfile
