package dev.trent.ocsp;

import java.io.IOException;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import org.bouncycastle.asn1.ASN1GeneralizedTime;
import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.ocsp.OCSPObjectIdentifiers;
import org.bouncycastle.asn1.ocsp.RevokedInfo;
import org.bouncycastle.asn1.x509.CRLReason;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.ocsp.BasicOCSPResp;
import org.bouncycastle.cert.ocsp.BasicOCSPRespBuilder;
import org.bouncycastle.cert.ocsp.CertificateID;
import org.bouncycastle.cert.ocsp.CertificateStatus;
import org.bouncycastle.cert.ocsp.OCSPException;
import org.bouncycastle.cert.ocsp.OCSPRespBuilder;
import org.bouncycastle.cert.ocsp.Req;
import org.bouncycastle.cert.ocsp.RespID;
import org.bouncycastle.cert.ocsp.RevokedStatus;
import org.bouncycastle.cert.ocsp.UnknownStatus;
import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Service;
import org.springframework.transaction.event.TransactionPhase;
import org.springframework.transaction.event.TransactionalEventListener;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import dev.trent.ca.Issuer;
import dev.trent.ca.IssuerRegistry;
import dev.trent.config.TrentProperties;
import dev.trent.inventory.CertificateStore;
import dev.trent.pki.Hashes;
import dev.trent.pki.Providers;
import dev.trent.revocation.RevocationReason;
import dev.trent.revocation.RevocationService;
import dev.trent.web.DatabaseUnavailable;

/**
 * Decides and signs OCSP responses (RFC 6960), with the RFC 5019 fast path: a nonce-less
 * request for one certificate is answered from a cache of pre-signed responses, and a GET that
 * was answered before is found by its URL as sent, before it is decoded ({@link #presigned}).
 * The cache of an issuer is emptied the moment this instance commits a revocation change, and
 * within {@code trent.ocsp.poll-interval} on every other instance (each polls the issuers'
 * revocation versions), so no instance answers {@code good} for long after a revocation. The
 * caches are Caffeine's, bounded by {@code trent.ocsp.cache-size} (least useful entries go first).
 */
@Service
public class OcspService {

    private static final Logger log = LoggerFactory.getLogger(OcspService.class);

    private final JdbcTemplate jdbc;
    private final CertificateStore certificates;
    private final IssuerRegistry issuers;
    private final OcspResponderKey responderKey;
    private final Clock clock;
    private final TrentProperties.Ocsp settings;
    private final DigestCalculatorProvider digests;
    /** Pre-signed answers per issuer, by the CertID's DER. */
    private final Map<String, Cache<String, Presigned>> cache = new ConcurrentHashMap<>();
    /**
     * The same pre-signed answers by the GET request's encoding as sent (the path after
     * {@code /ocsp/}): RFC 5019 clients repeat the same URL, which is then answered without
     * percent, base64 or DER decoding. The other caches' entries are emptied with them; these
     * are left to age out, and each is checked to be current ({@link Presigned#current}) when found.
     */
    private final Cache<String, Presigned> byGetRequest;
    /**
     * The longest encoded request remembered in {@link #byGetRequest}: RFC 5019 5 has clients use
     * GET for requests of up to 255 bytes, URL included. A longer spelling (an attacker's padded
     * or fully percent-encoded one) is still answered, after decoding, and never fills memory.
     */
    static final int MAX_REMEMBERED_GET = 255;
    private final Map<String, Long> seenVersions = new ConcurrentHashMap<>();
    private final Map<org.bouncycastle.asn1.ASN1ObjectIdentifier, List<IssuerHashes>> issuerHashes =
            new ConcurrentHashMap<>();
    /** The issuer list {@link #issuerHashes} and {@link #answeringIds} were computed for. */
    private volatile List<Issuer> hashedIssuers;
    /** The ids of {@link #hashedIssuers}. */
    private volatile java.util.Set<String> answeringIds = java.util.Set.of();
    /** Certificate statuses read from PostgreSQL, per issuer; emptied exactly when the answer cache is. */
    private final Map<String, Cache<BigInteger, KnownStatus>> statuses = new ConcurrentHashMap<>();
    /** Bumped before an issuer's cache is emptied, so that an answer decided before cannot slip back in. */
    private final Map<String, AtomicLong> generations = new ConcurrentHashMap<>();

