package org.p2psip.node.xmlrpc;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import org.p2psip.overlay.Bytes;
import org.p2psip.overlay.Dht;
import org.p2psip.overlay.DhtException;
import org.p2psip.overlay.DhtValue;
import org.p2psip.overlay.NodeId;
import org.p2psip.overlay.store.SecretHashPolicy;
import org.p2psip.overlay.wire.Message.Status;

/**
 * OpenDHT's (Bamboo's) XML-RPC gateway methods, with OpenDHT's arguments, limits and return codes, on a
 * {@link Dht} that stores values under {@link SecretHashPolicy}:
 * <ul>
 * <li>{@code put(key, value, ttl, application)} → int</li>
 * <li>{@code put_removable(key, value, "SHA", secret_hash, ttl, application)} → int</li>
 * <li>{@code get(key, maxvals, placemark, application)} → {@code [[value, ...], placemark]}</li>
 * <li>{@code get_details(key, maxvals, placemark, application)} →
 *     {@code [[[value, ttl_remaining, hash_alg, secret_hash], ...], placemark]}</li>
 * <li>{@code rm(key, value_hash, "SHA", secret, ttl, application)} → int</li>
 * </ul>
 * Return codes: 0 Success, 1 Capacity, 2 Again. Arguments over OpenDHT's limits get a fault, as Gateway.java
 * throws for them.
 */
public final class OpenDhtGateway implements XmlRpcHandler {
    public static final int SUCCESS = 0;
    public static final int CAPACITY = 1;
    public static final int AGAIN = 2;
    /** OpenDHT's key size: a key is any 20-byte value; shorter keys are left-padded with zero bytes. */
    public static final int MAX_KEY_BYTES = 20;
    /** OpenDHT's value limit (bamboo_value&lt;1024&gt;). */
    public static final int MAX_VALUE_BYTES = 1024;
    /** OpenDHT's Dht.MAX_TTL_SEC: one week. Longer TTLs are clamped to it. */
    public static final int MAX_TTL_SECONDS = 3600 * 24 * 7;
    public static final int MAX_SECRET_BYTES = 40;
    public static final int MAX_HASH_BYTES = 20;
    /** OpenDHT's bamboo_placemark&lt;100&gt;. */
    public static final int MAX_PLACEMARK_BYTES = 100;
    /** Most values one get returns, whatever maxvals asks for. */
    public static final int MAX_VALS = 1000;
    public static final int MAX_APPLICATION_CHARS = 255;
    /**
     * A get stops adding values once their data reach 1 MiB and returns a placemark (values stored through the
     * control port may be up to 64 KiB each), so one reply stays small whatever maxvals asks for.
     */
    public static final int MAX_REPLY_DATA_BYTES = 1024 * 1024;
    /** How long a DHT operation may take before put/rm answer Again and get answers a fault. */
    public static final long OPERATION_TIMEOUT_SECONDS = 30;

    private final Dht dht;
    private final LongSupplier clock;

    public OpenDhtGateway(Dht dht) {
        this(dht, System::currentTimeMillis);
    }

    public OpenDhtGateway(Dht dht, LongSupplier clock) {
        this.dht = dht;
        this.clock = clock;
    }

    /** Whether this gateway serves {@code method} with these parameters (used to share the name {@code get}). */
    public static boolean serves(String method, List<Object> params) {
        return switch (method) {
            case "put", "put_removable", "get_details", "rm" -> true;
            case "get" -> params.size() == 4;
            default -> false;
        };
    }

