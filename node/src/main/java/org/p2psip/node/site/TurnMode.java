package org.p2psip.node.site;

import java.util.Locale;
import org.p2psip.superpeer.discovery.NatInfo;

/**
 * When a superpeer runs its TURN server ({@code --turn}): {@link #AUTO} only while it is publicly reachable (NAT
 * discovery found no NAT, or a port mapping), {@link #ON} whenever it is a superpeer, {@link #OFF} never.
 */
public enum TurnMode {
    AUTO, ON, OFF;

    /** Parses {@code auto}, {@code on} or {@code off} (any case); a clear error otherwise. */
    public static TurnMode parse(String s) {
        try {
            return valueOf(s.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("turn must be 'auto', 'on' or 'off', not '" + s + "'");
        }
    }

    /** Whether a superpeer whose NAT discovery found {@code nat} runs the server. */
    public boolean runs(NatInfo nat) {
        return switch (this) {
            case ON -> true;
            case OFF -> false;
            case AUTO -> publiclyReachable(nat);
        };
    }

    /** No NAT (as discovered), or a port mapping granted by the router. */
    public static boolean publiclyReachable(NatInfo nat) {
        return Boolean.FALSE.equals(nat.natDetected()) || nat.portMapped();
    }
}
