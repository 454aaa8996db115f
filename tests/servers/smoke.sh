#!/usr/bin/env bash
# Smoke test of the running test servers (127.0.0.1 only), with curl + jq:
#   tag + custom field creation, prefix 10.99.0.0/24, allocation through
#   /api/ipam/prefixes/{id}/available-ips/, listing, a full prefix, clean-up.
# Usage: tests/servers/smoke.sh [nautobot|netbox|all]     (servers must be started)
# Prints every request with its HTTP status; exits non-zero on the first unexpected status.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
eval "$("$HERE/servers.sh" env)"

command -v jq >/dev/null 2>&1 || { echo "smoke.sh needs jq (apt-get install -y jq)" >&2; exit 1; }

TAG=ipam-allocator
CF=ipam_allocator_key
BODY=""   # body of the last response
CODE=""   # status of the last response

api() { # METHOD PATH [JSON]  -> sets CODE and BODY
  local method="$1" path="$2" data="${3:-}" out
  local args=(-s -m 60 -X "$method" -H "Authorization: $SCHEME $TOKEN" -H 'Accept: application/json'
              -H 'Content-Type: application/json' -w '\n%{http_code}')
  [[ -n "$data" ]] && args+=(--data "$data")
  out="$(curl "${args[@]}" "$URL$path")"
  CODE="${out##*$'\n'}"
  BODY="${out%$'\n'*}"
  printf '  %-6s %-60s -> %s\n' "$method" "$path" "$CODE"
}

expect() { # CODE...
  local c
  for c in "$@"; do [[ "$CODE" == "$c" ]] && return 0; done
  echo "  unexpected HTTP $CODE (wanted $*): $BODY" >&2
  exit 1
}

show() { echo "      $(jq -c "$@" <<<"$BODY")"; }

