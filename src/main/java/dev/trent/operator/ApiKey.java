package dev.trent.operator;

import java.time.Instant;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

@Entity
@Table(name = "api_key")
class ApiKey {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    private Long id;

    @Column(nullable = false, updatable = false)
    private String name;

    @Enumerated(EnumType.STRING)
    @Column(nullable = false, updatable = false)
    private Role role;

    @Column(name = "key_hash", nullable = false, updatable = false)
    private byte[] keyHash;

    @Column(name = "created_at", nullable = false, updatable = false)
    private Instant createdAt;

    @Column(name = "created_by", nullable = false, updatable = false)
    private String createdBy;

    @Column(name = "revoked_at")
    private Instant revokedAt;

    protected ApiKey() {
    }

    ApiKey(String name, Role role, byte[] keyHash, Instant createdAt, String createdBy) {
        this.name = name;
        this.role = role;
        this.keyHash = keyHash.clone();
        this.createdAt = createdAt;
        this.createdBy = createdBy;
    }

    void revoke(Instant when) {
        if (revokedAt == null) {
            revokedAt = when;
        }
    }

    Long id() {
        return id;
    }

    String name() {
        return name;
    }

    Role role() {
        return role;
    }

    Instant createdAt() {
        return createdAt;
    }

    String createdBy() {
        return createdBy;
    }

    Instant revokedAt() {
        return revokedAt;
    }
}
