package org.p2psip.sip.identity;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.p2psip.sip.message.HeaderNames;
import org.p2psip.sip.message.SipRequest;
import org.p2psip.sip.message.SipResponse;
import org.p2psip.sip.message.SipUri;
import org.p2psip.sip.registrar.Credentials;
import org.p2psip.sip.registrar.DigestAuthenticator;
import org.p2psip.sip.transaction.ServerTransaction;
import org.p2psip.sip.transport.Source;

/**
 * Who a request speaks for, before the peer signs a record as its sender (an offline message, a watcher entry: the
 * storing nodes take those only signed by the sender's own key and certificate). The peer signs for a user of its
 * domains only after it authenticated the request (digest in {@code Proxy-Authorization}, 407 otherwise) with the
 * user's account here, or when the request comes from the peer's own SIP socket (the application embedded in it,
 * which holds its users' keys). Anyone else is anonymous: nothing is signed for them.
 */
public final class SenderAuthentication {
    /** The outcome of {@link #check}. */
    public sealed interface Result permits Sender, Challenge, Anonymous {
    }

    /** Authenticated (or the embedded application): records are signed with the key of {@code user} (user@domain). */
    public record Sender(String user) implements Result {
    }

    /** A user with an account here who did not (validly) authenticate: answer 407 with these challenges. */
    public record Challenge(List<String> proxyAuthenticate, String why) implements Result {
    }

    /** Not a user this peer can authenticate: nothing is signed for it. */
    public record Anonymous(String why) implements Result {
    }

    private final DigestAuthenticator auth;
    private final Credentials accounts;
    private final String realm;
    private final Set<String> domains;
    private final InetSocketAddress own;

    /**
     * @param own the peer's own SIP address: requests from there are the embedded application's
     */
    public SenderAuthentication(DigestAuthenticator auth, Credentials accounts, String realm, Set<String> domains,
            InetSocketAddress own) {
        this.auth = auth;
        this.accounts = accounts;
        this.realm = realm;
        this.domains = Set.copyOf(domains);
        this.own = own;
    }

    /** Who {@code r}, received from {@code source}, may be signed for. */
    public Result check(SipRequest r, Source source) {
        Optional<SipUri> from = r.from().sipUri();
        if (from.isEmpty() || from.get().user().isEmpty()) {
            return new Anonymous("From is not a SIP user");
        }
        String host = from.get().host().toLowerCase(Locale.ROOT);
        String name = from.get().user().get();
        if (!domains.contains(host)) {
            return new Anonymous(name + "@" + host + " is a user of another domain");
        }
        if (source != null && source.remote().equals(own)) {
            return new Sender(name + "@" + host);
        }
        boolean account = accounts.ha1(name, realm, "MD5").isPresent()
                || accounts.ha1(name, realm, "SHA-256").isPresent();
        if (!account) {
            return new Anonymous(name + "@" + host + " has no account at this peer");
        }
        var result = auth.check(r.method(), r.headers().all(HeaderNames.PROXY_AUTHORIZATION), name);
        if (result instanceof DigestAuthenticator.Challenge c) {
            return new Challenge(c.wwwAuthenticate(), c.why());
        }
        return new Sender(name + "@" + host);
    }

    /** Answers {@code tx} with 407 and the challenges. */
    public static void challenge(ServerTransaction tx, Challenge c) {
        SipResponse resp = tx.createResponse(407, "Proxy Authentication Required");
        tx.respond(resp.withHeaders(resp.headers().setAll(HeaderNames.PROXY_AUTHENTICATE, c.proxyAuthenticate())));
    }
}
