#!/usr/bin/env bash
set -eux
# shellcheck source=../setup_ipam/ipam_env.sh
source ../setup_ipam/ipam_env.sh

ipam_playbook playbook.yml "$@"

# --diff prints the allocation record: empty before, the record after.
ipam_playbook diff.yml --diff "$@" | tee "$IPAM_TEST_DIR/diff.out"
grep -F -- '-{}' "$IPAM_TEST_DIR/diff.out"
grep -F -- '+    "name": "diff01"' "$IPAM_TEST_DIR/diff.out"
# A rerun with --diff shows no change.
ipam_playbook diff.yml --diff "$@" | tee "$IPAM_TEST_DIR/diff2.out"
grep -E 'testhost *: ok=[0-9]+ +changed=0 ' "$IPAM_TEST_DIR/diff2.out"
