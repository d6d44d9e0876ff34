#!/bin/sh
# Makes this container a NAT router for one site, with the NAT lab's rules (nat/README.md, "Rules per
# behaviour"; NatLab.natRules), then stays up. Environment:
#   NAT_TYPE        full-cone | address-restricted | port-restricted | symmetric
#   LAN_SUBNET      the site's subnet, e.g. 192.0.2.128/26 (the router's LAN address is in it)
#   WAN_IP          full cone only: the router's public address (inbound UDP to it is forwarded)
#   FULL_CONE_HOSTS full cone only: the LAN hosts that inbound UDP goes to, space separated, each HOST or
#                   HOST:PORT. A bare HOST gets every inbound UDP port (the lab's rule, one host per site);
#                   with several hosts each gets its own PORT (its overlay port, which MASQUERADE keeps).
#   ADDRESS_HOST    address-restricted only: the LAN host that admitted inbound UDP goes to
#   UDP_TIMEOUT     seconds the address-restricted cone remembers an address (default 30)
#
# The lab names interfaces wan0/lan0; Docker names them eth0/eth1 in attach order and a reconnected network
# may get another name, so here "from the LAN" is "-s LAN_SUBNET" and "to the WAN" is "! -d LAN_SUBNET".
# The rules are the lab's otherwise:
#   every type: forward LAN to WAN; WAN to LAN only for conntrack ESTABLISHED,RELATED,DNAT; drop the rest
#   full cone:           MASQUERADE (keeps the source port when free: endpoint-independent mapping)
#                        + DNAT of inbound UDP to the host (endpoint-independent filtering)
#                        + hairpinning, which the lab (one host per site) does not need: a LAN host sending to
#                        WAN_IP:PORT reaches the host behind that port, with WAN_IP as the source address, so
#                        peers of one site reach each other at the public addresses the overlay tells them
#   address-restricted:  MASQUERADE + DNAT only from addresses the LAN sent to (xt_recent)
#   port-restricted:     MASQUERADE only (inbound only as replies: address-and-port-dependent filtering)
#   symmetric:           MASQUERADE --random-fully (a new port per destination: address-and-port-dependent mapping)
set -eu
fail() { echo "nat-rules: $*" >&2; exit 1; }
: "${NAT_TYPE:?set NAT_TYPE to full-cone, address-restricted, port-restricted or symmetric}"
: "${LAN_SUBNET:?set LAN_SUBNET to the site subnet, e.g. 192.0.2.0/26}"
[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || fail "IP forwarding is off; run the container with --sysctl net.ipv4.ip_forward=1"
lan=$LAN_SUBNET
ipt() { iptables -w "$@" || fail "iptables $* failed; run the container with --cap-add NET_ADMIN"; }

ipt -A FORWARD -s "$lan" ! -d "$lan" -j ACCEPT
ipt -A FORWARD ! -s "$lan" -d "$lan" -m conntrack --ctstate ESTABLISHED,RELATED,DNAT -j ACCEPT
ipt -A FORWARD ! -s "$lan" -d "$lan" -j DROP
case "$NAT_TYPE" in
  full-cone)
    : "${FULL_CONE_HOSTS:?full-cone needs FULL_CONE_HOSTS (HOST or HOST:PORT ...)}"
    : "${WAN_IP:?full-cone needs WAN_IP, the router's public address}"
    ipt -t nat -A POSTROUTING -s "$lan" ! -d "$lan" -j MASQUERADE
    for h in $FULL_CONE_HOSTS; do
      case "$h" in
        *:*) ipt -t nat -A PREROUTING -d "$WAN_IP" -p udp --dport "${h#*:}" -j DNAT --to-destination "$h" ;;
        *)   ipt -t nat -A PREROUTING -d "$WAN_IP" -p udp -j DNAT --to-destination "$h" ;;
      esac
    done
    # Hairpin: a LAN packet DNATed back into the LAN leaves with the WAN address, so the answer comes back here.
    ipt -t nat -A POSTROUTING -s "$lan" -d "$lan" -m conntrack --ctstate DNAT -j SNAT --to-source "$WAN_IP" ;;
  address-restricted)
    : "${ADDRESS_HOST:?address-restricted needs ADDRESS_HOST}"
    ipt -t nat -A POSTROUTING -s "$lan" ! -d "$lan" -j MASQUERADE
    ipt -t mangle -A FORWARD -s "$lan" ! -d "$lan" -p udp -m recent --name sent_to --rdest --set
    ipt -t nat -A PREROUTING ! -s "$lan" -p udp -m recent --name sent_to --rsource --rcheck \
        --seconds "${UDP_TIMEOUT:-30}" -j DNAT --to-destination "$ADDRESS_HOST" ;;
  port-restricted)
    ipt -t nat -A POSTROUTING -s "$lan" ! -d "$lan" -j MASQUERADE ;;
  symmetric)
    ipt -t nat -A POSTROUTING -s "$lan" ! -d "$lan" -j MASQUERADE --random-fully ;;
  *) fail "unknown NAT_TYPE '$NAT_TYPE'; use full-cone, address-restricted, port-restricted or symmetric" ;;
esac
# The router reaches only its two connected networks: no default route (Docker gives it one through the host),
# so a router cut off from the public network drops what the LAN sends out instead of handing it to the host.
ip route del default 2>/dev/null || true
echo "nat-rules: $NAT_TYPE router for $lan ready"
iptables -w -S FORWARD | sed 's/^/nat-rules:   /'
iptables -w -t nat -S | grep -E 'MASQUERADE|DNAT' | grep -v DOCKER | sed 's/^/nat-rules:   /'
# Stay up until stopped; the trap makes `docker stop` end the container at once (PID 1 ignores an unhandled TERM).
trap 'exit 0' TERM INT
sleep infinity &
wait
