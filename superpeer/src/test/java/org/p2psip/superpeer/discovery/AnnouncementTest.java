package org.p2psip.superpeer.discovery;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.p2psip.nat.discovery.FilteringBehavior;
import org.p2psip.nat.discovery.MappingBehavior;
import org.p2psip.overlay.NodeId;

class AnnouncementTest {
    static final long NOW = 1_800_000_000_000L;
    final Clock clock = Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC);

    static InetSocketAddress sa(String ip, int port) throws Exception {
        return new InetSocketAddress(InetAddress.getByName(ip), port);
    }

    static Announcement sample(Ed25519Keys k, long seq, long ts) throws Exception {
        return new Announcement.Unsigned(List.of(sa("192.0.2.10", 5060), sa("2001:db8::10", 5060)), 24,
                sa("198.51.100.7", 40000),
                NatInfo.behindNat(MappingBehavior.ENDPOINT_INDEPENDENT, FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT),
                Role.CANDIDATE, Preference.AUTO, 3600, 750, 2048, 50_000, seq, ts).sign(k);
    }

    AnnouncementVerifier verifier() {
        return new AnnouncementVerifier(clock, Duration.ofSeconds(30), 100);
    }

    @Test
    void roundTrip() throws Exception {
        Ed25519Keys k = Ed25519Keys.generate();
        Announcement a = sample(k, 7, NOW);
        byte[] enc = a.encode();
        assertTrue(enc.length <= Announcement.MAX_BYTES, "bounded: " + enc.length);
        Announcement b = Announcement.decode(enc);
        assertEquals(a, b);
        assertArrayEquals(enc, b.encode());
        assertEquals(k.id(), b.nodeId());
        assertEquals(List.of(sa("192.0.2.10", 5060), sa("2001:db8::10", 5060)), b.overlayAddresses());
        assertEquals(sa("198.51.100.7", 40000), b.reflexive());
        assertEquals(a.nat(), b.nat());
        assertEquals(3600, b.uptimeSeconds());
        assertEquals(7, b.sequence());
        assertEquals(AnnouncementVerifier.Verdict.ACCEPTED, verifier().check(enc).verdict());

        Announcement minimal = new Announcement.Unsigned(List.of(sa("10.0.0.1", 1)), 8, null, NatInfo.UNKNOWN,
                Role.LEAF, Preference.NEVER, 0xffff_ffffL, 1000, 0, 0xffff_ffffL, Long.MAX_VALUE, NOW).sign(k);
        Announcement m2 = Announcement.decode(minimal.encode());
        assertNull(m2.reflexive());
        assertNull(m2.nat().natDetected());
        assertEquals(minimal, m2);
    }

    @Test
    void forgedSignatureAndIdMismatchAreRefused() throws Exception {
        Ed25519Keys k = Ed25519Keys.generate();
        AnnouncementVerifier v = verifier();
        byte[] enc = sample(k, 1, NOW).encode();
        // flip a bit in the body (the uptime): the signature no longer matches
        byte[] tampered = enc.clone();
        tampered[70] ^= 1;
        assertEquals(AnnouncementVerifier.Verdict.FORGED, v.check(tampered).verdict());
        // flip a bit of the signature
        byte[] badSig = enc.clone();
        badSig[badSig.length - 1] ^= 0x40;
        assertEquals(AnnouncementVerifier.Verdict.FORGED, v.check(badSig).verdict());
        // another node's id, validly signed with this key: the id is not SHA-1 of the key
        Announcement a = sample(k, 2, NOW);
        Announcement other = new Announcement(NodeId.sha1(new byte[] {1, 2, 3}), a.publicKey(), a.overlayAddresses(),
                a.prefixLength(), a.reflexive(), a.nat(), a.role(), a.preference(), a.uptimeSeconds(),
                a.spareCpuPermille(), a.spareMemoryMiB(), a.spareBandwidthKbps(), a.sequence(), a.timestampMillis(),
                new byte[64]);
        byte[] body = other.encodeBody();
        Announcement signedLie = other.withSignature(k.sign(body, 0, body.length));
        assertEquals(AnnouncementVerifier.Verdict.FORGED, v.check(signedLie.encode()).verdict());
        // another key's signature over this key's announcement
        Ed25519Keys mallory = Ed25519Keys.generate();
        byte[] body2 = a.encodeBody();
        assertEquals(AnnouncementVerifier.Verdict.FORGED,
                v.check(a.withSignature(mallory.sign(body2, 0, body2.length))).verdict());
        assertEquals(4, v.forged());
        assertEquals(0, v.accepted());
        // the genuine one still passes
        assertEquals(AnnouncementVerifier.Verdict.ACCEPTED, v.check(a).verdict());
    }

    @Test
    void replayedAndStaleAreRefused() throws Exception {
        Ed25519Keys k = Ed25519Keys.generate();
        AnnouncementVerifier v = verifier();
        byte[] five = sample(k, 5, NOW).encode();
        assertEquals(AnnouncementVerifier.Verdict.ACCEPTED, v.check(five).verdict());
        assertEquals(AnnouncementVerifier.Verdict.REPLAYED, v.check(five).verdict());
        assertEquals(AnnouncementVerifier.Verdict.REPLAYED, v.check(sample(k, 4, NOW).encode()).verdict());
        assertEquals(AnnouncementVerifier.Verdict.ACCEPTED, v.check(sample(k, 6, NOW).encode()).verdict());
        assertEquals(AnnouncementVerifier.Verdict.STALE, v.check(sample(k, 9, NOW - 31_000).encode()).verdict());
        assertEquals(AnnouncementVerifier.Verdict.STALE, v.check(sample(k, 10, NOW + 31_000).encode()).verdict());
        assertEquals(AnnouncementVerifier.Verdict.ACCEPTED, v.check(sample(k, 11, NOW - 29_000).encode()).verdict());
        assertEquals(2, v.replayed());
        assertEquals(2, v.stale());
        assertEquals(3, v.accepted());
    }

    @Test
    void fuzzedDecoderNeverCrashes() throws Exception {
        Random rnd = new Random(42);
        AnnouncementVerifier v = verifier();
        byte[] valid = sample(Ed25519Keys.generate(), 1, NOW).encode();
        int accepted = 0;
        for (int i = 0; i < 20_000; i++) {
            byte[] in;
            switch (i % 4) {
                case 0 -> {
                    in = new byte[rnd.nextInt(700)];
                    rnd.nextBytes(in);
                }
                case 1 -> {
                    in = valid.clone();
                    for (int j = 1 + rnd.nextInt(4); j > 0; j--) {
                        in[rnd.nextInt(in.length)] = (byte) rnd.nextInt(256);
                    }
                }
                case 2 -> in = java.util.Arrays.copyOf(valid, rnd.nextInt(valid.length + 40));
                default -> {
                    in = valid.clone();
                    // keep the header, randomize the structure-bearing bytes
                    for (int j = 5 + 52; j < in.length; j++) {
                        if (rnd.nextInt(8) == 0) {
                            in[j] = (byte) rnd.nextInt(256);
                        }
                    }
                }
            }
            try {
                Announcement a = Announcement.decode(in);
                assertNotNull(a);
            } catch (MalformedAnnouncementException expected) {
                // fine
            }
            AnnouncementVerifier.Result r = v.check(in); // never throws
            if (r.verdict() == AnnouncementVerifier.Verdict.ACCEPTED) {
                accepted++;
            }
        }
        assertTrue(accepted <= 1, "only the unmodified announcement may ever pass: " + accepted);
        assertFalse(v.malformed() == 0);
        assertEquals(AnnouncementVerifier.Verdict.MALFORMED, v.check((byte[]) null).verdict());
    }

    @Test
    void siteRule() throws Exception {
        Ed25519Keys k1 = Ed25519Keys.generate();
        Ed25519Keys k2 = Ed25519Keys.generate();
        NatInfo restricted = NatInfo.behindNat(MappingBehavior.ENDPOINT_INDEPENDENT,
                FilteringBehavior.ADDRESS_AND_PORT_DEPENDENT);
        Announcement a = new Announcement.Unsigned(List.of(sa("192.168.1.10", 1)), 24, sa("198.51.100.7", 1000),
                restricted, Role.LEAF, Preference.AUTO, 1, 1, 1, 1, 1, NOW).sign(k1);
        Announcement b = new Announcement.Unsigned(List.of(sa("10.9.9.9", 1)), 24, sa("198.51.100.7", 2222),
                restricted, Role.LEAF, Preference.AUTO, 1, 1, 1, 1, 1, NOW).sign(k2);
        assertTrue(SiteRule.sameSite(a, b), "same reflexive IP, whatever the port");
        Announcement c = new Announcement.Unsigned(List.of(sa("192.168.1.11", 1)), 24, sa("198.51.100.8", 1000),
                restricted, Role.LEAF, Preference.AUTO, 1, 1, 1, 1, 1, NOW).sign(k2);
        assertFalse(SiteRule.sameSite(a, c), "different NATs, even on look-alike private subnets");
        Announcement p1 = new Announcement.Unsigned(List.of(sa("192.0.2.10", 1)), 24, null, NatInfo.publicHost(),
                Role.LEAF, Preference.AUTO, 1, 1, 1, 1, 1, NOW).sign(k1);
        Announcement p2 = new Announcement.Unsigned(List.of(sa("192.0.2.200", 1)), 24, null, NatInfo.publicHost(),
                Role.LEAF, Preference.AUTO, 1, 1, 1, 1, 1, NOW).sign(k2);
        Announcement p3 = new Announcement.Unsigned(List.of(sa("192.0.3.1", 1)), 24, null, NatInfo.publicHost(),
                Role.LEAF, Preference.AUTO, 1, 1, 1, 1, 1, NOW).sign(k2);
        assertTrue(SiteRule.sameSite(p1, p2), "same subnet, no NAT");
        assertFalse(SiteRule.sameSite(p1, p3), "other subnet");
        assertFalse(SiteRule.sameSite(a, p2), "NATed and public");
        Announcement u1 = new Announcement.Unsigned(List.of(sa("192.0.2.11", 1)), 24, null, NatInfo.UNKNOWN,
                Role.LEAF, Preference.AUTO, 1, 1, 1, 1, 1, NOW).sign(k1);
        Announcement u2 = new Announcement.Unsigned(List.of(sa("192.0.2.12", 1)), 24, null, NatInfo.UNKNOWN,
                Role.LEAF, Preference.AUTO, 1, 1, 1, 1, 1, NOW).sign(k2);
        Announcement u3 = new Announcement.Unsigned(List.of(sa("192.0.3.12", 1)), 24, null, NatInfo.UNKNOWN,
                Role.LEAF, Preference.AUTO, 1, 1, 1, 1, 1, NOW).sign(k2);
        assertTrue(SiteRule.sameSite(u1, u2), "same subnet, NAT not discovered on either");
        assertTrue(SiteRule.sameSite(u1, p2), "same subnet, no NAT found on one, not discovered on the other");
        assertFalse(SiteRule.sameSite(u1, u3), "other subnet, NAT not discovered");
        assertFalse(SiteRule.sameSite(a, u2), "NATed and not discovered");
    }
}
