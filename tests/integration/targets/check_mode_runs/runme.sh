#!/usr/bin/env bash
set -eux
# shellcheck source=../setup_ipam/ipam_env.sh
source ../setup_ipam/ipam_env.sh

# Predictions belong to the run that made them, whatever fact cache is configured.
export ANSIBLE_CACHE_PLUGIN=jsonfile ANSIBLE_CACHE_PLUGIN_CONNECTION="$IPAM_TEST_DIR/facts"
ipam_playbook ghost.yml --check -e step=predict "$@"
ipam_playbook ghost.yml --check -e step=later "$@"
if grep -rl ipam_allocator "$IPAM_TEST_DIR/facts"; then
    echo "a prediction reached the fact cache" >&2
    exit 1
fi
unset ANSIBLE_CACHE_PLUGIN ANSIBLE_CACHE_PLUGIN_CONNECTION

# A chain of tasks and lookups, readers included: check mode answers what the real run then does.
ipam_playbook chain.yml --check -e values_file="$IPAM_TEST_DIR/chain-check.json" "$@"
ipam_playbook chain.yml -e values_file="$IPAM_TEST_DIR/chain-real.json" "$@"
cmp "$IPAM_TEST_DIR/chain-check.json" "$IPAM_TEST_DIR/chain-real.json"

# Hosts in parallel: check mode predicts the addresses the real run takes, one each.
{
    echo 'parallel:'
    echo '  hosts:'
    for index in 1 2 3 4 5 6 7 8; do echo "    par0$index: {ansible_connection: local, ansible_python_interpreter: \"$IPAM_TEST_PYTHON\"}"; done
} > "$IPAM_TEST_DIR/parallel.yml"
ipam_playbook -i "$IPAM_TEST_DIR/parallel.yml" parallel.yml -f 8 --check -e values_file="$IPAM_TEST_DIR/parallel-check.json" "$@"
ipam_playbook -i "$IPAM_TEST_DIR/parallel.yml" parallel.yml -f 8 -e values_file="$IPAM_TEST_DIR/parallel-real.json" "$@"
"$IPAM_TEST_PYTHON" - "$IPAM_TEST_DIR/parallel-check.json" "$IPAM_TEST_DIR/parallel-real.json" <<'PYTHON'
import json, sys
check, real = (json.load(open(path)) for path in sys.argv[1:])
assert len(set(check.values())) == 8 and sorted(check.values()) == sorted(real.values()), (check, real)
PYTHON

# An SQLite store that does not exist yet: the whole chain is predicted, and the file never made.
if grep -q 'backend: file' "$IPAM_TEST_VARS"; then
    printf 'ipam_backend:\n  backend: file\n  store: %s/new.sqlite\nipam_file_backend: true\n' "$IPAM_TEST_DIR" > "$IPAM_TEST_DIR/sqlite.yml"
    ansible-playbook -i "$IPAM_TEST_DIR/inventory.yml" -e "@$IPAM_TEST_DIR/sqlite.yml" -e "ipam_test_dir=$IPAM_TEST_DIR" \
        chain.yml --check -e values_file="$IPAM_TEST_DIR/sqlite-check.json" "$@"
    test ! -e "$IPAM_TEST_DIR/new.sqlite"
    cmp "$IPAM_TEST_DIR/chain-check.json" "$IPAM_TEST_DIR/sqlite-check.json"
fi
