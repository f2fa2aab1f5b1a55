package dev.trent.inventory;

import java.time.Instant;

/**
 * Something happened to a device-facing certificate. Published with Spring's
 * {@code ApplicationEventPublisher} <em>inside</em> the transaction that made the change, so a
 * plain {@code @EventListener} runs in that transaction: integrations (webhooks, the broker
 * sync) write their outbox rows there, and the change and its outbox row commit or roll back
 * together. A listener that fails rolls the change back; keep listeners to inserts.
 *
 * <p>Trent's own certificates (TLS listener, OCSP responder) are not announced.
 *
 * @param serial         the certificate's serial (lower-case hex); listeners that need more
 *                       (issuer, validity) read its row in the same transaction
 * @param deviceId       the certificate's device id
 * @param profile        the certificate's profile (listeners filter on it without a query)
 * @param reason         the RFC 5280 reason name for {@link Type#REVOKED} and {@link Type#HELD}, else null
 * @param previousReason for a changed revocation (a hold made permanent, an escalation to
 *                       keyCompromise) the reason it had before, else null
 * @param previousSerial for {@link Type#RENEWED} the certificate the renewal replaced, else null
 * @param facts          the certificate as it is after the event, when the publisher has it at
 *                       hand (issuance: the certificate just made, whose row may not be written
 *                       yet, {@code WriteBehind}); else null, and listeners read the row
 */
public record CertificateEvent(Type type, String serial, String deviceId, String profile, Instant occurredAt, String reason, String previousReason,
        String previousSerial, CertificateStore.Facts facts) {

    /** The event types, named as webhooks and the audit log name them. */
    public enum Type {
        ISSUED("certificate.issued"),
        RENEWED("certificate.renewed"),
        REVOKED("certificate.revoked"),
        HELD("certificate.held"),
        UNHELD("certificate.unheld");

        private final String wireName;

        Type(String wireName) {
            this.wireName = wireName;
        }

        public String wireName() {
            return wireName;
        }
    }

    /** A certificate issued now: {@code certificate} is what was signed. */
    public static CertificateEvent issued(Certificate certificate, Instant at) {
        return new CertificateEvent(Type.ISSUED, certificate.serial(), certificate.deviceId(), certificate.profile(), at,
                null, null, null, CertificateStore.Facts.issued(certificate));
    }

    /** {@code certificate}, issued now, renews {@code previousSerial}. */
    public static CertificateEvent renewed(Certificate certificate, Instant at, String previousSerial) {
        return new CertificateEvent(Type.RENEWED, certificate.serial(), certificate.deviceId(), certificate.profile(),
                at, null, null, previousSerial, CertificateStore.Facts.issued(certificate));
    }

    /** A revocation or a hold, or a change of an existing one's reason ({@code previousReason} then set). */
    public static CertificateEvent revoked(String serial, String deviceId, String profile, Instant at, String reason,
            String previousReason) {
        Type type = "certificateHold".equals(reason) ? Type.HELD : Type.REVOKED;
        return new CertificateEvent(type, serial, deviceId, profile, at, reason, previousReason, null, null);
    }

    public static CertificateEvent unheld(String serial, String deviceId, String profile, Instant at) {
        return new CertificateEvent(Type.UNHELD, serial, deviceId, profile, at, null, null, null, null);
    }
}
