package dev.trent.inventory;

import java.time.Instant;
import java.util.List;

/**
 * An issued certificate as the rest of Trent passes it around: the stored record's facts, its
 * revocation (null unless revoked or on hold) and the signed DER. Immutable.
 */
public record Certificate(String serial, String issuerId, String deviceId, String profile, String subjectDn,
        List<String> dnsNames, CertificateStatus status, String keyType, String publicKeySha256, Instant notBefore,
        Instant notAfter, Instant issuedAt, Revocation revocation, byte[] der) {

    /**
     * When and why a certificate was revoked.
     *
     * @param reason         the RFC 5280 reason name, e.g. {@code keyCompromise}; {@code certificateHold}
     *                       for a hold
     * @param invalidityDate when the key is known or suspected to have become invalid, if given
     */
    public record Revocation(Instant revokedAt, String reason, Instant invalidityDate) {
    }

    public Certificate {
        dnsNames = List.copyOf(dnsNames);
        der = der.clone();
    }

    /** The length of the DER, without a copy. */
    public int derLength() {
        return der.length;
    }

    @Override
    public byte[] der() {
        return der.clone();
    }
}
