package org.p2psip.sip.transport;

import java.net.InetSocketAddress;
import java.util.Optional;
import org.p2psip.nat.stun.StunAttribute;
import org.p2psip.nat.stun.StunClass;
import org.p2psip.nat.stun.StunCodec;
import org.p2psip.nat.stun.StunDecodeException;
import org.p2psip.nat.stun.StunMessage;

/**
 * STUN keepalives on the SIP UDP port (RFC 5626 §4.4.2, §8.4): a phone behind NAT sends STUN Binding requests to its
 * registrar's SIP port to keep the NAT binding open and to learn whether its mapped address changed. The answer is a
 * Binding success with XOR-MAPPED-ADDRESS (the source as seen here) and FINGERPRINT. Only RFC 5389 Binding requests
 * with the magic cookie are answered; anything else (other methods, classic RFC 3489, malformed) gets nothing.
 */
final class StunKeepalives {
    private StunKeepalives() {
    }

    /** The response to a STUN datagram from {@code sender}, or empty when it is not a Binding request to answer. */
    static Optional<byte[]> answer(byte[] datagram, InetSocketAddress sender) {
        if (!StunCodec.looksLikeStun(datagram, 0, datagram.length)) {
            return Optional.empty();
        }
        StunMessage request;
        try {
            request = StunCodec.decode(datagram, 0, datagram.length, StunCodec.DecodeOptions.strict());
        } catch (StunDecodeException | RuntimeException e) {
            return Optional.empty();
        }
        if (request.method() != StunMessage.BINDING || request.messageClass() != StunClass.REQUEST
                || request.isClassic() || !request.unknownComprehensionRequired().isEmpty()) {
            return Optional.empty();
        }
        StunMessage response = StunMessage.responseTo(request, StunClass.SUCCESS_RESPONSE)
                .add(new StunAttribute.XorMappedAddress(sender)).build();
        return Optional.of(StunCodec.encode(response, StunCodec.EncodeOptions.fingerprinted()));
    }
}
