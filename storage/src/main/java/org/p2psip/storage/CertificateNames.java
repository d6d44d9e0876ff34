package org.p2psip.storage;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;

/**
 * Which users a certificate binds. A certificate binds {@code bob@example.net} as a <em>user</em> when a
 * subjectAltName is the rfc822Name {@code bob@example.net} or the URI {@code sip:bob@example.net} (or
 * {@code sips:}), and as a <em>domain</em> when a subjectAltName is the dNSName {@code example.net}. Only when the
 * certificate has none of these subjectAltNames does the subject's CN (as in the draft's example,
 * {@code CN=bob@example.net}) or emailAddress count as a user binding. Host parts compare case-insensitively.
 */
public final class CertificateNames {
    private static final int RFC822 = 1;
    private static final int DNS = 2;
    private static final int URI = 6;
    private static final String EMAIL_OID = "1.2.840.113549.1.9.1";

    private CertificateNames() {
    }

    /** True when the certificate binds {@code user} as a user. */
    public static boolean bindsUser(X509Certificate cert, String user) {
        String want = canonical(user);
        boolean anySan = false;
        for (List<?> san : sans(cert)) {
            int type = (Integer) san.get(0);
            String v = String.valueOf(san.get(1));
            if (type == RFC822 || type == URI || type == DNS) {
                anySan = true;
            }
            if (type == RFC822 && want.equals(canonical(v))) {
                return true;
            }
            if (type == URI) {
                String lower = v.toLowerCase(Locale.ROOT);
                String rest = lower.startsWith("sip:") ? v.substring(4) : lower.startsWith("sips:") ? v.substring(5) : null;
                if (rest != null && want.equals(canonical(rest))) {
                    return true;
                }
            }
        }
        if (anySan) {
            return false;
        }
        try {
            for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
                String t = rdn.getType();
                if ((t.equalsIgnoreCase("CN") || t.equals(EMAIL_OID) || t.equalsIgnoreCase("EMAILADDRESS"))
                        && rdn.getValue() instanceof String s && want.equals(canonical(s))) {
                    return true;
                }
            }
        } catch (InvalidNameException e) {
            return false;
        }
        return false;
    }

    /** True when the certificate binds the whole {@code domain} (a dNSName subjectAltName). */
    public static boolean bindsDomain(X509Certificate cert, String domain) {
        for (List<?> san : sans(cert)) {
            if ((Integer) san.get(0) == DNS && domain.equalsIgnoreCase(String.valueOf(san.get(1)))) {
                return true;
            }
        }
        return false;
    }

    /** True when the certificate binds the user of {@code name}, as user or through its domain. */
    public static boolean binds(X509Certificate cert, ResourceName name) {
        return bindsUser(cert, name.user()) || bindsDomain(cert, name.domain());
    }

    private static Collection<List<?>> sans(X509Certificate cert) {
        try {
            Collection<List<?>> s = cert.getSubjectAlternativeNames();
            return s == null ? List.of() : s;
        } catch (CertificateParsingException e) {
            return List.of();
        }
    }

    /** user@HOST with the host in lower case. */
    private static String canonical(String user) {
        int at = user.lastIndexOf('@');
        return at < 0 ? user : user.substring(0, at + 1) + user.substring(at + 1).toLowerCase(Locale.ROOT);
    }
}
