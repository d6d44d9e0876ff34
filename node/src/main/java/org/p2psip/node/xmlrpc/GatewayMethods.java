package org.p2psip.node.xmlrpc;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.p2psip.overlay.Dht;
import org.p2psip.storage.SigningIdentity;

/**
 * Every method the gateway serves: OpenDHT's ({@link OpenDhtGateway}) and the draft's ({@link DraftGateway} for
 * records, {@link ServiceGateway} for join, leave and lookup).
 * {@code get} is both an OpenDHT and a draft method name; it is told apart by its parameters: OpenDHT's takes 4
 * ({@code key, maxvals, placemark, application}), the draft's takes 1 (a {@code dhtRecord} document).
 */
public final class GatewayMethods implements XmlRpcHandler {
    private final OpenDhtGateway openDht;
    private final DraftGateway draft;
    private final ServiceGateway service;

    /** Serves everything but {@code join} and {@code leave}, which need a host key. */
    public GatewayMethods(Dht dht) {
        this(dht, null);
    }

    /** @param host the key service registrations ({@code join}, {@code leave}) are signed with, or null */
    public GatewayMethods(Dht dht, SigningIdentity host) {
        this(dht, host, new org.p2psip.node.site.HostRegistration());
    }

    /**
     * @param registration the host key's service registration, shared with the peer's own advertisement
     */
    public GatewayMethods(Dht dht, SigningIdentity host, org.p2psip.node.site.HostRegistration registration) {
        this.openDht = new OpenDhtGateway(dht);
        this.draft = new DraftGateway(dht);
        this.service = new ServiceGateway(dht, host, registration);
    }

    @Override
    public CompletableFuture<Object> call(String method, List<Object> params) throws XmlRpcFault {
        if (OpenDhtGateway.serves(method, params)) {
            return openDht.call(method, params);
        }
        if (ServiceGateway.serves(method)) {
            return service.call(method, params);
        }
        if (DraftGateway.serves(method, params)) {
            return draft.call(method, params);
        }
        if (method.equals("get")) {
            throw new XmlRpcFault(XmlRpcFault.INVALID_PARAMS, "get takes 4 parameters (OpenDHT: key, maxvals, placemark, "
                    + "application) or 1 (the draft: a dhtRecord document), not " + params.size());
        }
        throw new XmlRpcFault(XmlRpcFault.METHOD_NOT_FOUND, "no such method: " + method);
    }
}
