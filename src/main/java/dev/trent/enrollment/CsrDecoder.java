package dev.trent.enrollment;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Provider;
import java.security.PublicKey;
import java.security.Signature;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.edec.EdECObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.CertificationRequest;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;

import dev.trent.pki.Hashes;
import dev.trent.pki.Pem;
import dev.trent.pki.Providers;

/**
 * Turns untrusted bytes into a {@link DecodedCsr}, or a {@link CsrException}; never anything
 * else. Bouncy Castle's parsers throw runtime exceptions on garbage, so every call into them is
 * caught and translated (DESIGN.md, principle 4).
 *
 * <p>Accepted encodings: PEM with the label {@code CERTIFICATE REQUEST} or keytool's
 * {@code NEW CERTIFICATE REQUEST} (trailing NUL bytes, as mbedTLS buffers carry them, are
 * ignored); DER; and base64 DER as EST clients send it (RFC 7030 section 4.2.1; line breaks
 * and whitespace ignored).
 */
public final class CsrDecoder {

    /** How the request body is encoded, from its Content-Type. */
    public enum Encoding {
        /** {@code application/x-pem-file}, {@code text/plain}: PEM, or bare base64 DER. */
        TEXT,
        /** {@code application/pkcs10}: DER, or base64 DER. */
        PKCS10
    }

    private static final List<String> PEM_LABELS = List.of("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST");

    private CsrDecoder() {
    }

    public static DecodedCsr decode(byte[] body, Encoding encoding) throws CsrException {
        byte[] der = toDer(trimTrailingNulAndSpace(body), encoding);
        PKCS10CertificationRequest request;
        try {
            // fromByteArray refuses trailing bytes after the outer SEQUENCE.
            ASN1Primitive primitive = ASN1Primitive.fromByteArray(der);
            request = new PKCS10CertificationRequest(CertificationRequest.getInstance(primitive));
        } catch (IOException | RuntimeException e) {
            throw malformed("the body is not a DER-encoded PKCS#10 certification request", e);
        }
        try {
            if (request.toASN1Structure().getCertificationRequestInfo().getVersion().intValueExact() != 0) {
                throw malformed("PKCS#10 version must be 0 (v1, RFC 2986)", null);
            }
            SubjectPublicKeyInfo spki = request.getSubjectPublicKeyInfo();
            byte[] encodedKey = spki.getEncoded();
            PublicKey key = Providers.publicKey(spki, encodedKey);
            return new DecodedCsr(request, spki, key, Hashes.sha256Hex(encodedKey));
        } catch (CsrException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw malformed("the request's public key cannot be decoded", e);
        }
    }

    /**
     * Signature algorithms accepted on a CSR, by OID. SHA-1 and RSASSA-PSS are not accepted;
     * ECDSA parameters are ignored (mbedTLS writes an explicit NULL where RFC 5758 says absent).
     */
    private static final Map<ASN1ObjectIdentifier, String> SIGNATURE_ALGORITHMS = Map.of(
            X9ObjectIdentifiers.ecdsa_with_SHA256, "SHA256withECDSA",
            X9ObjectIdentifiers.ecdsa_with_SHA384, "SHA384withECDSA",
            X9ObjectIdentifiers.ecdsa_with_SHA512, "SHA512withECDSA",
            PKCSObjectIdentifiers.sha256WithRSAEncryption, "SHA256withRSA",
            PKCSObjectIdentifiers.sha384WithRSAEncryption, "SHA384withRSA",
            PKCSObjectIdentifiers.sha512WithRSAEncryption, "SHA512withRSA",
            EdECObjectIdentifiers.id_Ed25519, "Ed25519");

