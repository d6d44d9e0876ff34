package org.p2psip.nat.dtls;

import java.io.IOException;
import java.util.Vector;
import org.bouncycastle.tls.AlertDescription;
import org.bouncycastle.tls.Certificate;
import org.bouncycastle.tls.CertificateRequest;
import org.bouncycastle.tls.CipherSuite;
import org.bouncycastle.tls.ClientCertificateType;
import org.bouncycastle.tls.DefaultTlsClient;
import org.bouncycastle.tls.DefaultTlsServer;
import org.bouncycastle.tls.ProtocolVersion;
import org.bouncycastle.tls.SignatureAndHashAlgorithm;
import org.bouncycastle.tls.TlsAuthentication;
import org.bouncycastle.tls.TlsCredentialedSigner;
import org.bouncycastle.tls.TlsCredentials;
import org.bouncycastle.tls.TlsFatalAlert;
import org.bouncycastle.tls.TlsServerCertificate;
import org.bouncycastle.tls.crypto.TlsCertificate;
import org.bouncycastle.tls.crypto.TlsCryptoParameters;
import org.bouncycastle.tls.crypto.impl.bc.BcDefaultTlsCredentialedSigner;
import org.bouncycastle.tls.crypto.impl.bc.BcTlsCrypto;
import org.p2psip.overlay.NodeId;

/**
 * The Bouncy Castle DTLS 1.2 peers: both sides present their node certificate and sign with Ed25519, the
 * server requests the client's certificate, and each checks the other's with {@link PeerCertificates}. Cipher
 * suites are ECDHE_ECDSA only (the only ones that use an Ed25519 certificate; {@code DefaultTlsServer}'s default
 * list would pick an RSA suite and fail with internal_error).
 */
final class NodeTls {
    static final int[] CIPHER_SUITES = {
        CipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    };

    private NodeTls() {
    }

    /** Ed25519 is the only signature scheme offered and accepted. */
    @SuppressWarnings({"rawtypes", "unchecked"})
    static Vector ed25519Only() {
        Vector v = new Vector(1);
        v.add(SignatureAndHashAlgorithm.ed25519);
        return v;
    }

    static Certificate chain(BcTlsCrypto crypto, DtlsIdentity identity) throws IOException {
        return new Certificate(new TlsCertificate[] {crypto.createCertificate(identity.certificateUnsafe())});
    }

    /** Receives the authenticated peer id and counts refusals. */
    interface Observer {
        void authFailed(String why);
    }

    /** The initiator's side. */
    static final class Client extends DefaultTlsClient {
        private final BcTlsCrypto crypto;
        private final DtlsIdentity identity;
        private final DtlsConfig config;
        private final Observer observer;
        private final int resendMillis;
        volatile NodeId peerId;

        Client(BcTlsCrypto crypto, DtlsIdentity identity, DtlsConfig config, int resendMillis, Observer observer) {
            super(crypto);
            this.resendMillis = resendMillis;
            this.crypto = crypto;
            this.identity = identity;
            this.config = config;
            this.observer = observer;
        }

        @Override
        protected ProtocolVersion[] getSupportedVersions() {
            return ProtocolVersion.DTLSv12.only();
        }

        @Override
        protected int[] getSupportedCipherSuites() {
            return CIPHER_SUITES.clone();
        }

        @Override
        @SuppressWarnings("rawtypes")
        protected Vector getSupportedSignatureAlgorithms() {
            return ed25519Only();
        }

        @Override
        public int getHandshakeTimeoutMillis() {
            return config.handshakeTimeoutMillis();
        }

        @Override
        public int getHandshakeResendTimeMillis() {
            return resendMillis;
        }

        @Override
        public TlsAuthentication getAuthentication() {
            return new TlsAuthentication() {
                @Override
                public void notifyServerCertificate(TlsServerCertificate serverCertificate) throws IOException {
                    try {
                        peerId = PeerCertificates.verify(serverCertificate.getCertificate());
                    } catch (TlsFatalAlert e) {
                        observer.authFailed(e.getMessage());
                        throw e;
                    }
                }

                @Override
                public TlsCredentials getClientCredentials(CertificateRequest request) throws IOException {
                    Vector<?> algs = request.getSupportedSignatureAlgorithms();
                    if (algs != null && !algs.contains(SignatureAndHashAlgorithm.ed25519)) {
                        throw new TlsFatalAlert(AlertDescription.handshake_failure, "the server does not accept Ed25519");
                    }
                    return new BcDefaultTlsCredentialedSigner(new TlsCryptoParameters(context), crypto,
                            identity.privateKey(), chain(crypto, identity), SignatureAndHashAlgorithm.ed25519);
                }
            };
        }
    }

    /** The responder's side. */
    static final class Server extends DefaultTlsServer {
        private final BcTlsCrypto crypto;
        private final DtlsIdentity identity;
        private final DtlsConfig config;
        private final Observer observer;
        private final int resendMillis;
        volatile NodeId peerId;

        Server(BcTlsCrypto crypto, DtlsIdentity identity, DtlsConfig config, int resendMillis, Observer observer) {
            super(crypto);
            this.resendMillis = resendMillis;
            this.crypto = crypto;
            this.identity = identity;
            this.config = config;
            this.observer = observer;
        }

        @Override
        protected ProtocolVersion[] getSupportedVersions() {
            return ProtocolVersion.DTLSv12.only();
        }

        @Override
        protected int[] getSupportedCipherSuites() {
            return CIPHER_SUITES.clone();
        }

        @Override
        public int getHandshakeTimeoutMillis() {
            return config.handshakeTimeoutMillis();
        }

        @Override
        public int getHandshakeResendTimeMillis() {
            return resendMillis;
        }

        @Override
        protected TlsCredentialedSigner getECDSASignerCredentials() throws IOException {
            return new BcDefaultTlsCredentialedSigner(new TlsCryptoParameters(context), crypto, identity.privateKey(),
                    chain(crypto, identity), SignatureAndHashAlgorithm.ed25519);
        }

        @Override
        public CertificateRequest getCertificateRequest() {
            return new CertificateRequest(new short[] {ClientCertificateType.ecdsa_sign}, ed25519Only(), null);
        }

        @Override
        public void notifyClientCertificate(Certificate clientCertificate) throws IOException {
            try {
                peerId = PeerCertificates.verify(clientCertificate);
            } catch (TlsFatalAlert e) {
                observer.authFailed(e.getMessage());
                throw e;
            }
        }
    }
}
