package dev.trent.operator;

import java.util.Optional;

import org.springframework.data.jpa.repository.JpaRepository;

interface ApiKeyRepository extends JpaRepository<ApiKey, Long> {

    Optional<ApiKey> findByKeyHash(byte[] keyHash);
}
