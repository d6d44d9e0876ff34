package org.p2psip.node.identity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.Signature;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.p2psip.overlay.NodeId;

class NodeKeysTest {
    @TempDir
    Path tmp;

    @Test
    void createsOnFirstRunAndReloadsTheSameId() throws Exception {
        Path dir = tmp.resolve("data");
        NodeKeys first = NodeKeys.loadOrCreate(dir);
        assertTrue(Files.isRegularFile(dir.resolve(NodeKeys.PRIVATE_FILE)));
        assertTrue(Files.isRegularFile(dir.resolve(NodeKeys.PUBLIC_FILE)));
        NodeKeys again = NodeKeys.loadOrCreate(dir);
        assertEquals(first.id(), again.id());
        assertArrayEquals(first.rawPublicKey(), again.rawPublicKey());
        assertEquals(first.id(), NodeKeys.load(dir).id());
        // A different directory is a different identity.
        assertNotEquals(first.id(), NodeKeys.loadOrCreate(tmp.resolve("other")).id());
    }

    @Test
    void idIsSha1OfTheRaw32ByteKey() {
        NodeKeys k = NodeKeys.generate();
        byte[] x509 = k.publicKey().getEncoded();
        assertEquals(44, x509.length);
        byte[] raw = Arrays.copyOfRange(x509, 12, 44);
        assertArrayEquals(raw, k.rawPublicKey());
        assertEquals(NodeId.sha1(raw), k.id());
    }

    @Test
    void signaturesVerifyWithThePublicKey() throws Exception {
        NodeKeys k = NodeKeys.generate();
        byte[] msg = "hello".getBytes();
        Signature v = Signature.getInstance("Ed25519");
        v.initVerify(k.publicKey());
        v.update(msg);
        assertTrue(v.verify(k.sign(msg)));
    }

    @Test
    void privateKeyIsOwnerOnlyOnPosix() throws Exception {
        Path dir = tmp.resolve("data");
        NodeKeys.loadOrCreate(dir);
        if (Files.getFileStore(dir).supportsFileAttributeView("posix")) {
            assertEquals("rw-------", PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(dir.resolve(NodeKeys.PRIVATE_FILE))));
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        }
    }

    @Test
    void corruptPrivateKeyGivesAClearError() throws Exception {
        Path dir = tmp.resolve("data");
        NodeKeys.loadOrCreate(dir);
        Path priv = dir.resolve(NodeKeys.PRIVATE_FILE);
        Files.writeString(priv, "-----BEGIN PRIVATE KEY-----\nAAAAbm90IGEga2V5\n-----END PRIVATE KEY-----\n");
        IOException e = assertThrows(IOException.class, () -> NodeKeys.loadOrCreate(dir));
        assertTrue(e.getMessage().contains(priv.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("corrupt"), e.getMessage());
        assertTrue(e.getMessage().contains("delete"), e.getMessage());
        // The damaged identity is never silently replaced.
        assertTrue(Files.readString(priv).contains("AAAAbm90IGEga2V5"));
    }

    @Test
    void garbagePublicKeyGivesAClearError() throws Exception {
        Path dir = tmp.resolve("data");
        NodeKeys.loadOrCreate(dir);
        Path pub = dir.resolve(NodeKeys.PUBLIC_FILE);
        Files.write(pub, new byte[] {0, 1, 2, 3, (byte) 0xff});
        IOException e = assertThrows(IOException.class, () -> NodeKeys.loadOrCreate(dir));
        assertTrue(e.getMessage().contains(pub.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("restore it from a backup"), e.getMessage());
    }

    @Test
    void mismatchedPairIsRefused() throws Exception {
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        NodeKeys.loadOrCreate(a);
        NodeKeys.loadOrCreate(b);
        Files.copy(b.resolve(NodeKeys.PUBLIC_FILE), a.resolve(NodeKeys.PUBLIC_FILE),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        IOException e = assertThrows(IOException.class, () -> NodeKeys.load(a));
        assertTrue(e.getMessage().contains("does not belong"), e.getMessage());
    }

    @Test
    void aMissingHalfIsNotRecreated() throws Exception {
        Path dir = tmp.resolve("data");
        NodeKeys.loadOrCreate(dir);
        Files.delete(dir.resolve(NodeKeys.PUBLIC_FILE));
        IOException e = assertThrows(IOException.class, () -> NodeKeys.loadOrCreate(dir));
        assertTrue(e.getMessage().contains(NodeKeys.PUBLIC_FILE), e.getMessage());
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
    }
}
