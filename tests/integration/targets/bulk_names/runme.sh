#!/usr/bin/env bash
set -eux
# shellcheck source=../setup_ipam/ipam_env.sh
source ../setup_ipam/ipam_env.sh

# Many names in one task: allocate, rerun, add one, release, check mode first each time.
ipam_playbook allocate.yml "$@"
# --diff: the names that change, keyed by name; without it the (large) diff is left out.
ipam_playbook diff.yml --diff "$@" | tee "$IPAM_TEST_DIR/diff.out"
grep -F -- '+    "diff01": {' "$IPAM_TEST_DIR/diff.out"
# Bad input: each a clear error naming the item, and nothing changed.
ipam_playbook bad_input.yml "$@"
# The lookups answer every name in one evaluation.
ipam_playbook lookup.yml "$@"

# The pattern: one run_once task allocates for the play's hosts, each host then takes its own.
# Check mode predicts exactly which host gets which address, and the real run gives it.
{
    echo 'group:'
    echo '  hosts:'
    for index in $(seq -w 1 12); do echo "    node$index: {ansible_connection: local, ansible_python_interpreter: \"$IPAM_TEST_PYTHON\"}"; done
} > "$IPAM_TEST_DIR/group.yml"
ipam_playbook -i "$IPAM_TEST_DIR/group.yml" run_once.yml -f 6 --check -e values_file="$IPAM_TEST_DIR/check.json" "$@"
ipam_playbook -i "$IPAM_TEST_DIR/group.yml" run_once.yml -f 6 -e values_file="$IPAM_TEST_DIR/real.json" "$@"
cmp "$IPAM_TEST_DIR/check.json" "$IPAM_TEST_DIR/real.json"
ipam_playbook -i "$IPAM_TEST_DIR/group.yml" run_once.yml -f 6 -e values_file="$IPAM_TEST_DIR/again.json" -e expect_unchanged=true "$@"
cmp "$IPAM_TEST_DIR/real.json" "$IPAM_TEST_DIR/again.json"
