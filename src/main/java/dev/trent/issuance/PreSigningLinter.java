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

    /** The rules for every certificate Trent signs: serial, validity window, issuer's lifetime. */
    private static void common(List<String> problems, java.math.BigInteger serial, java.time.Instant notBefore,
            java.time.Instant notAfter, dev.trent.ca.Issuer issuer) {
        if (serial.signum() <= 0) {
            problems.add("serial must be positive (RFC 5280 4.1.2.2)");
        }
        if (serial.toByteArray().length > 20) {
            problems.add("serial must fit in 20 octets (RFC 5280 4.1.2.2)");
        }
        if (!notBefore.isBefore(notAfter)) {
            problems.add("notBefore must precede notAfter");
        }
        if (notAfter.isAfter(issuer.certificate().getNotAfter().toInstant())) {
            problems.add("certificate would outlive its issuer");
        }
    }

    /**
     * Trent's own TLS server certificate (no profile): the common rules, at least one name, valid
     * DNS names, and IP addresses that parse as addresses.
     */
    public static void lintTlsServer(java.math.BigInteger serial, java.time.Instant notBefore,
            java.time.Instant notAfter, dev.trent.ca.Issuer issuer, List<String> dnsNames, List<String> ipAddresses) {
        List<String> problems = new ArrayList<>();
        common(problems, serial, notBefore, notAfter, issuer);
        if (dnsNames.isEmpty() && ipAddresses.isEmpty()) {
            problems.add("a TLS server certificate needs at least one DNS name or IP address");
        }
        for (String name : dnsNames) {
            if (!DnsNames.isValid(name)) {
                problems.add("invalid DNS name " + name);
            }
        }
        for (String ip : ipAddresses) {
            if (!ip.matches("[0-9.]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")) {
                problems.add("invalid IP address " + ip);
            }
        }
        if (!problems.isEmpty()) {
            throw new LintException("pre-signing lint failed: " + String.join("; ", problems));
        }
    }

    public static void lint(CertificateTemplate t) {
        List<String> problems = new ArrayList<>();
        common(problems, t.serial(), t.notBefore(), t.notAfter(), t.issuer());
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
