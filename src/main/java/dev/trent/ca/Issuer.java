package dev.trent.ca;

import java.net.URI;
import java.security.cert.X509Certificate;

/**
 * An issuing CA as the rest of Trent sees it: its stable id (hex of its subjectKeyIdentifier),
 * its signer, and the URLs that certificates it issues carry.
 *
 * @param id           lower-case hex of the issuer's subjectKeyIdentifier
 * @param signer       the signing port for the issuer's key
 * @param key          whether that key can be reached, and where it is
 * @param crlUrl       the CRL distribution point, {@code <base>/crl/<id>.crl}
 * @param ocspUrl      the OCSP responder, {@code <base>/ocsp}
 * @param caIssuersUrl the issuer's certificate in DER, {@code <base>/ca/<id>.crt}
 */
public record Issuer(String id, CaSigner signer, KeyStatus key, URI crlUrl, URI ocspUrl, URI caIssuersUrl) {

    /** An issuer whose key status is what {@code signer} reports about itself. */
    public Issuer(String id, CaSigner signer, URI crlUrl, URI ocspUrl, URI caIssuersUrl) {
        this(id, signer, KeyStatus.of(signer), crlUrl, ocspUrl, caIssuersUrl);
    }

    public X509Certificate certificate() {
        return signer.issuerCertificate();
    }
}
