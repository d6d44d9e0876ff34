package org.p2psip.node.xmlrpc;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.p2psip.overlay.Dht;
import org.p2psip.overlay.NodeId;
import org.p2psip.storage.DhtService;
import org.p2psip.storage.Namespaces;
import org.p2psip.storage.RecordException;
import org.p2psip.storage.RecordXml;
import org.p2psip.node.site.HostRegistration;
import org.p2psip.storage.SigningIdentity;
import org.p2psip.storage.api.DraftDht;
import org.p2psip.storage.api.ServiceDirectory;

/**
 * The draft's service methods (§3.4) on {@link ServiceDirectory}, namespace {@code p2p-sip}. Each takes one
 * {@code dhtService} document as an XML-RPC {@code string} or {@code base64}; a returned dhtService comes back the
 * same way.
 * <ul>
 * <li>{@code join(dhtService)} → dhtService: registers the document's {@code serviceHosts} (1 to 16, each with a
 * {@code service} attribute such as {@code stun}, {@code turn}, {@code presence}) under the gateway's own host key for
 * {@link #REGISTRATION} (the draft's dhtService carries no expiry); returns the registration with its
 * {@code hostIdentifier}. Calling it again refreshes or replaces the registration (a host re-joins to stay listed,
 * as with OpenDHT's ReDiR). A {@code hostIdentifier} in the request must be this gateway's.</li>
 * <li>{@code leave(dhtService)} → boolean: removes the gateway's registration; false when there was none.</li>
 * <li>{@code lookup(dhtService)} → dhtService: the host whose identifier most immediately follows the document's
 * {@code key} (a name, hashed with SHA-1, or the digest form); a dhtService with only namespace and key when no host is
 * registered.</li>
 * </ul>
 * The registration is signed with the gateway's host key, so one gateway registers one host: the node it runs on.
 * A client with a key of its own registers itself with {@code put-auth} of a signed record under the key
 * {@code service:urn:ietf:params:xml:ns:p2p-sip} (see {@link ServiceDirectory}), and {@code lookup} finds it too.
 */
public final class ServiceGateway implements XmlRpcHandler {
    /** How long a join through the gateway stays listed unless joined again. */
    public static final Duration REGISTRATION = Duration.ofHours(1);
    /** The short name accepted for {@link Namespaces#P2P_SIP} in a request's {@code namespace}. */
    public static final String SHORT_NAMESPACE = "p2p-sip";

    private final ServiceDirectory directory;
    private final SigningIdentity host;
    private final HostRegistration registration;

    /**
     * @param dht  the DHT registrations are stored in
     * @param host the key registrations are signed with (the node's own), or null to serve only {@code lookup}
     */
    public ServiceGateway(Dht dht, SigningIdentity host) {
        this(dht, host, new HostRegistration());
    }

    /**
     * @param registration the host key's registration, shared with the peer's own advertisement
     *                     ({@link org.p2psip.node.site.ServiceAds}): a join or leave here takes it over
     */
    public ServiceGateway(Dht dht, SigningIdentity host, HostRegistration registration) {
        this.directory = new ServiceDirectory(new DraftDht(Objects.requireNonNull(dht, "dht")));
        this.host = host;
        this.registration = Objects.requireNonNull(registration, "registration");
    }

    /** Whether this gateway serves {@code method}. */
    public static boolean serves(String method) {
        return method.equals("join") || method.equals("leave") || method.equals("lookup");
    }

    @Override
    public CompletableFuture<Object> call(String method, List<Object> p) throws XmlRpcFault {
        if (p.size() != 1) {
            throw DraftGateway.params(method + " takes one parameter, a dhtService document (string or base64), not " + p.size());
        }
        DraftGateway.Doc doc = DraftGateway.document(p.get(0));
        DhtService svc;
        try {
            svc = RecordXml.parseService(doc.bytes());
        } catch (RecordException e) {
            throw DraftGateway.params("refused dhtService document: " + e.getMessage());
        }
        String namespace = namespace(svc.namespace());
        return switch (method) {
            case "join" -> join(svc, namespace, doc.base64());
            case "leave" -> leave(svc, namespace);
            case "lookup" -> lookup(svc, namespace, doc.base64());
            default -> throw new XmlRpcFault(XmlRpcFault.METHOD_NOT_FOUND, "no such method: " + method);
        };
    }

