#!/bin/sh
# Install the Debian packages parplan needs, only those missing.  Run as root.
set -e
want="gcc make pkg-config libcjson-dev libglpk-dev check libsubunit-dev libopenblas-dev libopenmpi-dev openmpi-bin python3 python3-yaml python3-omegaconf libxml2-utils librsvg2-bin clang libclang-rt-dev valgrind"
missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -z "$missing" ]; then echo "deps: all installed"; exit 0; fi
echo "deps: installing$missing"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
