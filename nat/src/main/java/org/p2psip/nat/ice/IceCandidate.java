package org.p2psip.nat.ice;

import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * One ICE candidate as the Attach exchange carries it (RFC 8445 section 5.1): UDP, component 1.
 *
 * @param type        how the address was obtained
 * @param foundation  1..32 ICE characters; equal foundations share a base and a server
 * @param priority    RFC 8445 priority, 1..2^31-1
 * @param address     where checks go
 * @param related     the base or mapped address it was derived from (null for host candidates)
 */
public record IceCandidate(Type type, String foundation, long priority, InetSocketAddress address,
        InetSocketAddress related) {
    /** Candidate types, with their SDP names. */
    public enum Type {
        HOST("host"), SERVER_REFLEXIVE("srflx"), PEER_REFLEXIVE("prflx"), RELAYED("relay");

        private final String sdpName;

        Type(String sdpName) {
            this.sdpName = sdpName;
        }

        public String sdpName() {
            return sdpName;
        }
    }

    public IceCandidate {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(address, "address");
        if (!IceParameters.isIceChars(foundation, 1, 32)) {
            throw new IllegalArgumentException("foundation must be 1..32 ICE characters: " + foundation);
        }
        if (priority < 1 || priority > 0x7FFF_FFFFL) {
            throw new IllegalArgumentException("priority must be 1..2^31-1: " + priority);
        }
        if (address.isUnresolved() || address.getPort() == 0) {
            throw new IllegalArgumentException("candidate address must be a resolved IP and a port: " + address);
        }
    }

    @Override
    public String toString() {
        return type.sdpName + " " + address.getAddress().getHostAddress() + ":" + address.getPort();
    }
}
