package dev.trent.est;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

import dev.trent.domain.DomainException;
import dev.trent.enrollment.CsrDecoder;
import dev.trent.enrollment.DecodedCsr;
import dev.trent.support.TestCsrs;

/** EST's own request rules (RFC 7030 4.2.2, 4.4.1), alone. */
class EstRequestsTest {

    private static X509Certificate certificate(String cn) throws Exception {
        TestCsrs.Csr keys = TestCsrs.ecP256(cn);
        X500Name name = new X500Name("CN=" + cn);
        return new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(name, BigInteger.TWO,
                Date.from(Instant.now()), Date.from(Instant.now().plusSeconds(600)), name, keys.keys().getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.keys().getPrivate())));
    }

    private static DecodedCsr csr(String cn) throws Exception {
        return CsrDecoder.decode(TestCsrs.ecP256(cn).pem().getBytes(), CsrDecoder.Encoding.TEXT);
    }

    @Test
    void sameNamesWhenCsrSubjectIsTheCertificatesThenAcceptedElseSubjectMismatch() throws Exception {
        X509Certificate current = certificate("sensor-7");

        EstRequests.SAME_NAMES_AS_CERTIFICATE.check(csr("sensor-7"), current);

        assertThatThrownBy(() -> EstRequests.SAME_NAMES_AS_CERTIFICATE.check(csr("sensor-8"), current))
                .isInstanceOfSatisfying(DomainException.class,
                        p -> assertThat(p.code()).endsWith("subject-mismatch"));
    }

    @Test
    void serverKeygenCsrWhenWellFormedThenAcceptedWhenGarbageThenCsrMalformed() {
        EstRequests.checkServerKeygenCsr(TestCsrs.ecP256("x").der(), CsrDecoder.Encoding.PKCS10);

        assertThatThrownBy(() -> EstRequests.checkServerKeygenCsr(new byte[] {1, 2, 3}, CsrDecoder.Encoding.PKCS10))
                .isInstanceOfSatisfying(DomainException.class, p -> assertThat(p.code()).endsWith("csr-malformed"));
    }
}
