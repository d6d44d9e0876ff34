package org.p2psip.superpeer.election;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.p2psip.overlay.NodeId;
import org.p2psip.superpeer.discovery.Announcement;
import org.p2psip.superpeer.discovery.Preference;
import org.p2psip.superpeer.discovery.Role;

/**
 * Elects a site's superpeers from its announcement table.
 *
 * <p>Sitting superpeers are the members that announce {@link Role#SUPERPEER} and those this instance seated in
 * its previous result (their announcements may lag the decision by an interval). Without sitting superpeers the result is the top S of the
 * {@link Score#RANKING}, a pure function of the table. With sitting superpeers, hysteresis applies: they keep their
 * seats (the best S of them if there are too many, e.g. after two sites merged), free seats go to the best
 * others in rank order, and a challenger takes the weakest sitting superpeer's seat only when it
 * {@linkplain Score#beatsByMargin beats it by the margin} continuously for the hold time. The hold is the only
 * local state: the time each challenger was first seen beating (kept here, per peer). With a zero hold the
 * result is a pure function of the table, and every peer computes the same result from the same table in any
 * order.
 *
 * <p>Not thread-safe; call from one thread.
 */
public final class Election {
    private final ElectionConfig config;
    private final Map<NodeId, Long> beatingSince = new HashMap<>();
    /** Seats of the previous result: sitting even before their own announcements say SUPERPEER. */
    private Set<NodeId> lastSeated = Set.of();

    public Election(ElectionConfig config) {
        this.config = config;
    }

    /**
     * @param superpeers the elected, best first
     * @param seats      S
     * @param ranking    every candidate's score, best first
     * @param challengers challengers currently beating a seat but still in their hold time
     */
    public record Result(List<NodeId> superpeers, int seats, List<Score> ranking, Set<NodeId> challengers) {
        public boolean elected(NodeId id) {
            return superpeers.contains(id);
        }
    }

    /**
     * @param members        every live member of the site, including this peer's own announcement
     * @param publicVerified whether a node's public-reachability claim has been verified
     * @param nowMillis      a monotonic local time, for the hold
     */
    public Result elect(Collection<Announcement> members, Predicate<NodeId> publicVerified, long nowMillis) {
        return elect(members, publicVerified, nowMillis, Long.MIN_VALUE);
    }

    /**
     * @param wallMillis wall-clock reference to which announced uptimes are extrapolated ({@link Score#of(Announcement,
     *                   boolean, long)}); {@code Long.MIN_VALUE}: take them as announced
     */
    public Result elect(Collection<Announcement> members, Predicate<NodeId> publicVerified, long nowMillis,
                        long wallMillis) {
        List<Score> ranking = new ArrayList<>();
        Set<NodeId> seen = new HashSet<>();
        for (Announcement a : members) {
            if (a.preference() != Preference.NEVER && seen.add(a.nodeId())) {
                ranking.add(Score.of(a, publicVerified.test(a.nodeId()), wallMillis));
            }
        }
        ranking.sort(Score.RANKING);
        int seats = config.seats(countDistinct(members), ranking.size());

        List<Score> seated = new ArrayList<>();
        for (Score s : ranking) {
            if (seated.size() < seats && (s.announcement().role() == Role.SUPERPEER
                    || lastSeated.contains(s.announcement().nodeId()))) {
                seated.add(s);
            }
        }
        List<Score> others = new ArrayList<>();
        for (Score s : ranking) {
            if (!seated.contains(s)) {
                others.add(s);
            }
        }
        // free seats: best others first
        while (seated.size() < seats && !others.isEmpty()) {
            seated.add(others.remove(0));
        }
        seated.sort(Score.RANKING);

        // challenges: best challengers against the weakest seat
        Set<NodeId> stillBeating = new HashSet<>();
        for (Score c : others) {
            if (seated.isEmpty()) {
                break;
            }
            Score weakest = seated.get(seated.size() - 1);
            if (Score.RANKING.compare(c, weakest) >= 0 || !Score.beatsByMargin(c, weakest, config.margin())) {
                continue;
            }
            NodeId cid = c.announcement().nodeId();
            long since = beatingSince.computeIfAbsent(cid, k -> nowMillis);
            if (nowMillis - since >= config.hold().toMillis()) {
                seated.set(seated.size() - 1, c);
                seated.sort(Score.RANKING);
                beatingSince.remove(cid);
            } else {
                stillBeating.add(cid);
            }
        }
        beatingSince.keySet().retainAll(stillBeating);

        List<NodeId> ids = new ArrayList<>(seated.size());
        for (Score s : seated) {
            ids.add(s.announcement().nodeId());
        }
        lastSeated = Set.copyOf(ids);
        return new Result(List.copyOf(ids), seats, List.copyOf(ranking), Set.copyOf(stillBeating));
    }

    private static int countDistinct(Collection<Announcement> members) {
        Set<NodeId> ids = new HashSet<>();
        for (Announcement a : members) {
            ids.add(a.nodeId());
        }
        return ids.size();
    }
}
