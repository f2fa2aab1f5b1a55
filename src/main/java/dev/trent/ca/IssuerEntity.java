package dev.trent.ca;

import java.time.Instant;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

@Entity
@Table(name = "issuer")
class IssuerEntity {

    @Id
    private String id;

    @Column(name = "subject_dn", nullable = false)
    private String subjectDn;

    @Column(name = "certificate_der", nullable = false)
    private byte[] certificateDer;

    @Column(name = "not_after", nullable = false)
    private Instant notAfter;

    @Column(name = "created_at", nullable = false)
    private Instant createdAt;

    protected IssuerEntity() {
    }

    IssuerEntity(String id, String subjectDn, byte[] certificateDer, Instant notAfter, Instant createdAt) {
        this.id = id;
        this.subjectDn = subjectDn;
        this.certificateDer = certificateDer;
        this.notAfter = notAfter;
        this.createdAt = createdAt;
    }

    String id() {
        return id;
    }
}
