package dev.trent.tls;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;

import org.bouncycastle.asn1.ASN1Boolean;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

/** The CertificateRequest's CA list: unreadable names left out, duplicates once, the total bounded. */
class ClientCaNamesTest {

    private static final KeyPair KEYS = keys();

    private static KeyPair keys() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static X509Certificate cert(X500Name name, long serial) throws Exception {
        return new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(name,
                BigInteger.valueOf(serial), new Date(), Date.from(Instant.now().plusSeconds(3600)), name,
                KEYS.getPublic()).build(new JcaContentSignerBuilder("SHA256withECDSA").build(KEYS.getPrivate())));
    }

    @Test
    void selectWhenANameIsNotStringTypedThenItIsSkippedAndTheOthersKept() throws Exception {
        X509Certificate own = cert(new X500Name("CN=Trent Root"), 1);
        X509Certificate hostile = cert(new X500Name(new RDN[] {new RDN(BCStyle.CN, ASN1Boolean.TRUE)}), 2);
        X509Certificate good = cert(new X500Name(new RDN[] {new RDN(BCStyle.CN, new DERUTF8String("Acme"))}), 3);
        X509Certificate reissued = cert(new X500Name("CN=Trent Root"), 4);
        // Not RFC 5280's PrintableString for C, but a string every client parses: listed.
        X509Certificate utf8Country = cert(new X500Name(new RDN[] {new RDN(BCStyle.C, new DERUTF8String("DE")),
            new RDN(BCStyle.CN, new DERUTF8String("Imported Root"))}), 5);

        ClientCaNames.Selection s = ClientCaNames.select(List.of(own, hostile, good, reissued, utf8Country));

        assertThat(s.named()).containsExactly(own, good, utf8Country);
        assertThat(s.skipped()).singleElement().satisfies(k -> {
            assertThat(k.certificate()).isEqualTo(hostile);
            assertThat(k.reason()).contains("BOOLEAN");
        });
    }

    @Test
    void selectWhenNamesExceedTheBoundThenTheFirstAreKeptInOrder() throws Exception {
        List<X509Certificate> many = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            many.add(cert(new X500Name("CN=Manufacturer CA number " + i + ",O=A manufacturer with a long name " + i), i + 1));
        }

        ClientCaNames.Selection s = ClientCaNames.select(many);

        int total = s.named().stream().mapToInt(c -> c.getSubjectX500Principal().getEncoded().length + 2).sum();
        assertThat(total).isLessThanOrEqualTo(ClientCaNames.MAX_BYTES).isGreaterThan(ClientCaNames.MAX_BYTES - 200);
        assertThat(s.named()).isEqualTo(many.subList(0, s.named().size()));
        assertThat(s.skipped()).hasSize(200 - s.named().size()).allSatisfy(k -> assertThat(k.reason()).contains("8192"));
    }
}