    /**
     * Proof of possession: the request must be signed by the private key of the public key it
     * carries (RFC 2986 section 3). Verified once, directly, with the key already decoded.
     */
    public static void verifyProofOfPossession(DecodedCsr csr) throws CsrException {
        CertificationRequest structure = csr.request().toASN1Structure();
        ASN1ObjectIdentifier oid = structure.getSignatureAlgorithm().getAlgorithm();
        String algorithm = SIGNATURE_ALGORITHMS.get(oid);
        if (algorithm == null) {
            throw new CsrException(CsrException.Kind.BAD_SIGNATURE, "the CSR is signed with " + oid.getId()
                    + ", which is not accepted (use ECDSA or RSA PKCS#1 v1.5 with SHA-256 or stronger, or Ed25519)");
        }
        boolean valid;
        try {
            byte[] signed = structure.getCertificationRequestInfo().getEncoded(ASN1Encoding.DER);
            byte[] signature = structure.getSignature().getOctets();
            Provider provider = Providers.verifying(algorithm, csr.publicKey());
            try {
                valid = verify(provider, algorithm, csr.publicKey(), signed, signature);
            } catch (GeneralSecurityException | RuntimeException e) {
                if (provider == Providers.BC) {
                    throw e;
                }
                valid = false;
            }
            // What Bouncy Castle accepts stays accepted: a refusal by the native provider (stricter
            // about some encodings) is decided by Bouncy Castle, at no cost to a valid request.
            if (!valid && provider != Providers.BC) {
                valid = verify(Providers.BC, algorithm, csr.publicKey(), signed, signature);
            }
        } catch (GeneralSecurityException | IOException | RuntimeException e) {
            throw new CsrException(CsrException.Kind.BAD_SIGNATURE, "the CSR's signature cannot be verified with "
                    + algorithm + " (" + e.getClass().getSimpleName() + ")", e);
        }
        if (!valid) {
            throw new CsrException(CsrException.Kind.BAD_SIGNATURE,
                    "the CSR's signature does not verify with the public key it carries");
        }
    }

    private static boolean verify(Provider provider, String algorithm, PublicKey key, byte[] signed, byte[] signature)
            throws GeneralSecurityException {
        Signature verifier = Signature.getInstance(algorithm, provider);
        verifier.initVerify(key);
        verifier.update(signed);
        return verifier.verify(signature);
    }

    private static byte[] toDer(byte[] body, Encoding encoding) throws CsrException {
        if (body.length == 0) {
            throw malformed("the body is empty; send a PKCS#10 CSR", null);
        }
        if (encoding == Encoding.PKCS10 && body[0] == 0x30) {
            return body;
        }
        if (Pem.looksLikePem(body)) {
            List<Pem.Block> blocks;
            try {
                blocks = Pem.decodeAll(new String(body, StandardCharsets.US_ASCII));
            } catch (IllegalArgumentException e) {
                throw malformed("the PEM block's base64 is invalid", e);
            }
            if (blocks.size() != 1 || !PEM_LABELS.contains(blocks.get(0).label())) {
                throw malformed("expected exactly one PEM block labelled CERTIFICATE REQUEST", null);
            }
            return blocks.get(0).der();
        }
        if (encoding == Encoding.TEXT && body[0] == 0x30) {
            throw malformed("DER was sent as text; use Content-Type application/pkcs10", null);
        }
        String text = new String(body, StandardCharsets.US_ASCII).replaceAll("[\\s]", "");
        try {
            byte[] der = Base64.getDecoder().decode(text);
            if (der.length == 0) {
                throw malformed("the body is empty; send a PKCS#10 CSR", null);
            }
            return der;
        } catch (IllegalArgumentException e) {
            throw malformed("the body is neither DER, PEM nor base64 of a PKCS#10 CSR", e);
        }
    }

    /** Text bodies may end in whitespace or a C string's NUL (mbedTLS); DER bodies are left alone. */
    private static byte[] trimTrailingNulAndSpace(byte[] body) {
        if (body.length == 0 || body[0] == 0x30) {
            return body;
        }
        int end = body.length;
        while (end > 0 && (body[end - 1] == 0 || Character.isWhitespace(body[end - 1]))) {
            end--;
        }
        return end == body.length ? body : Arrays.copyOf(body, end);
    }

    private static CsrException malformed(String message, Throwable cause) {
        return new CsrException(CsrException.Kind.MALFORMED, "Malformed CSR: " + message + ".", cause);
    }

    public static Encoding encodingFor(String mediaType) {
        String t = mediaType == null ? "" : mediaType.toLowerCase(Locale.ROOT);
        return t.startsWith("application/pkcs10") ? Encoding.PKCS10 : Encoding.TEXT;
    }
}
