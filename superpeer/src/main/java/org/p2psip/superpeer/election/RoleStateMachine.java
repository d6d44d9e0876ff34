package org.p2psip.superpeer.election;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import org.p2psip.superpeer.discovery.Role;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A peer's role. An eligible peer starts as {@link Role#CANDIDATE} while its table fills (the warm-up), a peer
 * with preference {@code never} starts as {@link Role#LEAF}. Allowed transitions:
 * <pre>
 *   CANDIDATE → SUPERPEER   elected after warm-up
 *   CANDIDATE → LEAF        not elected after warm-up
 *   LEAF      → SUPERPEER   a seat fell free (a superpeer expired) and this peer is next best
 *   SUPERPEER → LEAF        unseated by a challenger that held its lead, or by a merge with too many superpeers
 * </pre>
 * Each transition is logged at INFO with its reason and reported to the listener.
 */
public final class RoleStateMachine {
    private static final Logger log = LoggerFactory.getLogger(RoleStateMachine.class);
    private static final Map<Role, Set<Role>> ALLOWED = new EnumMap<>(Role.class);

    static {
        ALLOWED.put(Role.CANDIDATE, EnumSet.of(Role.SUPERPEER, Role.LEAF));
        ALLOWED.put(Role.LEAF, EnumSet.of(Role.SUPERPEER));
        ALLOWED.put(Role.SUPERPEER, EnumSet.of(Role.LEAF));
    }

    private final String name;
    private final BiConsumer<Role, Role> listener;
    private volatile Role role;

    public RoleStateMachine(String name, boolean eligible, BiConsumer<Role, Role> listener) {
        this.name = name;
        this.listener = listener;
        this.role = eligible ? Role.CANDIDATE : Role.LEAF;
        log.info("{}: role {} ({})", name, role, eligible ? "eligible, warming up" : "preference never");
    }

    public Role role() {
        return role;
    }

    /** Applies an election outcome; returns true if the role changed. */
    public synchronized boolean onElection(boolean elected, String reason) {
        Role target = elected ? Role.SUPERPEER : Role.LEAF;
        return transition(target, reason);
    }

    public synchronized boolean transition(Role target, String reason) {
        Role from = role;
        if (from == target) {
            return false;
        }
        if (!ALLOWED.get(from).contains(target)) {
            throw new IllegalStateException(name + ": illegal role transition " + from + " -> " + target);
        }
        role = target;
        log.info("{}: role {} -> {} ({})", name, from, target, reason);
        listener.accept(from, target);
        return true;
    }
}
