package dev.trent.operator;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.annotation.JsonInclude;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import dev.trent.audit.AuditLog;
import dev.trent.config.Transactions;
import dev.trent.config.TrentProperties;
import dev.trent.security.Secrets;
import dev.trent.domain.DomainException;

/** Operator API keys: creation, lookup for authentication, revocation and the first admin key. */
@Service
public class ApiKeyService {

    private static final Logger log = LoggerFactory.getLogger(ApiKeyService.class);
    /** pg_advisory_xact_lock key that serialises the bootstrap across instances. */
    private static final long BOOTSTRAP_LOCK = 0x7472656e74L;

    private final ApiKeyRepository keys;
    private final AuditLog audit;
    private final Clock clock;
    private final SecureRandom random;
    private final JdbcTemplate jdbc;

    /** Console output is a log stream (structured logging on): the generated key is never printed. */
    private final boolean structuredConsole;

    ApiKeyService(ApiKeyRepository keys, AuditLog audit, Clock clock, SecureRandom random, JdbcTemplate jdbc,
            org.springframework.core.env.Environment environment) {
        String format = environment.getProperty("logging.structured.format.console");
        this.structuredConsole = format != null && !format.isBlank();
        this.keys = keys;
        this.audit = audit;
        this.clock = clock;
        this.random = random;
        this.jdbc = jdbc;
    }

    /** A key as shown to operators; {@code key} is set only in the response that creates it. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record ApiKeyView(long id, String name, Role role, Instant createdAt, String createdBy,
            Instant revokedAt, String key) {
    }

    @Transactional(transactionManager = Transactions.JPA, readOnly = true)
    public Optional<OperatorPrincipal> authenticate(String presented) {
        return keys.findByKeyHash(Secrets.hash(presented))
                .filter(k -> k.revokedAt() == null)
                .map(k -> new OperatorPrincipal(k.id(), k.name(), k.role()));
    }

    /** Whether the key with this id exists and is not revoked (a console session ends with its key). */
    @Transactional(transactionManager = Transactions.JPA, readOnly = true)
    public boolean active(long id) {
        return keys.findById(id).filter(k -> k.revokedAt() == null).isPresent();
    }

    @Transactional(transactionManager = Transactions.JPA)
    public ApiKeyView create(String name, Role role, String actor) {
        if (name == null || name.isBlank() || name.strip().length() > 100) {
            throw DomainException.invalid("name is required and must be at most 100 characters.");
        }
        if (role == null) {
            throw DomainException.invalid("role is required: one of ADMIN, OPERATOR, AUDITOR.");
        }
        String secret = Secrets.newSecret(Secrets.API_KEY_PREFIX, random);
        ApiKey key = keys.saveAndFlush(new ApiKey(name.strip(), role, Secrets.hash(secret), clock.instant(), actor));
        audit.record(actor, "api-key.created", "api-key:" + key.id(), Map.of("name", key.name(), "role", role));
        return view(key, secret);
    }

    @Transactional(transactionManager = Transactions.JPA, readOnly = true)
    public List<ApiKeyView> list() {
        return keys.findAll().stream().map(k -> view(k, null)).toList();
    }

    @Transactional(transactionManager = Transactions.JPA)
    public ApiKeyView revoke(long id, String actor) {
        ApiKey key = keys.findById(id).orElseThrow(() -> DomainException.notFound("No API key with id " + id + "."));
        if (key.revokedAt() == null && key.role() == Role.ADMIN) {
            jdbc.queryForList("select pg_advisory_xact_lock(?)", BOOTSTRAP_LOCK);
            Integer admins = jdbc.queryForObject("select count(*) from api_key where role = 'ADMIN' and "
                    + "revoked_at is null", Integer.class);
            if (admins != null && admins <= 1) {
                throw new DomainException(DomainException.Kind.CONFLICT, "last-admin-key",
                        "Last admin key", "This is the last active ADMIN key; create another before revoking it.");
            }
        }
        if (key.revokedAt() == null) {
            key.revoke(clock.instant());
            audit.record(actor, "api-key.revoked", "api-key:" + id, Map.of("name", key.name()));
        }
        return view(key, null);
    }

    /**
     * On first start (no key exists yet), creates the admin key: from
     * {@code TRENT_BOOTSTRAP_ADMIN_TOKEN} when set, otherwise a generated one, printed once to the
     * console (not when console logs are structured: they are shipped and kept) and written
     * owner-only to {@code <data-dir>/bootstrap-admin-key}.
     */
    @Transactional(transactionManager = Transactions.JPA)
    public void bootstrap(TrentProperties properties) throws IOException {
        jdbc.queryForList("select pg_advisory_xact_lock(?)", BOOTSTRAP_LOCK);
        if (keys.count() > 0) {
            return;
        }
        String configured = properties.bootstrapAdminToken();
        String secret;
        if (configured != null && !configured.isBlank()) {
            if (configured.startsWith(Secrets.ENROLLMENT_TOKEN_PREFIX)) {
                throw new IllegalStateException("TRENT_BOOTSTRAP_ADMIN_TOKEN must not start with "
                        + Secrets.ENROLLMENT_TOKEN_PREFIX + " (that prefix marks enrollment tokens)");
            }
            if (configured.length() < 32) {
                throw new IllegalStateException("TRENT_BOOTSTRAP_ADMIN_TOKEN must be at least 32 characters");
            }
            secret = configured;
        } else {
            secret = Secrets.newSecret(Secrets.API_KEY_PREFIX, random);
        }
        ApiKey key = keys.saveAndFlush(new ApiKey("bootstrap-admin", Role.ADMIN, Secrets.hash(secret), clock.instant(),
                "system"));
        audit.record("system", "api-key.created", "api-key:" + key.id(),
                Map.of("name", key.name(), "role", Role.ADMIN, "source",
                        configured != null && !configured.isBlank() ? "TRENT_BOOTSTRAP_ADMIN_TOKEN" : "generated"));
        if (configured == null || configured.isBlank()) {
            Path file = properties.dataDir().resolve("bootstrap-admin-key");
            dev.trent.pki.PrivateFiles.writePrivateFile(file, (secret + "\n").getBytes(StandardCharsets.UTF_8));
            if (structuredConsole) {
                // The console is a log stream that is shipped and kept: the key stays in the file only.
                log.info("Created the bootstrap admin API key (id {}); it is in {} (owner-only), not in the log",
                        key.id(), file.toAbsolutePath());
                return;
            }
            // Deliberately on the console, not through the logging system, and only this once.
            System.out.println();
            System.out.println("==================================================================");
            System.out.println(" Trent: first start. Admin API key (shown once, also saved");
            System.out.println(" owner-only in " + file.toAbsolutePath() + "):");
            System.out.println();
            System.out.println("   " + secret);
            System.out.println("==================================================================");
            System.out.println();
            log.info("Created the bootstrap admin API key (id {})", key.id());
        } else {
            log.info("Created the bootstrap admin API key (id {}) from TRENT_BOOTSTRAP_ADMIN_TOKEN", key.id());
        }
    }

    private static ApiKeyView view(ApiKey k, String secret) {
        return new ApiKeyView(k.id(), k.name(), k.role(), k.createdAt(), k.createdBy(), k.revokedAt(), secret);
    }
}
