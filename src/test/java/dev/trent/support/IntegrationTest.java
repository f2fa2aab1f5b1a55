package dev.trent.support;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Base of the integration tests: the whole application on a random port against a real
 * PostgreSQL. By default that is Trent's own embedded PostgreSQL in a fresh data directory under
 * {@code target/}; with {@code SPRING_DATASOURCE_URL} (and user/password) in the environment,
 * the tests use that server instead. Tests use unique device ids, so a shared database is fine.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
    "trent.data-dir=target/it-data/${random.uuid}",
    "trent.tls.port=0",
    "trent.bootstrap-admin-token=" + IntegrationTest.ADMIN_KEY
})
@org.junit.jupiter.api.Tag(IntegrationTest.BOTH_BACKENDS)
public abstract class IntegrationTest {

    /**
     * The tag of the suite that runs twice: against a PKCS#12 keystore and, in the pom's
     * {@code pkcs11} failsafe execution ({@code -Dtrent.test.signer=pkcs11}), against a SoftHSM2 token.
     */
    public static final String BOTH_BACKENDS = "both-backends";

    /** True in the run against the HSM. */
    public static boolean pkcs11Run() {
        return "pkcs11".equals(System.getProperty("trent.test.signer"));
    }

    @org.junit.jupiter.api.BeforeAll
    static void signerBackendAvailable() {
        if (pkcs11Run()) {
            SoftHsm.assumeAvailable();
        }
    }

    @org.springframework.test.context.DynamicPropertySource
    static void signerBackend(org.springframework.test.context.DynamicPropertyRegistry registry) {
        if (pkcs11Run()) {
            SoftHsm.tokens().suite().settings().forEach((k, v) -> registry.add(k, () -> v));
        }
    }

    /** The bootstrap admin key of every test context (at least 32 characters). */
    public static final String ADMIN_KEY = "trent_ak_test-admin-key-0123456789abcdefghijkl";

    @LocalServerPort
    protected int port;

    @Autowired
    protected JdbcTemplate jdbc;

    protected TrentClient client() {
        return new TrentClient(port);
    }

    /** A unique device id for this test run. */
    protected static String deviceId(String prefix) {
        return prefix + "-" + java.util.UUID.randomUUID().toString().substring(0, 8);
    }
}
