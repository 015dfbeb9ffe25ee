#!/usr/bin/env bash
# Installs the Debian packages cnlab needs, only those missing. Idempotent; needs root.
#   install-system.sh          what `cnlab run` and `cnlab verify` (tcpdump, python3, dnsmasq-base) need
#   install-system.sh --test   that, plus what the test suite needs (a headless browser,
#                              sshd for the SSH fixture: never started as a service here)
set -euo pipefail
PKGS=(iperf3 iproute2 nftables ethtool tcpdump python3 dnsmasq-base containernetworking-plugins iputils-ping procps util-linux findutils
  qperf sockperf openvswitch-switch clang libbpf-dev bpftool bird2 etcd-server etcd-client)
[[ ${1:-} == --test ]] && PKGS+=(chromium openssh-server)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
((${#missing[@]})) || exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "cnlab needs these packages: ${missing[*]} — run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Packages with services (openvswitch-switch, bird2, etcd-server) must not start system daemons in
# the host's own namespace: cnlab runs its own per lab. A policy-rc.d we add for the install says so.
policy=/usr/sbin/policy-rc.d
added_policy=
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && added_policy=1
fi
trap '[[ -n $added_policy ]] && rm -f "$policy"' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
