#!/bin/sh
# The phone container's entry point. PHONE_GATEWAY (the site router's LAN address) becomes the default route (needs
# NET_ADMIN); unset on the public network. Without arguments the container waits and is driven with
# `docker exec <phone> phone ...` (see /usr/local/bin/phone); with arguments it runs sipp with them.
set -eu
if [ -n "${PHONE_GATEWAY:-}" ]; then
  if ! ip route replace default via "$PHONE_GATEWAY"; then
    echo "phone-entrypoint: cannot route through $PHONE_GATEWAY; run the container with --cap-add NET_ADMIN" >&2
    exit 1
  fi
fi
if [ $# -eq 0 ]; then
  echo "phone-entrypoint: ${PHONE_USER:-phone} ready; drive it with: docker exec $(hostname) phone ..."
  exec sleep infinity
fi
exec sipp "$@"
