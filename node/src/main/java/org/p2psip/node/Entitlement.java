package org.p2psip.node;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import org.p2psip.storage.NameOwners;
import org.p2psip.storage.SignedRecordPolicy;

/**
 * Who may write a name in this overlay (issue 3's entitlement modes), set per overlay: every peer of a deployment
 * must use the same.
 * <ul>
 * <li>{@link #tofu()}: the first key to write a user's name owns it (a home with no CA);</li>
 * <li>{@link #ca(List)}: a certificate chain to these trust anchors must bind the name, as user
 *     ({@code rfc822Name}/{@code sip:} URI) or as domain ({@code dNSName}). Digest keys (the draft's hashed names,
 *     e.g. {@code private:} records) cannot be checked against a certificate; they are taken first-writer-owns, as in
 *     tofu, but only from writers whose certificate chains to the anchors.</li>
 * </ul>
 *
 * @param mode    the mode
 * @param anchors the trust anchors (empty in tofu mode)
 */
public record Entitlement(SignedRecordPolicy.Mode mode, List<X509Certificate> anchors) {
    /** At most this many anchor certificates (a deployment has one or a few CAs). */
    public static final int MAX_ANCHORS = 64;

    public Entitlement {
        Objects.requireNonNull(mode, "mode");
        anchors = List.copyOf(anchors);
        if (mode == SignedRecordPolicy.Mode.CA && anchors.isEmpty()) {
            throw new IllegalArgumentException("ca entitlement needs at least one trust anchor certificate");
        }
        if (mode == SignedRecordPolicy.Mode.TOFU && !anchors.isEmpty()) {
            throw new IllegalArgumentException("tofu entitlement takes no trust anchors; use ca mode to trust a CA");
        }
        if (anchors.size() > MAX_ANCHORS) {
            throw new IllegalArgumentException("at most " + MAX_ANCHORS + " trust anchors, not " + anchors.size());
        }
    }

    /** Trust on first use (the default). */
    public static Entitlement tofu() {
        return new Entitlement(SignedRecordPolicy.Mode.TOFU, List.of());
    }

    /** Certificates chained to {@code anchors} bind names. */
    public static Entitlement ca(Collection<X509Certificate> anchors) {
        return new Entitlement(SignedRecordPolicy.Mode.CA, List.copyOf(anchors));
    }

    /**
     * Reads trust anchor certificates from PEM (or DER) files; a file may hold several certificates.
     *
     * @throws IllegalArgumentException naming the file and what to fix, when a file cannot be read or holds no
     *         X.509 certificate
     */
    public static List<X509Certificate> readAnchors(List<Path> files) {
        List<X509Certificate> out = new ArrayList<>();
        CertificateFactory cf;
        try {
            cf = CertificateFactory.getInstance("X.509");
        } catch (CertificateException e) {
            throw new IllegalStateException("this JVM has no X.509 support", e);
        }
        for (Path f : files) {
            Collection<? extends Certificate> certs;
            try (InputStream in = Files.newInputStream(f)) {
                certs = cf.generateCertificates(in);
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read trust anchor file " + f + ": " + e.getMessage(), e);
            } catch (CertificateException e) {
                throw new IllegalArgumentException("trust anchor file " + f + " is not a PEM or DER X.509 certificate ("
                        + e.getMessage() + "); give the CA certificate, e.g. as written by 'openssl x509 -outform PEM'", e);
            }
            if (certs.isEmpty()) {
                throw new IllegalArgumentException("trust anchor file " + f + " holds no certificate; give the CA certificate in PEM");
            }
            for (Certificate c : certs) {
                out.add((X509Certificate) c);
            }
        }
        return out;
    }

    /** The storing node's signed-record policy for this mode; {@code owners} keeps first-writer claims. */
    public SignedRecordPolicy policy(NameOwners owners) {
        return policy(owners, null);
    }

    /**
     * As {@link #policy(NameOwners)}; values this process signed with {@code signedHere} (the node's own SIP adapter)
     * are not verified again in the local replica. Null: every value is verified.
     */
    public SignedRecordPolicy policy(NameOwners owners, org.p2psip.storage.LocallySigned signedHere) {
        return mode == SignedRecordPolicy.Mode.CA ? SignedRecordPolicy.ca(anchors, true, owners, signedHere)
                : SignedRecordPolicy.tofu(owners, signedHere);
    }

    @Override
    public String toString() {
        if (mode == SignedRecordPolicy.Mode.TOFU) {
            return "tofu";
        }
        List<String> names = new ArrayList<>();
        for (X509Certificate a : anchors) {
            names.add(a.getSubjectX500Principal().getName());
        }
        return "ca " + names;
    }
}
