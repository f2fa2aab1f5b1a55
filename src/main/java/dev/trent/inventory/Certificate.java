package dev.trent.inventory;

import java.time.Instant;
import java.util.List;

/**
 * An issued certificate as the rest of Trent passes it around: the stored record's facts and
 * the signed DER. Immutable.
 */
public record Certificate(String serial, String issuerId, String deviceId, String profile, String subjectDn,
        List<String> dnsNames, CertificateStatus status, String keyType, String publicKeySha256, Instant notBefore,
        Instant notAfter, Instant issuedAt, byte[] der) {

    public Certificate {
        dnsNames = List.copyOf(dnsNames);
        der = der.clone();
    }

    @Override
    public byte[] der() {
        return der.clone();
    }
}
