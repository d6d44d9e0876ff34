package org.p2psip.overlay;

import java.util.Arrays;
import java.util.HexFormat;

/** An immutable byte string with value equality, so records that hold bytes compare by content. */
public final class Bytes implements Comparable<Bytes> {
    public static final Bytes EMPTY = new Bytes(new byte[0]);
    private final byte[] data;

    private Bytes(byte[] data) {
        this.data = data;
    }

    /** Copies {@code data}; later changes to the array do not affect this value. */
    public static Bytes of(byte[] data) {
        return data.length == 0 ? EMPTY : new Bytes(data.clone());
    }

    /** Takes ownership of {@code data}: the caller must not change it afterwards. */
    public static Bytes wrap(byte[] data) {
        return data.length == 0 ? EMPTY : new Bytes(data);
    }

    public static Bytes utf8(String s) {
        return wrap(s.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    public static Bytes fromHex(String hex) {
        return wrap(HexFormat.of().parseHex(hex));
    }

    public int length() {
        return data.length;
    }

    public boolean isEmpty() {
        return data.length == 0;
    }

    /** A copy of the content. */
    public byte[] toArray() {
        return data.clone();
    }

    /** The internal array, for encoders that only read it. Never modify it. */
    public byte[] unsafeArray() {
        return data;
    }

    public String hex() {
        return HexFormat.of().formatHex(data);
    }

    public String utf8String() {
        return new String(data, java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public int compareTo(Bytes o) {
        return Arrays.compareUnsigned(data, o.data);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Bytes b && Arrays.equals(data, b.data);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return data.length <= 32 ? hex() : hex().substring(0, 64) + "...(" + data.length + " bytes)";
    }
}
