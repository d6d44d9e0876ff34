package org.p2psip.node.identity;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** Writing secret files safely and PEM text, for the node's and the users' key material. */
public final class SecureFiles {
    private SecureFiles() { }

    /**
     * Replaces {@code target} with {@code content} atomically (a temporary file moved over it). A secret file is
     * created with mode 600 from the start where the file system is POSIX, so it is never readable by others.
     */
    public static void write(Path target, byte[] content, boolean secret) throws IOException {
        Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        if (secret && posix(target.toAbsolutePath().getParent())) {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } else {
            Files.createFile(tmp);
        }
        Files.write(tmp, content);
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Whether {@code dir}'s file system has POSIX permissions. */
    public static boolean posix(Path dir) throws IOException {
        return Files.getFileStore(dir).supportsFileAttributeView("posix");
    }

    /** A PEM block: {@code -----BEGIN label-----}, base64 in 64-character lines, {@code -----END label-----}. */
    public static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + label + "-----\n";
    }

    /**
     * The DER contents of every {@code label} block of a PEM text, in order.
     *
     * @throws IOException when a block's base64 is damaged or a block is not closed
     */
    public static List<byte[]> pemBlocks(String text, String label) throws IOException {
        String begin = "-----BEGIN " + label + "-----";
        String end = "-----END " + label + "-----";
        List<byte[]> out = new ArrayList<>();
        int from = 0;
        while (true) {
            int b = text.indexOf(begin, from);
            if (b < 0) {
                return out;
            }
            int e = text.indexOf(end, b);
            if (e < 0) {
                throw new IOException("a '" + begin + "' block has no '" + end + "' line");
            }
            try {
                out.add(Base64.getMimeDecoder().decode(text.substring(b + begin.length(), e).getBytes(StandardCharsets.US_ASCII)));
            } catch (IllegalArgumentException x) {
                throw new IOException("the base64 of a " + label + " block is damaged");
            }
            from = e + end.length();
        }
    }
}
