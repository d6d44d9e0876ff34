#!/bin/sh
# Runs one p2psip node in its container, in the foreground (PID 1 is the JVM, so `docker kill` kills the node).
# Environment:
#   P2PSIP_GATEWAY    the site router's LAN address; the default route is sent through it (needs NET_ADMIN).
#                     Unset for nodes on the public network.
#   P2PSIP_PORT       overlay UDP port (default 4222). Behind one full-cone router every peer needs its own port.
#   P2PSIP_BOOTSTRAP  host:port of the node(s) to join through, comma separated; unset for the first node.
#   JAVA_OPTS         JVM options (default: a small heap, serial GC).
# Extra arguments are passed to `p2psip run`. The control port is always 127.0.0.1:4223, so `p2psip status`
# works without options inside every container.
set -eu
if [ -n "${P2PSIP_GATEWAY:-}" ]; then
  if ! ip route replace default via "$P2PSIP_GATEWAY"; then
    echo "node-entrypoint: cannot route through $P2PSIP_GATEWAY; run the container with --cap-add NET_ADMIN" >&2
    exit 1
  fi
  echo "node-entrypoint: default route via $P2PSIP_GATEWAY"
fi
set -- --data-dir /var/lib/p2psip --port "${P2PSIP_PORT:-4222}" --control-port 4223 --xmlrpc-port 4224 "$@"
for b in $(echo "${P2PSIP_BOOTSTRAP:-}" | tr ',' ' '); do
  set -- "$@" --bootstrap "$b"
done
# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
exec java ${JAVA_OPTS:--Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto} -jar /opt/p2psip/p2psip.jar run "$@"
