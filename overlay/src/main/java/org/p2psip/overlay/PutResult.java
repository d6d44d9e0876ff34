package org.p2psip.overlay;

import java.util.List;

/**
 * Outcome of a put or remove that reached at least one replica.
 *
 * @param stored    replicas that accepted the operation
 * @param contacted replicas asked
 * @param refusals  reasons given by replicas that refused
 */
public record PutResult(int stored, int contacted, List<String> refusals) { }
