package org.p2psip.sip.message;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Writes messages in wire form: one header field per line, Content-Length always present and exact. */
public final class SipEncoder {
    private SipEncoder() {
    }

    public static byte[] encode(SipMessage m) {
        StringBuilder sb = new StringBuilder(512);
        if (m instanceof SipRequest r) {
            sb.append(r.method()).append(' ').append(r.requestUri()).append(' ').append(SipMessage.VERSION);
        } else {
            SipResponse s = (SipResponse) m;
            sb.append(SipMessage.VERSION).append(' ').append(s.status()).append(' ').append(s.reason());
        }
        sb.append("\r\n");
        for (Header h : m.headers().asList()) {
            if (h.name() != HeaderNames.CONTENT_LENGTH) { // names are canonical: the constant for Content-Length
                sb.append(h.name()).append(": ").append(h.value()).append("\r\n");
            }
        }
        byte[] body = m.bodyRef();
        sb.append(HeaderNames.CONTENT_LENGTH).append(": ").append(body.length).append("\r\n\r\n");
        byte[] head = sb.toString().getBytes(StandardCharsets.UTF_8);
        if (body.length == 0) {
            return head;
        }
        byte[] out = Arrays.copyOf(head, head.length + body.length);
        System.arraycopy(body, 0, out, head.length, body.length);
        return out;
    }
}
