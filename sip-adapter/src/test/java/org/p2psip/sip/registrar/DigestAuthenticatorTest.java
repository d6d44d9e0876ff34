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
        String ha1 = DigestAuthenticator.h(alg, user + ":" + realm + ":" + pass);
        String ha2 = DigestAuthenticator.h(alg, method + ":" + uri);
        String response = qop ? DigestAuthenticator.h(alg, ha1 + ":" + nonce + ":00000001:abcd:auth:" + ha2)
                : DigestAuthenticator.h(alg, ha1 + ":" + nonce + ":" + ha2);
        return "Digest username=\"" + user + "\", realm=\"" + realm + "\", nonce=\"" + nonce + "\", uri=\"" + uri
                + "\", response=\"" + response + "\", algorithm=" + alg
                + (qop ? ", qop=auth, nc=00000001, cnonce=\"abcd\"" : "");
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
        String nonce = nonceOf(auth.challenge(false, ""));
        for (String alg : List.of("SHA-256", "MD5")) {
            for (boolean qop : new boolean[] {true, false}) {
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
        String forged = "0000018bcfe56800" + "00".repeat(16);
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
