package dev.trent.config;

import javax.sql.DataSource;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;
import org.springframework.data.jpa.repository.config.EnableJpaRepositories;
import org.springframework.jdbc.support.JdbcTransactionManager;
import org.springframework.orm.jpa.JpaTransactionManager;

import jakarta.persistence.EntityManagerFactory;

/**
 * Trent's transactions are JDBC transactions: {@code transactionManager}, the default of every
 * {@code @Transactional} and {@code TransactionTemplate}. Enrollment, renewal, revocation,
 * tokens, webhooks, CRLs and the audit log write with JDBC; under JPA's transaction manager each
 * of their transactions also opened and closed a Hibernate session it never used (about 5% of an
 * enrollment's Java CPU samples, bench/README.md).
 *
 * <p>JPA's manager ({@link #JPA}) serves what works with entities: operators' API keys
 * ({@code ApiKeyService}) and the Spring Data repositories' own transactions (the certificate
 * search). A JDBC transaction begun inside a JPA one joins it (same connection); a JPA
 * transaction must never begin inside a JDBC one (JpaTransactionManager refuses a connection it
 * did not bind), so no code reached from a JDBC transaction uses a repository or an entity
 * (ArchitectureTest).
 */
@Configuration(proxyBeanMethods = false)
@EnableJpaRepositories(basePackages = "dev.trent", transactionManagerRef = Transactions.JPA)
public class Transactions {

    /** The bean name of JPA's transaction manager, for {@code @Transactional(transactionManager = JPA)}. */
    public static final String JPA = "jpaTransactions";

    @Bean
    @Primary
    JdbcTransactionManager transactionManager(DataSource dataSource) {
        return new JdbcTransactionManager(dataSource);
    }

    @Bean(JPA)
    JpaTransactionManager jpaTransactions(EntityManagerFactory entityManagerFactory) {
        return new JpaTransactionManager(entityManagerFactory);
    }
}
