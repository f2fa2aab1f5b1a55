package dev.trent.profile;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What a certificate issued under one profile contains. The CA decides a certificate's content
 * from the profile and the enrollment token, never from the CSR.
 *
 * @param name              profile name, as used in tokens and URLs
 * @param validity          lifetime of an issued certificate (capped by the issuer's own)
 * @param keyTypes          subject key types accepted
 * @param rsaMinBits        smallest RSA modulus accepted when {@link KeyType#RSA} is allowed
 * @param keyUsage          key usage bits for EC and Ed25519 subject keys
 * @param extendedKeyUsage  extended key usage purposes
 * @param dnsNamesAllowed   whether a token for this profile may carry DNS names (written as SANs)
 * @param dnsNamesRequired  whether a token for this profile must carry at least one DNS name
 * @param maxDnsNames       most DNS names one certificate may carry
 * @param ocspUrl           whether certificates carry the OCSP responder's URL (AIA id-ad-ocsp);
 *                          leave it out for fleets whose relying parties cannot speak OCSP
 *                          (mbedTLS: Mbed-TLS/mbedtls#1197)
 * @param caIssuersUrl      whether certificates carry the issuer certificate's URL (AIA
 *                          id-ad-caIssuers); a device sends its intermediate itself, so device
 *                          certificates rarely need it
 * @param maxDerBytes       the largest DER a certificate of this profile may have, checked before
 *                          signing (0: no limit)
 */
public record CertificateProfile(
        String name,
        Duration validity,
        Set<KeyType> keyTypes,
        int rsaMinBits,
        List<KeyUsageName> keyUsage,
        List<ExtendedKeyUsageName> extendedKeyUsage,
        boolean dnsNamesAllowed,
        boolean dnsNamesRequired,
        int maxDnsNames,
        boolean ocspUrl,
        boolean caIssuersUrl,
        int maxDerBytes) {

    /** A profile whose certificates carry every status pointer and have no size limit. */
    public CertificateProfile(String name, Duration validity, Set<KeyType> keyTypes, int rsaMinBits,
            List<KeyUsageName> keyUsage, List<ExtendedKeyUsageName> extendedKeyUsage, boolean dnsNamesAllowed,
            boolean dnsNamesRequired, int maxDnsNames) {
        this(name, validity, keyTypes, rsaMinBits, keyUsage, extendedKeyUsage, dnsNamesAllowed, dnsNamesRequired,
                maxDnsNames, true, true, 0);
    }

    public CertificateProfile {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(validity, "validity");
        if (validity.isNegative() || validity.isZero()) {
            throw new IllegalArgumentException("profile " + name + ": validity must be positive");
        }
        if (keyTypes == null || keyTypes.isEmpty()) {
            throw new IllegalArgumentException("profile " + name + ": at least one key type must be allowed");
        }
        if (rsaMinBits < 2048) {
            throw new IllegalArgumentException("profile " + name + ": rsa-min-bits must be at least 2048");
        }
        if (keyUsage == null || keyUsage.isEmpty()) {
            throw new IllegalArgumentException("profile " + name + ": key-usage must not be empty");
        }
        for (KeyType type : keyTypes) {
            for (KeyUsageName usage : keyUsage) {
                if (!type.permits(usage)) {
                    throw new IllegalArgumentException("profile " + name + ": key usage " + usage
                            + " is not permitted for " + type.displayName() + " keys, which the profile allows");
                }
            }
        }
        if (extendedKeyUsage == null || extendedKeyUsage.isEmpty()) {
            throw new IllegalArgumentException("profile " + name + ": extended-key-usage must not be empty");
        }
        if (dnsNamesRequired && !dnsNamesAllowed) {
            throw new IllegalArgumentException("profile " + name + ": dns names cannot be required but not allowed");
        }
        if (maxDnsNames < 0 || maxDnsNames > 100) {
            throw new IllegalArgumentException("profile " + name + ": max-dns-names must be between 0 and 100");
        }
        if (maxDerBytes != 0 && (maxDerBytes < 256 || maxDerBytes > 65_536)) {
            throw new IllegalArgumentException("profile " + name + ": max-der-bytes must be 0 (no limit) or between "
                    + "256 and 65536, not " + maxDerBytes);
        }
        keyTypes = Set.copyOf(keyTypes);
        keyUsage = List.copyOf(keyUsage);
        extendedKeyUsage = List.copyOf(extendedKeyUsage);
    }

    /** Human-readable list of what this profile accepts, for refusal messages. */
    public String allowedKeysDescription() {
        StringBuilder sb = new StringBuilder();
        for (KeyType type : KeyType.values()) {
            if (!keyTypes.contains(type)) {
                continue;
            }
            if (!sb.isEmpty()) {
                sb.append(", ");
            }
            sb.append(type == KeyType.RSA
                    ? "RSA (" + rsaMinBits + " bits or more, exponent 65537)"
                    : type.displayName());
        }
        return sb.toString();
    }
}
