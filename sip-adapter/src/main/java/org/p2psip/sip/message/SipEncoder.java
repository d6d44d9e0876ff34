package org.p2psip.sip.message;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

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
            if (!h.is(HeaderNames.CONTENT_LENGTH)) {
                sb.append(h.name()).append(": ").append(h.value()).append("\r\n");
            }
        }
        byte[] body = m.bodyRef();
        sb.append(HeaderNames.CONTENT_LENGTH).append(": ").append(body.length).append("\r\n\r\n");
        byte[] head = sb.toString().getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream(head.length + body.length);
        out.writeBytes(head);
        out.writeBytes(body);
        return out.toByteArray();
    }
}
