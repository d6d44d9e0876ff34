#!/usr/bin/env bash
# Builds the Docker testbed's images on this machine, with no container registry:
#   p2psip/base:<hash>   Debian bookworm (debootstrap minbase) with a JRE, iproute2, iptables, sipp, procps;
#                        <hash> is the content hash of its recipe (base/packages.txt + base/build-base.sh),
#                        so it is built once per machine and again only when the recipe changes
#   p2psip/node:local    the node (node/target/p2psip.jar), entry point node/node-entrypoint.sh
#   p2psip/router:local  a NAT router, entry point router/nat-rules.sh
#   p2psip/phone:local   sipp
# Usage: testbed/docker/build-images.sh   (after `mvn -B -pl node -am package -DskipTests`)
# The last line is `images base=p2psip/base:<hash> node=... router=... phone=...`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
fail() { echo "build-images: $*" >&2; exit 1; }
command -v docker >/dev/null || fail "the docker command is missing; install it with: apt-get install -y docker.io"
docker info >/dev/null 2>&1 || fail "no Docker daemon answers; start one (e.g. dockerd &) and retry"
[ -f "$repo/node/target/p2psip.jar" ] || fail "$repo/node/target/p2psip.jar is missing; build it with: mvn -B -pl node -am package -DskipTests"

hash=$(cat "$here/base/packages.txt" "$here/base/build-base.sh" | sha256sum | cut -c1-12)
base=p2psip/base:$hash
if docker image inspect "$base" >/dev/null 2>&1; then
  echo "build-images: $base is already built (recipe unchanged)"
else
  echo "build-images: building $base (once per machine)"
  bash "$here/base/build-base.sh" "$base"
fi

# The legacy builder uses local images as they are; BuildKit would ask a registry about FROM ${BASE}.
for img in node router phone; do
  start=$(date +%s)
  log=$(mktemp)
  if ! DOCKER_BUILDKIT=0 docker build --build-arg "BASE=$base" -t "p2psip/$img:local" \
      -f "$here/$img/Dockerfile" "$repo" >"$log" 2>&1; then
    grep -v -e '^DEPRECATED' -e 'BuildKit is currently disabled' -e 'environment-variable' "$log" | tail -n 20 >&2
    rm -f "$log"
    fail "docker build of p2psip/$img:local failed (output above)"
  fi
  rm -f "$log"
  echo "build-images: p2psip/$img:local built in $(( $(date +%s) - start )) s"
done
echo "images base=$base node=p2psip/node:local router=p2psip/router:local phone=p2psip/phone:local"
