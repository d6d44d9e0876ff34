package org.p2psip.storage.api;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.p2psip.overlay.PutResult;
import org.p2psip.storage.DhtRecord;
import org.p2psip.storage.Namespaces;
import org.p2psip.storage.RecordCrypto;
import org.p2psip.storage.RecordException;
import org.p2psip.storage.ResourceName;
import org.p2psip.storage.SigningIdentity;
import org.p2psip.storage.ValueContent;

/**
 * Offline messages (draft §4.4) of any size: the content is encrypted to the recipient's key
 * ({@link RecordCrypto}); up to {@link #INLINE_BYTES} the cipher bytes sit in the record's {@code CipherValue},
 * larger content (a voice message) is stored with put-immut, fragmented as needed, and the signed record under
 * {@code offline:<user>} holds an EncryptedData whose {@code CipherReference URI} is the immutable key
 * ({@code immut:sha256:<hex>}). The signature covers that URI, and the URI names the cipher bytes by SHA-256, so the
 * whole message is bound to the sender's signature. Storing nodes see neither the content nor its type's payload.
 */
public final class OfflineMessages {
    /** {@code Type} of an encrypted voice message (ours, like the draft's {@code #watchers}). */
    public static final String TYPE_AUDIO = Namespaces.P2P_SIP + "#offline-audio";
    /** Content up to this size travels inline in the signed record. */
    public static final int INLINE_BYTES = 16 * 1024;

    private final DraftDht dht;

    public OfflineMessages(DraftDht dht) {
        this.dht = Objects.requireNonNull(dht, "dht");
    }

    /** A message read back: who signed it (the value and verified record) and the decrypted content. */
    public record Message(DraftDht.SignedValue from, String type, byte[] content) { }

    /**
     * Leaves a message for {@code user}: encrypts {@code content} to {@code recipientKey}, stores large cipher bytes
     * immutably until {@code expires}, then put-auths the signed record under {@code offline:<user>} with
     * {@code nonce}.
     */
    public CompletableFuture<PutResult> leave(String user, PublicKey recipientKey, String recipientKeyName, String type,
            byte[] content, SigningIdentity sender, Instant expires, String nonce) {
        ResourceName name = ResourceName.offline(user);
        try {
            if (content.length <= INLINE_BYTES) {
                ValueContent.Encrypted enc = RecordCrypto.encrypt(content, type, recipientKey, recipientKeyName);
                return dht.putAuth(DhtRecord.of(name, expires, nonce, enc), sender);
            }
            // the URI is the hash of the cipher bytes, known only after encrypting: encrypt, hash, then write the URI
            RecordCrypto.Detached d = RecordCrypto.encrypt(content, type, recipientKey, recipientKeyName, "immut:pending");
            List<byte[]> nodes = DraftDht.fragment(d.cipherBytes(), dht.options().chunkBytes());
            ImmutKey key = ImmutableValues.keyOf(nodes.get(nodes.size() - 1));
            ValueContent.Encrypted enc = new ValueContent.Encrypted(type,
                    d.content().xml().replace("URI=\"immut:pending\"", "URI=\"" + key.uri() + "\""));
            return dht.putImmut(d.cipherBytes(), expires).thenCompose(k -> dht.putAuth(DhtRecord.of(name, expires, nonce, enc), sender));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * Reads and decrypts the messages left for {@code user}. Messages this key cannot open, or whose detached
     * content is missing or altered, fail the future with {@link RecordException} or {@link IOException}.
     */
    public CompletableFuture<List<Message>> fetch(String user, PrivateKey recipientKey) {
        return dht.get(ResourceName.offline(user)).thenCompose(values -> {
            CompletableFuture<List<Message>> all = CompletableFuture.completedFuture(new ArrayList<>());
            for (DraftDht.SignedValue s : values) {
                if (!(s.content() instanceof ValueContent.Encrypted enc)) {
                    continue;
                }
                all = all.thenCompose(list -> open(s, enc, recipientKey).thenApply(m -> {
                    list.add(m);
                    return list;
                }));
            }
            return all;
        });
    }

    private CompletableFuture<Message> open(DraftDht.SignedValue s, ValueContent.Encrypted enc, PrivateKey key) {
        try {
            String uri = RecordCrypto.cipherReference(enc);
            if (uri == null) {
                return CompletableFuture.completedFuture(new Message(s, enc.type(), RecordCrypto.decrypt(enc, key)));
            }
            ImmutKey ref = ImmutKey.fromUri(uri);
            return dht.getImmut(ref).thenApply(v -> {
                if (v.isEmpty()) {
                    throw new java.util.concurrent.CompletionException(new IOException("the message content " + uri + " is gone"));
                }
                try {
                    return new Message(s, enc.type(), RecordCrypto.decrypt(enc, key, v.get().value()));
                } catch (RecordException e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
        } catch (RecordException | IllegalArgumentException e) {
            return CompletableFuture.failedFuture(e);
        }
    }
}
