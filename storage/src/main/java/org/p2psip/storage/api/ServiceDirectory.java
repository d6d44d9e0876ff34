package org.p2psip.storage.api;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.PutResult;
import org.p2psip.storage.DhtRecord;
import org.p2psip.storage.DhtService;
import org.p2psip.storage.Namespaces;
import org.p2psip.storage.RecordException;
import org.p2psip.storage.RecordKey;
import org.p2psip.storage.RecordValue;
import org.p2psip.storage.Refusal;
import org.p2psip.storage.SignedRecordPolicy;
import org.p2psip.storage.SigningIdentity;
import org.p2psip.storage.ValueContent;

/**
 * The draft's service interface (§3.1: {@code join(N,h)}, {@code lookup(k,N)}, {@code leave(N,h,i)}), built on the
 * data interface as the draft suggests (its §5.2 notes that OpenDHT's ReDiR "resides purely on the client side").
 * For namespace {@code p2p-sip} hosts advertise their STUN, TURN and presence services (§4.5).
 * <p>
 * Mapping onto {@link DraftDht}:
 * <ul>
 * <li>All hosts of namespace N register under one <b>service key</b>: the record key {@code service:<N>} (a name
 * outside the draft's resource names; its DHT key is SHA-1 of that text). For {@code p2p-sip} N is
 * {@link Namespaces#P2P_SIP}, the URI the draft writes in {@code <namespace>}.</li>
 * <li>A host's <b>identifier</b> i is the SHA-1 of its signing key (the value's owner, H(Kp)), in the 160-bit key
 * space; a host therefore cannot choose its place on the ring.</li>
 * <li>{@code join(N,h)} is a put-auth under the service key with nonce = i in 40 hex digits, whose value is a
 * {@code dhtService} element (our extension of the value's content): {@code namespace} = N, {@code hostIdentifier}
 * = i in hex, {@code serviceHosts} = h, e.g. {@code <serviceHost service="stun">stun:192.0.2.7:3478</serviceHost>}.
 * It expires like any record; a host re-joins (same nonce, later expiry) to stay registered.</li>
 * <li>{@code lookup(k,N)} gets every registration and returns the host whose identifier most immediately follows
 * k: the first i ≥ k on the ring of 2<sup>160</sup> identifiers, wrapping around (Chord's successor).</li>
 * <li>{@code leave(N,h,i)} is the remove-auth of the host's registration.</li>
 * </ul>
 * Storing nodes accept a registration from any writer whose record verifies (in ca mode, with a certificate that
 * chains to the anchors) and whose content satisfies {@link #contentCheck}; see {@link DraftPolicy}. Limits: all
 * hosts of a namespace sit under one key, so its replicas carry every join and lookup, and a key holds at most the
 * overlay's {@code maxValuesPerKey} (1,024) values: fine for the superpeers of one deployment, not for millions of
 * hosts (that needs ReDiR's tree of keys). In tofu mode anyone can register many keys (a Sybil attack on lookup).
 */
public final class ServiceDirectory {
    /** Most service hosts one registration may advertise. */
    public static final int MAX_SERVICE_HOSTS = 16;

    private final DraftDht dht;

    public ServiceDirectory(DraftDht dht) {
        this.dht = Objects.requireNonNull(dht, "dht");
    }

    /** A host's registration: its identifier, what it offers, and who signed it. */
    public record Registration(NodeId id, List<DhtService.ServiceHost> hosts, Instant expires, Bytes owner) {
        /** The URI of the first host offering {@code service} ("stun", "turn", "presence"…), if any. */
        public Optional<String> uri(String service) {
            return hosts.stream().filter(h -> service.equals(h.service())).map(DhtService.ServiceHost::uri).findFirst();
        }
    }

    /** The record key all hosts of {@code namespace} register under: {@code service:<namespace>}. */
    public static RecordKey serviceKey(String namespace) {
        return new RecordKey("k", "service:" + namespace, null);
    }

