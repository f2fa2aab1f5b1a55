package dev.trent.enrollment;

import org.springframework.http.HttpStatus;

import dev.trent.web.ProblemException;

/** The problem+json errors of device enrollment. */
final class EnrollmentProblems {

    private EnrollmentProblems() {
    }

    static ProblemException tokenInvalid(String detail) {
        return new ProblemException(HttpStatus.UNAUTHORIZED, "enrollment-token-invalid",
                "Enrollment token missing, unknown or expired", detail);
    }

    static ProblemException from(CsrException e) {
        return switch (e.kind()) {
            case MALFORMED -> ProblemException.badRequest("csr-malformed", "Malformed CSR", e.getMessage());
            case BAD_SIGNATURE -> ProblemException.badRequest("csr-signature-invalid", "CSR signature invalid",
                    "Proof of possession failed: " + e.getMessage());
        };
    }
}
