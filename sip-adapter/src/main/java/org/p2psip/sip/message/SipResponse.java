package org.p2psip.sip.message;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** A SIP response. */
public final class SipResponse extends SipMessage {
    /** The single-valued header fields a response copies from its request (§8.2.6.2), in their order. */
    static final List<String> COPIED = List.of(HeaderNames.FROM, HeaderNames.TO, HeaderNames.CALL_ID,
            HeaderNames.CSEQ);

    private final int status;
    private final String reason;

    public SipResponse(int status, String reason, Headers headers, byte[] body) {
        super(headers, body);
        if (status < 100 || status > 699) {
            throw new IllegalArgumentException("status out of range: " + status);
        }
        if (reason.indexOf('\r') >= 0 || reason.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("reason phrase contains CR or LF");
        }
        this.status = status;
        this.reason = reason;
    }

    public int status() {
        return status;
    }

    public String reason() {
        return reason;
    }

    public boolean isProvisional() {
        return status < 200;
    }

    public boolean isSuccess() {
        return status >= 200 && status < 300;
    }

    public boolean isFinal() {
        return status >= 200;
    }

    @Override
    public boolean isRequest() {
        return false;
    }

    @Override
    public SipResponse withHeaders(Headers h) {
        return new SipResponse(status, reason, h, bodyRef()).reuseParsed(this);
    }

    /**
     * A response to {@code request} per RFC 3261 §8.2.6: Via, From, To, Call-ID and CSeq copied; a To tag added
     * (except for 100) if the request had none. Raw header values are copied, so this also answers requests that
     * failed to parse.
     */
    public static SipResponse forRequest(SipRequest request, int status, String reason, String toTag) {
        // Built in one list in the order Via..., From, To, Call-ID, CSeq; the request's Header instances are reused,
        // so the response shares (and need not parse again) the request's parsed Via, From and CSeq.
        List<Header> in = request.headers().asList();
        List<Header> out = new ArrayList<>(8);
        for (Header x : in) {
            if (x.name().equals(HeaderNames.VIA)) {
                out.add(x);
            }
        }
        for (String name : COPIED) {
            for (Header x : in) {
                if (x.name().equals(name)) {
                    out.add(x);
                    break;
                }
            }
        }
        if (status > 100) {
            try {
                Address to = request.to();
                if (to.tag().isEmpty()) {
                    String tag = toTag != null ? toTag : Long.toHexString(ThreadLocalRandom.current().nextLong());
                    Header tagged = new Header(HeaderNames.TO, to.withTag(tag).toString());
                    out.replaceAll(x -> x.name().equals(HeaderNames.TO) ? tagged : x);
                }
            } catch (SipParseException e) {
                // A malformed To is copied as it came.
            }
        }
        return new SipResponse(status, reason, Headers.of(out), new byte[0]).reuseParsed(request);
    }

    public static SipResponse forRequest(SipRequest request, int status, String reason) {
        return forRequest(request, status, reason, null);
    }
}
