package dev.trent.manufacturer;

import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.UUID;

import org.bouncycastle.asn1.ASN1Boolean;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Builders of manufacturer CA certificates, good and hostile, for the tests: each hostile one is
 * a real certificate signed with a real key (Bouncy Castle's ASN.1 classes put what no sane
 * builder would into its TBSCertificate), or a real certificate's bytes altered after signing.
 */
final class HostileCertificates {

    static final SecureRandom RANDOM = new SecureRandom();
    static final ASN1ObjectIdentifier PRIVATE_EXTENSION = new ASN1ObjectIdentifier("1.3.6.1.4.1.55555.1");

    private HostileCertificates() {
    }

    static KeyPair p256() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A unique, well-formed name. */
    static X500Name name(String label) {
        return new X500Name("CN=" + label + " " + UUID.randomUUID().toString().substring(0, 8) + ",O=Hostile Test");
    }

    /** A CN whose value is a BOOLEAN (OpenSSL: "mstring wrong tag"), and a UTF8String O. */
    static X500Name booleanCn() {
        return new X500Name(new RDN[] {new RDN(BCStyle.CN, ASN1Boolean.TRUE),
            new RDN(BCStyle.O, new DERUTF8String("Boolean CN " + UUID.randomUUID()))});
    }

    /** A certificate with everything chosen: {@code keyUsage} null for none; extra extensions (non-critical). */
    static byte[] der(X500Name issuer, X500Name subject, PublicKey key, PrivateKey signer, BigInteger serial, boolean ca,
            Integer keyUsage, ASN1Encodable... extraValues) {
        try {
            Instant now = Instant.now();
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, serial,
                    Date.from(now.minus(Duration.ofDays(1))), Date.from(now.plus(Duration.ofDays(3650))), subject, key);
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
            if (keyUsage != null) {
                b.addExtension(Extension.keyUsage, true, new KeyUsage(keyUsage));
            }
            for (int i = 0; i < extraValues.length; i++) {
                b.addExtension(PRIVATE_EXTENSION.branch(String.valueOf(i)), false, extraValues[i]);
            }
            return b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer)).getEncoded();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static BigInteger serial() {
        return new BigInteger(64, RANDOM).setBit(0);
    }

    /** A good self-signed CA certificate for {@code keys}. */
    static byte[] selfSignedCa(X500Name name, KeyPair keys) {
        return der(name, name, keys.getPublic(), keys.getPrivate(), serial(), true,
                KeyUsage.keyCertSign | KeyUsage.cRLSign);
    }

    static X509Certificate x509(byte[] der) {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    new org.bouncycastle.cert.X509CertificateHolder(der));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code depth} SEQUENCEs nested in one another, definite lengths (strict DER, only too deep). */
    static byte[] nestedDefinite(int depth) {
        byte[] inner = {0x05, 0x00}; // NULL
        for (int i = 0; i < depth; i++) {
            inner = tlv(0x30, inner);
        }
        return inner;
    }

    /** {@code depth} SEQUENCEs nested with indefinite lengths (BER), the kind that overflows recursive parsers. */
    static byte[] nestedIndefinite(int depth) {
        byte[] out = new byte[depth * 4];
        for (int i = 0; i < depth; i++) {
            out[2 * i] = 0x30;
            out[2 * i + 1] = (byte) 0x80;
        }
        return out; // the second half stays 00 00 end-of-contents pairs
    }

    static byte[] tlv(int tag, byte[] contents) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int n = contents.length;
        if (n < 0x80) {
            out.write(n);
        } else if (n < 0x100) {
            out.write(0x81);
            out.write(n);
        } else if (n < 0x10000) {
            out.write(0x82);
            out.write(n >> 8);
            out.write(n);
        } else {
            out.write(0x83);
            out.write(n >> 16);
            out.write(n >> 8);
            out.write(n);
        }
        out.writeBytes(contents);
        return out.toByteArray();
    }

    /** {@code der} with its outermost length in a non-minimal long form (a leading zero byte): BER, not DER. */
    static byte[] nonMinimalLength(byte[] der) {
        if ((der[1] & 0xff) != 0x82) {
            throw new IllegalArgumentException("expected a two-byte length");
        }
        byte[] out = new byte[der.length + 1];
        out[0] = der[0];
        out[1] = (byte) 0x83;
        out[2] = 0;
        System.arraycopy(der, 2, out, 3, der.length - 2);
        return out;
    }

    static byte[] withTrailing(byte[] der, byte... extra) {
        byte[] out = Arrays.copyOf(der, der.length + extra.length);
        System.arraycopy(extra, 0, out, der.length, extra.length);
        return out;
    }

    /** A self-signed CA certificate larger than 16 KiB (a big private extension). */
    static byte[] oversized(KeyPair keys) {
        X500Name n = name("Oversized");
        return der(n, n, keys.getPublic(), keys.getPrivate(), serial(), true, KeyUsage.keyCertSign,
                new DEROctetString(new byte[17_000]));
    }
}