    @Override
    public CompletableFuture<Object> call(String method, List<Object> p) throws XmlRpcFault {
        return switch (method) {
            case "put" -> {
                arity(method, p, 4, "put(key, value, ttl, application)");
                NodeId key = key(p.get(0));
                byte[] value = value(p.get(1));
                int ttl = ttl(p.get(2), "ttl");
                application(p.get(3));
                yield put(key, SecretHashPolicy.value(Bytes.of(value), Bytes.EMPTY, expiry(ttl)));
            }
            case "put_removable" -> {
                arity(method, p, 6, "put_removable(key, value, \"SHA\", secret_hash, ttl, application)");
                NodeId key = key(p.get(0));
                byte[] value = value(p.get(1));
                algorithm(p.get(2));
                byte[] secretHash = bytes(p.get(3), "secret_hash");
                if (secretHash.length > MAX_HASH_BYTES) {
                    throw params("secret hash is longer than 20 bytes");
                }
                if (secretHash.length != 0 && secretHash.length != MAX_HASH_BYTES) {
                    throw params("secret hash must be a 20-byte SHA-1 (or empty for a value that cannot be removed)");
                }
                int ttl = ttl(p.get(4), "ttl");
                application(p.get(5));
                Bytes data = Bytes.of(value);
                // secret_hash is already SHA-1(secret): it is the owner as it stands.
                yield put(key, new DhtValue(Bytes.of(secretHash), SecretHashPolicy.sha1(data), data, expiry(ttl)));
            }
            case "get", "get_details" -> {
                arity(method, p, 4, method + "(key, maxvals, placemark, application)");
                NodeId key = key(p.get(0));
                if (!(p.get(1) instanceof Integer maxvals)) {
                    throw params("maxvals must be an int");
                }
                if (maxvals < 1) {
                    throw params("maxvals must be positive");
                }
                byte[] placemark = bytes(p.get(2), "placemark");
                if (placemark.length > MAX_PLACEMARK_BYTES) {
                    throw params("placemark is longer than " + MAX_PLACEMARK_BYTES + " bytes");
                }
                DhtValue.ValueId after = placemark.length == 0 ? null : decodePlacemark(placemark);
                application(p.get(3));
                yield get(key, Math.min(maxvals, MAX_VALS), after, method.equals("get_details"));
            }
            case "rm" -> {
                arity(method, p, 6, "rm(key, value_hash, \"SHA\", secret, ttl, application)");
                NodeId key = key(p.get(0));
                byte[] valueHash = bytes(p.get(1), "value_hash");
                if (valueHash.length > MAX_HASH_BYTES) {
                    throw params("value_hash is longer than 20 bytes");
                }
                algorithm(p.get(2));
                byte[] secret = bytes(p.get(3), "secret");
                if (secret.length > MAX_SECRET_BYTES) {
                    throw params("secret is longer than 40 bytes");
                }
                ttl(p.get(4), "ttl");
                application(p.get(5));
                Bytes s = Bytes.of(secret);
                yield code(dht.remove(key, SecretHashPolicy.sha1(s), Bytes.of(valueHash), s), false);
            }
            default -> throw new XmlRpcFault(XmlRpcFault.METHOD_NOT_FOUND, "no such method: " + method);
        };
    }

    private long expiry(int ttlSeconds) {
        return clock.getAsLong() + ttlSeconds * 1000L;
    }

    private CompletableFuture<Object> put(NodeId key, DhtValue value) {
        return code(dht.put(key, value), true);
    }

    /** Maps a put or remove outcome to OpenDHT's return codes. */
    private static CompletableFuture<Object> code(CompletableFuture<?> op, boolean put) {
        return op.orTimeout(OPERATION_TIMEOUT_SECONDS, TimeUnit.SECONDS).handle((r, e) -> {
            if (e == null) {
                return SUCCESS;
            }
            Throwable c = cause(e);
            if (c instanceof TimeoutException) {
                return AGAIN;
            }
            if (c instanceof DhtException d) {
                if (d.status() == Status.CAPACITY) {
                    return CAPACITY;
                }
                if (d.status() == Status.AGAIN) {
                    return AGAIN;
                }
                // A re-put of a value whose stored copy lives longer: OpenDHT accepts it, and the value is there.
                if (put && d.status() == Status.REFUSED && d.getMessage() != null
                        && d.getMessage().contains("only extend the expiry")) {
                    return SUCCESS;
                }
                throw new CompletionException(new XmlRpcFault(XmlRpcFault.APPLICATION_ERROR, d.getMessage()));
            }
            throw new CompletionException(c);
        });
    }

    private CompletableFuture<Object> get(NodeId key, int maxvals, DhtValue.ValueId after, boolean details) {
        return dht.get(key).orTimeout(OPERATION_TIMEOUT_SECONDS, TimeUnit.SECONDS).handle((values, e) -> {
            if (e != null) {
                Throwable c = cause(e);
                String why = c instanceof TimeoutException ? "the DHT did not answer within " + OPERATION_TIMEOUT_SECONDS + " s"
                        : c.getMessage();
                throw new CompletionException(new XmlRpcFault(XmlRpcFault.APPLICATION_ERROR, why));
            }
            long now = clock.getAsLong();
            List<DhtValue> sorted = new ArrayList<>(values);
            sorted.removeIf(v -> v.expiredAt(now));
            sorted.sort(Comparator.comparing(DhtValue::id));
            List<Object> out = new ArrayList<>();
            DhtValue last = null;
            boolean more = false;
            long bytes = 0;
            for (DhtValue v : sorted) {
                if (after != null && v.id().compareTo(after) <= 0) {
                    continue;
                }
                if (out.size() == maxvals || (!out.isEmpty() && bytes + v.data().length() > MAX_REPLY_DATA_BYTES)) {
                    more = true;
                    break;
                }
                last = v;
                bytes += v.data().length();
                if (details) {
                    boolean removable = !v.owner().isEmpty();
                    long rem = Math.max(0, (v.expiresAtMillis() - now + 999) / 1000);
                    out.add(List.of(v.data().toArray(), (int) Math.min(rem, Integer.MAX_VALUE),
                            removable ? "SHA" : "", v.owner().toArray()));
                } else {
                    out.add(v.data().toArray());
                }
            }
            byte[] placemark = more ? encodePlacemark(last.id()) : new byte[0];
            return List.of(out, placemark);
        });
    }

