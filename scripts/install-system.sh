#!/usr/bin/env bash
# Installs the Debian packages cnlab needs, only those missing. Idempotent; needs root.
set -euo pipefail
PKGS=(iperf3 iproute2 nftables ethtool containernetworking-plugins iputils-ping procps)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "cnlab needs these packages: ${missing[*]} — run as root (or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
