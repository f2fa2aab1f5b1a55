package dev.trent.enrollment;

import java.security.SecureRandom;
import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import dev.trent.audit.AuditLog;
import dev.trent.config.TrentProperties;
import dev.trent.domain.DomainException;
import dev.trent.issuance.DnsNames;
import dev.trent.profile.CertificateProfile;
import dev.trent.profile.Profiles;
import dev.trent.security.Secrets;

/** Creates one-time enrollment tokens for operators, one at a time or by the batch. */
@Service
public class EnrollmentTokenService {

    /** Device ids become the certificate's CN: printable, no spaces, at most 64 (ub-common-name). */
    static final Pattern DEVICE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}");

    private final JdbcTemplate jdbc;
    private final Profiles profiles;
    private final AuditLog audit;
    private final Clock clock;
    private final SecureRandom random;
    private final TrentProperties.Tokens settings;
    private final TrentProperties.Mosquitto broker;

    EnrollmentTokenService(JdbcTemplate jdbc, Profiles profiles, AuditLog audit, Clock clock, SecureRandom random,
            TrentProperties properties) {
        this.jdbc = jdbc;
        this.profiles = profiles;
        this.audit = audit;
        this.clock = clock;
        this.random = random;
        this.settings = properties.tokens();
        this.broker = properties.mosquitto();
    }

    /** A token as handed out, the only time its secret is shown. */
    public record IssuedToken(String token, String deviceId, String profile, List<String> dnsNames,
            Instant expiresAt) {
    }

    public record Batch(UUID batchId, String profile, Instant expiresAt, List<IssuedToken> tokens) {

        /** The batch as CSV ({@code device_id,token,profile,expires_at}, CRLF lines), for a manufacturing line. */
        public String csv() {
            StringBuilder csv = new StringBuilder("device_id,token,profile,expires_at\r\n");
            for (IssuedToken t : tokens) {
                // Device ids and tokens contain no commas, quotes or line breaks (both are validated).
                csv.append(t.deviceId()).append(',').append(t.token()).append(',').append(t.profile()).append(',')
                        .append(t.expiresAt()).append("\r\n");
            }
            return csv.toString();
        }
    }

    @Transactional
    public IssuedToken create(String deviceId, String profileName, Long ttlSeconds, List<String> dnsNames,
            String actor) {
        CertificateProfile profile = profile(profileName);
        checkDeviceId(deviceId);
        checkNotReserved(deviceId, profile);
        List<String> names = dnsNames(profile, dnsNames);
        Instant expiresAt = expiry(ttlSeconds);
        IssuedToken token = insert(List.of(deviceId), profile, names, expiresAt, null, actor).get(0);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("profile", profile.name());
        details.put("expiresAt", expiresAt.toString());
        details.put("dnsNames", names);
        audit.record(actor, "enrollment-token.created", deviceId, details);
        return token;
    }

    @Transactional
    public Batch createBatch(List<String> deviceIds, String profileName, Long ttlSeconds, String actor) {
        CertificateProfile profile = profile(profileName);
        if (deviceIds == null || deviceIds.isEmpty()) {
            throw DomainException.invalid("deviceIds must list at least one device id.");
        }
        if (deviceIds.size() > settings.maxBatchSize()) {
            throw DomainException.invalid("A batch holds at most " + settings.maxBatchSize()
                    + " device ids; this one has " + deviceIds.size() + ".");
        }
        if (profile.dnsNamesRequired()) {
            throw DomainException.invalid("Profile '" + profile.name()
                    + "' needs DNS names per device; create its tokens one at a time.");
        }
        Set<String> seen = new HashSet<>();
        for (String id : deviceIds) {
            checkDeviceId(id);
            checkNotReserved(id, profile);
            if (!seen.add(id)) {
                throw DomainException.invalid("Device id '" + id + "' appears twice in the batch.");
            }
        }
        Instant expiresAt = expiry(ttlSeconds);
        UUID batchId = UUID.randomUUID();
        List<IssuedToken> tokens = insert(deviceIds, profile, List.of(), expiresAt, batchId, actor);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("profile", profile.name());
        details.put("expiresAt", expiresAt.toString());
        details.put("count", tokens.size());
        details.put("deviceIds", deviceIds);
        audit.record(actor, "enrollment-token.batch-created", "batch:" + batchId, details);
        return new Batch(batchId, profile.name(), expiresAt, tokens);
    }

    private List<IssuedToken> insert(List<String> deviceIds, CertificateProfile profile, List<String> dnsNames,
            Instant expiresAt, UUID batchId, String actor) {
        List<IssuedToken> out = new ArrayList<>(deviceIds.size());
        List<byte[]> hashes = new ArrayList<>(deviceIds.size());
        for (String deviceId : deviceIds) {
            String secret = Secrets.newSecret(Secrets.ENROLLMENT_TOKEN_PREFIX, random);
            out.add(new IssuedToken(secret, deviceId, profile.name(), dnsNames, expiresAt));
            hashes.add(Secrets.hash(secret));
        }
        Timestamp now = Timestamp.from(clock.instant());
        Timestamp expires = Timestamp.from(expiresAt);
        jdbc.batchUpdate("insert into enrollment_token (token_hash, device_id, profile, dns_names, batch_id, "
                + "created_at, created_by, expires_at) values (?, ?, ?, ?, ?, ?, ?, ?)", new ArrayList<>(
                        java.util.stream.IntStream.range(0, deviceIds.size()).boxed().toList()),
                500, (PreparedStatement ps, Integer i) -> {
                    Array names = ps.getConnection().createArrayOf("text", dnsNames.toArray());
                    ps.setBytes(1, hashes.get(i));
                    ps.setString(2, deviceIds.get(i));
                    ps.setString(3, profile.name());
                    ps.setArray(4, names);
                    ps.setObject(5, batchId);
                    ps.setTimestamp(6, now);
                    ps.setString(7, actor);
                    ps.setTimestamp(8, expires);
                });
        return out;
    }

    private CertificateProfile profile(String name) {
        if (name == null || name.isBlank()) {
            throw DomainException.invalid("profile is required: one of " + profiles.names() + ".");
        }
        return profiles.get(name).orElseThrow(() -> DomainException.invalid(
                "Unknown profile '" + name + "'; configured profiles are " + profiles.names() + "."));
    }

    /** See {@link dev.trent.issuance.IssuanceService#checkNotReserved}. */
    private void checkNotReserved(String deviceId, CertificateProfile profile) {
        dev.trent.issuance.IssuanceService.checkNotReserved(broker, deviceId, profile);
    }

    static void checkDeviceId(String deviceId) {
        if (deviceId == null || !DEVICE_ID.matcher(deviceId).matches()) {
            throw DomainException.invalid("deviceId must be 1 to 64 characters of letters, digits and "
                    + "._:@- starting with a letter or digit; got "
                    + (deviceId == null ? "none" : "'" + abbreviate(deviceId) + "'") + ".");
        }
    }

    private static String abbreviate(String s) {
        String printable = s.replaceAll("[^\\x20-\\x7e]", "?");
        return printable.length() > 80 ? printable.substring(0, 80) + "..." : printable;
    }

    private static List<String> dnsNames(CertificateProfile profile, List<String> requested) {
        Set<String> names = new LinkedHashSet<>();
        if (requested != null) {
            for (String raw : requested) {
                String n = DnsNames.normalize(raw);
                if (!DnsNames.isValid(n)) {
                    throw DomainException.invalid("'" + (raw == null ? "null" : abbreviate(raw))
                            + "' is not a valid DNS name (letters, digits and hyphens in dot-separated labels; "
                            + "no wildcards).");
                }
                names.add(n);
            }
        }
        if (!names.isEmpty() && !profile.dnsNamesAllowed()) {
            throw DomainException.invalid("Profile '" + profile.name() + "' does not allow DNS names.");
        }
        if (names.isEmpty() && profile.dnsNamesRequired()) {
            throw DomainException.invalid("Profile '" + profile.name() + "' requires at least one DNS name "
                    + "in dnsNames.");
        }
        if (names.size() > profile.maxDnsNames()) {
            throw DomainException.invalid("Profile '" + profile.name() + "' allows at most "
                    + profile.maxDnsNames() + " DNS names.");
        }
        return List.copyOf(names);
    }

    private Instant expiry(Long ttlSeconds) {
        Duration ttl = ttlSeconds == null ? settings.defaultTtl() : Duration.ofSeconds(ttlSeconds);
        if (ttl.compareTo(Duration.ofMinutes(1)) < 0 || ttl.compareTo(settings.maxTtl()) > 0) {
            throw DomainException.invalid("ttlSeconds must be between 60 and " + settings.maxTtl().toSeconds()
                    + ".");
        }
        return clock.instant().plus(ttl);
    }
}
