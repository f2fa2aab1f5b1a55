package dev.trent.inventory;

import java.util.Optional;

import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.JpaSpecificationExecutor;

interface CertificateRepository
        extends JpaRepository<CertificateRecord, Long>, JpaSpecificationExecutor<CertificateRecord> {

    Optional<CertificateRecord> findBySerial(String serial);
}
