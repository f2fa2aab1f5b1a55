package dev.trent.support;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

import dev.trent.pki.Pem;

/** CSR fixtures made with a fresh key each time. */
public final class TestCsrs {

    private TestCsrs() {
    }

    /** A key pair and a CSR signed with it. */
    public record Csr(KeyPair keys, PKCS10CertificationRequest request) {
        public byte[] der() {
            try {
                return request.getEncoded();
            } catch (java.io.IOException e) {
                throw new IllegalStateException(e);
            }
        }

        public String pem() {
            return Pem.encode("CERTIFICATE REQUEST", der());
        }
    }

    public static Csr ecP256(String cn) {
        return create(ec("secp256r1"), cn, "SHA256withECDSA");
    }

    public static Csr ecP384(String cn) {
        return create(ec("secp384r1"), cn, "SHA384withECDSA");
    }

    public static Csr rsa(int bits, String cn) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(bits);
            return create(g.generateKeyPair(), cn, "SHA256withRSA");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A new CSR over an existing key (same public key, fresh signature). */
    public static Csr forKey(KeyPair keys, String cn) {
        String alg = keys.getPublic().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
        return create(keys, cn, alg);
    }

    private static KeyPair ec(String curve) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec(curve));
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Csr create(KeyPair keys, String cn, String alg) {
        try {
            PKCS10CertificationRequest req = new JcaPKCS10CertificationRequestBuilder(new X500Name("CN=" + cn),
                    keys.getPublic()).build(new JcaContentSignerBuilder(alg).build(keys.getPrivate()));
            return new Csr(keys, req);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
