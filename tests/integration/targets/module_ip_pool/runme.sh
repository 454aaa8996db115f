#!/usr/bin/env bash
set -eux
# shellcheck source=../setup_ipam/ipam_env.sh
source ../setup_ipam/ipam_env.sh

ipam_playbook playbook.yml "$@"
