package org.p2psip.storage;

import java.time.Instant;
import java.util.Objects;

/**
 * One {@code watcher} of the p2p-sip namespace: {@code entity} watches the resource {@code uri} for {@code event}.
 *
 * @param uri the watched resource (the element's text), e.g. {@code sip:bob@example.net}
 * @param id the {@code Id} attribute, or null
 * @param event the event package, e.g. {@code presence} (the attribute the draft's schema forgot)
 * @param entity who watches, e.g. {@code alice@home.com}
 * @param expires or null
 */
public record Watcher(String uri, String id, String event, String entity, Instant expires) {
    public Watcher {
        Objects.requireNonNull(uri, "uri");
        expires = expires == null ? null : Times.truncate(expires);
    }
}
