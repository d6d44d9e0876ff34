package org.p2psip.superpeer.discovery;

/** Bytes that are not a well-formed announcement (or packet) of this version. */
public final class MalformedAnnouncementException extends Exception {
    public MalformedAnnouncementException(String message) {
        super(message);
    }
}
