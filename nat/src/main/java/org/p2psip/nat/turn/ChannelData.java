package org.p2psip.nat.turn;

import java.util.Arrays;

/**
 * The ChannelData message (RFC 8656 section 12.4): a 2-byte channel number, a 2-byte length and the data. Over UDP
 * the data need not be padded, but padding to 4 bytes may be present and is ignored.
 *
 * @param channel the channel number, 0x4000..0x7FFF (the first two bits are 01)
 * @param data the application data
 */
public record ChannelData(int channel, byte[] data) {
    public static final int HEADER_LENGTH = 4;

    public ChannelData {
        if (channel < 0x4000 || channel > TurnAttributes.MAX_CHANNEL_RFC5766) {
            throw new IllegalArgumentException("channel number out of range: " + channel);
        }
        if (data.length > 0xFFFF) {
            throw new IllegalArgumentException("ChannelData carries at most 65535 bytes");
        }
    }

    /** RFC 7983 demultiplexing: a first byte of 64..79 (RFC 8656's channels) or up to 127 (RFC 5766's). */
    public static boolean looksLikeChannelData(byte[] datagram) {
        return datagram.length >= HEADER_LENGTH && (datagram[0] & 0xC0) == 0x40;
    }

    public byte[] encode() {
        byte[] b = new byte[HEADER_LENGTH + data.length];
        b[0] = (byte) (channel >>> 8);
        b[1] = (byte) channel;
        b[2] = (byte) (data.length >>> 8);
        b[3] = (byte) data.length;
        System.arraycopy(data, 0, b, HEADER_LENGTH, data.length);
        return b;
    }

    /** Decodes one ChannelData message that fills {@code datagram}, allowing up to 3 bytes of padding. */
    public static ChannelData decode(byte[] datagram) throws TurnFormatException {
        if (!looksLikeChannelData(datagram)) {
            throw new TurnFormatException("not a ChannelData message");
        }
        int channel = ((datagram[0] & 0xFF) << 8) | (datagram[1] & 0xFF);
        int length = ((datagram[2] & 0xFF) << 8) | (datagram[3] & 0xFF);
        int available = datagram.length - HEADER_LENGTH;
        if (length > available) {
            throw new TurnFormatException("ChannelData length " + length + " exceeds the " + available + " bytes received");
        }
        if (available - length > 3) {
            throw new TurnFormatException("ChannelData followed by " + (available - length) + " stray bytes");
        }
        return new ChannelData(channel, Arrays.copyOfRange(datagram, HEADER_LENGTH, HEADER_LENGTH + length));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ChannelData c && c.channel == channel && Arrays.equals(c.data, data);
    }

    @Override
    public int hashCode() {
        return 31 * channel + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return String.format("ChannelData[0x%04x, %d bytes]", channel, data.length);
    }
}