    private final OcspMetrics metrics;
    /**
     * False from a failed database read until the next successful revocation poll. Meanwhile no
     * answer is signed from remembered statuses, which might miss a revocation made elsewhere.
     */
    private volatile boolean databaseReachable = true;
    private final DatabaseUnavailable outage;

    OcspService(JdbcTemplate jdbc, CertificateStore certificates, IssuerRegistry issuers, OcspResponderKey responderKey, Clock clock,
            TrentProperties properties, OcspMetrics metrics, DatabaseUnavailable outage) throws OperatorCreationException {
        this.metrics = metrics;
        this.outage = outage;
        this.jdbc = jdbc;
        this.certificates = certificates;
        this.issuers = issuers;
        this.responderKey = responderKey;
        this.clock = clock;
        this.settings = properties.ocsp();
        this.digests = new JcaDigestCalculatorProviderBuilder().setProvider(Providers.BC).build();
        this.byGetRequest = bounded();
    }

    private <K, V> Cache<K, V> bounded() {
        return Caffeine.newBuilder().maximumSize(settings.cacheSize()).build();
    }

    /**
     * A pre-signed answer, stamped with what it was decided under: it is served only while
     * nothing of that changed, whichever way it is found.
     *
     * @param issuerId   the issuer it answers for; served only while OCSP answers for that issuer
     * @param generation the issuer's generation counter, and {@code decidedIn} its value before
     *                   the answer's certificate status was read
     * @param freshUntil when half of the answer's validity has passed: served from the cache until then
     */
    private record Presigned(Answer answer, String issuerId, AtomicLong generation, long decidedIn,
            Instant freshUntil) {

        Presigned(Answer answer, String issuerId, AtomicLong generation, long decidedIn) {
            this(answer, issuerId, generation, decidedIn, answer.thisUpdate()
                    .plus(Duration.between(answer.thisUpdate(), answer.nextUpdate()).dividedBy(2)));
        }

        /** No revocation change for its issuer since it was decided, and the issuer is still answered for. */
        boolean current(java.util.Set<String> answering) {
            return generation.get() == decidedIn && answering.contains(issuerId);
        }

        /** Served from the cache until half of its validity has passed. */
        boolean fresh(Instant now) {
            return now.isBefore(freshUntil);
        }
    }

    /**
     * An encoded OCSPResponse and how HTTP may cache it.
     *
     * @param cacheable  a successful, nonce-less answer (RFC 5019 headers apply); else no-store
     * @param status     what it says, for {@code trent.ocsp.requests}
     */
    public record Answer(byte[] der, boolean cacheable, Instant thisUpdate, Instant nextUpdate, String etag,
            OcspMetrics.Status status) {
    }

