package org.p2psip.nat.lab;

/** A lab command failed, or the machine cannot host the lab; the message names the command and its output. */
public final class LabException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LabException(String message) {
        super(message);
    }
}
