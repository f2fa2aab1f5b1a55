package dev.trent.profile;

/**
 * Extended key usage purposes (RFC 5280 section 4.2.1.12) that a profile may grant.
 *
 * @see <a href="https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.12">RFC 5280, 4.2.1.12</a>
 */
public enum ExtendedKeyUsageName {
    /** id-kp-serverAuth: TLS server. */
    serverAuth("1.3.6.1.5.5.7.3.1"),
    /** id-kp-clientAuth: TLS client (mutual TLS). */
    clientAuth("1.3.6.1.5.5.7.3.2");

    private final String oid;

    ExtendedKeyUsageName(String oid) {
        this.oid = oid;
    }

    public String oid() {
        return oid;
    }
}