    /** OCSPResponse with only a status: malformedRequest, unauthorized, internalError, tryLater. */
    public static Answer status(int status) {
        try {
            return new Answer(new OCSPRespBuilder().build(status, null).getEncoded(), false, null, null, null,
                    OcspMetrics.Status.of(status));
        } catch (IOException | OCSPException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The answer to a GET whose encoded request (the path after {@code /ocsp/}, exactly as sent)
     * was answered from or into the pre-signed cache before and is still fresh, counted as a hit;
     * else null, and the request is decoded and answered by {@link #respond(OcspRequestDecoder.Decoded, String)}.
     */
    public Answer presigned(String encodedGetRequest) {
        if (encodedGetRequest.length() > MAX_REMEMBERED_GET) {
            return null;
        }
        Presigned p = byGetRequest.getIfPresent(encodedGetRequest);
        if (p == null || !p.current(answeringIds()) || !p.fresh(clock.instant())) {
            return null;
        }
        return counted(p.answer(), OcspMetrics.Cache.HIT);
    }

    /**
     * Answers a decoded request and counts it in {@code trent.ocsp.requests}; a pre-signed answer
     * is also remembered under the GET's encoded request, when there is one, for {@link #presigned}.
     */
    public Answer respond(OcspRequestDecoder.Decoded request, String encodedGetRequest) {
        Req[] reqs = request.requests();
        boolean cacheable = request.nonce() == null && reqs.length == 1;
        String issuerId = null;
        String key = null;
        AtomicLong generation = null;
        long decidedIn = 0;
        Presigned cached = null;
        if (cacheable) {
            Issuer issuer = issuerOf(reqs[0].getCertID());
            if (issuer == null) {
                return counted(status(OCSPRespBuilder.UNAUTHORIZED), OcspMetrics.Cache.BYPASS);
            }
            issuerId = issuer.id();
            key = cacheKey(reqs[0].getCertID());
            cached = cached(issuerId, key);
            if (cached != null && cached.fresh(clock.instant())) {
                remember(encodedGetRequest, cached);
                return counted(cached.answer(), OcspMetrics.Cache.HIT);
            }
            // Read before the status is: a revocation change from here on makes this answer stale.
            generation = generation(issuerId);
            decidedIn = generation.get();
        }
        Answer answer = null;
        if (databaseReachable) {
            try {
                answer = sign(request);
            } catch (RuntimeException e) {
                if (DatabaseUnavailable.timedOut(e)) {
                    // A slow statement, from a server that answers: RFC 6960 2.3 tryLater for this
                    // request only; live signing carries on for the next.
                    outage.timeoutLogged("OCSP");
                    return counted(status(OCSPRespBuilder.TRY_LATER), OcspMetrics.Cache.BYPASS);
                }
                if (!DatabaseUnavailable.causedBy(e)) {
                    throw e;
                }
                databaseReachable = false;
                outage.logged(e, "OCSP");
            }
        }
        if (answer == null) {
            // PostgreSQL is unreachable: the revocation state cannot be confirmed, so nothing new is
            // signed; the pre-signed answer found above, past its half-life, is served while it is
            // valid (RFC 6960 2.4: until its nextUpdate), else RFC 6960 2.3 tryLater.
            if (cached != null && cached.current(answeringIds())
                    && clock.instant().isBefore(cached.answer().nextUpdate())) {
                return counted(cached.answer(), OcspMetrics.Cache.HIT);
            }
            return counted(status(OCSPRespBuilder.TRY_LATER), OcspMetrics.Cache.BYPASS);
        }
        if (cacheable && answer.cacheable()) {
            // Kept only while its issuer's revocation state is the one it was decided in.
            Presigned presigned = new Presigned(answer, issuerId, generation, decidedIn);
            cache.computeIfAbsent(issuerId, k -> bounded()).put(key, presigned);
            remember(encodedGetRequest, presigned);
        }
        return counted(answer, cacheable && answer.cacheable() ? OcspMetrics.Cache.MISS : OcspMetrics.Cache.BYPASS);
    }

    private void remember(String encodedGetRequest, Presigned presigned) {
        if (encodedGetRequest != null && encodedGetRequest.length() <= MAX_REMEMBERED_GET) {
            byGetRequest.put(encodedGetRequest, presigned);
        }
    }

    /** The issuer's pre-signed answer for a CertID if it is still current, else null. */
    private Presigned cached(String issuerId, String key) {
        Cache<String, Presigned> perIssuer = cache.get(issuerId);
        Presigned p = perIssuer == null ? null : perIssuer.getIfPresent(key);
        return p != null && p.current(answeringIds()) ? p : null;
    }

    private Answer counted(Answer answer, OcspMetrics.Cache cache) {
        metrics.record(answer.status(), cache);
        return answer;
    }

    private Answer sign(OcspRequestDecoder.Decoded request) {
        Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
        Instant nextUpdate = now.plus(settings.responseValidity());
        // One response, one signer: every CertID must name the same issuer, whose delegated
        // responder signs (RFC 6960 4.2.2.2). A request mixing issuers cannot be answered
        // authoritatively as a whole.
        Issuer first = null;
        for (Req req : request.requests()) {
            Issuer issuer = issuerOf(req.getCertID());
            if (issuer == null || first != null && !first.id().equals(issuer.id())) {
                return status(OCSPRespBuilder.UNAUTHORIZED);
            }
            first = issuer;
        }
        if (first == null) {
            return status(OCSPRespBuilder.MALFORMED_REQUEST);
        }
        OcspResponderKey.Responder responder;
        try {
            java.util.Optional<OcspResponderKey.Responder> found = responderKey.current(first);
            if (found.isEmpty()) {
                // A retired issuer whose key is gone, and none of its persisted responder
                // certificates is valid any more: RFC 6960 2.3 unauthorized ("the server is not
                // capable of responding authoritatively"), logged once by OcspResponderKey.
                return status(OCSPRespBuilder.UNAUTHORIZED);
            }
            responder = found.get();
        } catch (dev.trent.ca.SigningException e) {
            // The responder certificate needs the CA key, which is unreachable (HSM fault): RFC 6960 tryLater.
            log.warn("OCSP responder certificate cannot be issued: {}", e.getMessage());
            return status(OCSPRespBuilder.TRY_LATER);
        }
        if (nextUpdate.isAfter(responder.notAfter())) {
            // No answer outlives the certificate of the responder that signed it.
            nextUpdate = responder.notAfter();
        }
        try {
            BasicOCSPRespBuilder builder = new BasicOCSPRespBuilder(
                    new RespID(responder.holder().getSubjectPublicKeyInfo(), digests.get(CertificateID.HASH_SHA1)));
            OcspMetrics.Status summary = OcspMetrics.Status.GOOD;
            boolean nonIssued = false;
            boolean anyUnknown = false;
            for (Req req : request.requests()) {
                CertificateID id = req.getCertID();
                Issuer issuer = issuerOf(id);
                if (issuer == null) {
                    // RFC 6960 2.3: "the server is not capable of responding authoritatively".
                    return status(OCSPRespBuilder.UNAUTHORIZED);
                }
                CertificateStatus status = statusOf(issuer, id.getSerialNumber());
                nonIssued |= status instanceof NonIssued;
                anyUnknown |= status instanceof UnknownStatus;
                if (status instanceof RevokedStatus) {
                    summary = OcspMetrics.Status.REVOKED;
                } else if (status instanceof UnknownStatus && summary == OcspMetrics.Status.GOOD) {
                    summary = OcspMetrics.Status.UNKNOWN;
                }
                builder.addResponse(id, status, Date.from(now), Date.from(nextUpdate), null);
            }
            List<Extension> extensions = new java.util.ArrayList<>(2);
            if (request.nonce() != null) {
                extensions.add(new Extension(OCSPObjectIdentifiers.id_pkix_ocsp_nonce, false,
                        new DEROctetString(new DEROctetString(request.nonce()))));
            }
            if (nonIssued) {
                // RFC 6960 4.4.8: required when "revoked" answers for a certificate never issued.
                extensions.add(new Extension(EXTENDED_REVOKE, false, org.bouncycastle.asn1.DERNull.INSTANCE.getEncoded()));
            }
            if (!extensions.isEmpty()) {
                builder.setResponseExtensions(new Extensions(extensions.toArray(Extension[]::new)));
            }
            BasicOCSPResp basic = builder.build(responder.signer(), new X509CertificateHolder[] {responder.holder()},
                    Date.from(now));
            byte[] der = new OCSPRespBuilder().build(OCSPRespBuilder.SUCCESSFUL, basic).getEncoded();
            // An unknown serial may be a reservation whose certificate is being signed right now:
            // such an answer is neither remembered nor cacheable by HTTP caches.
            boolean cacheable = request.nonce() == null && !anyUnknown;
            return new Answer(der, cacheable, now, nextUpdate, cacheable ? "\"" + Hashes.sha256Hex(der) + "\"" : null,
                    summary);
        } catch (OCSPException | IOException | OperatorCreationException | RuntimeException e) {
            if (e instanceof RuntimeException r && (DatabaseUnavailable.causedBy(r) || DatabaseUnavailable.timedOut(r))) {
                throw r;
            }
            log.error("OCSP response could not be signed", e);
            return status(OCSPRespBuilder.INTERNAL_ERROR);
        }
    }

    /** An issuer's name and key hashes under one hash algorithm, as CertIDs carry them. */
    private record IssuerHashes(Issuer issuer, byte[] nameHash, byte[] keyHash) {
    }

    /** The issuer a CertID names (by the hashes of its name and key) among those OCSP answers for, or null. */
    private Issuer issuerOf(CertificateID id) {
        answeringIds();
        List<IssuerHashes> known = issuerHashes.computeIfAbsent(id.getHashAlgOID(), this::hashesFor);
        for (IssuerHashes h : known) {
            if (java.util.Arrays.equals(h.nameHash(), id.getIssuerNameHash())
                    && java.util.Arrays.equals(h.keyHash(), id.getIssuerKeyHash())) {
                return h.issuer();
            }
        }
        return null;
    }

    /**
     * The ids of the issuers OCSP answers for, after forgetting the issuer hashes if that list was
     * recomputed (a rotation, a retired issuer's last certificate expired, or the registry's
     * periodic refresh).
     */
    private java.util.Set<String> answeringIds() {
        List<Issuer> answering = issuers.answering();
        if (answering != hashedIssuers) {
            issuerHashes.clear();
            answeringIds = answering.stream().map(Issuer::id).collect(java.util.stream.Collectors.toUnmodifiableSet());
            hashedIssuers = answering;
        }
        return answeringIds;
    }

    /** Computed once per hash algorithm; empty for an algorithm that cannot name an issuer of ours. */
    private List<IssuerHashes> hashesFor(org.bouncycastle.asn1.ASN1ObjectIdentifier algorithm) {
        List<IssuerHashes> out = new java.util.ArrayList<>();
        for (Issuer issuer : hashedIssuers) {
            try {
                CertificateID probe = new CertificateID(digests.get(new org.bouncycastle.asn1.x509.AlgorithmIdentifier(
                        algorithm, org.bouncycastle.asn1.DERNull.INSTANCE)),
                        new X509CertificateHolder(issuer.certificate().getEncoded()), BigInteger.ONE);
                out.add(new IssuerHashes(issuer, probe.getIssuerNameHash(), probe.getIssuerKeyHash()));
            } catch (OCSPException | IOException | OperatorCreationException
                    | java.security.cert.CertificateEncodingException | RuntimeException e) {
                return List.of();
            }
        }
        return List.copyOf(out);
    }

    /**
     * The certificate's status, from memory when this instance read it since the issuer's last
     * revocation change (live-signed answers then need no database round trip).
     */
    private CertificateStatus statusOf(Issuer issuer, BigInteger serial) {
        long generation = generation(issuer.id()).get();
        Cache<BigInteger, KnownStatus> known = statuses.get(issuer.id());
        KnownStatus cached = known == null ? null : known.getIfPresent(serial);
        if (cached != null && cached.readIn() == generation) {
            return cached.status();
        }
        CertificateStatus status = loadStatus(issuer, serial);
        if (status instanceof UnknownStatus) {
            return status; // not remembered: a reserved serial becomes ISSUED within milliseconds
        }
        statuses.computeIfAbsent(issuer.id(), k -> bounded()).put(serial, new KnownStatus(status, generation));
        return status;
    }

    /**
     * A certificate status read from PostgreSQL (Bouncy Castle's GOOD is null), used only while
     * its issuer's generation is still the one read before the statement ({@code readIn}).
     */
    private record KnownStatus(CertificateStatus status, long readIn) {
    }

    /** id-pkix-ocsp-extended-revoke (RFC 6960 4.4.8). */
    static final org.bouncycastle.asn1.ASN1ObjectIdentifier EXTENDED_REVOKE =
            OCSPObjectIdentifiers.id_pkix_ocsp.branch("9");

    /**
     * RFC 6960 2.2's answer for a certificate that was never issued: revoked, reason
     * certificateHold, revocation time 1970-01-01T00:00:00Z (with the extended revoked definition
     * extension in the response).
     */
    static final class NonIssued extends RevokedStatus {
        NonIssued() {
            super(new RevokedInfo(new ASN1GeneralizedTime(new Date(0)), CRLReason.lookup(CRLReason.certificateHold)));
        }
    }

    /**
     * Good, revoked (time and reason), revoked as {@link NonIssued} for an abandoned reservation
     * (never delivered, but a signature may exist), or unknown for a serial this issuer never
     * reserved or whose issuance is still in progress.
     */
    private CertificateStatus loadStatus(Issuer issuer, BigInteger serial) {
        CertificateStore.Status row = certificates.status(issuer.id(), serial.toString(16)).orElse(null);
        if (row == null || row.status() == dev.trent.inventory.CertificateStatus.PENDING) {
            return new UnknownStatus();
        }
        if (row.status() == dev.trent.inventory.CertificateStatus.ABANDONED) {
            return new NonIssued();
        }
        if (row.status() != dev.trent.inventory.CertificateStatus.REVOKED) {
            return CertificateStatus.GOOD;
        }
        Date revokedAt = Date.from(row.revokedAt().truncatedTo(ChronoUnit.SECONDS));
        RevocationReason reason = RevocationReason.parse(row.revocationReason());
        CRLReason crlReason = reason == RevocationReason.unspecified ? null : CRLReason.lookup(reason.code());
        return new RevokedStatus(new RevokedInfo(new ASN1GeneralizedTime(revokedAt), crlReason));
    }

    private static String cacheKey(CertificateID id) {
        try {
            return HexFormat.of().formatHex(id.toASN1Primitive().getEncoded());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private AtomicLong generation(String issuerId) {
        return generations.computeIfAbsent(issuerId, k -> new AtomicLong());
    }

    /**
     * Outdates everything remembered for the issuer (every entry is stamped with the generation it
     * was decided in), then frees it.
     */
    private void invalidate(String issuerId) {
        generation(issuerId).incrementAndGet();
        cache.remove(issuerId);
        statuses.remove(issuerId);
    }

    @TransactionalEventListener(phase = TransactionPhase.AFTER_COMMIT)
    void onRevocationChanged(RevocationService.RevocationChanged event) {
        // Note the version this change produced, so the poll does not empty the cache again for it.
        jdbc.query("select revocation_version from issuer where id = ?",
                rs -> { seenVersions.put(event.issuerId(), rs.getLong(1)); }, event.issuerId());
        invalidate(event.issuerId());
    }

    /** Empties an issuer's cache when another instance changed its revocation state. */
    @Scheduled(fixedDelayString = "${trent.ocsp.poll-interval:500ms}")
    void pollRevocationVersions() {
        try {
            jdbc.query("select id, revocation_version from issuer", rs -> {
                String id = rs.getString(1);
                long version = rs.getLong(2);
                Long seen = seenVersions.put(id, version);
                if (seen != null && seen != version) {
                    invalidate(id);
                }
            });
        } catch (RuntimeException e) {
            if (!DatabaseUnavailable.causedBy(e)) {
                throw e;
            }
            databaseReachable = false;
            outage.logged(e, "OCSP revocation poll");
            return;
        }
        if (!databaseReachable) {
            // A revocation made elsewhere meanwhile changed its issuer's version: the poll above emptied that cache.
            log.info("Database reachable again: OCSP signs live answers again");
            databaseReachable = true;
        }
    }
}
