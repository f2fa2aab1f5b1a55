package dev.trent.revocation;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The CRLReason values of RFC 5280 section 5.3.1 that apply to an end-entity certificate.
 * {@code cACompromise} and {@code aACompromise} concern CAs and attribute authorities, and
 * {@code removeFromCRL} exists only in delta CRLs (Trent releases a hold with "unhold").
 *
 * @see <a href="https://www.rfc-editor.org/rfc/rfc5280#section-5.3.1">RFC 5280, 5.3.1</a>
 */
public enum RevocationReason {
    /** Recorded, but "the reason code CRL entry extension SHOULD be absent instead" (RFC 5280 5.3.1). */
    unspecified(0),
    keyCompromise(1),
    affiliationChanged(3),
    superseded(4),
    cessationOfOperation(5),
    /** A hold: reversible with unhold, or made permanent by revoking with another reason. */
    certificateHold(6),
    privilegeWithdrawn(9);

    private final int code;

    RevocationReason(int code) {
        this.code = code;
    }

    /** The CRLReason code. */
    public int code() {
        return code;
    }

    /** Parses a reason name exactly as RFC 5280 spells it (case-sensitive, as in ASN.1). */
    public static RevocationReason parse(String name) {
        for (RevocationReason r : values()) {
            if (r.name().equals(name)) {
                return r;
            }
        }
        throw new IllegalArgumentException("reason must be one of " + names());
    }

    public static String names() {
        return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
    }
}
