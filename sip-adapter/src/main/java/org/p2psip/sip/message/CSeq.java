package org.p2psip.sip.message;

/** CSeq: a sequence number below 2^31 (RFC 3261 §8.1.1.5) and a method. */
public record CSeq(long number, String method) {
    public static final long MAX = (1L << 31) - 1;

    public CSeq {
        if (number < 0 || number > MAX) {
            throw new IllegalArgumentException("CSeq number out of range: " + number);
        }
        if (!SipGrammar.isToken(method)) {
            throw new IllegalArgumentException("CSeq method is not a token: " + method);
        }
    }

    public static CSeq parse(String value) {
        Cursor c = new Cursor(value, "CSeq");
        c.skipSws();
        int start = c.pos;
        while (SipGrammar.isDigit(c.peek())) {
            c.pos++;
        }
        String digits = value.substring(start, c.pos);
        long n = SipGrammar.parseBoundedDigits(digits, MAX, "CSeq");
        if (!SipGrammar.isWsp(c.peek())) {
            throw c.fail("expected LWS before the method");
        }
        c.skipSws();
        String method = c.token();
        c.skipSws();
        if (!c.atEnd()) {
            throw c.fail("junk after method");
        }
        return new CSeq(n, method);
    }

    @Override
    public String toString() {
        return number + " " + method;
    }
}
