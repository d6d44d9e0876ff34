package org.p2psip.storage;

/** The XML namespaces and algorithm URIs the records use. */
public final class Namespaces {
    public static final String DHT = "urn:ietf:params:xml:ns:dht";
    public static final String P2P_SIP = "urn:ietf:params:xml:ns:p2p-sip";
    public static final String DSIG = "http://www.w3.org/2000/09/xmldsig#";
    public static final String XENC = "http://www.w3.org/2001/04/xmlenc#";

    /** SHA-1, the draft's default and the overlay's key hash (only for key digests, never for signatures). */
    public static final String DIGEST_SHA1 = "http://www.w3.org/2000/09/xmldsig#sha1";
    public static final String DIGEST_SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256";
    public static final String DIGEST_SHA384 = "http://www.w3.org/2001/04/xmldsig-more#sha384";
    public static final String DIGEST_SHA512 = "http://www.w3.org/2001/04/xmlenc#sha512";

    public static final String SIG_ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";
    public static final String SIG_ECDSA_SHA384 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384";
    public static final String SIG_ECDSA_SHA512 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512";
    public static final String SIG_ED25519 = "http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519";

    /** The {@code Type} of an encrypted watcher list, as in the draft. */
    public static final String TYPE_WATCHERS = P2P_SIP + "#watchers";

    private Namespaces() {
    }
}
