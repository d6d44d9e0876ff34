package org.p2psip.sip.message;

/**
 * Bounds applied while parsing: a larger message is refused before it is looked at in detail.
 *
 * @param maxMessageBytes start line, headers and body together (default 64 KiB, the largest UDP datagram)
 * @param maxHeaders header lines (after unfolding; list headers count once per line)
 * @param maxLineLength one header line after unfolding, or the start line
 */
public record SipLimits(int maxMessageBytes, int maxHeaders, int maxLineLength) {
    public static final SipLimits DEFAULT = new SipLimits(65_536, 256, 8_192);

    public SipLimits {
        if (maxMessageBytes < 256 || maxHeaders < 8 || maxLineLength < 64) {
            throw new IllegalArgumentException("limits too small");
        }
    }
}
