package org.p2psip.node.xmlrpc;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Dht;
import org.p2psip.overlay.DhtException;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.wire.Message.Status;
import org.p2psip.storage.DhtRecord;
import org.p2psip.storage.Namespaces;
import org.p2psip.storage.RecordException;
import org.p2psip.storage.RecordKey;
import org.p2psip.storage.RecordValue;
import org.p2psip.storage.RecordVerifier;
import org.p2psip.storage.RecordXml;
import org.p2psip.storage.Refusal;
import org.p2psip.storage.ValueContent;
import org.p2psip.storage.VerifiedRecord;
import org.p2psip.storage.api.DraftDht;
import org.p2psip.storage.api.ImmutKey;

/**
 * The methods of draft-singh-p2p-sip §3.4 on {@link DraftDht}. Each takes one document, a {@code dhtRecord}, as an
 * XML-RPC {@code string} or {@code base64}; documents it returns ({@code dhtRecords}) come back the same way (base64
 * when the request's document was base64).
 * <ul>
 * <li>{@code put-auth(dhtRecord)} → boolean: the record as the client signed it (XML-DSig); stored under its key
 *     with owner = SHA-1 of the signer's key, the record's nonce and expiry. The gateway verifies the signature
 *     first; the storing nodes check it and the writer's entitlement again. When every storing node refuses, the
 *     answer is a fault whose {@code faultCode} is the refusal's ({@link Refusal#faultCode()}: 1014
 *     {@code NOT_ENTITLED}, 1015 {@code CERT_EXPIRED}, 1016 {@code CERT_UNTRUSTED}, 1017 {@code REPLAY}, …) and
 *     whose {@code faultString} starts with its name ({@code "CERT_UNTRUSTED: …"}); the same for remove-auth.</li>
 * <li>{@code remove-auth(dhtRecord)} → boolean: a signed record with the same key and nonce whose value is the
 *     SHA-256 digest of the stored value, as {@code SignedValues.remove} makes it; handed to the storing nodes as
 *     the remove proof.</li>
 * <li>{@code get(dhtRecord)} → dhtRecords: every writer's signed records under the record's key (only the key is
 *     read), each checked by the reader (signature, key, owner, nonce, expiry). OpenDHT's {@code get} has 4
 *     parameters; a 1-parameter {@code get} is this one.</li>
 * <li>{@code get-auth(dhtRecord)} → dhtRecords: as get, only the writer's whose H(Kp) is the record's value, a
 *     SHA-1 digest ({@code <value><DigestMethod Algorithm="...#sha1"/><DigestValue>…</DigestValue></value>}).</li>
 * <li>{@code put-immut(dhtRecord)} → boolean: stores the value's content (text or base64) until the value's
 *     {@code expires}, under key = H(content) (ours: SHA-256, {@code immut:sha256:<hex>}).</li>
 * <li>{@code get-immut(dhtRecord)} → dhtRecords: the record's key names the value as {@code immut:sha256:<hex>}
 *     (or is the bare 160-bit digest key); returns one record with the reassembled content as base64.</li>
 * </ul>
 * The service methods {@code join}, {@code leave} and {@code lookup} (dhtService documents) are {@link ServiceGateway}'s.
 */
public final class DraftGateway implements XmlRpcHandler {
    /** Largest document accepted (the body limit bounds it anyway). */
    public static final int MAX_DOCUMENT_BYTES = 128 * 1024;

    private final DraftDht draft;
    private final Dht dht;
    private final RecordVerifier verifier = new RecordVerifier();

    public DraftGateway(Dht dht) {
        this.dht = dht;
        this.draft = new DraftDht(dht);
    }

    /** Whether this gateway serves {@code method} with these parameters. */
    public static boolean serves(String method, List<Object> params) {
        return switch (method) {
            case "put-auth", "remove-auth", "get-auth", "put-immut", "get-immut" -> true;
            case "get" -> params.size() == 1;
            default -> false;
        };
    }

    /** A document parameter: its bytes, and whether it came as base64 (then answers go back as base64). */
    record Doc(byte[] bytes, boolean base64) { }

