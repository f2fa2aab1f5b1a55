package dev.trent.enrollment;

import dev.trent.domain.DomainException;

/**
 * The refusals of device enrollment that several stages or endpoints share, as domain
 * exceptions; {@code dev.trent.web} maps them to problem+json.
 */
final class EnrollmentProblems {

    private EnrollmentProblems() {
    }

    /** 401 {@code enrollment-token-invalid}: the bearer token is missing, unknown or expired. */
    static DomainException tokenInvalid(String detail) {
        return DomainException.unauthenticated("enrollment-token-invalid",
                "Enrollment token missing, unknown or expired", detail);
    }

    static DomainException from(CsrException e) {
        return switch (e.kind()) {
            case MALFORMED -> DomainException.invalid("csr-malformed", "Malformed CSR", e.getMessage());
            case BAD_SIGNATURE -> DomainException.invalid("csr-signature-invalid", "CSR signature invalid",
                    "Proof of possession failed: " + e.getMessage());
        };
    }

    /**
     * 401 {@code client-certificate-required}: no certificate was presented (the challenge names
     * the EST realm; the credential is the TLS client certificate). A certificate presented but
     * not accepted is a 403 ({@link DomainException#forbidden}).
     */
    static DomainException clientCertificateRequired(String detail) {
        return DomainException.unauthenticated("client-certificate-required", "Client certificate required", detail,
                "Basic realm=\"trent-est\"");
    }
}
