package org.p2psip.node.links;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Objects;

/**
 * The TURN relay and long-term credentials a plain superpeer's ICE links use for relayed candidates
 * ({@code --link-turn-user}, {@code --link-turn-password}, {@code --link-turn-server}). A superpeer's TURN server takes
 * its own SIP accounts as logins, so the overlay's operator gives the superpeers one account on the relay.
 *
 * @param server the relay, or null for the first bootstrap node's host at its port + 5 (a superpeer's default TURN port)
 */
public record LinkTurn(InetSocketAddress server, String user, String password) {
    /** The port offset of a superpeer's TURN relay from its overlay port. */
    public static final int DEFAULT_PORT_OFFSET = 5;

    public LinkTurn {
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(password, "password");
        if (user.isBlank() || password.isEmpty()) {
            throw new IllegalArgumentException("a TURN account needs a user name and a password");
        }
    }

    /** With the relay filled in: {@link #server()}, else the first bootstrap node's host at its port + 5; null if none. */
    public LinkTurn resolve(List<InetSocketAddress> bootstrap, int ownPort) {
        if (server != null) {
            return this;
        }
        if (bootstrap.isEmpty()) {
            return null;
        }
        InetSocketAddress b = bootstrap.get(0);
        return new LinkTurn(InetSocketAddress.createUnresolved(b.getHostString(), b.getPort() + DEFAULT_PORT_OFFSET),
                user, password);
    }

    @Override
    public String toString() {
        return "LinkTurn[" + server + ", user " + user + "]"; // never the password
    }
}