    @Override
    public CompletableFuture<Object> call(String method, List<Object> p) throws XmlRpcFault {
        if (p.size() != 1) {
            throw params(method + " takes one parameter, a dhtRecord document (string or base64), not " + p.size());
        }
        Doc doc = document(p.get(0));
        try {
            return switch (method) {
                case "put-auth" -> {
                    VerifiedRecord vr = verifier.verify(doc.bytes());
                    RecordValue v = vr.record().value();
                    if (v == null || v.nonce() == null || v.expires() == null) {
                        throw params("a put-auth record needs a value with a nonce and an expiry");
                    }
                    DhtValue value = new DhtValue(vr.owner(), Bytes.utf8(v.nonce()), Bytes.of(doc.bytes()),
                            v.expires().toEpochMilli());
                    yield bool(draft.putAuth(vr.record().key().dhtKey(), value));
                }
                case "remove-auth" -> {
                    VerifiedRecord vr = verifier.verify(doc.bytes());
                    RecordValue v = vr.record().value();
                    if (v == null || v.nonce() == null || !(v.content() instanceof ValueContent.Digest)) {
                        throw params("a remove-auth record needs a value with the nonce and the digest of the stored value");
                    }
                    yield bool(dht.remove(vr.record().key().dhtKey(), vr.owner(), Bytes.utf8(v.nonce()), Bytes.of(doc.bytes())));
                }
                case "get", "get-auth" -> {
                    DhtRecord r = RecordXml.parseRecord(doc.bytes());
                    if (r.key() == null) {
                        throw params(method + " needs a record with a key");
                    }
                    CompletableFuture<List<DraftDht.SignedValue>> f;
                    if (method.equals("get")) {
                        f = draft.get(r.key());
                    } else {
                        if (r.value() == null || !(r.value().content() instanceof ValueContent.Digest d)
                                || !Namespaces.DIGEST_SHA1.equals(d.algorithm())) {
                            throw params("get-auth needs a record whose value is the SHA-1 digest of the writer's public key");
                        }
                        f = draft.getAuth(r.key(), d.digest());
                    }
                    yield timed(f).thenApply(values -> {
                        List<String> xml = new ArrayList<>();
                        for (DraftDht.SignedValue s : values) {
                            xml.add(s.value().data().utf8String());
                        }
                        return out(RecordXml.dhtRecords(xml), doc.base64());
                    });
                }
                case "put-immut" -> {
                    DhtRecord r = RecordXml.parseRecord(doc.bytes());
                    RecordValue v = r.value();
                    if (v == null || v.expires() == null) {
                        throw params("a put-immut record needs a value with an expiry");
                    }
                    byte[] content;
                    if (v.content() instanceof ValueContent.Text t) {
                        content = t.text().getBytes(StandardCharsets.UTF_8);
                    } else if (v.content() instanceof ValueContent.Binary b) {
                        content = b.data().toArray();
                    } else {
                        throw params("a put-immut value holds text or base64");
                    }
                    yield timed(draft.putImmut(content, v.expires())).handle((k, e) -> {
                        if (e != null) {
                            return failure(e);
                        }
                        return Boolean.TRUE;
                    });
                }
                case "get-immut" -> {
                    DhtRecord r = RecordXml.parseRecord(doc.bytes());
                    RecordKey key = r.key();
                    if (key == null) {
                        throw params("get-immut needs a record with a key");
                    }
                    CompletableFuture<java.util.Optional<DraftDht.Immutable>> f;
                    if (key.name() != null) {
                        ImmutKey k;
                        try {
                            k = ImmutKey.fromUri(key.name());
                        } catch (IllegalArgumentException e) {
                            throw params("a get-immut key is " + ImmutKey.URI_PREFIX + "<64 hex digits> or a digest key");
                        }
                        f = draft.getImmut(k);
                    } else {
                        f = draft.getImmut(NodeId.of(key.digest().toArray()));
                    }
                    yield timed(f).thenApply(found -> {
                        List<String> xml = new ArrayList<>();
                        found.ifPresent(im -> xml.add(RecordXml.toXml(new DhtRecord(null, key,
                                new RecordValue(null, im.expires(), null, null, new ValueContent.Binary(Bytes.of(im.value())))))));
                        return out(RecordXml.dhtRecords(xml), doc.base64());
                    });
                }
                default -> throw new XmlRpcFault(XmlRpcFault.METHOD_NOT_FOUND, "no such method: " + method);
            };
        } catch (RecordException e) {
            throw params("refused document: " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw params("refused document: " + e.getMessage());
        }
    }

    static Object out(String xml, boolean base64) {
        return base64 ? xml.getBytes(StandardCharsets.UTF_8) : xml;
    }

    static <T> CompletableFuture<T> timed(CompletableFuture<T> f) {
        return f.orTimeout(OpenDhtGateway.OPERATION_TIMEOUT_SECONDS, TimeUnit.SECONDS).exceptionally(e -> {
            throw new CompletionException(fault(e));
        });
    }

    /** true when a replica accepted; false when every replica refused (policy); a fault when none answered. */
    private static CompletableFuture<Object> bool(CompletableFuture<?> op) {
        return op.orTimeout(OpenDhtGateway.OPERATION_TIMEOUT_SECONDS, TimeUnit.SECONDS).handle((r, e) -> {
            if (e == null) {
                return Boolean.TRUE;
            }
            return failure(e);
        });
    }

    static Object failure(Throwable e) {
        Throwable c = cause(e);
        if (c instanceof XmlRpcFault f) {
            throw new CompletionException(f);
        }
        if (c instanceof DhtException d && d.status() != Status.AGAIN && d.status() != Status.CAPACITY) {
            // the storing nodes' refusal code reaches the writer as the fault code, their reasons as the string
            java.util.Optional<Refusal> why = Refusal.find(d.getMessage());
            if (why.isPresent()) {
                throw new CompletionException(new XmlRpcFault(why.get().faultCode(), why.get().name() + ": " + d.getMessage()));
            }
            return Boolean.FALSE;
        }
        throw new CompletionException(fault(c));
    }

    static XmlRpcFault fault(Throwable e) {
        Throwable c = cause(e);
        if (c instanceof XmlRpcFault f) {
            return f;
        }
        String why = c instanceof TimeoutException
                ? "the DHT did not answer within " + OpenDhtGateway.OPERATION_TIMEOUT_SECONDS + " s"
                : c.getMessage() != null ? c.getMessage() : c.toString();
        return new XmlRpcFault(XmlRpcFault.APPLICATION_ERROR, why);
    }

    private static Throwable cause(Throwable e) {
        while ((e instanceof CompletionException || e instanceof java.util.concurrent.ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    static Doc document(Object o) throws XmlRpcFault {
        Doc d;
        if (o instanceof String s) {
            d = new Doc(s.getBytes(StandardCharsets.UTF_8), false);
        } else if (o instanceof byte[] b) {
            d = new Doc(b, true);
        } else {
            throw params("the document must be a string or base64, not " + OpenDhtGateway.typeName(o));
        }
        if (d.bytes().length > MAX_DOCUMENT_BYTES) {
            throw params("the document is longer than " + MAX_DOCUMENT_BYTES + " bytes");
        }
        return d;
    }

    static XmlRpcFault params(String message) {
        return new XmlRpcFault(XmlRpcFault.INVALID_PARAMS, message);
    }
}
