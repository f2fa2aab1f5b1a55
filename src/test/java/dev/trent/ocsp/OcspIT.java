package dev.trent.ocsp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.PKIXRevocationChecker;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers;
import org.bouncycastle.asn1.ocsp.OCSPRequest;
import org.bouncycastle.asn1.ocsp.TBSRequest;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.OCSPReq;
import org.bouncycastle.cert.ocsp.OCSPReqBuilder;
import org.bouncycastle.cert.ocsp.OCSPResp;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.cert.ocsp.SingleResp;
import org.bouncycastle.cert.ocsp.UnknownStatus;
import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.trent.pki.Pem;
import dev.trent.support.IntegrationTest;
import dev.trent.support.Openssl;
import dev.trent.support.TestCsrs;
import dev.trent.support.TrentClient;

/** The OCSP responder: statuses, errors, nonces, caching, GET encodings, and real clients. */
class OcspIT extends IntegrationTest {

    @TempDir
    Path dir;

    private static final DigestCalculatorProvider DIGESTS;

    static {
        try {
            DIGESTS = new JcaDigestCalculatorProviderBuilder().build();
        } catch (Exception e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private X509Certificate enroll() throws Exception {
        TrentClient c = client();
        return c.enroll(c.token(ADMIN_KEY, deviceId("ocsp"), "device", null), "application/x-pem-file",
                TestCsrs.ecP256("x").pem().getBytes(), null).certificates().get(0);
    }

    private List<X509Certificate> chain() {
        return client().get("/api/v1/ca/chain", null, null).certificates();
    }

    private void revoke(X509Certificate cert, String reason) {
        assertThat(client().postJson("/api/v1/certificates/" + cert.getSerialNumber().toString(16) + "/revoke",
                ADMIN_KEY, Map.of("reason", reason)).status()).isEqualTo(200);
    }

    private static CertificateID id(X509Certificate issuer, BigInteger serial, boolean sha256) throws Exception {
        AlgorithmIdentifier alg = sha256 ? new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256)
                : CertificateID.HASH_SHA1;
        return new CertificateID(DIGESTS.get(alg), new X509CertificateHolder(issuer.getEncoded()), serial);
    }

    private static byte[] request(byte[] nonce, CertificateID... ids) throws Exception {
        OCSPReqBuilder b = new OCSPReqBuilder();
        for (CertificateID id : ids) {
            b.addRequest(id);
        }
        if (nonce != null) {
            b.setRequestExtensions(new Extensions(new Extension(OCSPObjectIdentifiers.id_pkix_ocsp_nonce, false,
                    new DEROctetString(new DEROctetString(nonce)))));
        }
        return b.build().getEncoded();
    }

    private TrentClient.Response post(byte[] body) {
        return client().send("POST", "/ocsp", Map.of("Content-Type", "application/ocsp-request"), body);
    }

    private static OCSPResp parse(TrentClient.Response r) throws Exception {
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        assertThat(r.contentType()).isEqualTo("application/ocsp-response");
        return new OCSPResp(r.body());
    }

    private BasicOCSPResp basic(TrentClient.Response r) throws Exception {
        OCSPResp resp = parse(r);
        assertThat(resp.getStatus()).isEqualTo(OCSPResp.SUCCESSFUL);
        BasicOCSPResp basic = (BasicOCSPResp) resp.getResponseObject();
        X509CertificateHolder responder = basic.getCerts()[0];
        assertThat(basic.isSignatureValid(new JcaContentVerifierProviderBuilder().build(responder))).isTrue();
        X509Certificate intermediate = chain().get(0);
        assertThat(responder.isSignatureValid(new JcaContentVerifierProviderBuilder().build(intermediate))).isTrue();
        assertThat(responder.getExtension(OCSPObjectIdentifiers.id_pkix_ocsp_nocheck)).isNotNull();
        assertThat(responder.getExtension(Extension.extendedKeyUsage).getParsedValue().toString())
                .contains("1.3.6.1.5.5.7.3.9");
        return basic;
    }

    @Test
    void ocspWhenAskedAboutSeveralThenStatusesInOrderWithBothHashes() throws Exception {
        X509Certificate issuer = chain().get(0);
        X509Certificate good = enroll();
        X509Certificate revoked = enroll();
        revoke(revoked, "keyCompromise");

        BasicOCSPResp r = basic(post(request(new byte[] {1, 2, 3}, id(issuer, revoked.getSerialNumber(), false),
                id(issuer, good.getSerialNumber(), true), id(issuer, new BigInteger("123456789abcdef", 16), false))));

        SingleResp[] rs = r.getResponses();
        assertThat(rs).hasSize(3);
        assertThat(rs[0].getCertID().getSerialNumber()).isEqualTo(revoked.getSerialNumber());
        assertThat(rs[0].getCertStatus()).isInstanceOf(RevokedStatus.class);
        assertThat(((RevokedStatus) rs[0].getCertStatus()).getRevocationReason()).isEqualTo(1);
        assertThat(rs[1].getCertID().getHashAlgOID()).isEqualTo(NISTObjectIdentifiers.id_sha256);
        assertThat(rs[1].getCertStatus()).isNull(); // good
        assertThat(rs[2].getCertStatus()).isInstanceOf(UnknownStatus.class);
        assertThat(rs[0].getNextUpdate()).isAfter(rs[0].getThisUpdate());
    }

    @Test
    void ocspWhenNonceThenEchoedAndNeverCached() throws Exception {
        X509Certificate issuer = chain().get(0);
        X509Certificate good = enroll();
        byte[] nonce = new byte[32];
        new SecureRandom().nextBytes(nonce);

        TrentClient.Response r = post(request(nonce, id(issuer, good.getSerialNumber(), false)));

        BasicOCSPResp basic = basic(r);
        byte[] echoed = DEROctetString.getInstance(basic.getExtension(OCSPObjectIdentifiers.id_pkix_ocsp_nonce)
                .getParsedValue()).getOctets();
        assertThat(echoed).isEqualTo(nonce);
        assertThat(r.header("Cache-Control")).isEqualTo("no-store");
        // The same question with another nonce: a fresh answer that echoes the new nonce, never
        // the first answer from a cache.
        byte[] second = new byte[32];
        new SecureRandom().nextBytes(second);
        TrentClient.Response again = post(request(second, id(issuer, good.getSerialNumber(), false)));
        BasicOCSPResp againBasic = basic(again);
        assertThat(DEROctetString.getInstance(againBasic.getExtension(OCSPObjectIdentifiers.id_pkix_ocsp_nonce)
                .getParsedValue()).getOctets()).isEqualTo(second);
        assertThat(again.body()).isNotEqualTo(r.body());
        assertThat(again.header("Cache-Control")).isEqualTo("no-store");
        // A nonce answer is never "not modified", whatever the client's conditions.
        String getPath = "/ocsp/" + URLEncoder.encode(Base64.getEncoder().encodeToString(request(second,
                id(issuer, good.getSerialNumber(), false))), StandardCharsets.US_ASCII);
        TrentClient.Response conditional = client().send("GET", getPath, Map.of("If-None-Match", "*"), null);
        assertThat(conditional.status()).isEqualTo(200);
        assertThat(conditional.header("ETag")).isNull();
        assertThat(DEROctetString.getInstance(basic(conditional).getExtension(
                OCSPObjectIdentifiers.id_pkix_ocsp_nonce).getParsedValue()).getOctets()).isEqualTo(second);
        // The longest nonce RFC 8954 allows (128 octets) is echoed too.
        byte[] longest = new byte[128];
        new SecureRandom().nextBytes(longest);
        BasicOCSPResp longAnswer = basic(post(request(longest, id(issuer, good.getSerialNumber(), false))));
        assertThat(longAnswer.getResponses()).hasSize(1);
        assertThat(DEROctetString.getInstance(longAnswer.getExtension(OCSPObjectIdentifiers.id_pkix_ocsp_nonce)
                .getParsedValue()).getOctets()).isEqualTo(longest);
    }

    @Test
    void ocspWhenMalformedThenMalformedRequestNeverHttpError() throws Exception {
        X509Certificate issuer = chain().get(0);
        CertificateID any = id(issuer, BigInteger.TEN, false);
        byte[] emptyList = new OCSPRequest(new TBSRequest(null, new DERSequence(), (Extensions) null), null)
                .getEncoded();
        byte[][] bodies = {
            "garbage".getBytes(), new byte[0], emptyList, request(new byte[0], any), request(new byte[129], any),
            new byte[9000], new byte[] {0x30, (byte) 0x84, 0x7f, (byte) 0xff, (byte) 0xff, (byte) 0xff}};
        for (byte[] body : bodies) {
            assertThat(parse(post(body)).getStatus()).isEqualTo(OCSPResp.MALFORMED_REQUEST);
        }
        assertThat(parse(client().get("/ocsp/@@@@", null, null)).getStatus()).isEqualTo(OCSPResp.MALFORMED_REQUEST);
        // Broken percent escapes: Tomcat refuses some before OCSP sees them (400 problem); never a 5xx.
        // (Java's HttpClient refuses such URLs, so they go over a plain socket.)
        java.net.URI base = java.net.URI.create(client().base());
        for (String bad : List.of("%zz", "MEIw%4", "MEIw%", "%C3%A9")) {
            try (java.net.Socket socket = new java.net.Socket(base.getHost(), base.getPort())) {
                socket.getOutputStream().write(("GET /ocsp/" + bad + " HTTP/1.1\r\nHost: localhost\r\n"
                        + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                byte[] raw = socket.getInputStream().readAllBytes();
                String head = new String(raw, StandardCharsets.ISO_8859_1);
                int status = Integer.parseInt(head.substring(9, 12));
                if (status == 200) {
                    byte[] body = java.util.Arrays.copyOfRange(raw, head.indexOf("\r\n\r\n") + 4, raw.length);
                    assertThat(new OCSPResp(body).getStatus()).as(bad).isEqualTo(OCSPResp.MALFORMED_REQUEST);
                } else {
                    assertThat(status).as(bad).isEqualTo(400);
                }
            }
        }
        TrentClient.Response wrongType = client().send("POST", "/ocsp", Map.of("Content-Type", "application/json"),
                request(null, any));
        assertThat(wrongType.contentType()).isEqualTo("application/ocsp-response");
        assertThat(parse(wrongType).getStatus()).isEqualTo(OCSPResp.MALFORMED_REQUEST);
        // A broken Content-Type (";" once threw out of the handler) and other methods: OCSP too.
        assertThat(parse(client().send("POST", "/ocsp", Map.of("Content-Type", ";"), request(null, any))).getStatus())
                .isEqualTo(OCSPResp.MALFORMED_REQUEST);
        for (String method : List.of("PUT", "DELETE", "PATCH", "OPTIONS")) {
            TrentClient.Response other = client().send(method, "/ocsp", Map.of("Content-Type",
                    "application/ocsp-request"), request(null, any));
            assertThat(other.status()).as(method).isEqualTo(405);
            assertThat(other.header("Allow")).isEqualTo("POST");
            assertThat(other.contentType()).isEqualTo("application/ocsp-response");
            assertThat(new OCSPResp(other.body()).getStatus()).isEqualTo(OCSPResp.MALFORMED_REQUEST);
        }
    }

    @Test
    void ocspWhenIssuerUnknownThenUnauthorized() throws Exception {
        X509Certificate foreign = dev.trent.ca.CaCeremonyFixtures.foreignCa();
        assertThat(parse(post(request(null, id(foreign, BigInteger.TWO, false)))).getStatus())
                .isEqualTo(OCSPResp.UNAUTHORIZED);
    }

    @Test
    void ocspGetWhenBase64RawOrPercentEncodedThenSameAnswer() throws Exception {
        X509Certificate issuer = chain().get(0);
        X509Certificate good = enroll();
        // A request whose base64 has all three of '/', '+' and '=' (the nonce's length moves the padding).
        String b64 = null;
        SecureRandom random = new SecureRandom();
        for (int i = 0; i < 10_000 && b64 == null; i++) {
            byte[] nonce = new byte[1 + random.nextInt(32)];
            random.nextBytes(nonce);
            String candidate = Base64.getEncoder().encodeToString(request(nonce, id(issuer, good.getSerialNumber(),
                    false)));
            if (candidate.contains("/") && candidate.contains("+") && candidate.contains("=")) {
                b64 = candidate;
            }
        }
        assertThat(b64).as("a request with '/', '+' and '=' in its base64").isNotNull();

        String encoded = URLEncoder.encode(b64, StandardCharsets.US_ASCII).replace("+", "%2B");
        for (String path : List.of(b64, encoded, encoded.replace("%2B", "%2b").replace("%2F", "%2f").replace("%3D", "%3d"))) {
            TrentClient.Response r = client().get("/ocsp/" + path, null, null);
            BasicOCSPResp basic = basic(r);
            assertThat(basic.getResponses()[0].getCertStatus()).as(path).isNull();
        }
    }

    @Test
    void ocspGetWhenNoNonceThenRfc5019CacheHeadersAndRevocationVisibleAtOnce() throws Exception {
        X509Certificate issuer = chain().get(0);
        X509Certificate cert = enroll();
        String path = "/ocsp/" + URLEncoder.encode(Base64.getEncoder().encodeToString(
                request(null, id(issuer, cert.getSerialNumber(), false))), StandardCharsets.US_ASCII);

        TrentClient.Response first = client().get(path, null, null);
        TrentClient.Response second = client().get(path, null, null);

        assertThat(basic(first).getResponses()[0].getCertStatus()).isNull();
        assertThat(second.body()).isEqualTo(first.body()); // served from the pre-signed cache
        assertThat(first.header("Cache-Control")).contains("public").contains("no-transform")
                .contains("must-revalidate").containsPattern("max-age=\\d+");
        assertThat(first.header("ETag")).isNotBlank();
        assertThat(first.header("Last-Modified")).isNotBlank();
        assertThat(first.header("Expires")).isNotBlank();

        // Conditional GETs from an HTTP cache in front of the responder (RFC 5019 6.2).
        String etag = first.header("ETag");
        TrentClient.Response unchanged = client().send("GET", path, Map.of("If-None-Match", etag), null);
        assertThat(unchanged.status()).isEqualTo(304);
        assertThat(unchanged.body()).isEmpty();
        assertThat(unchanged.header("ETag")).isEqualTo(etag);
        assertThat(unchanged.header("Last-Modified")).isEqualTo(first.header("Last-Modified"));
        assertThat(unchanged.header("Expires")).isEqualTo(first.header("Expires"));
        assertThat(unchanged.header("Cache-Control")).contains("public").contains("must-revalidate");
        assertThat(client().send("GET", path, Map.of("If-None-Match", "\"x\", W/" + etag), null).status())
                .isEqualTo(304);
        assertThat(client().send("GET", path, Map.of("If-Modified-Since", first.header("Last-Modified")), null)
                .status()).isEqualTo(304);
        // Anything else is answered in full, in OCSP: another ETag, a 412 precondition, a POST.
        for (Map<String, String> h : List.of(Map.of("If-None-Match", "\"x\""),
                Map.of("If-None-Match", etag, "If-Match", "\"x\""),
                Map.of("If-Modified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"),
                Map.of("If-Unmodified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"))) {
            TrentClient.Response full = client().send("GET", path, h, null);
            assertThat(full.status()).as(h.toString()).isEqualTo(200);
            assertThat(full.body()).as(h.toString()).isEqualTo(first.body());
        }
        TrentClient.Response posted = client().send("POST", "/ocsp", Map.of("Content-Type",
                "application/ocsp-request", "If-None-Match", etag), request(null, id(issuer, cert.getSerialNumber(),
                false)));
        assertThat(posted.status()).isEqualTo(200);
        assertThat(basic(posted).getResponses()[0].getCertStatus()).isNull();

        revoke(cert, "superseded");
        // The revocation's commit empties this instance's cache before the revoke's response is
        // sent (an after-commit listener in the request's thread): the very next GET is revoked.
        Object status = basic(client().get(path, null, null)).getResponses()[0].getCertStatus();
        assertThat(status).isInstanceOf(RevokedStatus.class);
        assertThat(((RevokedStatus) status).getRevocationReason()).isEqualTo(4);
    }

    /**
     * A repeated GET is answered by its URL as sent, before any decoding: spellings of one
     * request (raw base64, the same with its first character percent-encoded, and with every
     * character percent-encoded) share the one pre-signed answer, each URL follows a revocation at
     * once, and so does a SHA-256 CertID's.
     */
    @Test
    void ocspGetWhenTheSameRequestIsSpelledTwoWaysThenOneAnswerAndBothFollowTheRevocation() throws Exception {
        X509Certificate issuer = chain().get(0);
        X509Certificate cert = enroll();
        String b64 = Base64.getEncoder().encodeToString(request(null, id(issuer, cert.getSerialNumber(), false)));
        String raw = "/ocsp/" + b64;
        String escaped = "/ocsp/%" + HexFormat.of().withUpperCase().toHexDigits((byte) b64.charAt(0))
                + URLEncoder.encode(b64.substring(1), StandardCharsets.US_ASCII);
        String sha256 = "/ocsp/" + URLEncoder.encode(Base64.getEncoder().encodeToString(
                request(null, id(issuer, cert.getSerialNumber(), true))), StandardCharsets.US_ASCII);
        // Every character percent-encoded: longer than RFC 5019's 255 bytes, so never remembered
        // by its URL (OcspService.MAX_REMEMBERED_GET), but answered the same after decoding.
        StringBuilder all = new StringBuilder("/ocsp/");
        for (char ch : b64.toCharArray()) {
            all.append('%').append(HexFormat.of().withUpperCase().toHexDigits((byte) ch));
        }
        String longest = all.toString();
        assertThat(longest.length()).isGreaterThan(OcspService.MAX_REMEMBERED_GET);

        TrentClient.Response first = client().get(raw, null, null);
        assertThat(basic(first).getResponses()[0].getCertStatus()).isNull();
        for (int i = 0; i < 3; i++) {
            for (String path : List.of(raw, escaped, longest)) {
                TrentClient.Response again = client().get(path, null, null);
                assertThat(again.body()).as(path).isEqualTo(first.body());
                assertThat(again.header("ETag")).as(path).isEqualTo(first.header("ETag"));
            }
            assertThat(basic(client().get(sha256, null, null)).getResponses()[0].getCertStatus()).isNull();
        }

        revoke(cert, "keyCompromise");
        for (String path : List.of(raw, escaped, longest, sha256, raw)) {
            TrentClient.Response after = client().get(path, null, null);
            assertThat(after.header("ETag")).as(path).isNotEqualTo(first.header("ETag"));
            Object status = basic(after).getResponses()[0].getCertStatus();
            assertThat(status).as(path).isInstanceOf(RevokedStatus.class);
            assertThat(((RevokedStatus) status).getRevocationReason()).as(path).isEqualTo(1);
        }
    }

    @Test
    void opensslOcspWhenGoodRevokedAndForgedThenGoodRevokedUnknown() throws Exception {
        Openssl.assumeAvailable();
        X509Certificate cert = enroll();
        List<X509Certificate> chain = chain();
        Files.writeString(dir.resolve("int.pem"), Pem.certificates(List.of(chain.get(0))));
        Files.writeString(dir.resolve("chain.pem"), Pem.certificates(chain));
        Files.writeString(dir.resolve("leaf.pem"), Pem.certificates(List.of(cert)));
        String url = client().base() + "/ocsp";

        Openssl.Result good = Openssl.run(dir, "ocsp", "-issuer", "int.pem", "-cert", "leaf.pem", "-url", url,
                "-CAfile", "chain.pem");
        Openssl.Result goodNoNonce = Openssl.run(dir, "ocsp", "-issuer", "int.pem", "-cert", "leaf.pem", "-url", url,
                "-CAfile", "chain.pem", "-no_nonce");
        revoke(cert, "keyCompromise");
        Openssl.Result revoked = Openssl.run(dir, "ocsp", "-issuer", "int.pem", "-cert", "leaf.pem", "-url", url,
                "-CAfile", "chain.pem");
        Openssl.Result unknown = Openssl.run(dir, "ocsp", "-issuer", "int.pem", "-serial", "0x1234567890abcdef",
                "-url", url, "-CAfile", "chain.pem");
        Openssl.Result reqout = Openssl.run(dir, "ocsp", "-issuer", "int.pem", "-cert", "leaf.pem", "-no_nonce",
                "-reqout", "req.der");

        assertThat(good.output()).contains("Response verify OK").contains("leaf.pem: good");
        assertThat(goodNoNonce.output()).contains("Response verify OK").contains("leaf.pem: good");
        assertThat(revoked.output()).contains("Response verify OK").contains("leaf.pem: revoked")
                .contains("Reason: keyCompromise");
        assertThat(unknown.output()).contains("Response verify OK").contains(": unknown");
        assertThat(reqout.exitCode()).isZero();
        byte[] der = Files.readAllBytes(dir.resolve("req.der"));
        TrentClient.Response viaGet = client().get("/ocsp/" + URLEncoder.encode(Base64.getEncoder()
                .encodeToString(der), StandardCharsets.US_ASCII), null, null);
        assertThat(basic(viaGet).getResponses()[0].getCertStatus()).isInstanceOf(RevokedStatus.class);
    }

    @Test
    void javaPkixWhenOcspOnlyThenRevokedRejectedAndGoodAccepted() throws Exception {
        X509Certificate good = enroll();
        X509Certificate bad = enroll();
        revoke(bad, "cessationOfOperation");
        List<X509Certificate> chain = chain();

        validate(good, chain);
        assertThatThrownBy(() -> validate(bad, chain)).isInstanceOf(CertPathValidatorException.class)
                .satisfies(e -> assertThat(((CertPathValidatorException) e).getReason())
                        .isEqualTo(CertPathValidatorException.BasicReason.REVOKED));
    }

    private void validate(X509Certificate leaf, List<X509Certificate> chain) throws Exception {
        CertPath path = CertificateFactory.getInstance("X.509").generateCertPath(List.of(leaf, chain.get(0)));
        CertPathValidator validator = CertPathValidator.getInstance("PKIX");
        PKIXRevocationChecker checker = (PKIXRevocationChecker) validator.getRevocationChecker();
        checker.setOptions(EnumSet.of(PKIXRevocationChecker.Option.NO_FALLBACK,
                PKIXRevocationChecker.Option.ONLY_END_ENTITY));
        // The AIA names the public base URL (localhost:8080); the test server runs on another port.
        checker.setOcspResponder(URI.create(client().base() + "/ocsp"));
        PKIXParameters params = new PKIXParameters(Set.of(new TrustAnchor(chain.get(1), null)));
        params.addCertPathChecker(checker);
        validator.validate(path, params);
    }
}
