package dev.trent.issuance;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.trent.profile.CertificateProfile;
import dev.trent.profile.KeyUsageName;

/**
 * Checks a template before anything is signed (Boulder's "lint before you sign"). A failure
 * here is a bug or a misconfiguration, never the device's fault, so nothing is issued and the
 * request fails as a server error.
 */
public final class PreSigningLinter {

    /** The template broke a rule that every Trent certificate must follow. */
    public static final class LintException extends RuntimeException {
        LintException(String message) {
            super(message);
        }
    }

    private PreSigningLinter() {
    }

    public static void lint(CertificateTemplate t) {
        List<String> problems = new ArrayList<>();
        if (t.serial().signum() <= 0) {
            problems.add("serial must be positive (RFC 5280 4.1.2.2)");
        }
        if (t.serial().toByteArray().length > 20) {
            problems.add("serial must fit in 20 octets (RFC 5280 4.1.2.2)");
        }
        if (!t.notBefore().isBefore(t.notAfter())) {
            problems.add("notBefore must precede notAfter");
        }
        if (t.notAfter().isAfter(t.issuer().certificate().getNotAfter().toInstant())) {
            problems.add("certificate would outlive its issuer");
        }
        if (t.deviceId().isEmpty() || t.deviceId().length() > 64) {
            problems.add("commonName must be 1 to 64 characters (RFC 5280 ub-common-name)");
        }
        CertificateProfile p = t.profile();
        if (!t.dnsNames().isEmpty() && !p.dnsNamesAllowed()) {
            problems.add("profile " + p.name() + " allows no DNS names");
        }
        if (p.dnsNamesRequired() && t.dnsNames().isEmpty()) {
            problems.add("profile " + p.name() + " requires DNS names");
        }
        if (t.dnsNames().size() > p.maxDnsNames()) {
            problems.add("more DNS names than profile " + p.name() + " allows");
        }
        for (String name : t.dnsNames()) {
            if (!DnsNames.isValid(name)) {
                problems.add("invalid DNS name " + name);
            }
        }
        for (KeyUsageName usage : p.keyUsage()) {
            if (!t.keyType().permits(usage)) {
                problems.add("key usage " + usage + " is not permitted for " + t.keyType() + " keys");
            }
        }
        if (!p.keyTypes().contains(t.keyType())) {
            problems.add("key type " + t.keyType() + " not allowed by profile " + p.name());
        }
        try {
            byte[] issuerKey = t.issuer().certificate().getPublicKey().getEncoded();
            if (Arrays.equals(issuerKey, t.publicKey().getEncoded())) {
                problems.add("subject key is the issuer's own key");
            }
        } catch (IOException e) {
            problems.add("subject public key cannot be encoded");
        }
        if (!problems.isEmpty()) {
            throw new LintException("pre-signing lint failed: " + String.join("; ", problems));
        }
    }
}
