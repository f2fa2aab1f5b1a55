package dev.trent.enrollment;

import java.util.Optional;

import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Lock;
import org.springframework.data.jpa.repository.Query;

import jakarta.persistence.LockModeType;

interface EnrollmentTokenRepository extends JpaRepository<EnrollmentToken, Long> {

    /**
     * Loads a token and locks its row until the transaction ends, so that two enrollments with
     * one token run one after the other and the second sees the first's outcome.
     */
    @Lock(LockModeType.PESSIMISTIC_WRITE)
    @Query("select t from EnrollmentToken t where t.tokenHash = :hash")
    Optional<EnrollmentToken> lockByHash(byte[] hash);
}
