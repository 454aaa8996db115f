#!/usr/bin/env bash
set -eux
# shellcheck source=../setup_ipam/ipam_env.sh
source ../setup_ipam/ipam_env.sh

# Site -> subnet -> pool -> host and EUI-64 addresses.
# Check mode first: it must predict every value, and write nothing.
ipam_playbook site.yml --check -e "result_file=$IPAM_TEST_DIR/check.json" "$@"
ipam_playbook site.yml -e "result_file=$IPAM_TEST_DIR/real.json" "$@" | tee "$IPAM_TEST_DIR/real.out"
cmp "$IPAM_TEST_DIR/check.json" "$IPAM_TEST_DIR/real.json"
# A rerun changes nothing and gives the same values.
ipam_playbook site.yml -e "result_file=$IPAM_TEST_DIR/rerun.json" "$@" | tee "$IPAM_TEST_DIR/rerun.out"
grep -E 'testhost *: ok=[0-9]+ +changed=0 ' "$IPAM_TEST_DIR/rerun.out"
cmp "$IPAM_TEST_DIR/real.json" "$IPAM_TEST_DIR/rerun.json"

ipam_playbook errors.yml "$@"
