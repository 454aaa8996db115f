# shellcheck shell=bash
# Sourced by each target's runme.sh. Prepares a scratch directory, an inventory and the
# backend variables, so the same playbooks run on every backend:
#   - under ansible-test (file backend): everything is derived here;
#   - from tests/remote (netbox/nautobot): the caller sets IPAM_TEST_VARS to a vars file
#     that holds ipam_backend (the module_defaults for group/ipam.allocator.all).
# Pools are named by their CIDR, which the file backend allows and remote backends require.

IPAM_TEST_PYTHON="${ANSIBLE_TEST_PYTHON_INTERPRETER:-${IPAM_TEST_PYTHON:-$(command -v python3)}}"
IPAM_TEST_DIR="$(mktemp -d "${OUTPUT_DIR:-${TMPDIR:-/tmp}}/ipam-test.XXXXXX")"
export IPAM_TEST_PYTHON IPAM_TEST_DIR
export ANSIBLE_NOCOLOR=1 ANSIBLE_DEPRECATION_WARNINGS=false

cat > "$IPAM_TEST_DIR/inventory.yml" <<INVENTORY
all:
  hosts:
    testhost:
      ansible_connection: local
      ansible_python_interpreter: "$IPAM_TEST_PYTHON"
  children:
    unreachable:
      # Never contacted: the action plugins run on the controller. Were they to
      # connect, they would hit a closed loopback port and fail.
      hosts:
        offline01:
          ansible_connection: ssh
          ansible_host: 127.0.0.2
          ansible_port: 9
INVENTORY

if [ -z "${IPAM_TEST_VARS:-}" ]; then
    IPAM_TEST_VARS="$IPAM_TEST_DIR/backend.yml"
    cat > "$IPAM_TEST_VARS" <<VARS
ipam_backend:
  backend: file
  store: $IPAM_TEST_DIR/store.yml
ipam_file_backend: true
VARS
fi
export IPAM_TEST_VARS

# Runs ansible-playbook with the scratch inventory and backend variables.
ipam_playbook() {
    ansible-playbook -i "$IPAM_TEST_DIR/inventory.yml" -e "@$IPAM_TEST_VARS" -e "ipam_test_dir=$IPAM_TEST_DIR" "$@"
}