    /** A placemark: the (owner, nonce) of the last value returned; the next page starts after it. */
    static byte[] encodePlacemark(DhtValue.ValueId id) {
        ByteBuffer b = ByteBuffer.allocate(3 + id.owner().length() + id.nonce().length());
        b.put((byte) 1).put((byte) id.owner().length()).put(id.owner().unsafeArray())
                .put((byte) id.nonce().length()).put(id.nonce().unsafeArray());
        return b.array();
    }

    static DhtValue.ValueId decodePlacemark(byte[] p) throws XmlRpcFault {
        try {
            ByteBuffer b = ByteBuffer.wrap(p);
            if (b.get() != 1) {
                throw new IllegalArgumentException();
            }
            byte[] owner = new byte[b.get() & 0xff];
            b.get(owner);
            byte[] nonce = new byte[b.get() & 0xff];
            b.get(nonce);
            if (b.hasRemaining() || owner.length > DhtValue.MAX_ID_BYTES || nonce.length > DhtValue.MAX_ID_BYTES) {
                throw new IllegalArgumentException();
            }
            return new DhtValue.ValueId(Bytes.of(owner), Bytes.of(nonce));
        } catch (RuntimeException e) {
            throw params("bad placemark: pass the placemark a previous get returned, or an empty one to start");
        }
    }

    private static Throwable cause(Throwable e) {
        while ((e instanceof CompletionException || e instanceof java.util.concurrent.ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        return e;
    }

    // ------------------------------------------------------------------ argument checks

    private static void arity(String method, List<Object> p, int n, String signature) throws XmlRpcFault {
        if (p.size() != n) {
            throw params(method + " takes " + n + " parameters, not " + p.size() + ": " + signature);
        }
    }

    private static byte[] bytes(Object o, String what) throws XmlRpcFault {
        if (o instanceof byte[] b) {
            return b;
        }
        throw params(what + " must be base64 (binary), not " + typeName(o));
    }

    private static NodeId key(Object o) throws XmlRpcFault {
        byte[] k = bytes(o, "key");
        if (k.length > MAX_KEY_BYTES) {
            throw params("key is longer than 20 bytes");
        }
        byte[] full = new byte[NodeId.BYTES];
        System.arraycopy(k, 0, full, NodeId.BYTES - k.length, k.length);
        return NodeId.of(full);
    }

    private static byte[] value(Object o) throws XmlRpcFault {
        byte[] v = bytes(o, "value");
        if (v.length > MAX_VALUE_BYTES) {
            throw params("value is longer than 1024 bytes");
        }
        return v;
    }

    private static int ttl(Object o, String what) throws XmlRpcFault {
        if (!(o instanceof Integer t)) {
            throw params(what + " must be an int, not " + typeName(o));
        }
        if (t < 0) {
            throw params(what + " must not be negative");
        }
        return Math.min(t, MAX_TTL_SECONDS);
    }

    private static void algorithm(Object o) throws XmlRpcFault {
        if (!"SHA".equals(o)) {
            throw params("unknown secret hash algorithm" + (o instanceof String s ? " '" + s + "'" : "") + "; use \"SHA\"");
        }
    }

    private static void application(Object o) throws XmlRpcFault {
        if (!(o instanceof String s)) {
            throw params("application must be a string, not " + typeName(o));
        }
        if (s.length() > MAX_APPLICATION_CHARS) {
            throw params("application is longer than 255 characters");
        }
    }

    static String typeName(Object o) {
        if (o instanceof byte[]) {
            return "base64";
        }
        if (o instanceof Integer) {
            return "int";
        }
        if (o instanceof String) {
            return "string";
        }
        if (o instanceof Boolean) {
            return "boolean";
        }
        if (o instanceof Double) {
            return "double";
        }
        if (o instanceof List) {
            return "array";
        }
        if (o instanceof java.util.Map) {
            return "struct";
        }
        return String.valueOf(o);
    }

    private static XmlRpcFault params(String message) {
        return new XmlRpcFault(XmlRpcFault.INVALID_PARAMS, message);
    }
}
