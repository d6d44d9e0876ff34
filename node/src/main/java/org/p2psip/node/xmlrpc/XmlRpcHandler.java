package org.p2psip.node.xmlrpc;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Serves XML-RPC method calls for {@link XmlRpcServer}. */
public interface XmlRpcHandler {
    /**
     * Serves one call. Returns a future of the result (a value {@link XmlRpcCodec} can encode); a future
     * failed with an {@link XmlRpcFault} becomes that fault, any other failure an internal-error fault.
     * May throw an {@link XmlRpcFault} directly for bad parameters or an unknown method.
     */
    CompletableFuture<Object> call(String method, List<Object> params) throws XmlRpcFault;
}
