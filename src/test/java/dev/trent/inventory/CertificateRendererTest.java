package dev.trent.inventory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;

import dev.trent.ca.CaSigner;
import dev.trent.ca.Issuer;
import dev.trent.ca.IssuerRegistry;
import dev.trent.ca.KeyStatus;
import dev.trent.pki.Pem;

/** The PEM chain response: the leaf, then the issuer's current intermediates (encoded once per chain). */
class CertificateRendererTest {

    private static X509Certificate selfSigned(String cn) throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair k = g.generateKeyPair();
        X500Name name = new X500Name("CN=" + cn);
        Instant now = Instant.now();
        return new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(name, BigInteger.ONE,
                Date.from(now), Date.from(now.plusSeconds(3600)), name, k.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withECDSA").build(k.getPrivate())));
    }

    private static String body(CertificateRenderer renderer, Certificate leaf) {
        Object body = renderer.render(leaf, null, HttpStatus.CREATED, new HttpHeaders()).getBody();
        return new String((byte[]) body, StandardCharsets.US_ASCII);
    }

    @Test
    void pemChainWhenTheIssuersChainChangesThenTheNewIntermediatesAreServed() throws Exception {
        X509Certificate first = selfSigned("intermediate one");
        X509Certificate second = selfSigned("intermediate two");
        X509Certificate root = selfSigned("root");
        X509Certificate leafCert = selfSigned("device");
        CaSigner signer = mock(CaSigner.class);
        when(signer.chain()).thenReturn(List.of(first, root), List.of(first, root), List.of(second, root));
        IssuerRegistry issuers = mock(IssuerRegistry.class);
        when(issuers.byId("i1")).thenReturn(Optional.of(new Issuer("i1", signer, KeyStatus.ALWAYS, null, null, null)));
        Certificate leaf = new Certificate("01", "i1", "device", "device", "CN=device", List.of(),
                CertificateStatus.ISSUED, "EC_P256", "00", Instant.now(), Instant.now(), Instant.now(), null,
                leafCert.getEncoded());
        CertificateRenderer renderer = new CertificateRenderer(issuers);

        String leafPem = Pem.encode("CERTIFICATE", leafCert.getEncoded());
        assertThat(body(renderer, leaf)).isEqualTo(leafPem + Pem.certificate(first));
        assertThat(body(renderer, leaf)).isEqualTo(leafPem + Pem.certificate(first));
        assertThat(body(renderer, leaf)).isEqualTo(leafPem + Pem.certificate(second));
    }
}
