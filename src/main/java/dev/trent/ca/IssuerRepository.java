package dev.trent.ca;

import org.springframework.data.jpa.repository.JpaRepository;

interface IssuerRepository extends JpaRepository<IssuerEntity, String> {
}
