package org.p2psip.superpeer.election;

import java.util.concurrent.CompletableFuture;
import org.p2psip.superpeer.discovery.Announcement;

/** Checks a claim of public reachability before the election counts it. */
public interface ReachabilityVerifier {
    /** Completes with true when the claimant proved it is reachable at its claimed public address; never fails. */
    CompletableFuture<Boolean> verify(Announcement claimant);

    /** Believes nobody: every public claim is downgraded. */
    ReachabilityVerifier NONE = a -> CompletableFuture.completedFuture(false);
}
