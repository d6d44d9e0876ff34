package org.p2psip.nat.stun;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A STUN message: method, class, transaction id and attributes. Built with {@link #builder}, written and read by
 * {@link StunCodec}. A decoded message also remembers its raw bytes so that MESSAGE-INTEGRITY can be checked over
 * exactly the bytes that were received ({@link StunCodec#checkIntegrity}).
 */
public final class StunMessage {
    /** The Binding method, the only one RFC 8489 defines. */
    public static final int BINDING = 0x001;
    /** TURN methods (RFC 8656 section 18). */
    public static final int ALLOCATE = 0x003;
    public static final int REFRESH = 0x004;
    public static final int SEND = 0x006;
    public static final int DATA = 0x007;
    public static final int CREATE_PERMISSION = 0x008;
    public static final int CHANNEL_BIND = 0x009;
    public static final int MAGIC_COOKIE = 0x2112A442;
    public static final int HEADER_LENGTH = 20;

    private final int method;
    private final StunClass messageClass;
    private final TransactionId transactionId;
    private final int cookie;
    private final List<StunAttribute> attributes;
    // Only for decoded messages:
    private final byte[] raw;
    private final int integrityOffset;
    private final int integritySha256Offset;
    private final List<Integer> unknownComprehensionRequired;

    StunMessage(int method, StunClass messageClass, TransactionId transactionId, int cookie,
            List<StunAttribute> attributes, byte[] raw, int integrityOffset, int integritySha256Offset,
            List<Integer> unknownComprehensionRequired) {
        if (method < 0 || method > 0xFFF) {
            throw new IllegalArgumentException("method out of range 0..0xFFF: " + method);
        }
        this.method = method;
        this.messageClass = Objects.requireNonNull(messageClass, "messageClass");
        this.transactionId = Objects.requireNonNull(transactionId, "transactionId");
        this.cookie = cookie;
        this.attributes = List.copyOf(attributes);
        this.raw = raw;
        this.integrityOffset = integrityOffset;
        this.integritySha256Offset = integritySha256Offset;
        this.unknownComprehensionRequired = List.copyOf(unknownComprehensionRequired);
    }

    public static Builder builder(int method, StunClass messageClass, TransactionId transactionId) {
        return new Builder(method, messageClass, transactionId);
    }

    /** A Binding request with a fresh random transaction id. */
    public static Builder bindingRequest() {
        return builder(BINDING, StunClass.REQUEST, TransactionId.random());
    }

    /** A response (success or error) to {@code request}: same method, transaction id and cookie. */
    public static Builder responseTo(StunMessage request, StunClass responseClass) {
        if (!responseClass.isResponse()) {
            throw new IllegalArgumentException("not a response class: " + responseClass);
        }
        Builder b = builder(request.method, responseClass, request.transactionId);
        b.cookie = request.cookie;
        return b;
    }

    public int method() {
        return method;
    }

    public StunClass messageClass() {
        return messageClass;
    }

    public TransactionId transactionId() {
        return transactionId;
    }

    /** The 32 bits after the type and length: {@link #MAGIC_COOKIE} unless this is an RFC 3489 message. */
    public int cookie() {
        return cookie;
    }

    /** An RFC 3489 ("classic") message, without the magic cookie. */
    public boolean isClassic() {
        return cookie != MAGIC_COOKIE;
    }

    public List<StunAttribute> attributes() {
        return attributes;
    }

    /** The first attribute of the given kind (RFC 8489: later duplicates are ignored). */
    public <T extends StunAttribute> Optional<T> get(Class<T> kind) {
        for (StunAttribute a : attributes) {
            if (kind.isInstance(a)) {
                return Optional.of(kind.cast(a));
            }
        }
        return Optional.empty();
    }

    public boolean has(Class<? extends StunAttribute> kind) {
        return get(kind).isPresent();
    }

    /** The reflexive address: XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS. */
    public Optional<InetSocketAddress> mappedAddress() {
        Optional<InetSocketAddress> x = get(StunAttribute.XorMappedAddress.class).map(StunAttribute.XorMappedAddress::address);
        return x.isPresent() ? x : get(StunAttribute.MappedAddress.class).map(StunAttribute.MappedAddress::address);
    }

    /** Comprehension-required attribute types this codec does not understand (a server answers 420 with them). */
    public List<Integer> unknownComprehensionRequired() {
        return unknownComprehensionRequired;
    }

    /** The bytes this message was decoded from, or null for a built message. */
    byte[] raw() {
        return raw;
    }

    int integrityOffset() {
        return integrityOffset;
    }

    int integritySha256Offset() {
        return integritySha256Offset;
    }

    @Override
    public String toString() {
        return String.format("StunMessage[method=0x%03x, %s, tid=%s%s, %s]", method, messageClass, transactionId,
                isClassic() ? ", classic" : "", attributes);
    }

    /** Builds a message. MESSAGE-INTEGRITY and FINGERPRINT are not added here: the encoder computes them. */
    public static final class Builder {
        private final int method;
        private final StunClass messageClass;
        private final TransactionId transactionId;
        private int cookie = MAGIC_COOKIE;
        private final List<StunAttribute> attributes = new ArrayList<>();

        private Builder(int method, StunClass messageClass, TransactionId transactionId) {
            this.method = method;
            this.messageClass = Objects.requireNonNull(messageClass, "messageClass");
            this.transactionId = Objects.requireNonNull(transactionId, "transactionId");
        }

        public Builder add(StunAttribute attribute) {
            int t = attribute.type();
            if (t == AttributeType.MESSAGE_INTEGRITY || t == AttributeType.MESSAGE_INTEGRITY_SHA256
                    || t == AttributeType.FINGERPRINT) {
                throw new IllegalArgumentException("integrity and fingerprint are written by StunCodec.encode");
            }
            attributes.add(attribute);
            return this;
        }

        public StunMessage build() {
            return new StunMessage(method, messageClass, transactionId, cookie, attributes, null, -1, -1, List.of());
        }
    }
}
