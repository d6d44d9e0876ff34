package org.p2psip.node.xmlrpc;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.p2psip.overlay.Dht;

/**
 * Every method the gateway serves: OpenDHT's ({@link OpenDhtGateway}) and the draft's ({@link DraftGateway}).
 * {@code get} is both an OpenDHT and a draft method name; it is told apart by its parameters: OpenDHT's takes 4
 * ({@code key, maxvals, placemark, application}), the draft's takes 1 (a {@code dhtRecord} document).
 */
public final class GatewayMethods implements XmlRpcHandler {
    private final OpenDhtGateway openDht;
    private final DraftGateway draft;

    public GatewayMethods(Dht dht) {
        this.openDht = new OpenDhtGateway(dht);
        this.draft = new DraftGateway(dht);
    }

    @Override
    public CompletableFuture<Object> call(String method, List<Object> params) throws XmlRpcFault {
        if (OpenDhtGateway.serves(method, params)) {
            return openDht.call(method, params);
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
