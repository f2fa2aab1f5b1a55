package dev.trent.ocsp;

import java.io.IOException;

import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers;
import org.bouncycastle.asn1.ocsp.OCSPRequest;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.ocsp.OCSPReq;
import org.bouncycastle.cert.ocsp.Req;

/**
 * Turns untrusted bytes into an OCSP request, or a {@link MalformedOcspRequest}; never anything
 * else (Bouncy Castle's parser throws runtime exceptions on garbage, so every call is caught).
 *
 * @see <a href="https://www.rfc-editor.org/rfc/rfc6960#section-4.1">RFC 6960, 4.1</a>
 */
public final class OcspRequestDecoder {

    /** Largest request body accepted; a request for 20 certificates is well under 2 KiB. */
    public static final int MAX_BYTES = 8 * 1024;
    /** Most certificates asked about in one request. */
    public static final int MAX_REQUESTS = 20;

    private OcspRequestDecoder() {
    }

    /** A decoded request: its single requests in order, and its nonce if it had one. */
    public record Decoded(OCSPReq request, Req[] requests, byte[] nonce) {
    }

    /** The bytes are not an acceptable OCSP request; the answer is {@code malformedRequest}. */
    public static final class MalformedOcspRequest extends Exception {
        MalformedOcspRequest(String message, Throwable cause) {
            super(message, cause);
        }
    }

    public static Decoded decode(byte[] body) throws MalformedOcspRequest {
        if (body == null || body.length == 0) {
            throw new MalformedOcspRequest("empty request", null);
        }
        if (body.length > MAX_BYTES) {
            throw new MalformedOcspRequest("request larger than " + MAX_BYTES + " bytes", null);
        }
        OCSPReq req;
        try {
            // fromByteArray refuses trailing bytes after the outer SEQUENCE.
            req = new OCSPReq(OCSPRequest.getInstance(ASN1Primitive.fromByteArray(body)));
        } catch (IOException | RuntimeException e) {
            throw new MalformedOcspRequest("not a DER OCSPRequest", e);
        }
        Req[] requests;
        byte[] nonce = null;
        try {
            requests = req.getRequestList();
            if (requests.length == 0) {
                throw new MalformedOcspRequest("empty request list", null);
            }
            if (requests.length > MAX_REQUESTS) {
                throw new MalformedOcspRequest("more than " + MAX_REQUESTS + " certificates in one request", null);
            }
            for (Req r : requests) {
                r.getCertID().getSerialNumber();
                r.getCertID().getHashAlgOID();
            }
            Extension ext = req.getExtension(OCSPObjectIdentifiers.id_pkix_ocsp_nonce);
            if (ext != null) {
                nonce = nonce(ext);
            }
        } catch (MalformedOcspRequest e) {
            throw e;
        } catch (RuntimeException e) {
            throw new MalformedOcspRequest("request list or extensions cannot be read", e);
        }
        return new Decoded(req, requests, nonce);
    }

    /**
     * RFC 9654: the nonce is an OCTET STRING of 1 to 32 octets that responders SHOULD accept up
     * to 128; an empty or longer one is refused.
     *
     * @see <a href="https://www.rfc-editor.org/rfc/rfc9654">RFC 9654</a>
     */
    private static byte[] nonce(Extension ext) throws MalformedOcspRequest {
        byte[] octets;
        try {
            octets = ASN1OctetString.getInstance(ASN1Primitive.fromByteArray(ext.getExtnValue().getOctets()))
                    .getOctets();
        } catch (IOException | RuntimeException e) {
            throw new MalformedOcspRequest("nonce is not an OCTET STRING", e);
        }
        if (octets.length < 1 || octets.length > 128) {
            throw new MalformedOcspRequest("nonce of " + octets.length + " octets (1 to 128 allowed)", null);
        }
        return octets;
    }
}
