package org.p2psip.sip.registrar;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class DigestAuthenticatorTest {
    final AtomicLong now = new AtomicLong(1_700_000_000_000L);
    final DigestAuthenticator auth = new DigestAuthenticator("p2p.test",
            DigestAccounts.of(Map.of("bob", "secret")), DigestAuthenticator.DEFAULT_ALGORITHMS, 300_000, now::get);

    static String credentials(String alg, String user, String pass, String realm, String nonce, String method,
            String uri, boolean qop) {
        return credentials(alg, user, pass, realm, nonce, method, uri, qop ? "00000001" : null);
    }

    /** Credentials with {@code qop=auth} and this {@code nc}, or without qop when {@code nc} is null. */
    static String credentials(String alg, String user, String pass, String realm, String nonce, String method,
            String uri, String nc) {
        String ha1 = DigestAuthenticator.h(alg, user + ":" + realm + ":" + pass);
        String ha2 = DigestAuthenticator.h(alg, method + ":" + uri);
        String response = nc != null ? DigestAuthenticator.h(alg, ha1 + ":" + nonce + ":" + nc + ":abcd:auth:" + ha2)
                : DigestAuthenticator.h(alg, ha1 + ":" + nonce + ":" + ha2);
        return "Digest username=\"" + user + "\", realm=\"" + realm + "\", nonce=\"" + nonce + "\", uri=\"" + uri
                + "\", response=\"" + response + "\", algorithm=" + alg
                + (nc != null ? ", qop=auth, nc=" + nc + ", cnonce=\"abcd\"" : "");
    }

    DigestAuthenticator.Result register(String pass, String nonce, String nc) {
        return auth.check("REGISTER",
                List.of(credentials("MD5", "bob", pass, "p2p.test", nonce, "REGISTER", "sip:p2p.test", nc)), "bob");
    }

    static void assertStale(DigestAuthenticator.Result r, String why) {
        var c = assertInstanceOf(DigestAuthenticator.Challenge.class, r);
        assertTrue(c.wwwAuthenticate().get(0).contains("stale=true"), c.toString());
        assertTrue(c.why().contains(why), c.why());
    }

    String nonceOf(DigestAuthenticator.Challenge c) {
        String v = c.wwwAuthenticate().get(0);
        int i = v.indexOf("nonce=\"") + 7;
        return v.substring(i, v.indexOf('"', i));
    }

    @Test
    void challengeOffersSha256ThenMd5WithQopAuth() {
        var c = auth.challenge(false, "test");
        assertEquals(2, c.wwwAuthenticate().size());
        assertTrue(c.wwwAuthenticate().get(0).contains("algorithm=SHA-256"), c.toString());
        assertTrue(c.wwwAuthenticate().get(1).contains("algorithm=MD5"), c.toString());
        assertTrue(c.wwwAuthenticate().get(0).contains("qop=\"auth\""));
        assertTrue(!c.wwwAuthenticate().get(0).contains("stale"));
    }

    @Test
    void sha256AndMd5WithAndWithoutQopAuthenticate() {
        for (String alg : List.of("SHA-256", "MD5")) {
            for (boolean qop : new boolean[] {true, false}) {
                String nonce = nonceOf(auth.challenge(false, "")); // each is good once with nc=00000001
                var r = auth.check("REGISTER",
                        List.of(credentials(alg, "bob", "secret", "p2p.test", nonce, "REGISTER", "sip:p2p.test", qop)),
                        "bob");
                assertEquals(new DigestAuthenticator.Authenticated("bob"), r, alg + " qop=" + qop);
            }
        }
    }

    @Test
    void wrongPasswordOtherUserForgedNonceAndNoCredentialsAreChallenged() {
        String nonce = nonceOf(auth.challenge(false, ""));
        assertInstanceOf(DigestAuthenticator.Challenge.class, auth.check("REGISTER",
                List.of(credentials("MD5", "bob", "wrong", "p2p.test", nonce, "REGISTER", "sip:p2p.test", true)),
                "bob"));
        assertInstanceOf(DigestAuthenticator.Challenge.class, auth.check("REGISTER",
                List.of(credentials("MD5", "bob", "secret", "p2p.test", nonce, "REGISTER", "sip:p2p.test", true)),
                "alice"));
        String forged = "0000018bcfe56800" + "00".repeat(8 + 16);
        assertInstanceOf(DigestAuthenticator.Challenge.class, auth.check("REGISTER",
                List.of(credentials("MD5", "bob", "secret", "p2p.test", forged, "REGISTER", "sip:p2p.test", true)),
                "bob"));
        assertInstanceOf(DigestAuthenticator.Challenge.class, auth.check("REGISTER", List.of(), "bob"));
    }

    @Test
    void oldNonceWithRightPasswordIsStale() {
        String nonce = nonceOf(auth.challenge(false, ""));
        now.addAndGet(301_000);
        var r = auth.check("REGISTER",
                List.of(credentials("SHA-256", "bob", "secret", "p2p.test", nonce, "REGISTER", "sip:p2p.test", true)),
                "bob");
        var c = assertInstanceOf(DigestAuthenticator.Challenge.class, r);
        assertTrue(c.wwwAuthenticate().get(0).contains("stale=true"), c.toString());
        // an old nonce with a wrong password is not stale: the phone must ask its user
        r = auth.check("REGISTER",
                List.of(credentials("SHA-256", "bob", "bad", "p2p.test", nonce, "REGISTER", "sip:p2p.test", true)),
                "bob");
        assertTrue(!((DigestAuthenticator.Challenge) r).wwwAuthenticate().get(0).contains("stale"));
    }

    @Test
    void aReplayedAuthorizationIsChallengedAndAGrowingCountIsAccepted() {
        String nonce = nonceOf(auth.challenge(false, ""));
        var bob = new DigestAuthenticator.Authenticated("bob");
        assertEquals(bob, register("secret", nonce, "00000001"));
        // the same header again: whoever copied it cannot answer the fresh nonce of this challenge
        assertStale(register("secret", nonce, "00000001"), "a replay");
        // a phone reusing the nonce counts up (RFC 7616), also skipping counts
        assertEquals(bob, register("secret", nonce, "00000002"));
        assertEquals(bob, register("secret", nonce, "0000000a"));
        assertStale(register("secret", nonce, "00000005"), "a replay");
        assertStale(register("secret", nonce, "0000000A"), "a replay");
        // without qop there is no count: such a nonce is good once
        String plain = nonceOf(auth.challenge(false, ""));
        assertEquals(bob, register("secret", plain, null));
        assertStale(register("secret", plain, null), "a replay");
        assertEquals(2, auth.nonceStats().tracked());
    }

    @Test
    void aForgeryDoesNotUseUpTheCountsOfTheGenuinePhone() {
        String nonce = nonceOf(auth.challenge(false, ""));
        for (String nc : List.of("00000001", "00000002", "ffffffff")) {
            var c = assertInstanceOf(DigestAuthenticator.Challenge.class, register("guess", nonce, nc));
            assertEquals("wrong response", c.why());
        }
        assertEquals(new DigestAuthenticator.Authenticated("bob"), register("secret", nonce, "00000001"));
    }

    @Test
    void malformedNonceCountsAreRefused() {
        String nonce = nonceOf(auth.challenge(false, ""));
        for (String nc : List.of("00000000", "0000001", "000000001", "+0000001", "0000000g")) {
            var c = assertInstanceOf(DigestAuthenticator.Challenge.class, register("secret", nonce, nc));
            assertTrue(c.why().contains("8 hex digits"), nc + ": " + c.why());
            assertTrue(!c.wwwAuthenticate().get(0).contains("stale"), nc);
        }
        assertEquals(new DigestAuthenticator.Authenticated("bob"), register("secret", nonce, "00000001"));
    }

    @Test
    void aNoncePushedOutOfAFullTableIsNotAcceptedAgainButNewerOnesAre() {
        NonceCounts counts = new NonceCounts(2, 300_000);
        long t = 1_700_000_000_000L;
        String a = nonce(t);
        String b = nonce(t + 1);
        String c = nonce(t + 2);
        assertEquals(NonceCounts.Outcome.FRESH, counts.accept(a, t, 1, t + 10));
        assertEquals(NonceCounts.Outcome.FRESH, counts.accept(b, t + 1, 1, t + 10));
        assertEquals(NonceCounts.Outcome.FRESH, counts.accept(c, t + 2, 1, t + 10));
        assertEquals(1, counts.forgotten());
        // a's count is gone: it may have been used, so not even a higher count is taken
        assertEquals(NonceCounts.Outcome.FORGOTTEN, counts.accept(a, t, 2, t + 10));
        assertEquals(NonceCounts.Outcome.REPLAYED, counts.accept(c, t + 2, 1, t + 10));
        assertEquals(NonceCounts.Outcome.FRESH, counts.accept(nonce(t + 3), t + 3, 1, t + 10));
        // expired ones leave the table by themselves
        assertEquals(NonceCounts.Outcome.FRESH, counts.accept(nonce(t + 400_000), t + 400_000, 1, t + 400_001));
        assertEquals(1, counts.size());
    }

    static String nonce(long issued) {
        return String.format("%016x", issued) + "00".repeat(16);
    }

    @Test
    void rfc2617Md5Example() {
        // RFC 2617 §3.5's example, checked with the same formula the authenticator uses.
        String ha1 = DigestAuthenticator.h("MD5", "Mufasa:testrealm@host.com:Circle Of Life");
        String ha2 = DigestAuthenticator.h("MD5", "GET:/dir/index.html");
        assertEquals("6629fae49393a05397450978507c4ef1", DigestAuthenticator.h("MD5",
                ha1 + ":dcd98b7102dd2f0e8b11d0f600bfb0c093:00000001:0a4f113b:auth:" + ha2));
    }

    @Test
    void storedHa1AuthenticatesAndAnotherRealmFailsClearly() {
        Ha1Accounts accounts = new Ha1Accounts(List.of(
                new Ha1Accounts.Account("bob", "p2p.test", DigestAuthenticator.h("MD5", "bob:p2p.test:secret"),
                        DigestAuthenticator.h("SHA-256", "bob:p2p.test:secret")),
                new Ha1Accounts.Account("carol", "elsewhere.test", DigestAuthenticator.h("MD5", "carol:elsewhere.test:pw"),
                        DigestAuthenticator.h("SHA-256", "carol:elsewhere.test:pw"))));
        DigestAuthenticator ha1Auth = new DigestAuthenticator("p2p.test", accounts,
                DigestAuthenticator.DEFAULT_ALGORITHMS, 300_000, now::get);
        String nonce = nonceOf(ha1Auth.challenge(false, ""));
        for (String alg : List.of("SHA-256", "MD5")) {
            for (boolean qop : new boolean[] {true, false}) {
                nonce = nonceOf(ha1Auth.challenge(false, "")); // each is good once with nc=00000001
                assertEquals(new DigestAuthenticator.Authenticated("bob"), ha1Auth.check("REGISTER",
                        List.of(credentials(alg, "bob", "secret", "p2p.test", nonce, "REGISTER", "sip:p2p.test", qop)),
                        "bob"), alg + " qop=" + qop);
            }
        }
        var wrong = assertInstanceOf(DigestAuthenticator.Challenge.class, ha1Auth.check("REGISTER",
                List.of(credentials("MD5", "bob", "nope", "p2p.test", nonce, "REGISTER", "sip:p2p.test", true)), "bob"));
        assertEquals("wrong response", wrong.why());
        var otherRealm = assertInstanceOf(DigestAuthenticator.Challenge.class, ha1Auth.check("REGISTER",
                List.of(credentials("MD5", "carol", "pw", "p2p.test", nonce, "REGISTER", "sip:p2p.test", true)),
                "carol"));
        assertTrue(otherRealm.why().contains("only for realm elsewhere.test")
                && otherRealm.why().contains("p2psip user add carol@p2p.test"), otherRealm.why());
        assertEquals(List.of(accounts.outside("p2p.test").get(0).user()), List.of("carol"));
        assertEquals(accounts.ha1("bob", "p2p.test", "SHA-256"), accounts.recordSecret("bob", "p2p.test"));
    }
}
