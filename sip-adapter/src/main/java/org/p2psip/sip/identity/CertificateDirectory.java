package org.p2psip.sip.identity;

import java.security.cert.X509Certificate;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.p2psip.storage.CertificateNames;
import org.p2psip.storage.ResourceName;
import org.p2psip.storage.ValueContent;
import org.p2psip.storage.api.DraftDht;

/**
 * Finds a user's certificate in the overlay (the {@code certificate:user@domain} record), so that others can
 * encrypt to the user (offline messages, watcher lists). A value counts only when its signature verifies (the
 * reader's check in {@link DraftDht}), its leaf certificate names the user, and it was signed by that certificate's
 * own key; with several, the one that expires last wins.
 */
public final class CertificateDirectory {
    private final DraftDht dht;

    public CertificateDirectory(DraftDht dht) {
        this.dht = dht;
    }

    /** The certificate of {@code user} ({@code bob@example.net}), or empty when none is published. */
    public CompletableFuture<Optional<X509Certificate>> find(String user) {
        ResourceName name;
        try {
            name = ResourceName.certificate(user);
        } catch (IllegalArgumentException e) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        return dht.get(name).thenApply(values -> values.stream()
                .filter(v -> v.content() instanceof ValueContent.Certificates c
                        && CertificateNames.bindsUser(c.certificates().get(0), user)
                        && c.certificates().get(0).getPublicKey().equals(v.record().signerKey()))
                .max(Comparator.comparing(DraftDht.SignedValue::expires))
                .map(v -> ((ValueContent.Certificates) v.content()).certificates().get(0)));
    }
}
