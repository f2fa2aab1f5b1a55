package dev.trent.enrollment;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** A one-time enrollment token as stored: its hash and what it authorises. */
@Entity
@Table(name = "enrollment_token")
class EnrollmentToken {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    private Long id;

    @Column(name = "token_hash", nullable = false, updatable = false)
    private byte[] tokenHash;

    @Column(name = "device_id", nullable = false, updatable = false)
    private String deviceId;

    @Column(nullable = false, updatable = false)
    private String profile;

    @JdbcTypeCode(SqlTypes.ARRAY)
    @Column(name = "dns_names", nullable = false, updatable = false, columnDefinition = "text[]")
    private String[] dnsNames;

    @Column(name = "batch_id", updatable = false)
    private UUID batchId;

    @Column(name = "created_at", nullable = false, updatable = false)
    private Instant createdAt;

    @Column(name = "created_by", nullable = false, updatable = false)
    private String createdBy;

    @Column(name = "expires_at", nullable = false, updatable = false)
    private Instant expiresAt;

    @Column(name = "used_at")
    private Instant usedAt;

    @Column(name = "certificate_id")
    private Long certificateId;

    protected EnrollmentToken() {
    }

    EnrollmentToken(byte[] tokenHash, String deviceId, String profile, List<String> dnsNames, UUID batchId,
            Instant createdAt, String createdBy, Instant expiresAt) {
        this.tokenHash = tokenHash.clone();
        this.deviceId = deviceId;
        this.profile = profile;
        this.dnsNames = dnsNames.toArray(new String[0]);
        this.batchId = batchId;
        this.createdAt = createdAt;
        this.createdBy = createdBy;
        this.expiresAt = expiresAt;
    }

    void markUsed(Instant when, Long certificateId) {
        if (usedAt != null) {
            throw new IllegalStateException("token " + id + " is already used");
        }
        this.usedAt = when;
        this.certificateId = certificateId;
    }

    boolean isUsed() {
        return usedAt != null;
    }

    boolean isExpired(Instant now) {
        return !now.isBefore(expiresAt);
    }

    Long id() {
        return id;
    }

    String deviceId() {
        return deviceId;
    }

    String profile() {
        return profile;
    }

    List<String> dnsNames() {
        return List.of(dnsNames);
    }

    UUID batchId() {
        return batchId;
    }

    Instant expiresAt() {
        return expiresAt;
    }

    Long certificateId() {
        return certificateId;
    }
}