    /** A host's identifier: the SHA-1 of its public key. */
    public static NodeId identifier(SigningIdentity host) {
        return NodeId.of(host.owner().toArray());
    }

    /**
     * join(N,h): registers {@code host}'s services under {@code namespace} until {@code expires}; completes with the
     * host's identifier. Calling it again refreshes (or changes) the registration.
     */
    public CompletableFuture<NodeId> join(String namespace, List<DhtService.ServiceHost> services, SigningIdentity host,
            Instant expires) {
        NodeId id = identifier(host);
        DhtService svc = new DhtService(namespace, null, id.toHex(), services);
        DhtRecord r = new DhtRecord(null, serviceKey(namespace), new RecordValue("v", expires, id.toHex(), null,
                new ValueContent.Service(svc)));
        return dht.putAuth(r, host).thenApply(x -> id);
    }

    /** Every live registration under {@code namespace}, ordered by identifier. */
    public CompletableFuture<List<Registration>> hosts(String namespace) {
        return dht.get(serviceKey(namespace)).thenApply(values -> {
            List<Registration> out = new ArrayList<>();
            for (DraftDht.SignedValue s : values) {
                try {
                    contentCheck(namespace).check(s.record());
                } catch (RecordException e) {
                    continue;
                }
                DhtService svc = ((ValueContent.Service) s.content()).service();
                out.add(new Registration(NodeId.fromHex(svc.hostIdentifier()), svc.serviceHosts(), s.expires(), s.writer()));
            }
            out.sort(Comparator.comparing(Registration::id));
            return out;
        });
    }

    /**
     * lookup(k,N): the registered host whose identifier most immediately follows {@code k} (the first identifier
     * ≥ k, wrapping around the ring); empty when no host is registered.
     */
    public CompletableFuture<Optional<Registration>> lookup(NodeId k, String namespace) {
        return hosts(namespace).thenApply(hosts -> successor(hosts, k));
    }

    /** The first registration whose id is ≥ k, else the first of all (hosts sorted by id). */
    static Optional<Registration> successor(List<Registration> sortedHosts, NodeId k) {
        for (Registration r : sortedHosts) {
            if (r.id().compareTo(k) >= 0) {
                return Optional.of(r);
            }
        }
        return sortedHosts.isEmpty() ? Optional.empty() : Optional.of(sortedHosts.get(0));
    }

    /** leave(N,h,i): removes {@code host}'s registration; completes with empty when it had none. */
    public CompletableFuture<Optional<PutResult>> leave(String namespace, SigningIdentity host) {
        return dht.removeAuth(serviceKey(namespace), identifier(host).toHex(), host);
    }

    /**
     * What storing nodes and readers require of a registration under {@code namespace}: the value is a
     * {@code dhtService} of that namespace, its {@code hostIdentifier} and the record's nonce are both the signer's
     * identifier (SHA-1 of its key) in hex, and it lists 1 to {@value #MAX_SERVICE_HOSTS} service hosts.
     */
    public static SignedRecordPolicy.ContentCheck contentCheck(String namespace) {
        return vr -> {
            if (!(vr.record().value().content() instanceof ValueContent.Service s)) {
                throw new RecordException(Refusal.BAD_RECORD, "a service registration holds a dhtService");
            }
            DhtService svc = s.service();
            String id = vr.owner().hex();
            if (!namespace.equals(svc.namespace())) {
                throw new RecordException(Refusal.BAD_RECORD, "the registration's namespace is not " + namespace);
            }
            if (!id.equals(svc.hostIdentifier()) || !id.equals(vr.record().value().nonce())) {
                throw new RecordException(Refusal.NOT_ENTITLED, "a host registers under its own identifier, the SHA-1 of its key");
            }
            if (svc.serviceHosts() == null || svc.serviceHosts().isEmpty() || svc.serviceHosts().size() > MAX_SERVICE_HOSTS) {
                throw new RecordException(Refusal.BAD_RECORD, "a registration lists 1 to " + MAX_SERVICE_HOSTS + " service hosts");
            }
        };
    }
}
