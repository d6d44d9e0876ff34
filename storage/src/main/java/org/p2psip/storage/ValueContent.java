package org.p2psip.storage;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import org.p2psip.overlay.Bytes;

/** What a dhtRecord's {@code value} holds. */
public sealed interface ValueContent {
    /** A string: the draft's {@code <string>} element, or plain text. */
    record Text(String text) implements ValueContent {
        public Text {
            Objects.requireNonNull(text, "text");
        }
    }

    /** Opaque bytes: {@code <base64>}. */
    record Binary(Bytes data) implements ValueContent {
        public Binary {
            Objects.requireNonNull(data, "data");
        }
    }

    /**
     * A digest instead of the value: remove-auth carries the hash of the value it removes.
     *
     * @param algorithm a DigestMethod URI, see {@link Namespaces}
     */
    record Digest(String algorithm, Bytes digest) implements ValueContent {
        public Digest {
            Objects.requireNonNull(algorithm, "algorithm");
            Objects.requireNonNull(digest, "digest");
        }
    }

    /** The p2p-sip {@code contacts} of a {@code sip:} name. */
    record Contacts(List<Contact> contacts) implements ValueContent {
        public Contacts {
            contacts = List.copyOf(contacts);
        }
    }

    /** A plain p2p-sip {@code watchers} list (normally it is stored encrypted). */
    record Watchers(List<Watcher> watchers) implements ValueContent {
        public Watchers {
            watchers = List.copyOf(watchers);
        }
    }

    /**
     * A {@code ds:KeyInfo} with X.509 certificates, the value of a {@code certificate:} name.
     *
     * @param subjectName the {@code X509SubjectName}, or null
     * @param certificates leaf first
     */
    record Certificates(String subjectName, List<X509Certificate> certificates) implements ValueContent {
        public Certificates {
            certificates = List.copyOf(certificates);
            if (certificates.isEmpty()) {
                throw new IllegalArgumentException("at least one certificate");
            }
        }
    }

    /**
     * An {@code xenc:EncryptedData} element (watcher lists, offline messages), kept as its serialized XML.
     *
     * @param type the {@code Type} attribute, or null
     * @param xml the element, serialized with its namespace declarations
     */
    record Encrypted(String type, String xml) implements ValueContent {
        public Encrypted {
            Objects.requireNonNull(xml, "xml");
        }
    }

    /** A {@code dhtService} (our extension): a host's signed registration under the service interface. */
    record Service(DhtService service) implements ValueContent {
        public Service {
            Objects.requireNonNull(service, "service");
        }
    }
}
