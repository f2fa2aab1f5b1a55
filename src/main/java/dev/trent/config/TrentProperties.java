package dev.trent.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import dev.trent.profile.ExtendedKeyUsageName;
import dev.trent.profile.KeyType;
import dev.trent.profile.KeyUsageName;

/**
 * Every {@code trent.*} setting. docs/configuration.md lists each with its
 * environment variable and default; keep the two in step.
 */
@ConfigurationProperties("trent")
public record TrentProperties(
        @DefaultValue("./data") Path dataDir,
        @DefaultValue("http://localhost:8080") URI publicBaseUrl,
        String bootstrapAdminToken,
        @DefaultValue Ca ca,
        @DefaultValue Issuance issuance,
        @DefaultValue Tokens tokens,
        @DefaultValue Crl crl,
        @DefaultValue Ocsp ocsp,
        @DefaultValue Tls tls,
        @DefaultValue Audit audit,
        @DefaultValue Webhooks webhooks,
        @DefaultValue Mosquitto mosquitto,
        @DefaultValue Database database,
        @DefaultValue Http http,
        Map<String, Profile> profiles) {

    public TrentProperties {
        profiles = profiles == null ? Map.of() : new LinkedHashMap<>(profiles);
        if (tokens.defaultTtl().compareTo(tokens.maxTtl()) > 0) {
            throw new IllegalArgumentException("trent.tokens.default-ttl (" + tokens.defaultTtl()
                    + ") is longer than trent.tokens.max-ttl (" + tokens.maxTtl() + ")");
        }
        // The reservation sweep's mark relies on a reservation (one statement) never being in
        // flight for as long as the pending timeout (CertificateStore#abandonPendingOlderThan).
        if (database.statementTimeout().compareTo(issuance.pendingTimeout()) >= 0) {
            throw new IllegalArgumentException("trent.issuance.pending-timeout (" + issuance.pendingTimeout()
                    + ") must be longer than trent.database.statement-timeout (" + database.statementTimeout() + ")");
        }
        String base = publicBaseUrl.toString();
        if (base.endsWith("/")) {
            publicBaseUrl = URI.create(base.substring(0, base.length() - 1));
        }
    }

    /** Never prints secrets (the bootstrap admin token, keystore passwords). */
    @Override
    public String toString() {
        return "TrentProperties[dataDir=" + dataDir + ", publicBaseUrl=" + publicBaseUrl + ", bootstrapAdminToken="
                + (bootstrapAdminToken == null ? "none" : "(redacted)") + ", ca=" + ca + ", issuance=" + issuance
                + ", tokens=" + tokens + ", crl=" + crl + ", ocsp=" + ocsp + ", tls=" + tls + ", audit=" + audit
                + ", webhooks=" + webhooks + ", mosquitto=" + mosquitto + ", database=" + database
                + ", http=" + http + ", profiles=" + profiles.keySet()
                + "]";
    }

    /**
     * The issuing CA: generated on first start, an operator-supplied PKCS#12 intermediate, or a
     * key in an HSM reached through PKCS#11 ({@code signer=pkcs11}).
     */
    public record Ca(
            @DefaultValue("keystore") SignerType signer,
            @DefaultValue("EC_P256") KeyType keyAlgorithm,
            @DefaultValue("Trent") String organization,
            @DefaultValue("7300d") Duration rootValidity,
            @DefaultValue("3650d") Duration intermediateValidity,
            @DefaultValue Keystore keystore,
            @DefaultValue Pkcs11 pkcs11,
            Path chainFile,
            @DefaultValue("false") boolean startDegraded,
            @DefaultValue("1s") Duration issuerPollInterval,
            @DefaultValue("warn") RetiredKeyPolicy retiredIssuerWithoutKey) {
    }

    /**
     * What a start does when a retired issuer still has unexpired certificates but its key is
     * not here: its CRL can no longer be renewed, and OCSP answers for it only while a persisted
     * delegated responder certificate is valid.
     */
    public enum RetiredKeyPolicy { WARN, FAIL }

    /** Where the issuing CA's key lives. */
    public enum SignerType { KEYSTORE, PKCS11 }

    /**
     * The CA key in a PKCS#11 token (SunPKCS11). The token is chosen by {@code slotIndex} (the
     * position in the module's list of slots with a token) or by {@code tokenLabel}; the key by
     * {@code keyLabel}, the alias under which keytool and {@code ca import} store the key and
     * its certificate. The PIN comes from {@code pinFile} or from the environment variable
     * {@code TRENT_CA_PKCS11_PIN} (bound to {@code pin}); never from the command line.
     */
    public record Pkcs11(
            Path library,
            Integer slotIndex,
            String tokenLabel,
            Path pinFile,
            String pin,
            @DefaultValue("trent-ca") String keyLabel,
            @DefaultValue("1s") Duration reconnectInterval) {

        public Pkcs11 {
            if (slotIndex != null && tokenLabel != null && !tokenLabel.isBlank()) {
                throw new IllegalArgumentException(
                        "set trent.ca.pkcs11.slot-index or trent.ca.pkcs11.token-label, not both");
            }
            if (slotIndex != null && slotIndex < 0) {
                throw new IllegalArgumentException("trent.ca.pkcs11.slot-index must not be negative");
            }
            if (reconnectInterval.isNegative()) {
                throw new IllegalArgumentException("trent.ca.pkcs11.reconnect-interval must not be negative");
            }
        }

        @Override
        public String toString() {
            return "Pkcs11[library=" + library + ", slotIndex=" + slotIndex + ", tokenLabel=" + tokenLabel
                    + ", pinFile=" + pinFile + ", pin=" + (pin == null ? "none" : "(redacted)") + ", keyLabel="
                    + keyLabel + ", reconnectInterval=" + reconnectInterval + "]";
        }
    }

    /**
     * An existing intermediate in a PKCS#12 file. When {@code path} is set, Trent uses it and
     * creates no CA of its own.
     */
    public record Keystore(Path path, String password, Path passwordFile, String alias) {
        @Override
        public String toString() {
            return "Keystore[path=" + path + ", password=" + (password == null ? "none" : "(redacted)")
                    + ", passwordFile=" + passwordFile + ", alias=" + alias + "]";
        }
    }

    public record Issuance(
            @DefaultValue("5m") Duration backdate,
            @DefaultValue("16384") int maxCsrBytes,
            @DefaultValue("4") int reservationPoolSize,
            @DefaultValue("5m") Duration pendingTimeout,
            @DefaultValue("1m") Duration sweepInterval) {

        public Issuance {
            if (reservationPoolSize < 1 || reservationPoolSize > 64) {
                throw new IllegalArgumentException("trent.issuance.reservation-pool-size must be between 1 and 64");
            }
            if (pendingTimeout.compareTo(Duration.ofSeconds(30)) < 0) {
                throw new IllegalArgumentException("trent.issuance.pending-timeout must be at least 30s, not "
                        + pendingTimeout);
            }
            if (backdate.isNegative() || backdate.compareTo(Duration.ofDays(1)) > 0) {
                throw new IllegalArgumentException("trent.issuance.backdate must be between 0 and 1d, not " + backdate);
            }
            if (maxCsrBytes < 1024 || maxCsrBytes > 1 << 20) {
                throw new IllegalArgumentException("trent.issuance.max-csr-bytes must be between 1024 and 1048576");
            }
        }
    }

    /**
     * How long Trent waits for PostgreSQL (embedded or external) before it answers 503: a
     * connection (the pool's wait, TCP connect and login) within {@code connectTimeout}, a
     * statement within {@code statementTimeout} (PostgreSQL's {@code statement_timeout}; the
     * client gives up on a silent socket {@code connectTimeout} later). {@code embeddedRestartDelay}
     * is the longest pause between attempts to restart an embedded PostgreSQL that died.
     */
    public record Database(
            @DefaultValue("5s") Duration connectTimeout,
            @DefaultValue("10s") Duration statementTimeout,
            @DefaultValue("10s") Duration embeddedRestartDelay) {

        public Database {
            if (connectTimeout.compareTo(Duration.ofSeconds(1)) < 0 || statementTimeout.compareTo(Duration.ofSeconds(1)) < 0
                    || embeddedRestartDelay.compareTo(Duration.ofMillis(100)) < 0) {
                throw new IllegalArgumentException("trent.database.connect-timeout and statement-timeout must be at "
                        + "least 1s, embedded-restart-delay at least 100ms");
            }
        }

        /** The client's socket read timeout: a statement's own limit plus a connection's. */
        public Duration socketTimeout() {
            return statementTimeout.plus(connectTimeout);
        }
    }

    /**
     * Trent's own HTTPS listener, beside plain HTTP ({@code server.port}) for CRL and OCSP. Its
     * certificate is issued by Trent's active issuer at start for {@code dnsNames} and
     * {@code ipAddresses} (by default localhost, 127.0.0.1, ::1 and the host of the public base
     * URL) and renewed at half its {@code validity}; or an operator supplies one
     * ({@code certificateFile} PEM chain + {@code keyFile} PKCS#8 PEM). Client certificates are
     * requested but optional at the TLS layer; each endpoint decides what it needs.
     */
    public record Tls(
            @DefaultValue("true") boolean enabled,
            @DefaultValue("8443") int port,
            String address,
            List<String> dnsNames,
            List<String> ipAddresses,
            @DefaultValue("30d") Duration validity,
            Path certificateFile,
            Path keyFile,
            String clientCertHeader,
            List<String> trustedProxies,
            @DefaultValue("false") boolean idevidFromProxyHeader) {

        public Tls {
            trustedProxies = trustedProxies == null ? List.of() : List.copyOf(trustedProxies);
            if (clientCertHeader != null && !clientCertHeader.isBlank() && trustedProxies.isEmpty()) {
                throw new IllegalArgumentException("trent.tls.client-cert-header needs trent.tls.trusted-proxies: "
                        + "the addresses of the proxies allowed to set it");
            }
            dnsNames = dnsNames == null ? List.of() : List.copyOf(dnsNames);
            ipAddresses = ipAddresses == null ? List.of() : List.copyOf(ipAddresses);
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("trent.tls.port must be between 0 and 65535");
            }
            if (validity.compareTo(Duration.ofHours(2)) < 0 || validity.compareTo(Duration.ofDays(397)) > 0) {
                throw new IllegalArgumentException("trent.tls.validity must be between 2h and 397d");
            }
            if ((certificateFile == null) != (keyFile == null)) {
                throw new IllegalArgumentException("set both trent.tls.certificate-file and trent.tls.key-file, or neither");
            }
        }
    }

    /**
     * Deadlines for receiving a request, counted from its first byte: the request line and
     * headers within {@code headerDeadline}, the body within {@code bodyDeadline}; a slower
     * client's connection is closed.
     */
    public record Http(
            @DefaultValue("20s") Duration headerDeadline,
            @DefaultValue("60s") Duration bodyDeadline) {

        public Http {
            if (headerDeadline.isNegative() || headerDeadline.isZero() || bodyDeadline.isNegative() || bodyDeadline.isZero()) {
                throw new IllegalArgumentException("trent.http.header-deadline and body-deadline must be positive");
            }
        }
    }

    /**
     * The OCSP responder. {@code responderSealKeyFile}: the AES-256 key sealing the responder keys
     * kept in PostgreSQL (default {@code <data-dir>/ocsp-responder-seal.key}).
     */
    public record Ocsp(
            @DefaultValue("48h") Duration responderValidity,
            @DefaultValue("1h") Duration responseValidity,
            @DefaultValue("60s") Duration maxAge,
            @DefaultValue("500ms") Duration pollInterval,
            @DefaultValue("100000") int cacheSize,
            Path responderSealKeyFile) {

        public Ocsp {
            if (responderValidity.compareTo(Duration.ofHours(2)) < 0 || responderValidity.compareTo(Duration.ofDays(30)) > 0) {
                throw new IllegalArgumentException("trent.ocsp.responder-validity must be between 2h and 30d");
            }
            if (responseValidity.compareTo(Duration.ofMinutes(1)) < 0 || responseValidity.compareTo(Duration.ofDays(7)) > 0) {
                throw new IllegalArgumentException("trent.ocsp.response-validity must be between 1m and 7d");
            }
        }
    }

    /**
     * CRL publication. With {@code publishDir} set, every issuer's current CRL is also written
     * there as PEM ({@code <issuerId>.crl.pem}, and all of them in {@code crls.pem}) for brokers
     * and proxies that read a CRL file, and {@code publishCommand} (run by {@code /bin/sh -c},
     * killed after {@code publishCommandTimeout}) runs after each change.
     */
    public record Crl(
            @DefaultValue("24h") Duration validity,
            @DefaultValue("5m") Duration maxAge,
            @DefaultValue("2s") Duration batchDelay,
            @DefaultValue("3") int keep,
            Path publishDir,
            String publishCommand,
            @DefaultValue("30s") Duration publishCommandTimeout,
            @DefaultValue("false") boolean issuingDistributionPoint) {

        public Crl {
            if (validity.compareTo(Duration.ofMinutes(10)) < 0 || validity.compareTo(Duration.ofDays(7)) > 0) {
                throw new IllegalArgumentException("trent.crl.validity must be between 10m and 7d, not " + validity);
            }
            if (keep < 1) {
                throw new IllegalArgumentException("trent.crl.keep must be at least 1");
            }
            if (publishCommand != null && publishCommand.isBlank()) {
                publishCommand = null;
            }
            if (publishCommand != null && publishDir == null) {
                throw new IllegalArgumentException("trent.crl.publish-command needs trent.crl.publish-dir");
            }
            if (publishCommandTimeout.compareTo(Duration.ofSeconds(1)) < 0
                    || publishCommandTimeout.compareTo(Duration.ofHours(1)) > 0) {
                throw new IllegalArgumentException("trent.crl.publish-command-timeout must be between 1s and 1h, not "
                        + publishCommandTimeout);
            }
        }

        /** The command is not printed: it may carry a credential for the broker it restarts. */
        @Override
        public String toString() {
            return "Crl[validity=" + validity + ", maxAge=" + maxAge + ", batchDelay=" + batchDelay + ", keep=" + keep
                    + ", publishDir=" + publishDir + ", publishCommand=" + (publishCommand == null ? "none" : "(set)")
                    + ", publishCommandTimeout=" + publishCommandTimeout + ", issuingDistributionPoint="
                    + issuingDistributionPoint + "]";
        }
    }

    /**
     * The audit log: how often the chain's head is signed (a checkpoint, when it moved), how
     * many failed authentications from one address within a minute make a burst worth an audit
     * event, and how often committed events are chained.
     */
    public record Audit(
            @DefaultValue("10m") Duration checkpointInterval,
            @DefaultValue("10") int failureBurst,
            @DefaultValue("250ms") Duration sealInterval) {

        public Audit {
            if (checkpointInterval.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalArgumentException("trent.audit.checkpoint-interval must be at least 1s");
            }
            if (failureBurst < 1) {
                throw new IllegalArgumentException("trent.audit.failure-burst must be at least 1");
            }
        }
    }

    /**
     * Webhooks (Standard Webhooks): delivery from the outbox, the retry schedule, the
     * {@code certificate.expiring} announcement, and which addresses endpoints may have.
     * Retries start {@code retryInitialDelay} after a failure and double, at most
     * {@code retryMaxDelay} apart while the delivery is younger than {@code retryFastPeriod},
     * then {@code retrySlowDelay} apart until {@code giveUpAfter}, when a last attempt is made
     * and the delivery is marked failed.
     */
    public record Webhooks(
            @DefaultValue("1s") Duration pollInterval,
            @DefaultValue("8") int senders,
            @DefaultValue("2") int perEndpointConcurrency,
            @DefaultValue("5s") Duration connectTimeout,
            @DefaultValue("15s") Duration readTimeout,
            @DefaultValue("60s") Duration lease,
            @DefaultValue("5s") Duration retryInitialDelay,
            @DefaultValue("1m") Duration retryMaxDelay,
            @DefaultValue("1h") Duration retryFastPeriod,
            @DefaultValue("1h") Duration retrySlowDelay,
            @DefaultValue("24h") Duration giveUpAfter,
            @DefaultValue("30d") Duration expiringBefore,
            @DefaultValue("1h") Duration expiringCheckInterval,
            @DefaultValue("false") boolean allowLinkLocal,
            Path secretKeyFile,
            @DefaultValue("30d") Duration historyRetention) {

        public Webhooks {
            if (pollInterval.compareTo(Duration.ofMillis(10)) < 0) {
                throw new IllegalArgumentException("trent.webhooks.poll-interval must be at least 10ms");
            }
            if (senders < 1 || senders > 256) {
                throw new IllegalArgumentException("trent.webhooks.senders must be between 1 and 256");
            }
            if (perEndpointConcurrency < 1) {
                throw new IllegalArgumentException("trent.webhooks.per-endpoint-concurrency must be at least 1");
            }
            if (connectTimeout.isNegative() || connectTimeout.isZero() || readTimeout.isNegative()
                    || readTimeout.isZero()) {
                throw new IllegalArgumentException("trent.webhooks.connect-timeout and read-timeout must be positive");
            }
            if (lease.compareTo(connectTimeout.plus(readTimeout)) <= 0) {
                throw new IllegalArgumentException("trent.webhooks.lease (" + lease + ") must be longer than "
                        + "connect-timeout + read-timeout (the longest an attempt takes), or a slow attempt could be sent twice");
            }
            if (retryInitialDelay.isNegative() || retryInitialDelay.isZero()
                    || retryMaxDelay.compareTo(retryInitialDelay) < 0 || retrySlowDelay.compareTo(retryInitialDelay) < 0) {
                throw new IllegalArgumentException("trent.webhooks.retry-initial-delay must be positive and at most "
                        + "retry-max-delay and retry-slow-delay");
            }
            if (retryFastPeriod.isNegative() || giveUpAfter.compareTo(retryInitialDelay) < 0) {
                throw new IllegalArgumentException("trent.webhooks.retry-fast-period must not be negative and "
                        + "give-up-after must be at least retry-initial-delay");
            }
            if (historyRetention.compareTo(Duration.ofHours(1)) < 0) {
                throw new IllegalArgumentException("trent.webhooks.history-retention must be at least 1h");
            }
            if (expiringBefore.isNegative() || expiringCheckInterval.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalArgumentException("trent.webhooks.expiring-before must not be negative and "
                        + "expiring-check-interval must be at least 1s");
            }
        }
    }

    /**
     * The Mosquitto dynamic-security sync ({@code dev.trent.broker}): off while {@code url} is
     * unset. Trent logs in as {@code username} with the password from {@code passwordFile} (its
     * content, one trailing newline ignored) or {@code password} (environment
     * {@code TRENT_MOSQUITTO_PASSWORD}) and keeps one dynsec client per device with a valid
     * certificate of one of {@code profiles}, holding {@code deviceRole} (and, if set, member of
     * {@code deviceGroup}).
     */
    public record Mosquitto(
            URI url,
            String username,
            Path passwordFile,
            String password,
            Path caFile,
            String deviceRole,
            String deviceGroup,
            @DefaultValue("device") List<String> profiles,
            @DefaultValue("10m") Duration reconcileInterval,
            @DefaultValue("1s") Duration pollInterval,
            @DefaultValue("5s") Duration commandTimeout) {

        public Mosquitto {
            profiles = profiles == null ? List.of() : List.copyOf(profiles);
            if (url != null) {
                String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(java.util.Locale.ROOT);
                if (!scheme.equals("tcp") && !scheme.equals("ssl")) {
                    throw new IllegalArgumentException("trent.mosquitto.url must be tcp://host:port or ssl://host:port, not " + url);
                }
                if (username == null || username.isBlank()) {
                    throw new IllegalArgumentException("trent.mosquitto.url needs trent.mosquitto.username (the dynsec admin client)");
                }
                if (passwordFile == null && (password == null || password.isEmpty())) {
                    throw new IllegalArgumentException(
                            "trent.mosquitto.url needs trent.mosquitto.password-file or TRENT_MOSQUITTO_PASSWORD");
                }
                if (deviceRole == null || deviceRole.isBlank()) {
                    throw new IllegalArgumentException("trent.mosquitto.url needs trent.mosquitto.device-role: "
                            + "the dynsec role (its ACLs defined on the broker) that devices hold");
                }
                if (profiles.isEmpty()) {
                    throw new IllegalArgumentException("trent.mosquitto.profiles must name at least one profile");
                }
            }
            if (reconcileInterval.compareTo(Duration.ofSeconds(1)) < 0 || pollInterval.compareTo(Duration.ofMillis(50)) < 0
                    || commandTimeout.compareTo(Duration.ofMillis(100)) < 0) {
                throw new IllegalArgumentException("trent.mosquitto: reconcile-interval at least 1s, poll-interval at "
                        + "least 50ms, command-timeout at least 100ms");
            }
        }

        public boolean enabled() {
            return url != null;
        }

        /**
         * Whether a certificate for {@code deviceId} under {@code profile} must never be issued:
         * with {@code use_identity_as_username} the broker takes a certificate's CN as the login
         * with no password, so a device named like the admin client Trent logs in as would log
         * in as that admin.
         */
        public boolean reserves(String deviceId, String profile) {
            return enabled() && profiles.contains(profile) && username.equals(deviceId);
        }

        @Override
        public String toString() {
            return "Mosquitto[url=" + url + ", username=" + username + ", passwordFile=" + passwordFile + ", password="
                    + (password == null ? "none" : "(redacted)") + ", caFile=" + caFile + ", deviceRole=" + deviceRole
                    + ", deviceGroup=" + deviceGroup + ", profiles=" + profiles + ", reconcileInterval="
                    + reconcileInterval + ", pollInterval=" + pollInterval + ", commandTimeout=" + commandTimeout + "]";
        }
    }

    public record Tokens(
            @DefaultValue("7d") Duration defaultTtl,
            @DefaultValue("90d") Duration maxTtl,
            @DefaultValue("10000") int maxBatchSize) {
    }

    /** One certificate profile as configured; see {@code dev.trent.profile.CertificateProfile}. */
    public record Profile(
            @DefaultValue("365d") Duration validity,
            @DefaultValue("EC_P256,EC_P384") Set<KeyType> keyTypes,
            @DefaultValue("2048") int rsaMinBits,
            @DefaultValue("digitalSignature") List<KeyUsageName> keyUsage,
            @DefaultValue("clientAuth") List<ExtendedKeyUsageName> extendedKeyUsage,
            @DefaultValue("false") boolean dnsNamesAllowed,
            @DefaultValue("false") boolean dnsNamesRequired,
            @DefaultValue("10") int maxDnsNames,
            @DefaultValue("0s") Duration renewalGrace,
            @DefaultValue("false") boolean revokeOnRenew,
            @DefaultValue("true") boolean ocspUrl,
            @DefaultValue("true") boolean caIssuersUrl,
            @DefaultValue("0") int maxDerBytes) {
    }
}
