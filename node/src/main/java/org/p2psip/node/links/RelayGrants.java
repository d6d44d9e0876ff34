package org.p2psip.node.links;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.p2psip.nat.stun.StunCodec;
import org.p2psip.nat.turn.CredentialStore;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.OverlayNode;

/**
 * Short-lived TURN credentials that a superpeer's relay grants to overlay nodes, so that NATed superpeers need no
 * account on it for their ICE links. A node asks with a routed request ({@value #APP}) to the relay's node id, which it
 * finds in the service directory ({@link DirectoryRelay}); the relay answers {@code username\npassword}, in the
 * convention of the TURN REST API (the one coturn's {@code use-auth-secret} checks): the username is
 * {@code EXPIRY:NODEID} (expiry in Unix seconds, the asker's node id in hex) and the password is the Base64 of
 * HMAC-SHA1(secret, username), where the secret is random per run of this relay and never leaves it. The relay checks
 * a password by computing it again, so it keeps no state per grant.
 *
 * <p>Who may relay: any node of the overlay (the overlay is open, so this only keeps the relay to overlay traffic of
 * known node ids and lets the TURN server count allocations per node). The answer crosses the overlay's hops, which
 * could read it; a grant expires after {@link #VALIDITY} and each holds at most the TURN server's allocations per user.
 */
public final class RelayGrants {
    /** The routed application id of a credential request. */
    public static final String APP = "turn-credential";
    /** How long a grant is valid; a link's allocation is refreshed with it, so this bounds a relayed link's life. */
    public static final Duration VALIDITY = Duration.ofHours(24);

    private final byte[] secret = new byte[32];

    public RelayGrants() {
        new SecureRandom().nextBytes(secret);
    }

    /** A grant for {@code node}, valid from {@code nowMillis} for {@link #VALIDITY}. */
    public LinkTurn grant(NodeId node, long nowMillis) {
        String user = (nowMillis / 1000 + VALIDITY.toSeconds()) + ":" + node.toHex();
        return new LinkTurn(null, user, password(user));
    }

    private String password(String user) {
        try {
            Mac mac = Mac.getInstance("HmacSHA1");
            mac.init(new SecretKeySpec(secret, "HmacSHA1"));
            return Base64.getEncoder().encodeToString(mac.doFinal(user.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA1 is missing from this JVM", e);
        }
    }

    /**
     * The TURN server's credentials: an unexpired grant of this relay, else whatever {@code accounts} (the SIP
     * accounts) say.
     */
    public CredentialStore credentials(CredentialStore accounts) {
        return (username, realm) -> {
            int colon = username.indexOf(':');
            if (colon > 0 && colon <= 12 && username.length() == colon + 1 + 40) {
                long expiry;
                try {
                    expiry = Long.parseLong(username, 0, colon, 10);
                } catch (NumberFormatException e) {
                    return accounts.key(username, realm);
                }
                if (expiry * 1000 < System.currentTimeMillis()) {
                    return null; // expired: the client asks for a new grant
                }
                return StunCodec.longTermKey(username, realm, password(username));
            }
            return accounts.key(username, realm);
        };
    }

    /**
     * Answers other nodes' credential requests on {@code node} while {@code running} says this peer's TURN relay runs;
     * otherwise they are refused with why.
     */
    public void serve(OverlayNode node, BooleanSupplier running) {
        node.handle(APP, r -> {
            if (!running.getAsBoolean()) {
                return CompletableFuture.failedFuture(new IllegalStateException("this node runs no TURN relay now"));
            }
            LinkTurn g = grant(r.origin(), System.currentTimeMillis());
            return CompletableFuture.completedFuture(Bytes.utf8(g.user() + "\n" + g.password()));
        });
    }

    /** Parses a relay's answer into a credential for {@code server}; a clear error when it is not one. */
    static LinkTurn parse(Bytes answer, java.net.InetSocketAddress server) {
        String s = answer.utf8String();
        int nl = s.indexOf('\n');
        if (nl <= 0 || nl == s.length() - 1 || s.length() > 512) {
            throw new IllegalArgumentException("the relay's credential answer is not 'username\\npassword'");
        }
        return new LinkTurn(server, s.substring(0, nl), s.substring(nl + 1));
    }
}
