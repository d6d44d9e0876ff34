#!/bin/sh
# Runs one p2psip node in its container, in the foreground (PID 1 is the JVM, so `docker kill` kills the node).
# Environment:
#   P2PSIP_GATEWAY    the site router's LAN address; the default route is sent through it (needs NET_ADMIN).
#                     Unset for nodes on the public network.
#   P2PSIP_PORT       overlay UDP port (default 4222). Behind one full-cone router every peer needs its own port.
#   P2PSIP_BOOTSTRAP  host:port of the node(s) to join through, comma separated; unset for the first node.
#   JAVA_OPTS         JVM options (default: a small heap, serial GC).
#   TESTBED_SIP_USERS SIP digest accounts for phones, "user:password user2:password2": written as HA1 lines into
#                     <data-dir>/sip-users for the realm P2PSIP_SIP_DOMAIN (default p2psip.local), as
#                     `p2psip user add` would (one JVM per account would slow a whole site's start down).
#                     Demo passwords only: they are in the container's environment.
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
DATA_DIR=/var/lib/p2psip
if [ -n "${TESTBED_SIP_USERS:-}" ]; then
  realm="${P2PSIP_SIP_DOMAIN:-p2psip.local}"
  realm="${realm%%,*}"
  mkdir -p -m 700 "$DATA_DIR"
  umask 077
  : > "$DATA_DIR/sip-users"
  for account in $TESTBED_SIP_USERS; do
    user="${account%%:*}"
    password="${account#*:}"
    if [ -z "$user" ] || [ "$user" = "$account" ]; then
      echo "node-entrypoint: TESTBED_SIP_USERS entry '$account' is not user:password" >&2
      exit 1
    fi
    # HA1 = H(username:realm:password), MD5 and SHA-256 (the format of node/README.md, "p2psip user")
    md5=$(printf '%s:%s:%s' "$user" "$realm" "$password" | md5sum | cut -d' ' -f1)
    sha=$(printf '%s:%s:%s' "$user" "$realm" "$password" | sha256sum | cut -d' ' -f1)
    echo "$user:$realm:$md5:$sha" >> "$DATA_DIR/sip-users"
  done
  umask 022
  echo "node-entrypoint: $(wc -l < "$DATA_DIR/sip-users") SIP account(s) for realm $realm"
fi
set -- --data-dir "$DATA_DIR" --port "${P2PSIP_PORT:-4222}" --control-port 4223 --xmlrpc-port 4224 "$@"
for b in $(echo "${P2PSIP_BOOTSTRAP:-}" | tr ',' ' '); do
  set -- "$@" --bootstrap "$b"
done
# shellcheck disable=SC2086 # JAVA_OPTS is a list of options
exec java ${JAVA_OPTS:--Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto} -jar /opt/p2psip/p2psip.jar run "$@"
