package dev.trent.inventory;

import java.time.Instant;
import java.util.List;

import org.hibernate.annotations.Immutable;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/**
 * One issued certificate as recorded in PostgreSQL, for queries. Read-only here: rows are
 * written by {@link CertificateStore} only.
 */
@Entity
@Immutable
@Table(name = "certificate")
public class CertificateRecord {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    private Long id;

    @Column(name = "issuer_id", nullable = false)
    private String issuerId;

    @Column(nullable = false)
    private String serial;

    @Column(name = "device_id", nullable = false)
    private String deviceId;

    @Column(nullable = false)
    private String profile;

    @Column(name = "subject_dn", nullable = false)
    private String subjectDn;

    @JdbcTypeCode(SqlTypes.ARRAY)
    @Column(name = "dns_names", nullable = false, columnDefinition = "text[]")
    private String[] dnsNames;

    @Column(name = "not_before", nullable = false)
    private Instant notBefore;

    @Column(name = "not_after", nullable = false)
    private Instant notAfter;

    @Column(name = "key_type", nullable = false)
    private String keyType;

    @Column(name = "public_key_sha256", nullable = false)
    private String publicKeySha256;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false)
    private CertificateStatus status;

    private byte[] der;

    @Column(name = "revoked_at")
    private Instant revokedAt;

    @Column(name = "revocation_reason")
    private String revocationReason;

    @Column(name = "invalidity_date")
    private Instant invalidityDate;

    @Column(name = "created_at", nullable = false)
    private Instant createdAt;

    protected CertificateRecord() {
    }

    /** The stored facts as an immutable value. */
    public Certificate toCertificate() {
        return new Certificate(serial, issuerId, deviceId, profile, subjectDn, List.of(dnsNames), status, keyType,
                publicKeySha256, notBefore, notAfter, createdAt,
                revokedAt == null ? null : new Certificate.Revocation(revokedAt, revocationReason, invalidityDate), der);
    }

    public Long id() {
        return id;
    }

    public String issuerId() {
        return issuerId;
    }

    public String serial() {
        return serial;
    }

    public String deviceId() {
        return deviceId;
    }

    public String profile() {
        return profile;
    }

    public String subjectDn() {
        return subjectDn;
    }

    public List<String> dnsNames() {
        return List.of(dnsNames);
    }

    public Instant notBefore() {
        return notBefore;
    }

    public Instant notAfter() {
        return notAfter;
    }

    public String keyType() {
        return keyType;
    }

    public String publicKeySha256() {
        return publicKeySha256;
    }

    public CertificateStatus status() {
        return status;
    }

    public byte[] der() {
        return der == null ? null : der.clone();
    }

    public Instant createdAt() {
        return createdAt;
    }
}
