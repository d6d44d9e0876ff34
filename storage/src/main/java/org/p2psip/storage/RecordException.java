package org.p2psip.storage;

/** A refused document or record; {@link #getMessage()} is {@code CODE: detail}. */
public class RecordException extends Exception {
    private static final long serialVersionUID = 1L;
    private final Refusal code;

    public RecordException(Refusal code, String detail) {
        super(code.reason(detail));
        this.code = code;
    }

    public RecordException(Refusal code, String detail, Throwable cause) {
        super(code.reason(detail), cause);
        this.code = code;
    }

    public Refusal code() {
        return code;
    }
}
