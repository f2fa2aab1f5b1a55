package dev.trent.crl;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

import org.springframework.http.CacheControl;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

import dev.trent.ca.Issuer;
import dev.trent.ca.IssuerRegistry;
import dev.trent.config.TrentProperties;
import dev.trent.pki.Pem;
import dev.trent.web.MediaTypes;
import dev.trent.web.ProblemException;

/**
 * {@code GET /crl/<issuerId>.crl}: the URL in every certificate's cRLDistributionPoints. DER
 * ({@code application/pkix-crl}, RFC 2585) by default, PEM on request; public, with ETag,
 * Last-Modified (thisUpdate) and a max-age that never reaches past nextUpdate. Conditional GETs
 * ({@code If-None-Match}, else {@code If-Modified-Since}) get their 304 from Spring MVC, which
 * checks a 200 {@code ResponseEntity}'s ETag and Last-Modified (RFC 9110 13.2.2) before writing it.
 */
@RestController
class CrlController {

    static final MediaType PKIX_CRL = MediaType.parseMediaType("application/pkix-crl");

    private final IssuerRegistry issuers;
    private final CrlPublisher publisher;
    private final Duration maxAge;
    private final Clock clock;

    CrlController(IssuerRegistry issuers, CrlPublisher publisher, TrentProperties properties, Clock clock) {
        this.issuers = issuers;
        this.clock = clock;
        this.publisher = publisher;
        this.maxAge = properties.crl().maxAge();
    }

    @GetMapping("/crl/{file}")
    ResponseEntity<byte[]> crl(@PathVariable String file,
            @RequestHeader(value = HttpHeaders.ACCEPT, required = false) String accept) {
        if (!file.endsWith(".crl")) {
            throw ProblemException.notFound("No such CRL.");
        }
        Issuer issuer = issuers.byUrlId(file.substring(0, file.length() - 4))
                .orElseThrow(() -> ProblemException.notFound("No such CRL."));
        MediaType type = MediaTypes.negotiate(accept, List.of(PKIX_CRL, MediaTypes.X_PEM_FILE));
        CrlPublisher.PublishedCrl crl = publisher.current(issuer).orElseThrow(() -> new ProblemException(
                HttpStatus.SERVICE_UNAVAILABLE, "crl-unavailable", "CRL unavailable",
                "The CRL is being generated; try again in a few seconds."));
        String etag = "\"" + crl.sha256() + (type.equals(PKIX_CRL) ? "" : "-pem") + "\"";
        long seconds = Math.min(maxAge.toSeconds(), Duration.between(clock.instant(), crl.nextUpdate()).toSeconds());
        ResponseEntity.BodyBuilder b = ResponseEntity.status(HttpStatus.OK).eTag(etag)
                .lastModified(crl.thisUpdate())
                .cacheControl(CacheControl.maxAge(Duration.ofSeconds(Math.max(0, seconds))).cachePublic())
                .header(HttpHeaders.CONTENT_DISPOSITION, "inline; filename=\"" + file
                        + (type.equals(PKIX_CRL) ? "" : ".pem") + "\"");
        if (type.equals(PKIX_CRL)) {
            return b.contentType(PKIX_CRL).body(crl.der());
        }
        return b.contentType(MediaTypes.X_PEM_FILE)
                .body(Pem.encode("X509 CRL", crl.der()).getBytes(StandardCharsets.US_ASCII));
    }
}
