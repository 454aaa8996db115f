#!/usr/bin/env bash
set -eux
# shellcheck source=../setup_ipam/ipam_env.sh
source ../setup_ipam/ipam_env.sh

# Every bad input fails with a clear message, no traceback, and leaves every store byte-for-byte as it was.
dir="$IPAM_TEST_DIR"
printf 'version: 1\npools: {lab: {cidr: 10.0.0.0/24\n' > "$dir/corrupt.yml"
printf '!!python/object/apply:os.system ["touch %s/pwned"]\n' "$dir" > "$dir/tagged.yml"
printf 'version: 9\npools: {}\n' > "$dir/future.yml"
mkdir "$dir/directory.yml"
printf 'version: 1\npools: {}\n' > "$dir/locked.yml"

# Another process holds the lock of locked.yml for the whole run.
flock --exclusive "$dir/locked.yml.lock" sleep 300 </dev/null >/dev/null 2>&1 &
holder=$!
trap 'pkill -P $holder 2>/dev/null; kill $holder 2>/dev/null || true' EXIT
sleep 0.5

ipam_playbook playbook.yml -e "dir=$dir" "$@"
test ! -e "$dir/pwned"
