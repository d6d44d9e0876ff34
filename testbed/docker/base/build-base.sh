#!/usr/bin/env bash
# Builds the testbed's base image from Debian packages, without any container registry:
#   debootstrap --variant=minbase bookworm into a temporary folder, with the packages of packages.txt,
#   trimmed (apt caches, docs, man pages), then `docker import`ed as the tag given as $1.
# Usage: build-base.sh IMAGE_TAG   (needs root, debootstrap and a Docker daemon; MIRROR overrides the mirror)
set -euo pipefail
tag=${1:?usage: build-base.sh IMAGE_TAG}
here=$(cd "$(dirname "$0")" && pwd)
mirror=${MIRROR:-http://deb.debian.org/debian}
suite=bookworm

fail() { echo "build-base: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "debootstrap needs root; run as root (or build on a machine where you are root)"
command -v debootstrap >/dev/null || fail "debootstrap not found; install it with: apt-get install -y debootstrap"
docker info >/dev/null 2>&1 || fail "no Docker daemon answers; start one (dockerd) and retry"

pkgs=$(grep -v '^#' "$here/packages.txt" | tr -s ' \n' ',' | sed 's/^,//; s/,$//')
root=$(mktemp -d /tmp/p2psip-base.XXXXXX)
trap 'rm -rf "$root"' EXIT

start=$(date +%s)
echo "build-base: debootstrap --variant=minbase $suite from $mirror with $pkgs into $root (takes a few minutes)"
# debootstrap logs each stage (Retrieving, Validating, Extracting, Installing, Configuring) on stderr.
if ! debootstrap --variant=minbase --include="$pkgs" "$suite" "$root" "$mirror" >"$root.log" 2>&1; then
  tail -n 30 "$root.log" >&2
  [ -f "$root/debootstrap/debootstrap.log" ] && tail -n 30 "$root/debootstrap/debootstrap.log" >&2
  fail "debootstrap failed (log above, full log $root.log); check that $mirror is reachable (set MIRROR to another Debian mirror)"
fi
boot=$(date +%s)
echo "build-base: debootstrap done in $((boot - start)) s"

# Trim what a container never needs: downloaded .debs, package lists, docs, man pages, locales.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* \
       "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*.log "$root"/debootstrap
find "$root"/usr/share/locale -mindepth 1 -maxdepth 1 ! -name 'en*' -exec rm -rf {} + 2>/dev/null || true
# Files a container runtime provides itself.
: > "$root/etc/hostname"; rm -f "$root/etc/resolv.conf"

echo "build-base: importing as $tag"
tar -C "$root" -c . | docker import \
  -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'ENV LANG=C.UTF-8' \
  -c 'CMD ["/bin/bash"]' \
  -m "p2psip testbed base: debootstrap minbase $suite + $pkgs" - "$tag" >/dev/null
rm -f "$root.log"
echo "build-base: $tag built in $(( $(date +%s) - start )) s ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
