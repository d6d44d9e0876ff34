package org.p2psip.storage;

import java.util.List;
import java.util.Objects;

/**
 * The draft's {@code dhtService} (join, lookup, leave): a namespace, a key, the host's identifier and the
 * services it offers, e.g. {@code presence}, {@code stun} and {@code turn} for namespace {@code p2p-sip}.
 */
public record DhtService(String namespace, RecordKey key, String hostIdentifier, List<ServiceHost> serviceHosts) {
    public DhtService {
        serviceHosts = serviceHosts == null ? null : List.copyOf(serviceHosts);
    }

    /** One {@code serviceHost}: a URI offering {@code service}. */
    public record ServiceHost(String service, String uri, String id) {
        public ServiceHost {
            Objects.requireNonNull(uri, "uri");
        }
    }
}
