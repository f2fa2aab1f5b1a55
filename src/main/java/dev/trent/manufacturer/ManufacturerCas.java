package dev.trent.manufacturer;

import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.PKIXCertPathBuilderResult;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

import dev.trent.audit.AuditLog;
import dev.trent.ca.IssuerRegistry;
import dev.trent.domain.DomainException;
import dev.trent.pki.Hashes;
import dev.trent.pki.Pem;
import dev.trent.profile.Profiles;

/**
 * Manufacturer CAs the operator registered for IDevID enrollment (IEEE 802.1AR style): a device
 * whose factory certificate chains to one of them may enroll once, over TLS with that
 * certificate, for an operational certificate of the CA's profile. The device id is the factory
 * certificate's subject serialNumber (802.1AR puts the device's serial there), or its CN when
 * it has none, after the CA's optional prefix.
 *
 * <p>Validation is PKIX (RFC 5280) with the registered CA certificates as the only trust
 * anchors, at the current time, without revocation checking: factory CAs rarely publish status
 * that a CA in the field can reach, and a factory certificate is used here once. An operator who
 * distrusts a manufacturer removes its CA.
 */
@Service
public class ManufacturerCas {

    /** Device ids as enrollment tokens accept them. */
    static final Pattern DEVICE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:@-]{0,63}");
    private static final Pattern PREFIX = Pattern.compile("|[A-Za-z0-9._:@-]{0,31}[-_.:@]");

    private final JdbcTemplate jdbc;
    private final Clock clock;
    private final AuditLog audit;
    private final Profiles profiles;
    private final ObjectProvider<IssuerRegistry> issuers;
    private final ApplicationEventPublisher events;

    ManufacturerCas(JdbcTemplate jdbc, Clock clock, AuditLog audit, Profiles profiles,
            ObjectProvider<IssuerRegistry> issuers, ApplicationEventPublisher events) {
        this.jdbc = jdbc;
        this.clock = clock;
        this.audit = audit;
        this.profiles = profiles;
        this.issuers = issuers;
        this.events = events;
    }

    /** A registered manufacturer CA, as the API shows it. */
    public record View(long id, String name, String subject, String sha256, Instant notAfter, String profile,
            String deviceIdPrefix, String deviceIdAttribute, Instant createdAt, String createdBy) {
    }

    /** What a factory certificate chained to: the CA, and the device id it gives. */
    public record Match(View ca, String deviceId, X509Certificate idevid, String idevidSha256) {
    }

    /** A stored row; {@code certificate} is null when it fails today's checks (a row from before them). */
    private record Row(View view, X509Certificate certificate) {
    }

    private static final Map<String, String> TITLES = Map.of("certificate-malformed", "Certificate malformed",
            "certificate-signature-invalid", "Certificate signature invalid", "certificate-chain-invalid",
            "Certificate chain invalid", "not-a-ca-certificate", "Not a CA certificate");

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ManufacturerCas.class);

    /** The ids of unusable rows already warned about (once per row and process, not every minute). */
    private final Set<Long> warned = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * Registers a manufacturer CA (ADMIN, audited). The certificate must be one every TLS
     * implementation reads alike, a CA certificate (basicConstraints cA, keyCertSign), self-signed
     * or followed by its issuers up to a self-signed root, every signature verifying
     * ({@link CaCertificates#registrable}); valid now, and not one of Trent's own (those
     * authenticate renewal, not first enrollment); the profile must exist. Publishes
     * {@link ManufacturerCasChanged}, whoever registers (the API or the console).
     */
    @Transactional
    public View register(String name, String certificatePem, String profile, String deviceIdPrefix,
            String deviceIdAttribute, String actor) {
        if (name == null || name.isBlank() || name.length() > 100) {
            throw DomainException.invalid("'name' is required (1 to 100 characters).");
        }
        String prefix = deviceIdPrefix == null ? "" : deviceIdPrefix;
        if (!PREFIX.matcher(prefix).matches()) {
            throw DomainException.invalid("'deviceIdPrefix' may hold up to 32 of A-Z a-z 0-9 . _ : @ - and, "
                    + "when set, must end with one of - _ . : @ (so that 'ab' + 'c' and 'a' + 'bc' cannot meet).");
        }
        String attribute = deviceIdAttribute == null ? "serialNumber" : deviceIdAttribute;
        if (!attribute.equals("serialNumber") && !attribute.equals("commonName")) {
            throw DomainException.invalid("'deviceIdAttribute' is 'serialNumber' (IEEE 802.1AR, the default) "
                    + "or 'commonName'.");
        }
        String profileName = profile == null || profile.isBlank() ? "device" : profile;
        if (profiles.get(profileName).isEmpty()) {
            throw DomainException.invalid("profile-unavailable", "Profile unavailable", "No certificate profile '"
                    + profileName + "'; configured: " + profiles.names() + ".");
        }
        X509Certificate cert;
        try {
            cert = CaCertificates.registrable(certificatePem);
        } catch (CaCertificates.Refused e) {
            throw e.type().equals("invalid-request") ? DomainException.invalid(e.getMessage())
                    : DomainException.invalid(e.type(), TITLES.get(e.type()), e.getMessage());
        }
        Instant now = clock.instant();
        if (now.isAfter(cert.getNotAfter().toInstant()) || now.isBefore(cert.getNotBefore().toInstant())) {
            throw DomainException.invalid("certificate-not-valid", "Certificate not valid now", "The certificate is "
                    + "valid from " + cert.getNotBefore().toInstant() + " to " + cert.getNotAfter().toInstant() + ".");
        }
        byte[] der = encoded(cert);
        // Any key Trent has ever issued with, whatever certificate carries it (a re-issued or
        // cross-signed one too): Trent's certificates renew, they do not enroll as new devices.
        byte[] spki = cert.getPublicKey().getEncoded();
        for (byte[] issuerDer : jdbc.queryForList("select certificate_der from issuer", byte[].class)) {
            X509Certificate own = parse(issuerDer);
            if (Arrays.equals(own.getPublicKey().getEncoded(), spki)) {
                throw DomainException.invalid("own-ca-certificate", "Trent's own CA", "This certificate carries "
                        + "the key of one of Trent's own issuers. Devices with a Trent certificate renew with it "
                        + "(simplereenroll, /api/v1/renew); they do not enroll as new devices.");
            }
        }
        for (dev.trent.ca.Issuer issuer : issuers.getObject().all()) {
            for (X509Certificate own : issuer.signer().chain()) {
                if (Arrays.equals(own.getPublicKey().getEncoded(), spki)) {
                    throw DomainException.invalid("own-ca-certificate", "Trent's own CA", "This certificate "
                            + "carries the key of one of Trent's own CAs.");
                }
            }
        }
        String sha256 = Hashes.sha256Hex(der);
        DomainException exists = DomainException.conflict("manufacturer-ca-exists", "Manufacturer CA exists",
                "A manufacturer CA with this certificate, the name '" + name + "' or the device id prefix '" + prefix
                        + "' is already registered (each needs its own prefix, so that device ids of different "
                        + "manufacturers never meet).");
        if (current().stream().anyMatch(r -> r.view().sha256().equals(sha256) || r.view().name().equals(name)
                || r.view().deviceIdPrefix().equals(prefix))) {
            throw exists;
        }
        Long id;
        try {
            id = jdbc.queryForObject("insert into manufacturer_ca (name, subject_dn, certificate_der, sha256, not_after, "
                    + "profile, device_id_prefix, device_id_attribute, created_at, created_by) "
                    + "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning id", Long.class, name,
                    cert.getSubjectX500Principal().getName(), der, sha256, Timestamp.from(cert.getNotAfter().toInstant()),
                    profileName, prefix, attribute, Timestamp.from(now), actor);
        } catch (org.springframework.dao.DuplicateKeyException e) {
            throw exists; // a concurrent registration won
        }
        View view = new View(id, name, cert.getSubjectX500Principal().getName(), sha256, cert.getNotAfter().toInstant(),
                profileName, prefix, attribute, now, actor);
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("name", name);
        details.put("subject", view.subject());
        details.put("sha256", sha256);
        details.put("profile", profileName);
        details.put("deviceIdPrefix", prefix);
        details.put("deviceIdAttribute", attribute);
        audit.record(actor, "manufacturer-ca.registered", String.valueOf(id), details);
        events.publishEvent(new ManufacturerCasChanged());
        return view;
    }

    /**
     * Removes a manufacturer CA: it authorises no further enrollment; operational certificates
     * stay. Publishes {@link ManufacturerCasChanged}.
     */
    @Transactional
    public View remove(long id, String actor) {
        View view = current().stream().map(Row::view).filter(v -> v.id() == id).findFirst()
                .orElseThrow(() -> DomainException.notFound("No registered manufacturer CA " + id + "."));
        jdbc.update("update manufacturer_ca set removed_at = ?, removed_by = ? where id = ? and removed_at is null",
                Timestamp.from(clock.instant()), actor, id);
        audit.record(actor, "manufacturer-ca.removed", String.valueOf(id), Map.of("name", view.name(),
                "sha256", view.sha256()));
        events.publishEvent(new ManufacturerCasChanged());
        return view;
    }

    public List<View> list() {
        return current().stream().map(Row::view).toList();
    }

    /** The registered CA certificates, for the TLS CertificateRequest's list of acceptable CAs. */
    public List<X509Certificate> certificates() {
        return current().stream().map(Row::certificate).filter(java.util.Objects::nonNull).toList();
    }

    /**
     * The registered CA that {@code presented} (leaf first, as in the TLS handshake) chains to,
     * and the device id it gives; refused ({@code FORBIDDEN}, {@code client-certificate-invalid}) when none does.
     */
    public Match match(X509Certificate[] presented) {
        X509Certificate leaf = presented[0];
        List<Row> rows = current().stream().filter(r -> r.certificate() != null).toList();
        if (rows.isEmpty()) {
            throw refused("No manufacturer CA is registered; enroll with an enrollment token (HTTP Basic).");
        }
        Instant now = clock.instant();
        Map<X509Certificate, Row> byCert = new HashMap<>();
        Set<TrustAnchor> anchors = new java.util.HashSet<>();
        for (Row r : rows) {
            X509Certificate ca = r.certificate();
            // The JDK treats a trust anchor as a name and a key only: what the registered CA
            // certificate says about itself is checked here (validity now, keyCertSign) and
            // below (pathLenConstraint), and its nameConstraints are handed to PKIX.
            if (now.isBefore(ca.getNotBefore().toInstant()) || now.isAfter(ca.getNotAfter().toInstant())) {
                continue;
            }
            boolean[] usage = ca.getKeyUsage();
            if (usage != null && !usage[5]) {
                continue;
            }
            byCert.put(ca, r);
            byte[] nc = ca.getExtensionValue(org.bouncycastle.asn1.x509.Extension.nameConstraints.getId());
            try {
                anchors.add(new TrustAnchor(ca, nc == null ? null
                        : org.bouncycastle.asn1.ASN1OctetString.getInstance(nc).getOctets()));
            } catch (IllegalArgumentException e) {
                continue; // unreadable name constraints: this CA authorises nothing
            }
        }
        if (anchors.isEmpty()) {
            throw refused("No registered manufacturer CA is valid now.");
        }
        PKIXCertPathBuilderResult result;
        try {
            X509CertSelector target = new X509CertSelector();
            target.setCertificate(leaf);
            PKIXBuilderParameters params = new PKIXBuilderParameters(anchors, target);
            params.setRevocationEnabled(false);
            params.setDate(Date.from(now));
            params.addCertStore(CertStore.getInstance("Collection",
                    new CollectionCertStoreParameters(Arrays.asList(presented))));
            result = (PKIXCertPathBuilderResult) CertPathBuilder.getInstance("PKIX").build(params);
        } catch (CertPathBuilderException e) {
            throw refused("The client certificate (" + leaf.getSubjectX500Principal().getName() + ", issued by "
                    + leaf.getIssuerX500Principal().getName() + ") does not chain to a registered manufacturer CA, "
                    + "or is not valid now: " + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("PKIX validation unavailable", e);
        }
        X509Certificate anchor = result.getTrustAnchor().getTrustedCert();
        int intermediates = result.getCertPath().getCertificates().size() - 1;
        if (intermediates > anchor.getBasicConstraints()) {
            throw refused("The factory certificate's chain has " + intermediates + " intermediate(s) below the "
                    + "manufacturer CA, whose pathLenConstraint allows " + anchor.getBasicConstraints() + ".");
        }
        if (leaf.getBasicConstraints() >= 0) {
            throw refused("The client certificate is a CA certificate, not a device's factory certificate.");
        }
        boolean[] leafUsage = leaf.getKeyUsage();
        if (leafUsage != null && !leafUsage[0]) {
            throw refused("The factory certificate's keyUsage does not allow digitalSignature (TLS client "
                    + "authentication).");
        }
        try {
            List<String> eku = leaf.getExtendedKeyUsage();
            if (eku != null && !eku.contains("1.3.6.1.5.5.7.3.2") && !eku.contains("2.5.29.37.0")) {
                throw refused("The factory certificate's extendedKeyUsage does not allow TLS client authentication.");
            }
        } catch (java.security.cert.CertificateParsingException e) {
            throw refused("The factory certificate's extendedKeyUsage cannot be read.");
        }
        Row row = byCert.get(anchor);
        String name = deviceName(leaf, row.view().deviceIdAttribute());
        if (name.isEmpty()) {
            throw refused("The factory certificate's subject has no " + row.view().deviceIdAttribute() + ", which "
                    + "manufacturer CA '" + row.view().name() + "' takes the device id from.");
        }
        String id = row.view().deviceIdPrefix() + name;
        if (!DEVICE_ID.matcher(id).matches()) {
            throw refused("The device id taken from the factory certificate ('" + id + "') is not a valid device id "
                    + "(1 to 64 of A-Z a-z 0-9 . _ : @ -, starting with a letter or digit).");
        }
        return new Match(row.view(), id, leaf, Hashes.sha256Hex(encoded(leaf)));
    }

    /** The subject's serialNumber (IEEE 802.1AR) or commonName, as {@code attribute} says; "" when absent. */
    public static String deviceName(X509Certificate cert, String attribute) {
        ASN1ObjectIdentifier type = attribute.equals("commonName") ? BCStyle.CN : BCStyle.SERIALNUMBER;
        X500Name subject = X500Name.getInstance(cert.getSubjectX500Principal().getEncoded());
        for (RDN rdn : subject.getRDNs(type)) {
            // A multi-valued RDN (CN=x+serialNumber=y) holds several types: take the one asked for.
            for (org.bouncycastle.asn1.x500.AttributeTypeAndValue tv : rdn.getTypesAndValues()) {
                if (tv.getType().equals(type)) {
                    org.bouncycastle.asn1.ASN1Encodable v = tv.getValue();
                    return v instanceof org.bouncycastle.asn1.ASN1String str ? str.getString()
                            : IETFUtils.valueToString(v);
                }
            }
        }
        return "";
    }

    /**
     * The current rows. A row whose certificate fails today's checks ({@link CaCertificates#readable},
     * a CA certificate) was stored before they existed: it is listed (so that it can be removed)
     * but used for nothing, neither named in TLS nor trusted, and a WARN says so once. The checks
     * run before the JDK's parser sees the stored bytes, so that no row can overflow its stack.
     */
    private List<Row> current() {
        return jdbc.query("select id, name, subject_dn, certificate_der, sha256, not_after, profile, device_id_prefix, "
                + "device_id_attribute, created_at, created_by from manufacturer_ca where removed_at is null order by id",
                (rs, n) -> {
                    View view = new View(rs.getLong("id"), rs.getString("name"), rs.getString("subject_dn"),
                            rs.getString("sha256"), rs.getTimestamp("not_after").toInstant(), rs.getString("profile"),
                            rs.getString("device_id_prefix"), rs.getString("device_id_attribute"),
                            rs.getTimestamp("created_at").toInstant(), rs.getString("created_by"));
                    X509Certificate c;
                    try {
                        c = CaCertificates.readable(rs.getBytes("certificate_der"));
                        CaCertificates.caProblem(c);
                    } catch (CaCertificates.Refused e) {
                        if (warned.add(view.id())) {
                            log.warn("Manufacturer CA {} ('{}') is not used: its stored certificate fails the checks "
                                    + "of registration ({}) {} Remove it (DELETE /api/v1/manufacturer-cas/{}) and "
                                    + "register a valid certificate.", view.id(), view.name(), e.type(),
                                    e.getMessage(), view.id());
                        }
                        c = null;
                    }
                    return new Row(view, c);
                });
    }

    private static X509Certificate parse(byte[] der) {
        try {
            return (X509Certificate) x509().generateCertificate(new ByteArrayInputStream(der));
        } catch (CertificateException e) {
            throw new IllegalStateException("a stored certificate is unreadable", e);
        }
    }

    private static CertificateFactory x509() {
        try {
            return CertificateFactory.getInstance("X.509");
        } catch (CertificateException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] encoded(X509Certificate c) {
        try {
            return c.getEncoded();
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static DomainException refused(String detail) {
        return DomainException.forbidden("client-certificate-invalid", "Client certificate not accepted", detail);
    }
}