smoke() { # server
  local s="$1" pfx_id ip_id ip tag_id cf_id small_id i
  case "$s" in
    nautobot)
      URL="$IPAM_TEST_NAUTOBOT_URL"; TOKEN="$IPAM_TEST_NAUTOBOT_TOKEN"; SCHEME="$IPAM_TEST_NAUTOBOT_AUTH_SCHEME"
      PFX_EXTRA=', "status": {"name": "Active"}, "namespace": {"name": "Global"}'
      IP_EXTRA=', "status": {"name": "Active"}'
      TAG_BODY='{"name": "'$TAG'", "content_types": ["ipam.ipaddress", "ipam.prefix"]}'
      CF_BODY='{"key": "'$CF'", "label": "IPAM allocator key", "type": "text", "content_types": ["ipam.ipaddress"]}'
      TAG_REF='{"name": "'$TAG'"}'
      ;;
    netbox)
      URL="$IPAM_TEST_NETBOX_URL"; TOKEN="$IPAM_TEST_NETBOX_TOKEN"; SCHEME="$IPAM_TEST_NETBOX_AUTH_SCHEME"
      PFX_EXTRA=''
      IP_EXTRA=''
      TAG_BODY='{"name": "'$TAG'", "slug": "'$TAG'"}'
      CF_BODY='{"name": "'$CF'", "label": "IPAM allocator key", "type": "text", "object_types": ["ipam.ipaddress"]}'
      TAG_REF='{"slug": "'$TAG'"}'
      ;;
  esac
  echo "== $s at $URL ($SCHEME auth)"
  api GET /api/status/; expect 200
  show '{version: (.["nautobot-version"] // .["netbox-version"]), python: .["python-version"]}'

  echo "-- required fields (POST with an empty body)"
  api POST /api/ipam/prefixes/ '{}'; expect 400; show .
  api POST /api/ipam/ip-addresses/ '{}'; expect 400; show .

  echo "-- tag and custom field"
  api POST /api/extras/tags/ "$TAG_BODY"; expect 201; tag_id="$(jq -r .id <<<"$BODY")"; show '{id, name, slug, content_types, object_types}'
  api POST /api/extras/custom-fields/ "$CF_BODY"; expect 201; cf_id="$(jq -r .id <<<"$BODY")"; show '{id, key, name, label: .label, type: .type, content_types, object_types}'

  echo "-- prefix 10.99.0.0/24 and one allocation"
  api POST /api/ipam/prefixes/ '{"prefix": "10.99.0.0/24"'"$PFX_EXTRA"'}'; expect 201
  pfx_id="$(jq -r .id <<<"$BODY")"; show '{id, prefix, status: (.status.value // .status.id), namespace: .namespace.id}'
  api POST "/api/ipam/prefixes/$pfx_id/available-ips/" \
    '{"description": "ipam-allocator:smoke-1", "tags": ['"$TAG_REF"'], "custom_fields": {"'$CF'": "smoke-1"}'"$IP_EXTRA"'}'
  expect 201
  ip_id="$(jq -r 'if type == "array" then .[0].id else .id end' <<<"$BODY")"
  ip="$(jq -r 'if type == "array" then .[0].address else .address end' <<<"$BODY")"
  show '{type: type, address: (if type == "array" then .[0].address else .address end)}'
  echo "-- list it (by tag, by custom field, by parent prefix)"
  case "$s" in
    nautobot) api GET "/api/ipam/ip-addresses/?tags=$TAG" ;;   # Nautobot: tags=<name>
    netbox)   api GET "/api/ipam/ip-addresses/?tag=$TAG" ;;    # NetBox: tag=<slug>
  esac
  expect 200; show '{count, addresses: [.results[].address]}'
  api GET "/api/ipam/ip-addresses/?cf_$CF=smoke-1"; expect 200; show '{count, addresses: [.results[].address], description: [.results[].description], cf: [.results[].custom_fields]}'
  case "$s" in
    nautobot) api GET "/api/ipam/ip-addresses/?parent=$pfx_id" ;;
    netbox)   api GET "/api/ipam/ip-addresses/?parent=10.99.0.0/24" ;;
  esac
  expect 200; show '{count, addresses: [.results[].address]}'
  echo "-- a list body allocates several at once"
  api POST "/api/ipam/prefixes/$pfx_id/available-ips/" \
    '[{"description": "ipam-allocator:smoke-2"'"$IP_EXTRA"'}, {"description": "ipam-allocator:smoke-3"'"$IP_EXTRA"'}]'
  expect 201; show '[.[].address]'
  echo "-- direct POST of an address (namespace/parent rules)"
  case "$s" in
    nautobot) api POST /api/ipam/ip-addresses/ '{"address": "10.99.0.200/24", "status": {"name": "Active"}, "namespace": {"name": "Global"}}' ;;
    netbox)   api POST /api/ipam/ip-addresses/ '{"address": "10.99.0.200/24"}' ;;
  esac
  expect 201; show '{id, address}'
  echo "-- a full prefix (10.99.1.0/30)"
  api POST /api/ipam/prefixes/ '{"prefix": "10.99.1.0/30"'"$PFX_EXTRA"'}'; expect 201
  small_id="$(jq -r .id <<<"$BODY")"
  for i in 1 2 3 4 5; do
    api POST "/api/ipam/prefixes/$small_id/available-ips/" '{"description": "full-'"$i"'"'"$IP_EXTRA"'}'
    [[ "$CODE" == 201 ]] || break
    show 'if type == "array" then [.[].address] else .address end'
  done
  echo "      full prefix answered HTTP $CODE, body: ${BODY:-<empty>}"
  api GET "/api/ipam/prefixes/$small_id/available-ips/"; expect 200; show .

  echo "-- clean-up"
  api DELETE "/api/ipam/ip-addresses/$ip_id/"; expect 204
  api GET "/api/ipam/ip-addresses/?q=10.99."; expect 200
  for i in $(jq -r '.results[].id' <<<"$BODY"); do api DELETE "/api/ipam/ip-addresses/$i/"; expect 204; done
  api DELETE "/api/ipam/prefixes/$pfx_id/"; expect 204
  api DELETE "/api/ipam/prefixes/$small_id/"; expect 204
  api DELETE "/api/extras/custom-fields/$cf_id/"; expect 204
  api DELETE "/api/extras/tags/$tag_id/"; expect 204
  api GET "/api/ipam/prefixes/?q=10.99."; expect 200; show '{count}'
  echo "== $s OK (allocated $ip)"
}

case "${1:-all}" in
  all) targets="nautobot netbox" ;;
  nautobot|netbox) targets="$1" ;;
  *) echo "usage: $0 [nautobot|netbox|all]" >&2; exit 2 ;;
esac
for s in $targets; do
  var="IPAM_TEST_${s^^}_URL"
  if [[ -z "${!var:-}" ]]; then echo "== $s skipped (unavailable)"; continue; fi
  smoke "$s"
done
