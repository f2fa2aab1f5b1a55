package dev.trent.profile;

/**
 * The key usage bits of RFC 5280 section 4.2.1.3 that an end-entity profile may set.
 *
 * @see <a href="https://www.rfc-editor.org/rfc/rfc5280#section-4.2.1.3">RFC 5280, 4.2.1.3</a>
 */
public enum KeyUsageName {
    digitalSignature(1 << 7),
    nonRepudiation(1 << 6),
    keyEncipherment(1 << 5),
    dataEncipherment(1 << 4),
    keyAgreement(1 << 3);

    private final int bit;

    KeyUsageName(int bit) {
        this.bit = bit;
    }

    /** The bit as Bouncy Castle's {@code KeyUsage} constants encode it. */
    public int bit() {
        return bit;
    }
}