    private CompletableFuture<Object> join(DhtService svc, String namespace, boolean base64) throws XmlRpcFault {
        SigningIdentity h = hostKey("join");
        checkIdentifier(svc, h);
        List<DhtService.ServiceHost> hosts = svc.serviceHosts();
        if (hosts == null || hosts.isEmpty() || hosts.size() > ServiceDirectory.MAX_SERVICE_HOSTS) {
            throw DraftGateway.params("join needs serviceHosts with 1 to " + ServiceDirectory.MAX_SERVICE_HOSTS + " serviceHost elements");
        }
        for (DhtService.ServiceHost s : hosts) {
            if (s.service() == null || s.service().isBlank() || s.uri().isEmpty()) {
                throw DraftGateway.params("each serviceHost needs a service attribute (e.g. stun, turn, presence) and a URI");
            }
        }
        registration.takenByClient();
        Instant expires = registration.nextExpiry(REGISTRATION);
        return DraftGateway.timed(directory.join(namespace, hosts, h, expires)).handle((id, e) -> {
            if (e != null) {
                throw new CompletionException(DraftGateway.fault(e));
            }
            return DraftGateway.out(RecordXml.toXml(new DhtService(namespace, null, id.toHex(), hosts)), base64);
        });
    }

    private CompletableFuture<Object> leave(DhtService svc, String namespace) throws XmlRpcFault {
        SigningIdentity h = hostKey("leave");
        checkIdentifier(svc, h);
        registration.takenByClient();
        return DraftGateway.timed(directory.leave(namespace, h)).handle((removed, e) -> {
            if (e != null) {
                return DraftGateway.failure(e);
            }
            return removed.isPresent();
        });
    }

    private CompletableFuture<Object> lookup(DhtService svc, String namespace, boolean base64) throws XmlRpcFault {
        if (svc.key() == null) {
            throw DraftGateway.params("lookup needs a key: the host whose identifier most immediately follows it is returned");
        }
        NodeId k = svc.key().dhtKey();
        return DraftGateway.timed(directory.lookup(k, namespace)).thenApply(found -> DraftGateway.out(RecordXml.toXml(
                found.map(r -> new DhtService(namespace, svc.key(), r.id().toHex(), r.hosts()))
                        .orElse(new DhtService(namespace, svc.key(), null, null))), base64));
    }

    private SigningIdentity hostKey(String method) throws XmlRpcFault {
        if (host == null) {
            throw new XmlRpcFault(XmlRpcFault.APPLICATION_ERROR, method + " needs a host key and this gateway has none; "
                    + "register with put-auth of a signed record instead");
        }
        return host;
    }

    private static void checkIdentifier(DhtService svc, SigningIdentity h) throws XmlRpcFault {
        String mine = ServiceDirectory.identifier(h).toHex();
        if (svc.hostIdentifier() != null && !svc.hostIdentifier().equalsIgnoreCase(mine)) {
            throw DraftGateway.params("hostIdentifier " + svc.hostIdentifier() + " is not this gateway's (" + mine
                    + "): a gateway joins and leaves only for its own host key; omit hostIdentifier");
        }
    }

    private static String namespace(String given) throws XmlRpcFault {
        if (given == null) {
            throw DraftGateway.params("the dhtService needs a namespace (" + Namespaces.P2P_SIP + ")");
        }
        if (given.equals(Namespaces.P2P_SIP) || given.equals(SHORT_NAMESPACE)) {
            return Namespaces.P2P_SIP;
        }
        throw DraftGateway.params("namespace " + given + " is not served; this overlay serves " + Namespaces.P2P_SIP);
    }
}
