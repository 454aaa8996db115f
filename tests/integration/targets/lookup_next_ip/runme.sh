#!/usr/bin/env bash
set -eux
# shellcheck source=../setup_ipam/ipam_env.sh
source ../setup_ipam/ipam_env.sh

# 100 inventory hosts, run with 50 forks: the lookup runs in 50 worker processes at once.
{
    echo 'many:'
    echo '  hosts:'
    for index in $(seq -w 1 100); do echo "    host$index: {ansible_connection: local, ansible_python_interpreter: \"$IPAM_TEST_PYTHON\"}"; done
} > "$IPAM_TEST_DIR/many.yml"

ipam_playbook setup.yml "$@"

# Check mode first: predicts, writes nothing.
ipam_playbook -i "$IPAM_TEST_DIR/many.yml" many.yml -f 50 --check -e mapping_file="$IPAM_TEST_DIR/check.json" "$@"
ipam_playbook verify_untouched.yml "$@"

ipam_playbook -i "$IPAM_TEST_DIR/many.yml" many.yml -f 50 -e mapping_file="$IPAM_TEST_DIR/first.json" "$@"
ipam_playbook -i "$IPAM_TEST_DIR/many.yml" many.yml -f 50 -e mapping_file="$IPAM_TEST_DIR/second.json" "$@"
# A rerun gives every host the same address.
cmp "$IPAM_TEST_DIR/first.json" "$IPAM_TEST_DIR/second.json"
# Check mode predicted the very addresses the real run took; which host got which is decided,
# in both runs, by the order the forks reached the lock.
"$IPAM_TEST_PYTHON" - "$IPAM_TEST_DIR/check.json" "$IPAM_TEST_DIR/first.json" <<'PYTHON'
import json, sys
check, first = (json.load(open(path)) for path in sys.argv[1:])
assert sorted(check) == sorted(first) and sorted(check.values()) == sorted(first.values()), (check, first)
PYTHON

ipam_playbook terms.yml "$@"

# The lookup reads the store from the controller's environment or ansible.cfg.
if grep -q 'backend: file' "$IPAM_TEST_VARS"; then
    store="$(sed -n 's/^  store: //p' "$IPAM_TEST_VARS")"
    IPAM_ALLOCATOR_STORE="$store" ansible-playbook -i "$IPAM_TEST_DIR/inventory.yml" sources.yml "$@"
    printf '[ipam_allocator]\nstore = %s\n' "$store" > "$IPAM_TEST_DIR/ansible.cfg"
    ANSIBLE_CONFIG="$IPAM_TEST_DIR/ansible.cfg" ansible-playbook -i "$IPAM_TEST_DIR/inventory.yml" sources.yml "$@"
fi
